// Error-reply classification: the one place that reads a server error's text and decides what kind
// of fault it is. The cluster retry loop uses it to tell redirects (MOVED/ASK) and transient faults
// (TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN) from final answers; throw_reply_error() uses it to
// pick the exception type at the client surface.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fibredis {

enum class ErrorKind : std::uint8_t {
  /// Any error not listed below (ERR, WRONGTYPE, BUSYKEY, NOPERM, ...).
  Other,
  /// "MOVED <slot> <host>:<port>": the slot lives elsewhere for good; update the routing table.
  Moved,
  /// "ASK <slot> <host>:<port>": the slot is migrating; send ASKING + the command there, once.
  Ask,
  /// "TRYAGAIN": a multi-key command hit a slot mid-migration; back off and retry.
  TryAgain,
  /// "CLUSTERDOWN": the cluster cannot serve the slot right now.
  ClusterDown,
  /// "MASTERDOWN": a replica lost its primary and refuses stale reads.
  MasterDown,
  /// "LOADING": the server is loading its dataset.
  Loading,
  /// "READONLY": a write reached a replica (typically right after a failover).
  ReadOnly,
  /// "CROSSSLOT": the keys of one command hash to different slots.
  CrossSlot,
  /// WRONGPASS, NOAUTH, and the older "ERR invalid password" family.
  Auth,
  /// "NOSCRIPT": EVALSHA of a script the server does not have.
  NoScript,
  /// "EXECABORT": a transaction was discarded because a queued command failed.
  ExecAbort,
  /// "BUSY": a script or function is running (not BUSYKEY, not BUSYGROUP).
  Busy,
};

/// Classifies a server error reply by its first word (and, for the pre-6.0 AUTH errors, its
/// text). The comparison is exact and case-sensitive, as the server spells these codes.
ErrorKind classify_error(std::string_view server_text) noexcept;

struct Redirect {
  bool ask = false;
  std::uint16_t slot = 0;
  std::string host;  // empty when the server does not know its own address ("MOVED 1 :6381")
  std::uint16_t port = 0;
};

/// Parses "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381"; also IPv6 "MOVED 1 ::1:6381"
/// (the last colon splits host from port) and an empty host "MOVED 1 :6381" (host left empty: the
/// caller substitutes the host it was talking to). std::nullopt if not a well-formed redirect.
std::optional<Redirect> parse_redirect(std::string_view server_text);

}  // namespace fibredis
