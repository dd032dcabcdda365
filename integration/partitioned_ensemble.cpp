#include "partitioned_ensemble.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace zkr::test {

namespace {

/// The port number in a file zk.sh writes ("" until it exists).
std::string port_in_file(const std::string& file) {
    std::ifstream in(file);
    std::string port;
    in >> port;
    return port;
}

std::string port_of(const tcp_proxy& proxy) {
    const auto address = proxy.address();
    return address.substr(address.rfind(':') + 1);
}

/// The answer to the four-letter word "srvr" from 127.0.0.1:port, "" without one within a
/// second (a server that is paused or gone).
std::string srvr(const std::string& port) {
    boost::asio::ip::tcp::iostream stream;
    stream.expires_after(std::chrono::seconds(1));
    stream.connect("127.0.0.1", port);
    if (!stream) {
        return "";
    }
    stream << "srvr" << std::flush;
    std::ostringstream answer;
    answer << stream.rdbuf();
    return answer.str();
}

/// How long a proxy waits for a server that refuses a connection to listen: a follower tries
/// to reach its leader's quorum port for initLimit x tickTime (2 s in zk.sh's zoo.cfg).
constexpr auto connect_patience = std::chrono::milliseconds(2000);

/// Between two rounds of "srvr" to every server: each is a connection the servers log.
constexpr auto poll_interval = std::chrono::milliseconds(50);

}  // namespace

partitioned_ensemble::partitioned_ensemble(int members, std::optional<tls_server_options> tls)
    : members_(members), tls_(tls.has_value()) {
    if (members < 2) {
        throw std::invalid_argument("a partitioned ensemble needs at least two servers");
    }
    const auto base = fresh_temp_dir();
    dir_ = base + "/zk";
    // Each proxy listens before its server's ports are chosen (zk.sh picks free ports and may
    // pick again after a clash): it reads them at each new connection.
    const auto to = [this](int server, const char* port) {
        return [file = dir_ + "/" + std::to_string(server) + "/" + port] {
            const auto p = port_in_file(file);
            return p.empty() ? p : "127.0.0.1:" + p;
        };
    };
    const auto peers_file = base + "/peers";
    std::ofstream peers(peers_file);
    for (int i = 1; i <= members; ++i) {
        for (int j = i + 1; j <= members; ++j) {
            auto& l = links_[{i, j}];
            for (const auto& [from, target] : {std::pair{i, j}, std::pair{j, i}}) {
                l.proxies.push_back(std::make_unique<tcp_proxy>(to(target, "quorum_port")));
                l.proxies.push_back(std::make_unique<tcp_proxy>(to(target, "election_port")));
                for (auto it = l.proxies.end() - 2; it != l.proxies.end(); ++it) {
                    (*it)->wait_for_target(connect_patience);
                }
                const auto& quorum = *l.proxies[l.proxies.size() - 2];
                const auto& election = *l.proxies.back();
                peers << from << " " << target << " " << port_of(quorum) << " " << port_of(election)
                      << "\n";
            }
        }
    }
    peers.close();
    if (tls) {
        tls->plaintext = true;  // mode() asks srvr on the plaintext port
    }
    servers_ = std::make_unique<zk_server>(members, dir_, peers_file, tls);
}

partitioned_ensemble::~partitioned_ensemble() {
    servers_.reset();  // the servers first: they stop without a storm of refused connections
    links_.clear();
    std::filesystem::remove_all(dir_.substr(0, dir_.rfind('/')));
}

std::string partitioned_ensemble::client_address(int i) const {
    return "127.0.0.1:" +
           port_in_file(dir_ + "/" + std::to_string(i) + (tls_ ? "/secure_port" : "/port"));
}

std::string partitioned_ensemble::mode(int i) const {
    const auto answer = srvr(port_in_file(dir_ + "/" + std::to_string(i) + "/port"));
    for (const char* m : {"leader", "follower"}) {
        if (answer.find(std::string("\nMode: ") + m + "\n") != std::string::npos) {
            return m;
        }
    }
    return "";
}

int partitioned_ensemble::leader() const {
    int found = 0;
    for (int i = 1; i <= members_; ++i) {
        if (mode(i) == "leader") {
            if (found != 0) {
                return 0;
            }
            found = i;
        }
    }
    return found;
}

int partitioned_ensemble::wait_for_quorum(const std::vector<int>& side,
                                          std::chrono::milliseconds limit) const {
    int leader = 0;
    const bool formed = wait_until(
        [&] {
            int leaders = 0, serving = 0;
            for (int i : side) {
                const auto m = mode(i);
                if (m == "leader") {
                    ++leaders;
                    leader = i;
                }
                serving += m.empty() ? 0 : 1;
            }
            return leaders == 1 && serving > members_ / 2;
        },
        limit, poll_interval);
    return formed ? leader : 0;
}

bool partitioned_ensemble::wait_for_mode(int i, const std::string& mode,
                                         std::chrono::milliseconds limit) const {
    return wait_until([&] { return this->mode(i) == mode; }, limit, poll_interval);
}

bool partitioned_ensemble::wait_all_serving(std::chrono::milliseconds limit) const {
    const auto all = every_server();
    return wait_until(
        [&] {
            return std::all_of(all.begin(), all.end(), [&](int i) { return !mode(i).empty(); });
        },
        limit, poll_interval);
}

partitioned_ensemble::link& partitioned_ensemble::between(int i, int j) {
    const auto it = links_.find({std::min(i, j), std::max(i, j)});
    if (i == j || it == links_.end()) {
        throw std::out_of_range("no link between servers " + std::to_string(i) + " and " +
                                std::to_string(j));
    }
    return it->second;
}

const partitioned_ensemble::link& partitioned_ensemble::between(int i, int j) const {
    return const_cast<partitioned_ensemble*>(this)->between(i, j);
}

void partitioned_ensemble::set(int i, int j, bool cut) {
    auto& l = between(i, j);
    for (auto& proxy : l.proxies) {
        if (cut && style_ == cut_style::silence) {
            proxy->silence();
        } else if (cut) {
            proxy->cut();
        } else {
            proxy->restore();
        }
    }
    l.cut = cut;
}

void partitioned_ensemble::cut(int i, int j) {
    set(i, j, true);
}

void partitioned_ensemble::heal(int i, int j) {
    set(i, j, false);
}

void partitioned_ensemble::heal_all() {
    for (auto& [pair, l] : links_) {
        heal(pair.first, pair.second);
    }
}

bool partitioned_ensemble::linked(int i, int j) const {
    return !between(i, j).cut;
}

std::vector<int> partitioned_ensemble::others_than(int i) const {
    std::vector<int> others;
    for (int j = 1; j <= members_; ++j) {
        if (j != i) {
            others.push_back(j);
        }
    }
    return others;
}

void partitioned_ensemble::isolate(int i) {
    for (int j : others_than(i)) {
        cut(i, j);
    }
}

bool partitioned_ensemble::isolate_past_election(int i, std::chrono::milliseconds after_election) {
    isolate(i);
    const bool elected = wait_for_quorum(others_than(i), std::chrono::seconds(30)) != 0;
    std::this_thread::sleep_for(after_election);  // time passing: the sessions on i expire
    heal_all();
    return wait_for_quorum(every_server(), std::chrono::seconds(30)) != 0 && elected;
}

void partitioned_ensemble::split(const std::vector<std::vector<int>>& groups) {
    std::vector<int> group_of(static_cast<std::size_t>(members_) + 1, -1);
    for (std::size_t g = 0; g < groups.size(); ++g) {
        for (int i : groups[g]) {
            group_of.at(static_cast<std::size_t>(i)) = static_cast<int>(g);
        }
    }
    for (auto& [pair, l] : links_) {
        const auto a = group_of[static_cast<std::size_t>(pair.first)];
        const auto b = group_of[static_cast<std::size_t>(pair.second)];
        if (a < 0 || a != b) {
            cut(pair.first, pair.second);
        }
    }
}

void partitioned_ensemble::bridge(const std::vector<int>& left, int middle,
                                  const std::vector<int>& right) {
    for (int l : left) {
        heal(l, middle);
        for (int r : right) {
            cut(l, r);
        }
    }
    for (int r : right) {
        heal(r, middle);
    }
}

}  // namespace zkr::test
