// RetryPolicy: the one classification of a cluster command's outcome, and the one rule for what
// happens next. ClusterClient::execute (single commands) and PipelinePlan (cluster pipelines) both
// ask decide(); neither has rules of its own.
//
// The rules (docs/CLUSTER.md, "Retry semantics"):
//   - a reply that is not a cluster fault is the answer (Done);
//   - MOVED / ASK: follow at once; only these count toward max_redirects (a redirect loop is a
//     bug or a reshard storm, not an outage to wait out);
//   - TRYAGAIN, LOADING: back off, retry; CLUSTERDOWN, an uncovered slot: back off, retry, and ask
//     for a background refresh (rate-limited per client, nobody waits on it);
//   - READONLY, MASTERDOWN: the map is stale (a failover): refresh (waiting for it), retry;
//   - a connection fault or timeout: the node is suspect, refresh (waiting), back off, retry —
//     if the command is safe to send again: it was never written (`written == false`), or it is
//     read-only, or unknown-outcome writes are retried (the default, at-least-once, like redis-py
//     and Lettuce). Otherwise give up: the caller learns the outcome is unknown.
// Everything but redirects is bounded by the call's deadline, which the caller checks: a decision
// to retry is only a permission.
//
// Pure: no sockets, no fibers, no clocks.
#pragma once

#include <fibredis/resp/reply.hpp>

#include <chrono>
#include <cstdint>
#include <system_error>

namespace fibredis {

/// What a command's latest attempt came back with, as the retry logic sees it.
enum class Outcome : std::uint8_t {
  /// Not sent yet, or sent and not reported.
  None,
  /// The answer: a reply or an ordinary error reply (ERR, WRONGTYPE, CROSSSLOT, ...).
  Final,
  /// "MOVED slot host:port": resend at once to that node; the slot's owner changed for good.
  Moved,
  /// "ASK slot host:port": resend once to that node, preceded by ASKING.
  Ask,
  /// "TRYAGAIN": a multi-key command met a slot mid-migration. Back off, resend.
  TryAgain,
  /// "CLUSTERDOWN": the cluster cannot serve the slot now. Back off, resend.
  ClusterDown,
  /// "LOADING": the node is loading its dataset. Back off, resend (to the primary if a replica).
  Loading,
  /// "MASTERDOWN": a replica lost its primary. Refresh, resend to the primary.
  MasterDown,
  /// "READONLY": a write reached a node that is now a replica (after a failover). Refresh, resend.
  ReadOnly,
  /// The connection failed (refused, reset, closed, broken on purpose) before the reply came.
  ConnectionError,
  /// The attempt's deadline passed before the reply came.
  Timeout,
  /// The topology has no shard for the command's slot. Back off, resend.
  SlotNotCovered,
  /// A failure no retry can fix (bad credentials, a refused usage). Give up.
  Fatal,
};

/// A reply's Outcome: Final for anything but the cluster faults above (by classify_error()). A
/// MOVED/ASK whose text does not parse is Final: it is passed to the user.
Outcome classify_outcome(const Reply& reply) noexcept;
/// A transport error's Outcome: Timeout for errc::timeout (and the kernel's ETIME/ETIMEDOUT),
/// Fatal for errc::auth_failed and errc::usage, ConnectionError for the rest.
Outcome classify_failure(std::error_code ec) noexcept;

struct RetryPolicy {
  /// The TTL of MOVED/ASK loops, in sends (ClusterOptions::max_redirects): a command follows at
  /// most max_redirects - 1 redirects.
  int max_redirects = 16;
  /// Resend a write whose outcome is unknown (written, then a timeout or a lost connection).
  /// True: at-least-once (it may be applied twice). False: at-most-once (the caller gets the
  /// error and decides). ClusterOptions::retry_unknown_writes.
  bool retry_unknown_writes = true;
};

/// One attempt, as decide() needs to know it.
struct Attempt {
  Outcome outcome = Outcome::None;
  /// False when no byte of it can have reached the server (NodeConnections::run's `written`).
  bool written = true;
  /// The command only reads (its routing-table flag), so running it twice changes nothing.
  bool read_only = false;
  /// It was sent to a replica (read_from_replicas).
  bool via_replica = false;
  /// The caller chose the node (a keyless command on the default node, a targeted call): a
  /// READONLY or MASTERDOWN from it is that node's answer, not a stale map.
  bool fixed_node = false;
  /// MOVED/ASK redirects this command has followed before this attempt.
  int redirects = 0;
};

enum class Action : std::uint8_t {
  Done,    ///< the reply is the answer
  Retry,   ///< send it again (within the deadline)
  GiveUp,  ///< stop: report the attempt's failure
};

enum class Refresh : std::uint8_t {
  None,
  /// Refresh the slot map before the retry and route it by the new map (single-flight).
  Wait,
  /// Ask for a refresh soon, rate-limited per client; do not wait for it.
  Background,
};

struct Decision {
  Action action = Action::Done;
  Refresh refresh = Refresh::None;
  /// Sleep before the retry (backoff_delay of the fault count), within the deadline.
  bool back_off = false;
  /// The node failed to answer: tell the topology holder (refreshes ask other nodes first).
  bool suspect_node = false;
  /// Read from the primary from now on: a replica failed this read.
  bool primary_only = false;
  /// Follow the MOVED/ASK target (counts toward max_redirects).
  bool redirect = false;
};

/// The rule above, for one attempt.
Decision decide(const RetryPolicy& policy, const Attempt& attempt) noexcept;

/// True when resending after a failure with unknown outcome is allowed (the rule of the
/// ConnectionError/Timeout case above).
bool may_resend(const RetryPolicy& policy, const Attempt& attempt) noexcept;

/// The pause before the retry after `faults` earlier back-offs: 5 ms doubling to 320 ms (long
/// enough for a failover election, short enough for a TRYAGAIN).
std::chrono::milliseconds backoff_delay(int faults) noexcept;

}  // namespace fibredis
