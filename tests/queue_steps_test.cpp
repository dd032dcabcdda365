// zkr::queue step by step, with every fault at every request (recipe_steps.hpp): putting,
// taking, claiming, completing and releasing. After an operation that says it put or took an
// item, the case reads the queue back: an item put twice, or handed over and still there, shows.
#include "recipe_steps.hpp"

#include "access.hpp"
#include "coroutines.hpp"
#include "queue_framing.hpp"
#include "queue_item_names.hpp"

#include <zkr/queue.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using detail::access;
using detail::session_ptr;

const std::string queue_path = "/q";
const std::string claims_dir = "/q/zkr-claims";

queue a_queue(session_ptr s) {
    return access::construct<queue>(std::move(s), queue_path, queue_options{});
}

/// /q holding the items `data` (qn-0000000000, qn-0000000001, ...) and an empty claims'
/// directory.
std::function<void(fake_server&)> holding(std::vector<std::string> data) {
    return [data](fake_server& s) {
        created_node ignored;
        s.apply_create(queue_path, {}, create_mode::persistent, 0, ignored);
        for (const auto& d : data) {
            s.apply_create(queue_path + "/qn-", d, create_mode::persistent_sequential, 0, ignored);
        }
        s.apply_create(claims_dir, {}, create_mode::persistent, 0, ignored);
    };
}

/// What a case reads back: the queue's items, and the nodes at the root (results).
struct read_world {
    std::vector<std::string> items;
    std::vector<std::string> root;
};

asio::awaitable<std::tuple<error_code, read_world>> read_world_of(session_ptr s) {
    read_world world;
    static const std::string dirs[] = {"/q", "/"};  // no temporary across a co_await
    for (const auto& dir : dirs) {
        auto [ec, kids] = co_await detail::call_retrying<void(error_code, children)>(
            s, [&](auto h) { s->get_children(dir, std::move(h)); });
        if (ec && ec != zk_errc::no_node) {
            co_return std::tuple{ec, world};
        }
        (dir == "/" ? world.root : world.items) = std::move(kids.names);
    }
    std::erase_if(world.items, [](const std::string& n) {
        return !n.starts_with("qn-") && !n.starts_with("queue-");
    });
    co_return std::tuple{error_code{}, world};
}

/// Reads the world back through connection loss, then `check(world)`; a read that fails ends
/// the case with its error.
void read_back(session_ptr s, std::function<void(step_outcome)> done,
               std::function<bool(const read_world&)> check) {
    detail::spawn(s, read_world_of(s),
                  detail::handler<void(error_code, read_world)>(
                      [done, check](error_code ec, read_world world) {
                          if (!ec && !check(world)) {
                              ec = make_error_code(zk_errc::data_inconsistency);
                          }
                          done({ec, false, {}});
                      }));
}

bool has(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

recipe_case queue_case(std::string name, std::function<void(fake_server&)> setup,
                       std::vector<std::string> script) {
    recipe_case c;
    c.name = std::move(name);
    c.setup = std::move(setup);
    c.script = std::move(script);
    c.conflict_errors = {};
    c.lost_answer_errors = {make_error_code(errc::outcome_unknown)};
    return c;
}

const std::vector<std::string> take_first = {
    "get_children /q",           "get_children /q/zkr-claims",
    "get_data /q/qn-0000000000", "multi /q/zkr-claims/qn-0000000000",
    "get_children /q",           "get_children /"};
const std::vector<std::string> claim_first = {"get_children /q", "get_children /q/zkr-claims",
                                              "create /q/zkr-claims/qn-0000000000",
                                              "get_data /q/qn-0000000000"};

TEST(QueueSteps, PutIntoAQueue) {
    auto c = queue_case("putting an item", holding({"a"}),
                        {"exists /q", "multi /q/qn-", "get_children /q", "get_children /"});
    c.start = [](session_ptr s, asio::cancellation_slot slot,
                 std::function<void(step_outcome)> done) {
        a_queue(s).async_put(
            "b", asio::bind_cancellation_slot(slot, [s, done](error_code ec, std::string node) {
                if (ec) {
                    done({ec, false, {}});
                    return;
                }
                EXPECT_TRUE(node.starts_with("qn-")) << node;
                read_back(s, done, [node](const read_world& w) {
                    return w.items.size() == 2 && has(w.items, node);
                });
            }));
    };
    check_every_step(c);
}

TEST(QueueSteps, PutManyCreatesTheQueueAndAddsAllOrNone) {
    auto c = queue_case("putting three items where no queue is", [](fake_server&) {},
                        {"exists /q", "multi /q/qn-", "create /q", "exists /q", "multi /q/qn-",
                         "get_children /q", "get_children /"});
    c.start = [](session_ptr s, asio::cancellation_slot slot,
                 std::function<void(step_outcome)> done) {
        a_queue(s).async_put_many(
            {"a", "b", "c"},
            asio::bind_cancellation_slot(
                slot, [s, done](error_code ec, std::vector<std::string> nodes) {
                    if (ec) {
                        // All or none: nothing of it may be there.
                        read_back(
                            s,
                            [done, ec](step_outcome o) {
                                done({o.ec ? o.ec : ec, false, {}});
                            },
                            [ec](const read_world& w) {
                                return w.items.empty() || ec == errc::outcome_unknown;
                            });
                        return;
                    }
                    EXPECT_EQ(nodes.size(), 3u);
                    EXPECT_TRUE(std::is_sorted(nodes.begin(), nodes.end()));
                    read_back(s, done, [](const read_world& w) { return w.items.size() == 3; });
                }));
    };
    check_every_step(c);
}

TEST(QueueSteps, TakeTheHeadItem) {
    auto c = queue_case("taking from a queue of two", holding({"first", "second"}), take_first);
    c.start = [](session_ptr s, asio::cancellation_slot slot,
                 std::function<void(step_outcome)> done) {
        a_queue(s).async_take(asio::bind_cancellation_slot(slot, [s, done](error_code ec,
                                                                           queue_item item) {
            if (ec) {
                done({ec, false, {}});
                return;
            }
            // The head, or the next one if another client took the head first.
            EXPECT_TRUE((item.node == "qn-0000000000" && item.data == "first") ||
                        (item.node == "qn-0000000001" && item.data == "second"))
                << item.node << " " << item.data;
            read_back(s, done, [item](const read_world& w) { return !has(w.items, item.node); });
        }));
    };
    check_every_step(c);
}

TEST(QueueSteps, TakeSkipsAClaimedItem) {
    auto setup = [](fake_server& s) {
        holding({"claimed", "free"})(s);
        s.create_as(other_session, claims_dir + "/qn-0000000000", {}, false);
    };
    auto c =
        queue_case("taking past another consumer's claim", setup,
                   {"get_children /q", "get_children /q/zkr-claims", "get_data /q/qn-0000000001",
                    "multi /q/zkr-claims/qn-0000000001", "get_children /q", "get_children /"});
    c.start = [](session_ptr s, asio::cancellation_slot slot,
                 std::function<void(step_outcome)> done) {
        a_queue(s).async_take(asio::bind_cancellation_slot(slot, [s, done](error_code ec,
                                                                           queue_item item) {
            if (ec) {
                done({ec, false, {}});
                return;
            }
            // The free one; the claimed one only once its claim went (the runner ends
            // other clients' sessions when the operation waits: here, after another client
            // took the free item).
            EXPECT_TRUE(item.node == "qn-0000000001" ? item.data == "free" : item.data == "claimed")
                << item.node;
            read_back(s, done, [item](const read_world& w) { return !has(w.items, item.node); });
        }));
    };
    check_every_step(c);
}

/// A claim case: `then(claim, done)` finishes it (complete, or hand it to the runner to release).
recipe_case claim_case(std::string name, std::vector<std::string> script,
                       std::function<void(session_ptr, std::shared_ptr<queue_claim>,
                                          std::function<void(step_outcome)>)>
                           then) {
    auto c = queue_case(std::move(name), holding({"first", "second"}), std::move(script));
    c.lost_answer_errors = {};  // a claim finds out what its requests did
    // A completion the session ended under did not land: the claim went with the session.
    c.expiry_errors = {make_error_code(errc::claim_lost)};
    c.start = [then](session_ptr s, asio::cancellation_slot slot,
                     std::function<void(step_outcome)> done) {
        a_queue(s).async_claim(
            asio::bind_cancellation_slot(slot, [s, done, then](error_code ec, queue_claim claim) {
                if (ec) {
                    EXPECT_FALSE(claim.owns());
                    done({ec, false, {}});
                    return;
                }
                EXPECT_TRUE(claim.owns());
                EXPECT_GT(claim.fencing_token(), 0);
                EXPECT_TRUE(claim.item().node == "qn-0000000000" ||
                            claim.item().node == "qn-0000000001")
                    << claim.item().node;
                then(s, std::make_shared<queue_claim>(std::move(claim)), done);
            }));
    };
    return c;
}

TEST(QueueSteps, ClaimAndRelease) {
    auto c = claim_case(
        "claiming the head, then giving it back",
        [] {
            auto script = claim_first;
            script.push_back("remove /q/zkr-claims/qn-0000000000");
            return script;
        }(),
        [](session_ptr, std::shared_ptr<queue_claim> claim,
           std::function<void(step_outcome)> done) {
            done({{}, true, [claim](std::function<void(error_code)> released) {
                      claim->async_release([claim, released](error_code ec) {
                          EXPECT_FALSE(claim->owns());
                          released(ec);
                      });
                  }});
        });
    check_every_step(c);
}

TEST(QueueSteps, ClaimAndCompleteWithAResult) {
    auto c = claim_case(
        "claiming the head, completing it with a result node",
        [] {
            auto script = claim_first;
            script.insert(script.end(), {"multi /q/zkr-claims/qn-0000000000", "get_children /q",
                                         "get_children /"});
            return script;
        }(),
        [](session_ptr s, std::shared_ptr<queue_claim> claim,
           std::function<void(step_outcome)> done) {
            const auto item = claim->item().node;
            claim->async_complete(
                {op::create("/result-" + item, claim->item().data)},
                [s, claim, item, done](error_code ec, std::vector<op_result> results) {
                    if (ec) {
                        done({ec, false, {}});
                        return;
                    }
                    EXPECT_EQ(results.size(), 1u);
                    EXPECT_FALSE(claim->owns());
                    // The item gone, and its result there.
                    read_back(s, done, [item](const read_world& w) {
                        return !has(w.items, item) && has(w.root, "result-" + item);
                    });
                });
        });
    check_every_step(c);
}

TEST(QueueSteps, ALostAnswerToATakesDeleteHandsTheItemToNobody) {
    // The delete landed and its answer was lost: the item is gone, taken by this take or (as far
    // as it can tell) by another one. Handing it over could hand it to two takers: it is in
    // doubt, and the next take gets the next item.
    asio::io_context ioc;
    fake_server server;
    holding({"first", "second"})(server);
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    s->inject(3, fault::loss_after);  // the transaction of take_first
    error_code first_ec;
    queue_item first;
    a_queue(s).async_take([&](error_code ec, queue_item item) {
        first_ec = ec;
        first = std::move(item);
    });
    drain(ioc);
    ASSERT_TRUE(s->fault_applied());
    EXPECT_EQ(without_uuids(s->requests()[3].str()), take_first[3]);
    EXPECT_EQ(first_ec, errc::outcome_unknown);
    EXPECT_TRUE(first.data.empty()) << "not handed over";
    EXPECT_FALSE(server.exists("/q/qn-0000000000"));

    error_code next_ec;
    queue_item next;
    a_queue(s).async_take([&](error_code ec, queue_item item) {
        next_ec = ec;
        next = std::move(item);
    });
    drain(ioc);
    EXPECT_FALSE(next_ec);
    EXPECT_EQ(next.data, "second");
}

// ---- The curator_distributed layout: framing, priorities, delays. ----

queue_options distributed_layout() {
    queue_options o;
    o.layout = queue_layout::curator_distributed;
    return o;
}

/// A priority and a delay on one item.
put_options both_options() {
    auto o = put_options::with_priority(1);
    o.delay = std::chrono::milliseconds(1);
    return o;
}

queue a_distributed_queue(session_ptr s) {
    return access::construct<queue>(std::move(s), queue_path, distributed_layout());
}

/// /q holding Curator DistributedQueue items, each named `prefix` and the next sequence, with
/// `data` as the node's bytes (framed by the caller, or not, to test what is no framing).
std::function<void(fake_server&)> holding_nodes(
    std::vector<std::pair<std::string, std::string>> items) {
    return [items](fake_server& s) {
        created_node ignored;
        s.apply_create(queue_path, {}, create_mode::persistent, 0, ignored);
        for (const auto& [prefix, data] : items) {
            s.apply_create(queue_path + "/" + prefix, data, create_mode::persistent_sequential, 0,
                           ignored);
        }
        s.apply_create(claims_dir, {}, create_mode::persistent, 0, ignored);
    };
}

std::pair<std::string, std::string> framed(std::string prefix, std::string data) {
    return {std::move(prefix), detail::frame_items({std::move(data)})};
}

std::string due_in(std::chrono::milliseconds delay) {
    return detail::distributed_item_prefix(std::nullopt, detail::epoch_now_ms() + delay.count());
}

/// Takes one item from `q` on `s`, draining the fake: what it completed with.
std::tuple<error_code, queue_item> take_now(asio::io_context& ioc, queue& q) {
    std::tuple<error_code, queue_item> out{make_error_code(errc::not_connected), {}};
    q.async_take([&](error_code ec, queue_item item) { out = {ec, std::move(item)}; });
    drain(ioc);
    return out;
}

TEST(QueueSteps, PutWithAPriorityFramesTheItemAndNamesItAsCuratorDoes) {
    auto c =
        queue_case("putting an item with priority 5", holding_nodes({}),
                   {"exists /q", "multi /q/queue-100000005", "get_children /q", "get_children /"});
    c.start = [](session_ptr s, asio::cancellation_slot slot,
                 std::function<void(step_outcome)> done) {
        a_distributed_queue(s).async_put(
            "b", put_options::with_priority(5),
            asio::bind_cancellation_slot(slot, [s, done](error_code ec, std::string node) {
                if (ec) {
                    done({ec, false, {}});
                    return;
                }
                EXPECT_TRUE(node.starts_with("queue-100000005")) << node;
                read_back(s, done,
                          [node](const read_world& w) { return w.items == std::vector{node}; });
            }));
    };
    check_every_step(c);

    asio::io_context ioc;
    fake_server server;
    holding_nodes({})(server);
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    std::string node;
    a_distributed_queue(s).async_put("b", [&](error_code, std::string n) { node = n; });
    drain(ioc);
    ASSERT_TRUE(server.exists("/q/" + node)) << node;
    EXPECT_TRUE(node.starts_with("queue-") && node.size() == 16) << node << ": a FIFO item";
    EXPECT_EQ(server.nodes.at("/q/" + node).data, detail::frame_items({"b"}));
}

TEST(QueueSteps, BadPutOptionsSendNothing) {
    asio::io_context ioc;
    fake_server server;
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    std::vector<error_code> got;
    const auto record = [&](error_code ec, std::string) { got.push_back(ec); };
    a_queue(s).async_put("x", put_options::with_priority(1), record);
    a_distributed_queue(s).async_put("x", put_options::with_priority(std::int64_t{1} << 40),
                                     record);
    a_distributed_queue(s).async_put("x", put_options::with_delay(std::chrono::milliseconds(-1)),
                                     record);
    a_distributed_queue(s).async_put("x", put_options::with_delay(std::chrono::hours(24 * 400)),
                                     record);
    a_distributed_queue(s).async_put("x", both_options(), record);
    drain(ioc);
    EXPECT_EQ(got, (std::vector<error_code>{make_error_code(errc::unsupported_put_option),
                                            make_error_code(errc::priority_out_of_range),
                                            make_error_code(errc::delay_out_of_range),
                                            make_error_code(errc::delay_out_of_range),
                                            make_error_code(errc::unsupported_put_option)}));
    EXPECT_TRUE(s->requests().empty()) << s->requests().front().str() << " sent";
}

TEST(QueueSteps, TakeTheHighestPriorityFirst) {
    auto setup = holding_nodes({framed("queue-100000005", "p5"), framed("queue-0FFFFFFFF", "p-1"),
                                framed("queue-100000000", "p0"), framed("queue-100000000", "p0b")});
    auto c = queue_case(
        "taking by priority", setup,
        {"get_children /q", "get_children /q/zkr-claims", "get_data /q/queue-0FFFFFFFF0000000001",
         "multi /q/zkr-claims/queue-0FFFFFFFF0000000001", "get_children /q", "get_children /"});
    c.start = [](session_ptr s, asio::cancellation_slot slot,
                 std::function<void(step_outcome)> done) {
        a_distributed_queue(s).async_take(
            asio::bind_cancellation_slot(slot, [s, done](error_code ec, queue_item item) {
                if (ec) {
                    done({ec, false, {}});
                    return;
                }
                // The head, or the next one if another client took the head first.
                EXPECT_TRUE(item.data == "p-1" || item.data == "p0") << item.data;
                read_back(s, done,
                          [item](const read_world& w) { return !has(w.items, item.node); });
            }));
    };
    check_every_step(c);

    // Then, one consumer alone: priority order, FIFO within a priority.
    asio::io_context ioc;
    fake_server server;
    setup(server);
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    auto q = a_distributed_queue(s);
    for (const char* expected : {"p-1", "p0", "p0b", "p5"}) {
        auto [ec, item] = take_now(ioc, q);
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_EQ(item.data, expected);
    }
}

TEST(QueueSteps, TakeHandsOverOnlyDueItemsInTimeOrder) {
    using namespace std::chrono_literals;
    auto setup = holding_nodes({framed(due_in(1h), "later"), framed("queue-|00000002|", "second"),
                                framed("queue-|00000001|", "first")});
    auto c = queue_case(
        "taking the due items of a delay queue", setup,
        {"get_children /q", "get_children /q/zkr-claims", "get_data /q/queue-|00000001|0000000002",
         "multi /q/zkr-claims/queue-|00000001|0000000002", "get_children /q", "get_children /"});
    c.start = [](session_ptr s, asio::cancellation_slot slot,
                 std::function<void(step_outcome)> done) {
        a_distributed_queue(s).async_take(
            asio::bind_cancellation_slot(slot, [s, done](error_code ec, queue_item item) {
                if (ec) {
                    done({ec, false, {}});
                    return;
                }
                EXPECT_TRUE(item.data == "first" || item.data == "second") << item.data;
                read_back(s, done,
                          [item](const read_world& w) { return !has(w.items, item.node); });
            }));
    };
    check_every_step(c);
}

TEST(QueueSteps, AWaitingTakeWakesWhenTheItemFallsDue) {
    using namespace std::chrono_literals;
    asio::io_context ioc;
    fake_server server;
    holding_nodes({framed(due_in(1h), "later")})(server);
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    auto q = a_distributed_queue(s);
    std::optional<std::tuple<error_code, queue_item>> got;
    q.async_take([&](error_code ec, queue_item item) { got.emplace(ec, std::move(item)); });
    drain(ioc);
    EXPECT_FALSE(got) << "the only item is not due";

    // An item due sooner arrives: the first waiter wakes on the new child, then on its timer.
    const auto due = detail::epoch_now_ms() + 150;
    server.create_as(other_session, "/q/" + detail::distributed_item_prefix(std::nullopt, due),
                     detail::frame_items({"soon"}), true);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!got && std::chrono::steady_clock::now() < deadline) {
        ioc.restart();
        ioc.run_one_for(100ms);
    }
    ASSERT_TRUE(got) << "not woken by the timer";
    EXPECT_FALSE(std::get<0>(*got)) << std::get<0>(*got).message();
    EXPECT_EQ(std::get<1>(*got).data, "soon");
    EXPECT_GE(detail::epoch_now_ms(), due) << "handed over before it was due";
    drain(ioc);
    EXPECT_EQ(server.children_of("/q/zkr-waiters").size(), 0u) << "left the line";
}

TEST(QueueSteps, NodesOfNoFramingOrOfSeveralItemsAreSkippedAndLeftAlone) {
    asio::io_context ioc;
    fake_server server;
    holding_nodes({{"queue-", "garbage"},
                   {"queue-", detail::frame_items({"one", "two"})},
                   {"queue-", detail::frame_items({})},
                   framed("queue-", "good")})(server);
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    auto q = a_distributed_queue(s);
    auto [ec, item] = take_now(ioc, q);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(item.data, "good");
    EXPECT_EQ(item.node, "queue-0000000003");

    // The next take waits, without reading the skipped nodes again and again (a busy loop
    // would never settle: drain fails it).
    asio::cancellation_signal cancel;
    std::optional<error_code> second;
    q.async_take(
        asio::bind_cancellation_slot(cancel.slot(), [&](error_code e, queue_item) { second = e; }));
    drain(ioc);
    EXPECT_FALSE(second);
    cancel.emit(asio::cancellation_type::terminal);
    drain(ioc);
    EXPECT_EQ(second, asio::error::operation_aborted);
    for (const char* left : {"/q/queue-0000000000", "/q/queue-0000000001", "/q/queue-0000000002"}) {
        EXPECT_TRUE(server.exists(left)) << left << " deleted";
    }
    std::optional<queue_item> peeked{queue_item{}};
    q.async_peek([&](error_code, std::optional<queue_item> i) { peeked = std::move(i); });
    drain(ioc);
    EXPECT_FALSE(peeked) << "nothing a consumer can have";
}

TEST(QueueSteps, ClaimAndCompleteAPriorityItem) {
    auto setup =
        holding_nodes({framed("queue-100000001", "low"), framed("queue-100000000", "high")});
    auto c = queue_case(
        "claiming by priority, completing", setup,
        {"get_children /q", "get_children /q/zkr-claims",
         "create /q/zkr-claims/queue-1000000000000000001", "get_data /q/queue-1000000000000000001",
         "multi /q/zkr-claims/queue-1000000000000000001", "get_children /q", "get_children /"});
    c.lost_answer_errors = {};
    c.expiry_errors = {make_error_code(errc::claim_lost)};
    c.start = [](session_ptr s, asio::cancellation_slot slot,
                 std::function<void(step_outcome)> done) {
        a_distributed_queue(s).async_claim(
            asio::bind_cancellation_slot(slot, [s, done](error_code ec, queue_claim claim) {
                if (ec) {
                    done({ec, false, {}});
                    return;
                }
                EXPECT_TRUE(claim.item().data == "high" || claim.item().data == "low")
                    << claim.item().data;
                auto held = std::make_shared<queue_claim>(std::move(claim));
                held->async_complete({}, [s, held, done](error_code cec, std::vector<op_result>) {
                    if (cec) {
                        done({cec, false, {}});
                        return;
                    }
                    read_back(s, done, [node = held->item().node](const read_world& w) {
                        return !has(w.items, node);
                    });
                });
            }));
    };
    check_every_step(c);
}

}  // namespace
}  // namespace zkr::test
