// The log records of one zkr channel while a log_capture lives, as text: for tests of what zkr
// says (a warning's wording, how often it comes).
#pragma once

#include <zkr/log.hpp>

#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/make_shared.hpp>

#include <cstddef>
#include <sstream>
#include <string>

namespace zkr::test {

class log_capture {
  public:
    explicit log_capture(const std::string& channel)
        : stream_(boost::make_shared<std::ostringstream>()) {
        namespace logging = boost::log;
        auto backend = boost::make_shared<logging::sinks::text_ostream_backend>();
        backend->add_stream(stream_);
        backend->auto_flush(true);
        sink_ = boost::make_shared<sink>(backend);
        sink_->set_filter(zkr::log::channel == channel);
        sink_->set_formatter(logging::expressions::stream << logging::expressions::smessage);
        logging::core::get()->add_sink(sink_);
    }
    ~log_capture() { boost::log::core::get()->remove_sink(sink_); }
    log_capture(const log_capture&) = delete;
    log_capture& operator=(const log_capture&) = delete;

    /// Everything recorded so far, one record per line.
    std::string text() const {
        sink_->flush();
        return stream_->str();
    }
    /// How many times `part` occurs in text().
    std::size_t count(const std::string& part) const {
        const auto all = text();
        std::size_t n = 0;
        for (auto at = all.find(part); at != std::string::npos; at = all.find(part, at + 1)) {
            ++n;
        }
        return n;
    }

  private:
    using sink = boost::log::sinks::synchronous_sink<boost::log::sinks::text_ostream_backend>;
    boost::shared_ptr<std::ostringstream> stream_;
    boost::shared_ptr<sink> sink_;
};

}  // namespace zkr::test
