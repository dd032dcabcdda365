// A request's round trip, timed for the session's observer (session_config::observer).
#pragma once

#include "completion.hpp"

#include <zkr/observer.hpp>

#include <chrono>
#include <memory>
#include <utility>

namespace zkr::detail {

/// `h`, reporting to `o` how long the request took once it completes; `h` itself when nobody
/// observes (no cost then). Requests do not take cancellation, and their handlers run in place
/// on the driver strand: the wrapper has nothing else of `h` to carry.
template <class... Results>
handler<void(error_code, Results...)> observe_round_trip(const std::shared_ptr<zkr::observer>& o,
                                                         request_kind kind,
                                                         handler<void(error_code, Results...)> h) {
    if (!o) {
        return h;
    }
    return [o, kind, sent = std::chrono::steady_clock::now(), h = std::move(h)](
               error_code ec, Results... results) mutable {
        o->request_completed(kind, std::chrono::steady_clock::now() - sent, ec);
        std::move(h)(ec, std::move(results)...);
    };
}

}  // namespace zkr::detail
