// The smallest zkr program: connect, take a lock, show what the handle carries, release.
//   hello_lock HOSTS [LOCK_PATH]
#include <zkr/mutex.hpp>
#include <zkr/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <string>

namespace asio = boost::asio;

asio::awaitable<void> hello(zkr::session& session, std::string path) {
    co_await session.async_connect(asio::use_awaitable);
    std::printf("connected: session 0x%llx, timeout %lld ms\n",
                static_cast<unsigned long long>(session.session_id()),
                static_cast<long long>(session.negotiated_timeout().count()));

    zkr::mutex mutex(session, path);
    auto lock = co_await mutex.async_lock(asio::use_awaitable);
    std::printf("holding %s\n  node:          %s\n  fencing token: %lld\n", path.c_str(),
                lock.path().c_str(), static_cast<long long>(lock.fencing_token()));

    co_await lock.async_release(asio::use_awaitable);
    std::printf("released\n");
    co_await session.async_close(asio::use_awaitable);
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s HOSTS [LOCK_PATH]\n", argv[0]);
        return 64;
    }
    asio::io_context ioc;
    zkr::session_config config;
    config.hosts = argv[1];
    zkr::session session(ioc.get_executor(), config);
    int status = 1;
    asio::co_spawn(ioc, hello(session, argc > 2 ? argv[2] : "/zkr/hello"),
                   [&](std::exception_ptr e) {
                       if (!e) {
                           status = 0;
                           return;
                       }
                       try {
                           std::rethrow_exception(e);
                       } catch (const std::exception& x) {
                           std::fprintf(stderr, "hello_lock: %s\n", x.what());
                       }
                   });
    ioc.run();
    return status;
}
