// A ZooKeeper ensemble on 127.0.0.1 whose server-to-server links all run through proxies of the
// test process, so that a test can cut any set of links and heal them: network partitions
// between servers, while clients keep connecting to each server directly.
//
// Server i reaches server j (its quorum port and its election port) through proxies "i->j" that
// forward to j's own ports; server i's zoo.cfg lists server j at the proxies' addresses
// (tools/zk.sh start --peers). Cutting the link {i, j} cuts both directions, i->j and
// j->i: ZooKeeper opens election connections from either side (QuorumCnxManager keeps the one
// from the server of higher id) and a follower connects to its leader's quorum port.
#pragma once

#include "tcp_proxy.hpp"
#include "test_support.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace zkr::test {

class partitioned_ensemble {
  public:
    /// Starts `members` servers (ids 1..members) and waits until every one of them serves. With
    /// `tls`, each server also has a TLS client port, which client_address() then names; the
    /// plaintext port stays open for the test's own four-letter words (mode()).
    explicit partitioned_ensemble(int members,
                                  std::optional<tls_server_options> tls = std::nullopt);
    ~partitioned_ensemble();
    partitioned_ensemble(const partitioned_ensemble&) = delete;
    partitioned_ensemble& operator=(const partitioned_ensemble&) = delete;

    int size() const { return members_; }

    /// "127.0.0.1:<port>": server i's client port (its TLS port with `tls`), reached directly
    /// (never through a proxy).
    std::string client_address(int i) const;

    /// The servers themselves (zk.sh): every client address as one connect string, kill,
    /// pause, restart, mntr.
    zk_server& servers() { return *servers_; }

    /// What server i's "srvr" says it is: "leader", "follower", or "" when it does not serve
    /// (looking for a leader, cut off from a quorum, paused, down).
    std::string mode(int i) const;

    /// The one server that says it leads, or 0 when none or several do.
    int leader() const;

    /// Waits until one server of `side` leads and a majority of the whole ensemble serves with
    /// it from `side` (one srvr round per check); returns the leader, 0 if that did not happen
    /// within `limit`.
    int wait_for_quorum(const std::vector<int>& side, std::chrono::milliseconds limit) const;

    /// Waits until server i's mode() is `mode` ("" for: it does not serve); returns whether it
    /// was within `limit`.
    bool wait_for_mode(int i, const std::string& mode, std::chrono::milliseconds limit) const;

    /// Waits until every server serves (as leader or follower); returns whether they did within
    /// `limit`.
    bool wait_all_serving(std::chrono::milliseconds limit) const;

    /// How cut() (and isolate, split, bridge) cuts a link from now on:
    /// - close: open connections are closed (each side notices at once) and new ones closed as
    ///   soon as accepted, until healed;
    /// - silence: nothing passes and nothing is closed, as when a network drops packets: each
    ///   server notices only by its own timeouts. At the heal, what waited is delivered, as TCP
    ///   retransmits it.
    enum class cut_style { close, silence };
    void set_cut_style(cut_style style) { style_ = style; }

    /// Cuts the link between servers i and j, both ways and both ports, in the current style.
    void cut(int i, int j);
    void heal(int i, int j);
    void heal_all();
    bool linked(int i, int j) const;

    /// Cuts server i off from every other server.
    void isolate(int i);

    /// Isolates server i until the others have elected a leader, then `after_election` more,
    /// heals every link and waits for a quorum of the whole ensemble. The new leader gives every
    /// session a full timeout from its election on, so with `after_election` above the session
    /// timeout the sessions on server i expire however long the election took. Returns whether
    /// both quorums formed (within 30 s each).
    bool isolate_past_election(int i, std::chrono::milliseconds after_election);

    /// Cuts every link between servers of different groups; a server in no group is cut off
    /// from all.
    void split(const std::vector<std::vector<int>>& groups);

    /// Jepsen's bridge: `left` and `right` are cut from each other, and `middle` keeps its links
    /// to both sides (for five servers: {1, 2} - 3 - {4, 5}).
    void bridge(const std::vector<int>& left, int middle, const std::vector<int>& right);

    /// The ids of every server (1..size()), and of every server but i.
    std::vector<int> every_server() const { return others_than(0); }
    std::vector<int> others_than(int i) const;

  private:
    /// The four proxies of one pair of servers: i->j and j->i, quorum port and election port.
    struct link {
        std::vector<std::unique_ptr<tcp_proxy>> proxies;
        bool cut = false;
    };
    link& between(int i, int j);
    const link& between(int i, int j) const;
    void set(int i, int j, bool cut);

    int members_;
    bool tls_;
    cut_style style_ = cut_style::close;
    std::string dir_;
    std::map<std::pair<int, int>, link> links_;  // (lower id, higher id)
    std::unique_ptr<zk_server> servers_;
};

}  // namespace zkr::test
