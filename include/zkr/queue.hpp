// zkr::queue: a queue of byte items many processes share, in one of Apache Curator's two queue
// layouts (queue_layout), so that Curator and zkr producers and consumers share one queue:
// - curator_simple (the default): Curator's SimpleDistributedQueue. Each item is a persistent
//   sequential child "qn-<sequence>" of the queue's path holding the item's bytes. FIFO.
// - curator_distributed: Curator's DistributedQueue, DistributedPriorityQueue and
//   DistributedDelayQueue. Items are "queue-..." children whose data is Curator's ItemSerializer
//   framing of the item; a put may give the item a priority (lower first, FIFO within one) or a
//   delay (not handed over before it is due), encoded in the node's name as Curator encodes them.
//
// Priority and delay are options of one put (put_options), not queue types of their own: the
// consumers read an item's order from its name, so one take, one claim and one peek serve every
// kind of item, and a consumer need not know how producers put.
//
// Three ways to consume (docs/queues.md has what each costs):
// - async_take removes the head item and hands it over: at most once (a consumer that dies
//   before it has processed the item loses it);
// - async_claim hands the head item over with a queue_claim, an ephemeral node that keeps other
//   consumers off the item; queue_claim::async_complete deletes the item, and may write the
//   consumer's result, in one transaction the server refuses once the claim is gone. If the
//   consumer dies, loses its session or releases the claim, the item goes back to the queue:
//   exactly once;
// - async_peek reads the head item and leaves it.
// Waiting consumers line up (one waiter node each) so that one new item wakes one of them, not
// all of them; the first in line also wakes when the earliest delayed item falls due.
//
// (The lock directory reader that this header used to hold is <zkr/lock_queue.hpp>, included
// here for programs written against it.)
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/lock_queue.hpp>
#include <zkr/op.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace zkr {

class session;
namespace detail {
class session_seam;
struct access;
struct queue_impl;
struct queue_claim_state;
}  // namespace detail

/// How a queue's items are named and what their nodes hold (docs/queues.md, "Layouts").
enum class queue_layout {
    /// Curator's SimpleDistributedQueue: "qn-<sequence>", the data the item's bytes. FIFO only.
    curator_simple,
    /// Curator's DistributedQueue family: "queue-<sequence>", "queue-<priority><sequence>"
    /// (DistributedPriorityQueue), "queue-|<due epoch ms>|<sequence>" (DistributedDelayQueue);
    /// the data Curator's ItemSerializer framing of one item. A node that holds no item or
    /// several (Curator's putMulti), or bytes of no such framing, is skipped with a warning and
    /// left for Curator's consumers: zkr hands over one item per node, as it deletes one node.
    curator_distributed,
};

/// How a queue is laid out, and where it keeps what is not items.
struct queue_options {
    /// The claims' directory: one ephemeral node per claimed item, named as the item. Empty:
    /// PATH/zkr-claims. Give the lockPath of a Curator DistributedQueue built with lock safety
    /// to share claims with it.
    std::string claims_dir;
    /// The waiting consumers' directory. Empty: PATH/zkr-waiters. A Curator
    /// DistributedDelayQueue consumer stalls on any child of its path that is no item (it waits
    /// for the first child in its order, and a foreign name sorts first as due at once, so it
    /// never sets its timer): to share a delay queue with one, put this and claims_dir outside
    /// the path.
    std::string waiters_dir;
    queue_layout layout = queue_layout::curator_simple;
};

/// How one put places its items (curator_distributed layout only; at most one of the two).
struct put_options {
    /// Lower first; FIFO within a priority. Curator's int: -2^31 to 2^31 - 1
    /// (errc::priority_out_of_range outside).
    std::optional<std::int64_t> priority;
    /// Handed over no sooner than this long after the put, judged by the consumers' wall clocks
    /// (the due time is the producer's clock plus the delay, in ms since the Unix epoch, as
    /// Curator's DistributedDelayQueue names it). 0 is due at once; negative or over max_delay
    /// is errc::delay_out_of_range.
    std::optional<std::chrono::milliseconds> delay;

    static constexpr std::chrono::milliseconds max_delay{std::chrono::hours(24 * 365)};

    static put_options with_priority(std::int64_t p) {
        put_options o;
        o.priority = p;
        return o;
    }
    static put_options with_delay(std::chrono::milliseconds d) {
        put_options o;
        o.delay = d;
        return o;
    }
};

/// An item as read: its node's name ("qn-0000000042") and its bytes.
struct queue_item {
    std::string node;
    std::string data;
};

/// An item claimed by this consumer (see the file comment): move-only; its destructor releases
/// the claim without waiting, and the item goes back to the queue.
class ZKR_API queue_claim {
  public:
    /// An empty handle: owns() is false.
    queue_claim() noexcept;
    explicit queue_claim(std::shared_ptr<detail::queue_claim_state> state) noexcept;
    queue_claim(queue_claim&&) noexcept;
    /// Releases the claim held (without waiting) before taking over `other`'s.
    queue_claim& operator=(queue_claim&& other) noexcept;
    ~queue_claim();

    /// True until completed or released, while the ZooKeeper session it was made in lasts.
    bool owns() const noexcept;
    explicit operator bool() const noexcept { return owns(); }

    /// The claimed item (empty for an empty handle).
    const queue_item& item() const noexcept;
    /// Full path of the claim's node.
    const std::string& path() const noexcept;
    /// The claim node's czxid: unique across the ensemble, and different for each time an item
    /// is claimed (a consumer that lost its claim and the one that claimed the item next hold
    /// different tokens). 0 for an empty handle.
    std::int64_t fencing_token() const noexcept;

    /// Completes the item: one transaction that checks the claim, deletes the item and the claim
    /// and applies `ops` (the consumer's result, say), all or nothing. Handler signature:
    /// void(error_code, std::vector<op_result>): the results of `ops`. A lost answer is found out
    /// on the server (the claim and the item still there: not applied, sent again; both gone:
    /// applied, and the results carry no stats).
    /// Errors: errc::claim_lost (released, completed, or the claim's session ended or renewed
    /// since: refused here; or the claim node gone: refused by the server; or the session ended
    /// under the transaction, which did not land), errc::outcome_unknown (the answer was lost and
    /// the session ended before it could be found out: the item is gone, completed by this
    /// consumer or by one that claimed it after), an error of one of `ops` (then nothing was done
    /// and the claim holds), the session's closing.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_complete(std::vector<op> ops = {}, Token&& token = {}) {
        return detail::initiate<void(error_code, std::vector<op_result>)>(
            std::forward<Token>(token),
            [state = state_](auto h, std::vector<op> o) {
                initiate_complete(state, std::move(o), std::move(h));
            },
            std::move(ops));
    }

    /// Gives the item back: deletes the claim. Handler signature: void(error_code).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_release(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [state = state_](auto h) { initiate_release(state, std::move(h)); });
    }

  private:
    using state_ptr = std::shared_ptr<detail::queue_claim_state>;
    static void initiate_complete(const state_ptr&, std::vector<op>,
                                  detail::handler<void(error_code, std::vector<op_result>)>);
    static void initiate_release(const state_ptr&, detail::handler<void(error_code)>);

    state_ptr state_;
};

/// A shared FIFO queue (see the file comment).
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Errors: errc::invalid_path (nothing sent); zk_errc::no_auth; the session's end. Connection
///   loss is waited out; a write whose answer was lost and that cannot be found out again is
///   errc::outcome_unknown (docs/queues.md: never delivered twice, never sent twice).
/// - Children of the path that are neither items ("qn-..." or "queue-...", by the layout) nor the
///   queue's own directories are skipped, with a warning once each, as Curator does; so are, in
///   the curator_distributed layout, item nodes whose data is no framing of exactly one item.
/// - The head: the first item by name (curator_simple); by due time, then priority, then
///   sequence, among the items that are due (curator_distributed).
/// - Thread safety: any member from any thread; the object may be dropped while operations run.
class ZKR_API queue {
  public:
    /// Nothing is sent here.
    queue(session& s, std::string path, queue_options options = {});
    queue(queue&&) noexcept;
    queue& operator=(queue&&) noexcept;
    ~queue();

    const std::string& path() const noexcept;

    /// Adds an item at the tail, or where `options` place it (the path and its parents are
    /// created as needed). Handler signature: void(error_code, std::string node): the item's
    /// node name.
    /// Errors: errc::request_too_large (over session_config::max_packet_bytes: nothing written),
    /// errc::outcome_unknown (the answer was lost: the item is in the queue once or not at all),
    /// errc::priority_out_of_range, errc::delay_out_of_range, errc::unsupported_put_option
    /// (nothing sent).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_put(std::string data, put_options options, Token&& token = {}) {
        return detail::initiate<void(error_code, std::string)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string d, put_options o) {
                initiate_put(impl, std::move(d), o, std::move(h));
            },
            std::move(data), options);
    }
    template <class Token = boost::asio::deferred_t>
    requires(!std::is_same_v<std::decay_t<Token>, put_options>)
        [[nodiscard]] auto async_put(std::string data, Token&& token = {}) {
        return async_put(std::move(data), put_options{}, std::forward<Token>(token));
    }

    /// Adds the items in order, all or none (one transaction), each placed by `options`.
    /// Handler signature: void(error_code, std::vector<std::string> nodes). Errors as
    /// async_put's; the size limit is the transaction's.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_put_many(std::vector<std::string> items, put_options options,
                                      Token&& token = {}) {
        return detail::initiate<void(error_code, std::vector<std::string>)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::vector<std::string> d, put_options o) {
                initiate_put_many(impl, std::move(d), o, std::move(h));
            },
            std::move(items), options);
    }
    template <class Token = boost::asio::deferred_t>
    requires(!std::is_same_v<std::decay_t<Token>, put_options>)
        [[nodiscard]] auto async_put_many(std::vector<std::string> items, Token&& token = {}) {
        return async_put_many(std::move(items), put_options{}, std::forward<Token>(token));
    }

    /// Removes the head item that nobody has claimed (and that is due) and hands it over,
    /// waiting in line until there is one. At most once. Handler signature: void(error_code,
    /// queue_item). Cancellation: terminal, partial and total while it waits (operation_aborted;
    /// its waiter node is deleted). Errors: errc::outcome_unknown (the answer of the delete was
    /// lost and the item is gone: taken by us or by another consumer; not handed over, as it may
    /// have been handed to the other).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_take(Token&& token = {}) {
        return detail::initiate<void(error_code, queue_item)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_take(impl, std::move(h)); });
    }

    /// Claims the head item that nobody has claimed, waiting in line until there is one.
    /// Exactly once: see queue_claim. Handler signature: void(error_code, queue_claim).
    /// Cancellation: as async_take's (a claim made meanwhile is released).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_claim(Token&& token = {}) {
        return detail::initiate<void(error_code, queue_claim)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_claim(impl, std::move(h)); });
    }

    /// The head item that nobody has claimed, left in the queue; nullopt when there is none.
    /// Handler signature: void(error_code, std::optional<queue_item>).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_peek(Token&& token = {}) {
        return detail::initiate<void(error_code, std::optional<queue_item>)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_peek(impl, std::move(h)); });
    }

    /// The number of items, claimed ones included (one request). Handler signature:
    /// void(error_code, std::size_t).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_size(Token&& token = {}) {
        return detail::initiate<void(error_code, std::size_t)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_size(impl, std::move(h)); });
    }

  private:
    friend struct detail::access;
    queue(std::shared_ptr<detail::session_seam> s, std::string path, queue_options options);

    using impl_ptr = std::shared_ptr<const detail::queue_impl>;
    static void initiate_put(const impl_ptr&, std::string data, put_options options,
                             detail::handler<void(error_code, std::string)>);
    static void initiate_put_many(const impl_ptr&, std::vector<std::string> items,
                                  put_options options,
                                  detail::handler<void(error_code, std::vector<std::string>)>);
    static void initiate_take(const impl_ptr&, detail::handler<void(error_code, queue_item)>);
    static void initiate_claim(const impl_ptr&, detail::handler<void(error_code, queue_claim)>);
    static void initiate_peek(const impl_ptr&,
                              detail::handler<void(error_code, std::optional<queue_item>)>);
    static void initiate_size(const impl_ptr&, detail::handler<void(error_code, std::size_t)>);

    impl_ptr impl_;
};

}  // namespace zkr
