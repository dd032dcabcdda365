// The bounded label values of zkr's metrics: request kinds and error reasons.
#include <zkr/metrics.hpp>

#include <boost/asio/error.hpp>

namespace zkr {

std::string_view to_string(request_kind kind) noexcept {
    switch (kind) {
        case request_kind::create:
            return "create";
        case request_kind::remove:
            return "remove";
        case request_kind::get_data:
            return "get_data";
        case request_kind::exists:
            return "exists";
        case request_kind::get_children:
            return "get_children";
        case request_kind::set_data:
            return "set_data";
        case request_kind::multi:
            return "multi";
        case request_kind::sync:
            return "sync";
    }
    return "other";
}

namespace {

std::string_view zk_name(zk_errc e) noexcept {
    switch (e) {
        case zk_errc::system_error:
            return "system_error";
        case zk_errc::runtime_inconsistency:
            return "runtime_inconsistency";
        case zk_errc::data_inconsistency:
            return "data_inconsistency";
        case zk_errc::connection_loss:
            return "connection_loss";
        case zk_errc::marshalling_error:
            return "marshalling_error";
        case zk_errc::unimplemented:
            return "unimplemented";
        case zk_errc::operation_timeout:
            return "operation_timeout";
        case zk_errc::bad_arguments:
            return "bad_arguments";
        case zk_errc::invalid_state:
            return "invalid_state";
        case zk_errc::new_config_no_quorum:
            return "new_config_no_quorum";
        case zk_errc::reconfig_in_progress:
            return "reconfig_in_progress";
        case zk_errc::ssl_connection_error:
            return "ssl_connection_error";
        case zk_errc::api_error:
            return "api_error";
        case zk_errc::no_node:
            return "no_node";
        case zk_errc::no_auth:
            return "no_auth";
        case zk_errc::bad_version:
            return "bad_version";
        case zk_errc::no_children_for_ephemerals:
            return "no_children_for_ephemerals";
        case zk_errc::node_exists:
            return "node_exists";
        case zk_errc::not_empty:
            return "not_empty";
        case zk_errc::session_expired:
            return "session_expired";
        case zk_errc::invalid_callback:
            return "invalid_callback";
        case zk_errc::invalid_acl:
            return "invalid_acl";
        case zk_errc::auth_failed:
            return "auth_failed";
        case zk_errc::closing:
            return "closing";
        case zk_errc::nothing:
            return "nothing";
        case zk_errc::session_moved:
            return "session_moved";
        case zk_errc::not_readonly:
            return "not_readonly";
        case zk_errc::ephemeral_on_local_session:
            return "ephemeral_on_local_session";
        case zk_errc::no_watcher:
            return "no_watcher";
        case zk_errc::reconfig_disabled:
            return "reconfig_disabled";
        case zk_errc::session_closed_require_sasl_auth:
            return "session_closed_require_sasl_auth";
        case zk_errc::throttled_op:
            return "throttled_op";
    }
    return "other";
}

std::string_view zkr_name(errc e) noexcept {
    switch (e) {
        case errc::session_closed:
            return "session_closed";
        case errc::connect_timeout:
            return "connect_timeout";
        case errc::invalid_connect_string:
            return "invalid_connect_string";
        case errc::invalid_path:
            return "invalid_path";
        case errc::not_connected:
            return "not_connected";
        case errc::lock_lost:
            return "lock_lost";
        case errc::lock_node_deleted:
            return "lock_node_deleted";
        case errc::session_suspended:
            return "session_suspended";
        case errc::session_deadline:
            return "session_deadline";
        case errc::quorum_unreachable:
            return "quorum_unreachable";
        case errc::not_owner:
            return "not_owner";
        case errc::invalid_argument:
            return "invalid_argument";
        case errc::semaphore_limit_mismatch:
            return "semaphore_limit_mismatch";
        case errc::request_too_large:
            return "request_too_large";
        case errc::too_many_watches:
            return "too_many_watches";
        case errc::ipv6_literal:
            return "ipv6_literal";
        case errc::chroot_missing:
            return "chroot_missing";
        case errc::path_in_use:
            return "path_in_use";
        case errc::deadlock:
            return "deadlock";
        case errc::ttl_disabled:
            return "ttl_disabled";
        case errc::max_hold_passed:
            return "max_hold_passed";
        case errc::already_held:
            return "already_held";
        case errc::too_many_open_files:
            return "too_many_open_files";
        case errc::not_a_lock_node:
            return "not_a_lock_node";
        case errc::not_revocable:
            return "not_revocable";
        case errc::node_taken:
            return "node_taken";
        case errc::already_started:
            return "already_started";
        case errc::invalid_service_instance:
            return "invalid_service_instance";
        case errc::not_a_counter:
            return "not_a_counter";
        case errc::outcome_unknown:
            return "outcome_unknown";
        case errc::claim_lost:
            return "claim_lost";
        case errc::not_a_transaction:
            return "not_a_transaction";
        case errc::unknown_transaction:
            return "unknown_transaction";
        case errc::transaction_exists:
            return "transaction_exists";
        case errc::unknown_participant:
            return "unknown_participant";
        case errc::already_voted:
            return "already_voted";
        case errc::already_decided:
            return "already_decided";
        case errc::not_decided:
            return "not_decided";
        case errc::priority_out_of_range:
            return "priority_out_of_range";
        case errc::delay_out_of_range:
            return "delay_out_of_range";
        case errc::unsupported_put_option:
            return "unsupported_put_option";
        case errc::tls_config_invalid:
            return "tls_config_invalid";
        case errc::tls_handshake_failed:
            return "tls_handshake_failed";
        case errc::tls_certificate_rejected:
            return "tls_certificate_rejected";
    }
    return "other";
}

}  // namespace

std::string_view reason_label(error_code ec) noexcept {
    if (!ec) {
        return "";
    }
    if (ec.category() == zk_category()) {
        return zk_name(static_cast<zk_errc>(ec.value()));
    }
    if (ec.category() == zkr_category()) {
        return zkr_name(static_cast<errc>(ec.value()));
    }
    if (ec == boost::asio::error::operation_aborted) {
        return "cancelled";
    }
    return "other";
}

}  // namespace zkr
