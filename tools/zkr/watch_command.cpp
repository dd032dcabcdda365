// zkr watch: follows one node (zkr::node_cache), a directory's children (zkr::children_cache)
// or a subtree (zkr::tree_cache) and prints the snapshot, then a line per change, until
// interrupted.
#include "follow.hpp"
#include "handlers.hpp"
#include "json_text.hpp"

#include <zkr/cache_event.hpp>
#include <zkr/children_cache.hpp>
#include <zkr/node_cache.hpp>
#include <zkr/session.hpp>
#include <zkr/tree_cache.hpp>

#include <cstdio>

namespace zkr::cli {

namespace asio = boost::asio;

namespace {

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
    const auto print = [&o](const auto& event) {
        print_line(o, to_string(event.type), event.path, event.node ? &*event.node : nullptr);
    };
    if (o.scope == "tree") {
        tree_cache cache(s, o.path,
                         tree_cache_options{o.depth.value_or(tree_cache_options::unlimited)});
        co_return co_await follow(cache, o.path, print);
    }
    if (o.scope == "children") {
        children_cache cache(s, o.path);
        co_return co_await follow(cache, o.path, print);
    }
    node_cache cache(s, o.path);
    co_return co_await follow(cache, o.path, print);
}

}  // namespace zkr::cli
