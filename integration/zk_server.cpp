#include "zk_server.hpp"

#include "tls_material.hpp"

#include "shell.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace zkr::test {

zk_server::zk_server(int members, std::string java_opts)
    : dir_(fresh_temp_dir() + "/zk"), java_opts_(std::move(java_opts)) {
    start(members > 1 ? "--ensemble " + std::to_string(members) : "");
}

namespace {
std::string quoted_for_shell(const std::string& word) {
    return "'" + word + "'";
}

std::string zk_sh_tls_options(const tls_server_options& tls) {
    auto options = " --tls " + quoted_for_shell(tls.ca_dir) + " --client-auth " + tls.client_auth;
    if (!tls.key_store.empty()) {
        options += " --key-store " + quoted_for_shell(tls.key_store);
    }
    return tls.plaintext ? options + " --plaintext" : options;
}
}  // namespace

zk_server::zk_server(int members, std::string dir, const std::string& peers_file,
                     const std::optional<tls_server_options>& tls)
    : dir_(std::move(dir)) {
    start("--ensemble " + std::to_string(members) + " --peers " + quoted_for_shell(peers_file) +
          (tls ? zk_sh_tls_options(*tls) : ""));
}

zk_server::zk_server(const tls_server_options& tls, int members) : dir_(fresh_temp_dir() + "/zk") {
    start((members > 1 ? "--ensemble " + std::to_string(members) : "") + zk_sh_tls_options(tls));
}

std::string zk_server::plaintext_hosts() {
    return script("hosts");
}

void zk_server::start(const std::string& options) {
    const auto args = "start '" + dir_ + "' " + options;
    int status = 0;
    hosts_ =
        shell("ZK_JAVA_OPTS='" + java_opts_ + "' bash '" + source_dir() + "/tools/zk.sh' " + args,
              &status);
    if (status != 0 || hosts_.empty()) {
        throw std::runtime_error("could not start ZooKeeper (tools/zk.sh " + args + ")");
    }
}

zk_server::~zk_server() {
    script("stop");
    ::rmdir(dir_.substr(0, dir_.rfind('/')).c_str());
}

std::string zk_server::script(const std::string& verb, int n, int* status) {
    auto command = "ZK_JAVA_OPTS='" + java_opts_ + "' bash '" + source_dir() + "/tools/zk.sh' " +
                   verb + " '" + dir_ + "'";
    if (n > 0) {
        command += " " + std::to_string(n);
    }
    return shell(command, status);
}

pid_t zk_server::pid_of(int n) const {
    const auto server_dir = dir_ + "/" + std::to_string(n);
    pid_t pid = 0;
    std::ifstream(server_dir + "/pid") >> pid;
    if (pid <= 0) {
        return 0;
    }
    // The PID file may be stale and its number reused: the process must run this server's
    // configuration (as zk.sh checks it).
    std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
    const std::string args((std::istreambuf_iterator<char>(cmdline)),
                           std::istreambuf_iterator<char>());
    const auto config = std::filesystem::weakly_canonical(server_dir + "/zoo.cfg").string();
    return args.find(config) != std::string::npos ? pid : 0;
}

// Sent from here rather than by zk.sh: a pause then lasts what the test asks to the
// millisecond, where the script's start on a loaded machine could add hundreds of them.
void zk_server::signal(int n, int sig) {
    const auto pid = pid_of(n);
    if (pid == 0 || ::kill(pid, sig) != 0) {
        ADD_FAILURE() << "server " << n << " in " << dir_ << " is not running";
    }
}

void zk_server::pause(int n) {
    signal(n, SIGSTOP);
}
void zk_server::resume(int n) {
    signal(n, SIGCONT);
}
void zk_server::kill(int n) {
    script("kill", n);
}

void zk_server::restart(int n) {
    int status = 0;
    script("restart", n, &status);
    if (status != 0) {
        ADD_FAILURE() << "restart of server " << n << " failed";
    }
}

void zk_server::wipe(int n) {
    kill(n);
    shell("rm -rf '" + dir_ + "/" + std::to_string(n) + "/data/version-2'");
    restart(n);
}

int zk_server::leader() {
    int status = 0;
    auto out = script("leader", 0, &status);
    return status == 0 ? std::atoi(out.c_str()) : 0;
}

std::map<std::string, std::string> zk_server::mntr(int n) {
    std::map<std::string, std::string> out;
    std::istringstream in(script("mntr", n));
    std::string line;
    while (std::getline(in, line)) {
        const auto tab = line.find('\t');
        if (tab != std::string::npos) {
            out[line.substr(0, tab)] = line.substr(tab + 1);
        }
    }
    return out;
}

std::int64_t zk_server::mntr_value(const std::string& key, int n) {
    auto values = mntr(n);
    auto it = values.find(key);
    if (it == values.end()) {
        ADD_FAILURE() << "mntr has no " << key;
        return -1;
    }
    return std::stoll(it->second);
}

namespace {
std::unique_ptr<zk_server>& shared_server_ptr() {
    static std::unique_ptr<zk_server> server;
    return server;
}
}  // namespace

bool tls_test_mode() {
    static const bool on = [] {
        const char* env = std::getenv("ZKR_TEST_TLS");
        return env != nullptr && std::string_view(env) == "1";
    }();
    return on;
}

const std::string& shared_hosts() {
    static const std::string hosts = [] {
        if (const char* env = std::getenv("ZKR_TEST_HOSTS"); env != nullptr && *env != '\0') {
            return std::string(env);
        }
        if (tls_test_mode()) {
            tls_server_options tls{shared_test_ca().dir()};
            tls.plaintext = true;  // what the tests observe with (four-letter words, zk.sh)
            shared_server_ptr() = std::make_unique<zk_server>(tls);
        } else {
            shared_server_ptr() = std::make_unique<zk_server>();
        }
        std::atexit([] { shared_server_ptr().reset(); });
        return tls_test_mode() ? shared_server_ptr()->plaintext_hosts()
                               : shared_server_ptr()->hosts();
    }();
    return hosts;
}

const std::string& shared_secure_hosts() {
    static const std::string hosts = [] {
        shared_hosts();
        return tls_test_mode() && shared_server_ptr() ? shared_server_ptr()->hosts()
                                                      : std::string{};
    }();
    return hosts;
}

zk_server* shared_server() {
    shared_hosts();
    return shared_server_ptr().get();
}
}  // namespace zkr::test
