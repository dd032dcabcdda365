// What the zkr drivers of the benchmarks share: the protocol's thread waiting for an operation
// that must start on the io_context's thread (zkr objects are used from their executor).
#pragma once

#include "common.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <exception>

namespace bench {

/// Runs `start` on `ioc`'s thread, waits for the future it returns and gives its value; an
/// exception (an operation's error) ends the driver with "error ...".
template <class Start>
auto wait_on(boost::asio::io_context& ioc, Start start) {
    auto done = boost::asio::post(ioc, boost::asio::use_future([&] { return start(); }));
    try {
        return done.get().get();
    } catch (const std::exception& x) {
        die(x.what());
    }
}

}  // namespace bench
