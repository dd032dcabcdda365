// zkr::queue step by step, with every fault at every request (recipe_steps.hpp): putting,
// taking, claiming, completing and releasing. After an operation that says it put or took an
// item, the case reads the queue back: an item put twice, or handed over and still there, shows.
#include "recipe_steps.hpp"

#include "access.hpp"
#include "coroutines.hpp"

#include <zkr/queue.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>

#include <gtest/gtest.h>

#include <algorithm>

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
    std::erase_if(world.items, [](const std::string& n) { return !n.starts_with("qn-"); });
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

}  // namespace
}  // namespace zkr::test
