// Operations for session::async_multi: a transaction that ZooKeeper applies all-or-nothing.
#pragma once

#include <zkr/error.hpp>
#include <zkr/znode.hpp>

#include <string>
#include <vector>

namespace zkr {

/// One operation of a multi. Build it with the static factories.
struct op {
    enum class kind { create, remove, set_data, check };

    kind type = kind::check;
    std::string path;
    std::string data;
    int version = -1;  ///< -1: any version
    create_mode mode = create_mode::persistent;

    static op create(std::string path, std::string data,
                     create_mode mode = create_mode::persistent) {
        return {kind::create, std::move(path), std::move(data), -1, mode};
    }
    static op remove(std::string path, int version = -1) {
        return {kind::remove, std::move(path), {}, version, create_mode::persistent};
    }
    static op set_data(std::string path, std::string data, int version = -1) {
        return {kind::set_data, std::move(path), std::move(data), version, create_mode::persistent};
    }
    /// Succeeds if the node exists (version -1) or has exactly this version.
    static op check(std::string path, int version = -1) {
        return {kind::check, std::move(path), {}, version, create_mode::persistent};
    }
};

/// Per-operation outcome of a multi.
struct op_result {
    error_code ec;     ///< this operation's own error (the multi fails as a whole if any fails)
    std::string path;  ///< create: the created path
    zkr::stat stat;    ///< set_data: the new stat
};

}  // namespace zkr
