// The counters (shared_count, atomic_long) step by step, with every fault at every request
// (recipe_steps.hpp), and their byte layouts. After a change that says it landed, the case reads
// the node back: a write applied twice (a lost answer sent again after it landed) or not at all
// shows as a value other than the one reported.
#include "recipe_steps.hpp"

#include "access.hpp"
#include "counter_node.hpp"

#include <zkr/atomic_long.hpp>
#include <zkr/shared_count.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using detail::access;
using detail::session_ptr;

const std::string count_path = "/app/count";

/// The script of a change to an existing node: read, compare-and-set, the case's read back.
const std::vector<std::string> read_write_check = {"get_data /app/count", "set_data /app/count",
                                                   "get_data /app/count"};
/// The script of a first change without /app: the create, its parent, the create again.
const std::vector<std::string> create_with_parent = {"get_data /app/count", "create /app/count",
                                                     "create /app", "create /app/count",
                                                     "get_data /app/count"};

std::string count_bytes(std::int32_t v) {
    return detail::to_big_endian(static_cast<std::uint32_t>(v), 4);
}
std::string long_bytes(std::int64_t v) {
    return detail::to_big_endian(static_cast<std::uint64_t>(v), 8);
}

/// /app, and /app/count holding `data`.
std::function<void(fake_server&)> holding(std::string data) {
    return [data](fake_server& s) {
        created_node ignored;
        s.apply_create("/app", {}, create_mode::persistent, 0, ignored);
        s.apply_create(count_path, data, create_mode::persistent, 0, ignored);
    };
}

/// The value a node holds in either layout (4 bytes: a count; 8: a long).
std::int64_t read_back(const std::string& data) {
    const auto raw = detail::from_big_endian(data);
    return data.size() == 4
               ? std::int64_t{static_cast<std::int32_t>(static_cast<std::uint32_t>(raw))}
               : static_cast<std::int64_t>(raw);
}

/// Reports what an operation says the node holds now (nullopt: it says nothing was written).
using reported = std::function<void(error_code, std::optional<std::int64_t>)>;

/// A case of an operation `op(session, handler)` whose handler calls a `reported`; a write that
/// says it landed is then checked against the node read back (data_inconsistency if it differs).
template <class Op>
recipe_case counter_case(std::string name, std::function<void(fake_server&)> setup,
                         std::vector<std::string> script, Op op) {
    recipe_case c;
    c.name = std::move(name);
    c.setup = std::move(setup);
    c.script = std::move(script);
    // Another client's node in our way holds no data: no count for shared_count.
    c.conflict_errors = {make_error_code(errc::not_a_counter)};
    c.lost_answer_errors = {make_error_code(errc::outcome_unknown)};  // the node cannot tell
    c.start = [op](session_ptr s, asio::cancellation_slot slot,
                   std::function<void(step_outcome)> done) {
        op(s, slot, [s, done](error_code ec, std::optional<std::int64_t> value) {
            if (ec || !value) {
                done({ec, false, {}});
                return;
            }
            // Read back through connection loss; a read that fails (the session expired) ends
            // the case with its error.
            detail::spawn(
                s, detail::read_counter(s, count_path),
                detail::handler<void(error_code, detail::counter_node)>(
                    [done, value](error_code read_ec, detail::counter_node read) {
                        if (!read_ec && read.version >= 0 && read_back(read.data) != *value) {
                            read_ec = make_error_code(zk_errc::data_inconsistency);
                        }
                        done({read_ec, false, {}});
                    }));
        });
    };
    return c;
}

shared_count a_count(session_ptr s) {
    return access::construct<shared_count>(std::move(s), count_path, std::int32_t{0});
}
atomic_long a_long(session_ptr s) {
    return access::construct<atomic_long>(std::move(s), count_path);
}

TEST(CounterLayout, BigEndianAsCuratorWritesIt) {
    EXPECT_EQ(count_bytes(1), std::string("\0\0\0\1", 4));
    EXPECT_EQ(count_bytes(-2), "\xff\xff\xff\xfe");
    EXPECT_EQ(count_bytes(0x01020304), "\x01\x02\x03\x04");
    EXPECT_EQ(long_bytes(0x0102030405060708), "\x01\x02\x03\x04\x05\x06\x07\x08");
    EXPECT_EQ(long_bytes(-1), std::string(8, '\xff'));
    for (const std::int64_t v :
         {std::int64_t{0}, std::int64_t{-1}, std::int64_t{42},
          std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
        EXPECT_EQ(static_cast<std::int64_t>(detail::from_big_endian(long_bytes(v))), v);
    }
    EXPECT_EQ(static_cast<std::int32_t>(
                  static_cast<std::uint32_t>(detail::from_big_endian(count_bytes(-7)))),
              -7);
}

TEST(CounterSteps, SharedCountAddToAnExistingCount) {
    check_every_step(counter_case(
        "adding 5 to a count of 7", holding(count_bytes(7)), read_write_check,
        [](session_ptr s, asio::cancellation_slot slot, reported r) {
            a_count(s).async_add(
                5, asio::bind_cancellation_slot(slot, [r](error_code ec, versioned_count now) {
                    EXPECT_TRUE(ec || now.value >= 5);
                    r(ec, now.value);
                }));
        }));
}

TEST(CounterSteps, SharedCountAddCreatesTheCountAndItsParents) {
    check_every_step(counter_case(
        "adding 5 to a count that does not exist yet", [](fake_server&) {}, create_with_parent,
        [](session_ptr s, asio::cancellation_slot slot, reported r) {
            a_count(s).async_add(
                5, asio::bind_cancellation_slot(
                       slot, [r](error_code ec, versioned_count now) { r(ec, now.value); }));
        }));
}

TEST(CounterSteps, SharedCountSetIfAtTheVersionRead) {
    check_every_step(counter_case(
        "setting 9 at version 0", holding(count_bytes(7)),
        {"set_data /app/count", "get_data /app/count"},
        [](session_ptr s, asio::cancellation_slot slot, reported r) {
            a_count(s).async_set_if(
                {7, 0}, 9,
                asio::bind_cancellation_slot(
                    slot, [r](error_code ec, bool set, versioned_count now) {
                        r(ec, set ? std::optional<std::int64_t>(now.value) : std::nullopt);
                    }));
        }));
}

TEST(CounterSteps, SharedCountSet) {
    check_every_step(counter_case("setting 3", holding(count_bytes(7)), read_write_check,
                                  [](session_ptr s, asio::cancellation_slot slot, reported r) {
                                      a_count(s).async_set(
                                          3, asio::bind_cancellation_slot(
                                                 slot, [r](error_code ec, versioned_count now) {
                                                     EXPECT_TRUE(ec || now.value == 3);
                                                     r(ec, now.value);
                                                 }));
                                  }));
}

TEST(CounterSteps, SharedCountGet) {
    check_every_step(counter_case(
        "reading a count", holding(count_bytes(7)), {"get_data /app/count"},
        [](session_ptr s, asio::cancellation_slot slot, reported r) {
            a_count(s).async_get(
                asio::bind_cancellation_slot(slot, [r](error_code ec, versioned_count now) {
                    EXPECT_TRUE(ec || now == (versioned_count{7, 0}) || now.version == -1);
                    r(ec, std::nullopt);
                }));
        }));
}

TEST(CounterSteps, AtomicLongAddToAnExistingLong) {
    check_every_step(counter_case(
        "adding 5 to a long of 7", holding(long_bytes(7)), read_write_check,
        [](session_ptr s, asio::cancellation_slot slot, reported r) {
            a_long(s).async_add(
                5, asio::bind_cancellation_slot(slot, [r](error_code ec, atomic_change c) {
                    EXPECT_TRUE(ec || c.after == c.before + 5);
                    r(ec, c.after);
                }));
        }));
}

TEST(CounterSteps, AtomicLongAddCreatesTheLong) {
    check_every_step(counter_case(
        "adding 5 to a long that does not exist yet", [](fake_server&) {}, create_with_parent,
        [](session_ptr s, asio::cancellation_slot slot, reported r) {
            a_long(s).async_add(5,
                                asio::bind_cancellation_slot(
                                    slot, [r](error_code ec, atomic_change c) { r(ec, c.after); }));
        }));
}

TEST(CounterSteps, AtomicLongCompareAndSet) {
    check_every_step(counter_case(
        "setting 9 where 7 is", holding(long_bytes(7)), read_write_check,
        [](session_ptr s, asio::cancellation_slot slot, reported r) {
            a_long(s).async_compare_and_set(
                7, 9,
                asio::bind_cancellation_slot(slot, [r](error_code ec, bool set, atomic_change c) {
                    r(ec, set ? std::optional<std::int64_t>(c.after) : std::nullopt);
                }));
        }));
}

TEST(CounterSteps, AtomicLongSetAndGet) {
    check_every_step(counter_case(
        "setting -3, then reading", holding(long_bytes(7)),
        {"get_data /app/count", "set_data /app/count", "get_data /app/count",
         "get_data /app/count"},
        [](session_ptr s, asio::cancellation_slot slot, reported r) {
            auto l = std::make_shared<atomic_long>(a_long(s));
            l->async_set(-3,
                         asio::bind_cancellation_slot(slot, [l, r](error_code ec, atomic_change c) {
                             EXPECT_TRUE(ec || c.after == -3);
                             if (ec) {
                                 r(ec, std::nullopt);
                                 return;
                             }
                             l->async_get([r](error_code get_ec, std::int64_t v) { r(get_ec, v); });
                         }));
        }));
}

}  // namespace
}  // namespace zkr::test
