#include <fibredis/detail/cluster/retry_policy.hpp>

#include <fibredis/errors.hpp>
#include <fibredis/detail/resp/error_reply.hpp>

#include <algorithm>
#include <cerrno>

namespace fibredis {

Outcome classify_outcome(const Reply& reply) noexcept {
  if (!reply.is_error()) return Outcome::Final;
  switch (classify_error(reply.str())) {
    case ErrorKind::Moved:
    case ErrorKind::Ask:
      // A redirect we cannot follow is the server's answer, not something to retry.
      try {
        const auto r = parse_redirect(reply.str());
        if (!r) return Outcome::Final;
        return r->ask ? Outcome::Ask : Outcome::Moved;
      } catch (...) {  // parse_redirect allocates the host string
        return Outcome::Final;
      }
    case ErrorKind::TryAgain: return Outcome::TryAgain;
    case ErrorKind::ClusterDown: return Outcome::ClusterDown;
    case ErrorKind::Loading: return Outcome::Loading;
    case ErrorKind::MasterDown: return Outcome::MasterDown;
    case ErrorKind::ReadOnly: return Outcome::ReadOnly;
    default: return Outcome::Final;
  }
}

Outcome classify_failure(std::error_code ec) noexcept {
  if (!ec) return Outcome::None;
  if (ec == errc::timeout) return Outcome::Timeout;
  if (ec == errc::auth_failed || ec == errc::usage) return Outcome::Fatal;
  // Local conditions, not faults of the node: retrying elsewhere or marking it suspect would be
  // wrong (a full pool, an fd shortage, the caller's own cancellation or deadline after the
  // server answered the CLIENT UNBLOCK).
  if (ec == errc::pool_timeout || ec == errc::too_many_open_files || ec == errc::call_cancelled ||
      ec == errc::call_timeout)
    return Outcome::Fatal;
  if ((ec.category() == std::system_category() || ec.category() == std::generic_category()) &&
      (ec.value() == EMFILE || ec.value() == ENFILE))
    return Outcome::Fatal;
  // The kernel's own deadlines (errors.cpp maps the same three to TimeoutError).
  if ((ec.category() == std::system_category() || ec.category() == std::generic_category()) &&
      (ec.value() == ETIME || ec.value() == ETIMEDOUT || ec.value() == ECANCELED))
    return Outcome::Timeout;
  return Outcome::ConnectionError;
}

bool may_resend(const RetryPolicy& policy, const Attempt& a) noexcept {
  return !a.written || a.read_only || policy.retry_unknown_writes;
}

Decision decide(const RetryPolicy& policy, const Attempt& a) noexcept {
  Decision d;
  d.action = Action::Retry;
  switch (a.outcome) {
    case Outcome::None:
    case Outcome::Final:
      d.action = Action::Done;
      break;
    case Outcome::Fatal:
      d.action = Action::GiveUp;
      break;
    case Outcome::Moved:
    case Outcome::Ask:
      // max_redirects is the TTL in sends (redis-py's RedisClusterRequestTTL): the first send
      // plus max_redirects - 1 redirected ones.
      if (a.redirects + 1 >= policy.max_redirects) {
        d.action = Action::GiveUp;
      } else {
        d.redirect = true;
      }
      break;
    case Outcome::TryAgain:
      d.back_off = true;
      break;
    case Outcome::Loading:
      d.back_off = true;
      d.primary_only = a.via_replica;
      break;
    case Outcome::ClusterDown:
    case Outcome::SlotNotCovered:
      d.back_off = true;
      d.refresh = Refresh::Background;
      break;
    case Outcome::MasterDown:
    case Outcome::ReadOnly:
      if (a.fixed_node) {
        d.action = Action::Done;
        break;
      }
      // The refresh is the pause: it is rate-limited (min_refresh_interval) and single-flight.
      d.refresh = Refresh::Wait;
      d.primary_only = a.via_replica;
      break;
    case Outcome::ConnectionError:
    case Outcome::Timeout:
      d.suspect_node = true;  // even when we give up: other callers should route around it
      if (!may_resend(policy, a)) {
        d.action = Action::GiveUp;
        break;
      }
      d.refresh = Refresh::Wait;
      d.back_off = true;
      d.primary_only = a.via_replica;
      break;
  }
  return d;
}

std::chrono::milliseconds backoff_delay(int faults) noexcept {
  return std::chrono::milliseconds(5) * (1 << std::clamp(faults, 0, 6));
}

}  // namespace fibredis
