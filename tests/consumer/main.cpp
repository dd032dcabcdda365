// Builds against an installed zkr (one include: <zkr/zkr.hpp>) and runs without a server: prints
// the version, checks the library's is the headers', and checks that connecting to a port where
// nothing listens fails with errc::connect_timeout.
#include <zkr/zkr.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>

int main() {
    std::printf("zkr %s (headers %d.%d.%d)\n", zkr::version_string, ZKR_VERSION_MAJOR,
                ZKR_VERSION_MINOR, ZKR_VERSION_PATCH);
    if (std::strcmp(zkr::version_string, ZKR_VERSION_STRING) != 0 ||
        std::strcmp(zkr::version(), ZKR_VERSION_STRING) != 0) {
        std::printf("library version %s\n", zkr::version());
        return 1;
    }
    // The C client reports refused connections as errors: silence zkr for this check.
    zkr::log::set_level(zkr::log::level::off);

    boost::asio::io_context ioc;
    zkr::session_config config;
    config.hosts = "127.0.0.1:1";
    config.connect_timeout = std::chrono::milliseconds(200);
    zkr::session session(ioc.get_executor(), config);
    zkr::mutex mutex(session, "/zkr/consumer");

    zkr::error_code result;
    bool completed = false;
    session.async_connect([&](zkr::error_code ec) {
        result = ec;
        completed = true;
    });
    ioc.run();

    std::printf("connect to %s: %s\n", config.hosts.c_str(), result.message().c_str());
    if (!completed || result != zkr::errc::connect_timeout) {
        std::printf("expected errc::connect_timeout\n");
        return 1;
    }
    std::printf("ok: lock path %s\n", mutex.path().c_str());
    return 0;
}
