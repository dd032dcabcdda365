// Plain value types describing znodes: their metadata (stat), how to create them, what a read
// returns, and access control lists.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zkr {

/// A znode's metadata, as ZooKeeper returns it.
struct stat {
    std::int64_t czxid = 0;  ///< zxid of the create: unique and ordered across the ensemble
    std::int64_t mzxid = 0;
    std::int64_t ctime = 0;  ///< creation time, milliseconds since the epoch (server clock)
    std::int64_t mtime = 0;
    std::int32_t version = 0;
    std::int32_t cversion = 0;
    std::int32_t aversion = 0;
    std::int64_t ephemeral_owner = 0;  ///< session id owning an ephemeral node, else 0
    std::int32_t data_length = 0;
    std::int32_t num_children = 0;
    std::int64_t pzxid = 0;
};

enum class create_mode {
    persistent,
    ephemeral,
    persistent_sequential,
    ephemeral_sequential,
    container,  ///< deleted by the server once its last child is gone
    /// Deleted by the server once it has had no children and no change for its TTL
    /// (session::async_create_ttl; servers started with -Dzookeeper.extendedTypesEnabled=true).
    persistent_with_ttl,
    persistent_sequential_with_ttl,
};

/// Result of a create: the actual path (with the sequence suffix) and the new node's stat.
struct created_node {
    std::string path;
    zkr::stat stat;
};

/// Result of a get_data.
struct node_data {
    std::string data;
    zkr::stat stat;
};

/// Result of a get_children: names (not paths), unordered, and the parent's stat.
struct children {
    std::vector<std::string> names;
    zkr::stat stat;
};

/// Permission bits of an ACL entry (ZooKeeper's values).
namespace perms {
inline constexpr int read = 1;
inline constexpr int write = 2;
inline constexpr int create = 4;
inline constexpr int remove = 8;
inline constexpr int admin = 16;
inline constexpr int all = 31;
}  // namespace perms

/// One ACL entry: permissions granted to an identity (scheme "world", "auth", "digest", "ip").
struct acl_entry {
    int permissions = perms::all;
    std::string scheme;
    std::string id;
};

using acl_list = std::vector<acl_entry>;

/// Everyone may do everything (ZooKeeper's OPEN_ACL_UNSAFE): the default.
inline acl_list open_acl() {
    return {{perms::all, "world", "anyone"}};
}

/// Only the session's authenticated identities (digest credentials) may access the node.
inline acl_list creator_all_acl() {
    return {{perms::all, "auth", ""}};
}

/// Everyone may read, only the creator may change.
inline acl_list read_only_for_others_acl() {
    return {{perms::read, "world", "anyone"}, {perms::all, "auth", ""}};
}

}  // namespace zkr
