// Internal access to the state behind public objects, for the recipes built on them (Boost.MySQL's
// detail::access idiom): the public headers declare it a friend and expose nothing else.
#pragma once

#include "session_ops.hpp"

#include <zkr/barrier.hpp>
#include <zkr/double_barrier.hpp>
#include <zkr/group.hpp>
#include <zkr/leader_election.hpp>
#include <zkr/mutex.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/session.hpp>

#include <string>

namespace zkr::detail {

class lock_state;

struct access {
    /// What the recipes see of a session (session.cpp).
    static session_ptr ops(const session& s);

    static const session_ptr& session_of(const mutex& m) noexcept { return m.session_; }
    static const std::shared_ptr<lock_state>& state_of(const lock& l) noexcept { return l.impl_; }
    static const mutex_options& options_of(const mutex& m) noexcept { return m.options_; }
    static const session_ptr& session_of(const semaphore& s) noexcept { return s.session_; }

    /// The recipes over a given session (the step tests' fake one).
    template <class Recipe, class... Args>
    static Recipe make(session_ptr s, Args&&... args) {
        return Recipe(std::move(s), std::forward<Args>(args)...);
    }

    /// A mutex over any queue of the lock recipes: `marker` names its nodes (names.hpp).
    static mutex make_mutex(session_ptr s, std::string path, std::string_view marker,
                            mutex_options options) {
        return mutex(std::move(s), std::move(path), std::string(marker), std::move(options));
    }
};

}  // namespace zkr::detail
