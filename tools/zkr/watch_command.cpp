// zkr watch: follows one node (zkr::node_cache), a directory's children (zkr::children_cache)
// or a subtree (zkr::tree_cache) and prints the snapshot, then a line per change, until
// interrupted.
#include "handlers.hpp"

#include <zkr/cache_event.hpp>
#include <zkr/children_cache.hpp>
#include <zkr/node_cache.hpp>
#include <zkr/session.hpp>
#include <zkr/tree_cache.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>

namespace zkr::cli {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

/// The length of the UTF-8 sequence that starts `s` at `i`, or 0 if none does (a stray
/// continuation byte, an overlong form, a surrogate, a code point past U+10FFFF, a truncated
/// sequence).
std::size_t utf8_sequence(const std::string& s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80) {
        return 1;
    }
    std::size_t n = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;  // the range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        low = c == 0xe0 ? 0xa0 : 0x80;   // no overlong forms
        high = c == 0xed ? 0x9f : 0xbf;  // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        low = c == 0xf0 ? 0x90 : 0x80;
        high = c == 0xf4 ? 0x8f : 0xbf;  // nothing past U+10FFFF
    } else {
        return 0;
    }
    if (i + n > s.size() || byte(i + 1) < low || byte(i + 1) > high) {
        return 0;
    }
    for (std::size_t k = 2; k < n; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) {
            return 0;
        }
    }
    return n;
}

bool valid_utf8(const std::string& s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto n = utf8_sequence(s, i);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

/// `s` as a JSON string. Text that is valid UTF-8 is written as it is (quotes, backslashes and
/// control characters escaped); other bytes only when `latin1`: then every byte is the character
/// of that code point (U+0000 to U+00FF; from 0x7f up as \u00XX), so that the string's
/// characters are the bytes one for one (Python: .encode("latin1")). The output is ASCII or
/// valid UTF-8 either way.
std::string json_string(const std::string& s, bool latin1 = false) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f || (latin1 && c >= 0x80)) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

/// The data as a human line shows it: printable ASCII as it is, every other byte as \xHH (and a
/// backslash as \\), so that a line is one line whatever the node holds.
std::string shown(const std::string& data) {
    std::string out;
    for (unsigned char c : data) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c < 0x20 || c >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

/// One line for `type` at `path`, with the node when it exists.
void print_line(const options& o, const char* type, const std::string& path,
                const node_data* node) {
    if (o.json) {
        std::string line = "{\"type\": ";
        line.append(json_string(type)).append(", \"path\": ").append(json_string(path));
        if (node != nullptr) {
            const auto& st = node->stat;
            const bool text = valid_utf8(node->data);
            line.append(", \"data\": ")
                .append(json_string(node->data, !text))
                .append(", \"encoding\": ")
                .append(text ? "\"utf-8\"" : "\"latin1\"");
            char buf[512];
            std::snprintf(
                buf, sizeof buf,
                ", \"version\": %d, \"czxid\": %lld, \"mzxid\": %lld, \"ctime\": %lld, "
                "\"mtime\": %lld, \"ephemeral_owner\": %s, \"data_length\": %d, "
                "\"num_children\": %d, \"cversion\": %d, \"pzxid\": %lld",
                st.version, static_cast<long long>(st.czxid), static_cast<long long>(st.mzxid),
                static_cast<long long>(st.ctime), static_cast<long long>(st.mtime),
                st.ephemeral_owner == 0 ? "null" : json_string(hex(st.ephemeral_owner)).c_str(),
                st.data_length, st.num_children, st.cversion, static_cast<long long>(st.pzxid));
            line.append(buf);
        }
        std::printf("%s}\n", line.c_str());
    } else if (node != nullptr) {
        std::printf("%s %s version=%d mzxid=%s data=%s\n", type, path.c_str(), node->stat.version,
                    hex(node->stat.mzxid).c_str(), shown(node->data).c_str());
    } else {
        std::printf("%s %s\n", type, path.c_str());
    }
    std::fflush(stdout);
}

/// Waits for the cache's events and prints them until an interrupt (0) or the cache's end
/// (exit_unavailable).
template <class Cache>
asio::awaitable<int> follow(Cache& cache, const options& o) {
    asio::signal_set interrupts(co_await asio::this_coro::executor, SIGINT, SIGTERM, SIGHUP);
    {
        auto r = co_await (cache.async_start(tuple) || interrupts.async_wait(tuple));
        if (r.index() == 1) {
            co_return 0;
        }
        if (auto [ec] = std::get<0>(r); ec) {
            std::fprintf(stderr, "zkr: cannot watch %s: %s\n", o.path.c_str(),
                         ec.message().c_str());
            co_return exit_unavailable;
        }
    }
    for (;;) {
        auto r = co_await (cache.async_wait_event(tuple) || interrupts.async_wait(tuple));
        if (r.index() == 1) {
            co_return 0;  // as leader --watch and members --watch: interrupting is how they end
        }
        auto [ec, event] = std::get<0>(std::move(r));
        if (ec) {
            std::fprintf(stderr, "zkr: stopped watching %s: %s\n", o.path.c_str(),
                         ec.message().c_str());
            co_return exit_unavailable;
        }
        print_line(o, to_string(event.type), event.path, event.node ? &*event.node : nullptr);
    }
}

}  // namespace

// Without --children or --tree: `initialized PATH` (with the node if it exists), then added,
// updated, removed and resynced. With --children (--tree): the snapshot as an `added` line per
// child (per node of the subtree, PATH included, down to --depth levels below it), then
// `initialized PATH`, then a line per change (and `resynced PATH`).
asio::awaitable<int> run_watch(session& s, const options& o) {
    if (o.depth && o.scope != "tree") {
        std::fprintf(stderr, "zkr: --depth goes with --tree\n");
        co_return exit_usage;
    }
    if (o.scope == "tree") {
        tree_cache cache(s, o.path,
                         tree_cache_options{o.depth.value_or(tree_cache_options::unlimited)});
        co_return co_await follow(cache, o);
    }
    if (o.scope == "children") {
        children_cache cache(s, o.path);
        co_return co_await follow(cache, o);
    }
    node_cache cache(s, o.path);
    co_return co_await follow(cache, o);
}

}  // namespace zkr::cli
