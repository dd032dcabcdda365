// Internal access to the state behind public objects, for the recipes built on them (Boost.MySQL's
// detail::access idiom): the public headers declare it a friend and expose nothing else. Every
// public object keeps what it is made of behind one member, `impl_`; this header names no class
// of its own (the core knows no recipe), so each user includes the headers of what it reaches.
#pragma once

#include <memory>
#include <string>
#include <utility>

namespace zkr {
class session;
}  // namespace zkr

namespace zkr::detail {

class session_seam;

struct access {
    /// The state behind a public object: its `impl_` member.
    template <class T>
    static const auto& get_impl(const T& object) noexcept {
        return object.impl_;
    }

    /// The path in an object's impl_; empty for a moved-from object (no impl_), as the string
    /// member it replaced was.
    template <class T>
    static const std::string& path_of(const T& object) noexcept {
        static const std::string none;
        return object.impl_ ? object.impl_->path : none;
    }

    /// A public object made with one of its private constructors (the recipes over a given
    /// session, e.g. the step tests' fake one).
    template <class T, class... Args>
    static T construct(Args&&... args) {
        return T(std::forward<Args>(args)...);
    }

    /// What the recipes see of a session: get_impl as a session_seam (session.cpp, which knows
    /// that session_impl is one).
    static std::shared_ptr<session_seam> seam(const session& s);
};

}  // namespace zkr::detail
