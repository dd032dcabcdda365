// Each recipe, step by step, with every fault at every request (recipe_steps.hpp): no server.
// A new recipe gets its cases here (docs/design-notes.md, "Adding a recipe").
#include "recipe_steps.hpp"

#include "access.hpp"
#include "lock_state.hpp"
#include "revoke_node.hpp"

#include <zkr/barrier.hpp>
#include <zkr/double_barrier.hpp>
#include <zkr/group.hpp>
#include <zkr/leader_election.hpp>
#include <zkr/multi_lock.hpp>
#include <zkr/names.hpp>
#include <zkr/semaphore.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using detail::access;
using detail::session_ptr;

constexpr std::int64_t other = 0x200;  // the session of "another client" (recipe_steps.cpp)
const std::string other_uuid = "00000000-0000-4000-8000-000000000000";

/// Persistent nodes, in order (parents first).
void make_dirs(fake_server& server, std::initializer_list<std::string> dirs) {
    created_node ignored;
    for (const auto& dir : dirs) {
        server.apply_create(dir, {}, create_mode::persistent, 0, ignored);
    }
}

/// Another client's contender in `dir`, ahead of ours.
void other_contender(fake_server& server, const std::string& dir, std::string_view marker) {
    server.create_as(
        other, dir + "/" + std::string(names::protection_prefix) + other_uuid + std::string(marker),
        "other", true);
}

/// How the runner holds and releases each kind of handle.
bool holds(const lock& l) {
    return l.owns();
}
bool holds(const lock_group& g) {
    return g.owns();
}
bool holds(const leadership& l) {
    return l.is_leader();
}
template <class Handler>
void release(lock& l, Handler h) {
    l.async_release(std::move(h));
}
template <class Handler>
void release(lock_group& g, Handler h) {
    g.async_release(std::move(h));
}
template <class Handler>
void release(leadership& l, Handler h) {
    l.async_resign(std::move(h));
}

/// A case whose operation completes with a Handle (a lock, a lease, leadership) or, for
/// Handle = void, with an error code only. `start(session, handler)` starts it.
template <class Handle, class Start>
recipe_case acquisition(std::string name, std::function<void(fake_server&)> setup,
                        std::vector<std::string> script, Start start) {
    recipe_case c;
    c.name = std::move(name);
    c.setup = std::move(setup);
    c.script = std::move(script);
    c.start = [start](session_ptr s, asio::cancellation_slot slot,
                      std::function<void(step_outcome)> done) {
        if constexpr (std::is_void_v<Handle>) {
            start(std::move(s), asio::bind_cancellation_slot(slot, [done](error_code ec) {
                      done({ec, false, {}});
                  }));
        } else {
            start(std::move(s),
                  asio::bind_cancellation_slot(slot, [done](error_code ec, Handle handle) {
                      const bool held = holds(handle);
                      auto kept = std::make_shared<Handle>(std::move(handle));
                      done({ec, held, [kept](std::function<void(error_code)> released) {
                                release(*kept, [kept, released](error_code ec) { released(ec); });
                            }});
                  }));
        }
    };
    return c;
}

/// A lock of one queue: a mutex, a side of a read-write lock.
template <class Setup>
recipe_case queue_lock(std::string name, std::string_view marker, Setup setup,
                       std::vector<std::string> script) {
    return acquisition<lock>(
        std::move(name), setup, std::move(script), [marker](session_ptr s, auto handler) {
            access::construct<mutex>(std::move(s), "/app/lk", std::string(marker), mutex_options{})
                .async_lock(std::move(handler));
        });
}

void app_lk(fake_server& s) {
    make_dirs(s, {"/app", "/app/lk"});
}

/// The world of a contended case: /app/lk with another client's contender of `marker` in it.
std::function<void(fake_server&)> behind(std::string_view marker) {
    return [marker](fake_server& s) {
        app_lk(s);
        other_contender(s, "/app/lk", marker);
    };
}

TEST(Steps, MutexUncontended) {
    check_every_step(queue_lock("mutex, free", names::lock_marker, app_lk,
                                {
                                    "create /app/lk/_c_<uuid>-lock-",
                                    "get_children /app/lk",
                                    "remove /app/lk/_c_<uuid>-lock-0000000000",
                                }));
}

TEST(Steps, MutexInAMissingDirectory) {
    check_every_step(queue_lock("mutex, no directory yet", names::lock_marker, [](fake_server&) {},
                                {
                                    "create /app/lk/_c_<uuid>-lock-",
                                    "get_children /app/lk",
                                    "create /app",
                                    "create /app/lk",
                                    "create /app/lk/_c_<uuid>-lock-",
                                    "get_children /app/lk",
                                    "remove /app/lk/_c_<uuid>-lock-0000000000",
                                }));
}

TEST(Steps, MutexBehindAnotherHolder) {
    check_every_step(queue_lock("mutex, held by another", names::lock_marker,
                                behind(names::lock_marker),
                                {
                                    "create /app/lk/_c_<uuid>-lock-",
                                    "get_children /app/lk",
                                    "watch_data /app/lk/_c_<uuid>-lock-0000000001",
                                    "watch_data /app/lk/_c_<uuid>-lock-0000000000",
                                    "remove /app/lk/_c_<uuid>-lock-0000000001",
                                }));
}

TEST(Steps, ReaderBehindAWriter) {
    check_every_step(queue_lock("read lock behind a write lock", names::read_marker,
                                behind(names::write_marker),
                                {
                                    "create /app/lk/_c_<uuid>-__READ__",
                                    "get_children /app/lk",
                                    "watch_data /app/lk/_c_<uuid>-__READ__0000000001",
                                    "watch_data /app/lk/_c_<uuid>-__WRIT__0000000000",
                                    "remove /app/lk/_c_<uuid>-__READ__0000000001",
                                }));
}

TEST(Steps, WriterBehindAReader) {
    check_every_step(queue_lock("write lock behind a read lock", names::write_marker,
                                behind(names::read_marker),
                                {
                                    "create /app/lk/_c_<uuid>-__WRIT__",
                                    "get_children /app/lk",
                                    "watch_data /app/lk/_c_<uuid>-__READ__0000000000",
                                    "get_children /app/lk",
                                    "remove /app/lk/_c_<uuid>-__WRIT__0000000001",
                                }));
}

TEST(Steps, ElectionCampaign) {
    check_every_step(acquisition<leadership>(
        "election, behind a leader", behind(names::latch_marker),
        {
            "create /app/lk/_c_<uuid>-latch-",
            "get_children /app/lk",
            "watch_data /app/lk/_c_<uuid>-latch-0000000000",
            "get_data /app/lk/_c_<uuid>-latch-0000000001",
            "remove /app/lk/_c_<uuid>-latch-0000000001",
        },
        [](session_ptr s, auto handler) {
            access::construct<leader_election>(std::move(s), "/app/lk", "me", election_options{})
                .async_campaign(std::move(handler));
        }));
}

TEST(Steps, ElectionPublish) {
    // Elected, then one publication: its failures read as the loss that caused them.
    check_every_step(acquisition<leadership>(
        "election, publishing once elected", app_lk,
        {
            "create /app/lk/_c_<uuid>-latch-",
            "get_children /app/lk",
            "get_data /app/lk/_c_<uuid>-latch-0000000000",
            "set_data /app/lk/_c_<uuid>-latch-0000000000",
            "remove /app/lk/_c_<uuid>-latch-0000000000",
        },
        [](session_ptr s, auto handler) {
            const auto slot = asio::get_associated_cancellation_slot(handler);
            auto published = [slot, handler = std::move(handler)](error_code ec,
                                                                  leadership l) mutable {
                if (ec) {
                    handler(ec, std::move(l));
                    return;
                }
                auto term = std::make_shared<leadership>(std::move(l));
                term->async_publish(
                    "10.0.0.7:8080 epoch 1",
                    asio::bind_cancellation_slot(slot, [term, handler = std::move(handler)](
                                                           error_code ec) mutable {
                        handler(ec == errc::lock_lost ? term->lost_reason() : ec, std::move(*term));
                    }));
            };
            access::construct<leader_election>(std::move(s), "/app/lk", "me", election_options{})
                .async_campaign(asio::bind_cancellation_slot(slot, std::move(published)));
        }));
}

/// A semaphore of `max` leases at /app/lk, one of them taken by another client.
recipe_case semaphore_case(std::string name, int max, std::vector<std::string> script) {
    return acquisition<lease>(
        std::move(name),
        [](fake_server& s) {
            make_dirs(s, {"/app", "/app/lk", "/app/lk/locks", "/app/lk/leases"});
            other_contender(s, "/app/lk/leases", names::lease_marker);
        },
        std::move(script),
        [max](session_ptr s, auto handler) {
            access::construct<semaphore>(std::move(s), "/app/lk", max, semaphore_options{})
                .async_acquire(std::move(handler));
        });
}

TEST(Steps, SemaphoreWithOneLeaseTaken) {
    check_every_step(semaphore_case("semaphore of 2, one lease taken", 2,
                                    {
                                        "get_data /app/lk",
                                        "set_data /app/lk",
                                        "get_data /app/lk",
                                        "create /app/lk/locks/_c_<uuid>-lock-",
                                        "get_children /app/lk/locks",
                                        "create /app/lk/leases/_c_<uuid>-lease-",
                                        "watch_children /app/lk/leases",
                                        "remove /app/lk/locks/_c_<uuid>-lock-0000000000",
                                        "remove /app/lk/leases/_c_<uuid>-lease-0000000001",
                                    }));
}

TEST(Steps, SemaphoreFull) {
    check_every_step(semaphore_case("semaphore of 1, taken: waits for the lease to go", 1,
                                    {
                                        "get_data /app/lk",
                                        "set_data /app/lk",
                                        "get_data /app/lk",
                                        "create /app/lk/locks/_c_<uuid>-lock-",
                                        "get_children /app/lk/locks",
                                        "create /app/lk/leases/_c_<uuid>-lease-",
                                        "watch_children /app/lk/leases",
                                        "watch_children /app/lk/leases",
                                        "remove /app/lk/locks/_c_<uuid>-lock-0000000000",
                                        "remove /app/lk/leases/_c_<uuid>-lease-0000000001",
                                    }));
}

TEST(Steps, MultiLock) {
    check_every_step(acquisition<lock_group>(
        "two locks, the second held by another",
        [](fake_server& s) {
            make_dirs(s, {"/app", "/app/a", "/app/b"});
            other_contender(s, "/app/b", names::lock_marker);
        },
        {
            "create /app/a/_c_<uuid>-lock-",
            "get_children /app/a",
            "create /app/b/_c_<uuid>-lock-",
            "get_children /app/b",
            "watch_data /app/b/_c_<uuid>-lock-0000000001",
            "watch_data /app/b/_c_<uuid>-lock-0000000000",
            "remove /app/a/_c_<uuid>-lock-0000000000",
            "remove /app/b/_c_<uuid>-lock-0000000001",
        },
        [](session_ptr s, auto handler) {
            std::vector<mutex> both{
                access::construct<mutex>(s, "/app/b", std::string(names::lock_marker),
                                         mutex_options{}),
                access::construct<mutex>(s, "/app/a", std::string(names::lock_marker),
                                         mutex_options{})};
            async_lock_all(std::move(both), std::move(handler));
        }));
}

TEST(Steps, GroupJoin) {
    auto c = acquisition<lock>("group membership", app_lk,
                               {
                                   "create /app",
                                   "create /app/lk",
                                   "create /app/lk/me",
                                   "remove /app/lk/me",
                               },
                               [](session_ptr s, auto handler) {
                                   access::construct<group>(std::move(s), "/app/lk")
                                       .async_join("me", "data", std::move(handler));
                               });
    // Another session joined under our id first.
    c.conflict_errors.push_back(make_error_code(zk_errc::node_exists));
    check_every_step(c);
}

TEST(Steps, BarrierWait) {
    check_every_step(acquisition<void>(
        "waiting at a barrier another client removes",
        [](fake_server& s) {
            make_dirs(s, {"/app"});
            s.create_as(other, "/app/lk", {}, false);
        },
        {
            "watch_exists /app/lk",
            "watch_exists /app/lk",
        },
        [](session_ptr s, auto handler) {
            access::construct<barrier>(std::move(s), "/app/lk").async_wait(std::move(handler));
        }));
}

TEST(Steps, DoubleBarrierEnter) {
    check_every_step(acquisition<void>(
        "entering and leaving a double barrier of 2, the other member in",
        [](fake_server& s) {
            app_lk(s);
            s.create_as(other, "/app/lk/" + other_uuid, {}, false);
        },
        {
            "create /app",
            "create /app/lk",
            "create /app/lk/<uuid>",
            "watch_exists /app/lk/ready",
            "sync /app/lk",
            "get_children /app/lk",
            "create /app/lk/ready",
            "get_children /app/lk",
            "watch_exists /app/lk/<uuid>",
            "remove /app/lk/<uuid>",
            "get_children /app/lk",
            "remove /app/lk/ready",
        },
        [](session_ptr s, auto handler) {
            // Enter, then leave (which deletes our node): the operation under test is both.
            auto member = std::make_shared<double_barrier>(
                access::construct<double_barrier>(std::move(s), "/app/lk", 2));
            auto slot = asio::get_associated_cancellation_slot(handler);
            member->async_enter(asio::bind_cancellation_slot(
                slot, [member, slot, handler = std::move(handler)](error_code ec) mutable {
                    if (ec) {
                        std::move(handler)(ec);
                        return;
                    }
                    member->async_leave(asio::bind_cancellation_slot(
                        slot, [member, handler = std::move(handler)](error_code ec) mutable {
                            if (ec != asio::error::operation_aborted) {
                                std::move(handler)(ec);
                                return;
                            }
                            // A cancelled leave keeps us inside while our node is there: the
                            // caller leaves again (errc::invalid_argument: already out).
                            member->async_leave(
                                [member, ec, handler = std::move(handler)](error_code) mutable {
                                    std::move(handler)(ec);
                                });
                        }));
                }));
        }));
}

/// A forced revocation (grace 0) of another client's lock node on the fake, with `f` injected at
/// request `step`: what it reported, and its requests.
std::pair<revocation, std::vector<std::string>> force_revocation(std::size_t step, fault f) {
    asio::io_context ioc;
    fake_server server;
    make_dirs(server, {"/app", "/app/lk"});
    const auto node = server.create_as(other,
                                       "/app/lk/" + std::string(names::protection_prefix) +
                                           other_uuid + std::string(names::lock_marker),
                                       "other", true);
    auto s = std::make_shared<fake_session>(ioc, server, 0x100);
    s->inject(step, f);
    std::optional<revocation> outcome;
    detail::revoke_node(s, node, revoke_options{.force = true, .grace = {}},
                        [&](error_code ec, revocation how) {
                            EXPECT_FALSE(ec) << ec.message();
                            outcome = how;
                        });
    while (!outcome) {
        ioc.restart();
        if (ioc.poll() == 0 && !outcome) {
            ADD_FAILURE() << "the revocation never completed";
            break;
        }
    }
    std::vector<std::string> requests;
    for (const auto& r : s->requests()) {
        requests.push_back(r.kind);
    }
    return {outcome.value_or(revocation::requested), requests};
}

TEST(Steps, AForcedRevocationWhoseDeleteWentUnansweredSaysEvicted) {
    const auto [clean, requests] = force_revocation(static_cast<std::size_t>(-1), fault::none);
    EXPECT_EQ(clean, revocation::evicted);
    const auto at = std::find(requests.begin(), requests.end(), "remove");
    ASSERT_NE(at, requests.end());
    const auto remove = static_cast<std::size_t>(at - requests.begin());
    // Sent again after the lost answer, the delete finds no node: ours was applied, and the
    // holder was never told. Not "released".
    EXPECT_EQ(force_revocation(remove, fault::loss_after).first, revocation::evicted);
    EXPECT_EQ(force_revocation(remove, fault::loss_before).first, revocation::evicted);
    // Gone just before our delete (the holder let go): released.
    EXPECT_EQ(force_revocation(remove, fault::conflict).first, revocation::released);
}

/// A hold that begins (lock_state::start, as an acquisition completes) while the fake's session
/// is suspended, past this outage's loss deadline or not. What it says afterwards: still owned,
/// or lost and why.
std::pair<bool, error_code> hold_begun_while_suspended(bool deadline_passed) {
    asio::io_context ioc;
    fake_server server;
    make_dirs(server, {"/app", "/app/lk"});
    auto s = std::make_shared<fake_session>(ioc, server, 0x100);
    created_node ours;
    EXPECT_FALSE(
        server.apply_create("/app/lk/n-", "", create_mode::ephemeral_sequential, s->id(), ours));
    // The answers came before the disconnect; the hold begins after it.
    s->suspend(deadline_passed);
    auto state = std::make_shared<detail::lock_state>(
        s, detail::acquired_node{ours.path, ours.stat}, loss_policy::on_expiry, "test");
    state->start();
    for (ioc.restart(); ioc.poll() != 0; ioc.restart()) {
    }
    const std::pair<bool, error_code> said{state->owns(), state->lost_reason()};
    // Let go once connected again (a delete while suspended waits for the connection), so that
    // nothing (its node's watch, that wait) keeps the hold and the session alive.
    s->reconnect();
    state->release([](error_code) {});
    for (ioc.restart(); ioc.poll() != 0; ioc.restart()) {
    }
    return said;
}

TEST(Steps, AHoldBegunPastTheLossDeadlineIsLostAtOnce) {
    // The deadline's event was told before the hold listened: the hold must still hear it.
    const auto [owned, why] = hold_begun_while_suspended(true);
    EXPECT_FALSE(owned);
    EXPECT_EQ(why, errc::session_deadline);
    // Before the deadline, a hold survives the outage (loss_policy::on_expiry).
    EXPECT_TRUE(hold_begun_while_suspended(false).first);
}

/// What a moved-from recipe object still answers: an empty path, as before its fields moved
/// behind one impl_ (a std::string member moved from is empty).
template <class Recipe, class... Args>
void expect_empty_path_once_moved_from(session_ptr s, Args... args) {
    auto from = access::construct<Recipe>(std::move(s), std::string("/app/lk"), args...);
    EXPECT_EQ(from.path(), "/app/lk");
    const Recipe to(std::move(from));
    EXPECT_EQ(to.path(), "/app/lk");
    EXPECT_EQ(from.path(), "");  // NOLINT(bugprone-use-after-move): what this test is about
}

TEST(Steps, MovedFromRecipesHaveAnEmptyPath) {
    asio::io_context ioc;
    fake_server server;
    session_ptr s = std::make_shared<fake_session>(ioc, server, 0x100);
    expect_empty_path_once_moved_from<barrier>(s);
    expect_empty_path_once_moved_from<mutex>(s, std::string(names::lock_marker), mutex_options{});
    expect_empty_path_once_moved_from<group>(s);
}

}  // namespace
}  // namespace zkr::test
