// A program that links zkr and configures no logging: it takes and releases one lock.
//   zkr_log_probe HOSTS PATH [debug]
// It prints nothing itself, so whatever appears on its output came from zkr. With "debug" it does
// what an application that wants zkr's records does: zkr's level to debug, and a console sink
// printing each record's channel.
#include <zkr/blocking.hpp>
#include <zkr/log.hpp>

#include <boost/log/utility/setup/console.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: zkr_log_probe HOSTS PATH [debug]\n";
        return 64;
    }
    if (argc > 3 && std::string(argv[3]) == "debug") {
        zkr::log::set_level(zkr::log::level::debug);
        boost::log::add_console_log(std::cout,
                                    boost::log::keywords::format = "[%Channel%] %Message%");
    }
    zkr::session_config config;
    config.hosts = argv[1];
    zkr::blocking::client zk(config);
    zkr::blocking::mutex m(zk, argv[2]);
    auto lk = m.lock();
    return zkr::blocking::release(lk) ? 1 : 0;
}
