// RetryLoop: one cluster command (or transaction, or WATCH) until it has its answer. Send, classify
// the outcome, ask decide() (detail/cluster/retry_policy.hpp) what next, and do it: follow MOVED
// (patch the slot map; a full refresh when the holder's MOVED back-off says one is due) and ASK (ASKING + the command,
// once), refresh the map after a fault, back off, give up with the error the last fault deserves.
// One deadline bounds the whole loop. Internal: not installed.
#pragma once

#include <fibredis/cluster/node_address.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>
#include <fibredis/runtime/deadline.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace fibredis {

class ClusterClient;

/// What one call's retries have seen so far: the state a loop carries between attempts.
struct RetryState {
  std::optional<NodeAddress> ask_target;  ///< set by ASK: the next attempt goes there, after ASKING
  std::string last_problem;               ///< the last fault in words, for the error message
  int redirects = 0;                      ///< MOVED/ASK followed
  int faults = 0;                         ///< back-offs so far: the pause doubles with each
  bool primary_only = false;              ///< a replica failed this read: the primary from now on
};

class RetryLoop {
 public:
  /// Works on `client`'s slot map, router and nodes; `client` outlives it (it owns it).
  explicit RetryLoop(ClusterClient& client) : c_(client) {}

  /// Sends `cmd` to the node serving `slot` (a replica for a read, as the router picks) and
  /// retries per the policy until the answer, max_redirects or `deadline`. Throws the fault's error.
  Reply execute_on_slot(const Command& cmd, std::uint16_t slot, bool read_only, Deadline deadline);
  /// Sends `cmd` to `node`. Only connection faults are retried (after a refresh and a pause), and
  /// only when `any_primary`: on a random primary then (a keyless command's default node moves).
  Reply execute_on_one(const Command& cmd, const NodeAddress& node, Deadline deadline, bool any_primary);

  /// After an attempt that was not the answer, does what `d` says: suspects the node, follows the
  /// redirect in `answer` (a MOVED/ASK reply; may be null when `d` has no redirect), refreshes,
  /// backs off. Throws when `d` gives up or `deadline` has passed; returns to retry.
  [[gnu::noinline]] void retry_after(const Decision& d, const Attempt& a, const Command& what, std::error_code ec,
                   const NodeAddress& target, const Reply* answer, std::uint64_t version, Deadline deadline,
                   RetryState& s);

  /// A MOVED/ASK `reply` that `from` gave: patches the slot map for MOVED (and refreshes it when
  /// TopologyHolder::moved says one is due) or sets `ask_target` (one-shot, ASKING first) for ASK.
  void follow_redirect(const Reply& reply, const NodeAddress& from, bool ask, std::uint64_t version,
                       Deadline deadline, std::optional<NodeAddress>& ask_target);
  void refresh_after_fault(std::uint64_t seen_version, Deadline deadline);
  void backoff(int attempt, Deadline deadline);
  RetryPolicy policy() const noexcept;

  /// The error for a call that stops after `outcome` (see ClusterClient's header comment).
  [[noreturn]] void give_up(const Command& cmd, Outcome outcome, std::error_code ec, const NodeAddress& node,
                            const std::string& last_problem);
  /// The error for a transport failure `ec` on `node`, with the server's or parser's words.
  [[noreturn]] void fail(std::error_code ec, const NodeAddress& node, std::string_view what);

 private:
  /// The attempt's node for `slot`: the ASK target, else the slot's primary (or, for `read`, the
  /// router's pick). False, with the outcome SlotNotCovered, when no shard serves the slot.
  bool target_for_slot(std::uint16_t slot, bool read, RetryState& s, Attempt& a, NodeAddress& target);
  /// Sends `cmd` to `target` (ASKING first after an ASK) and classifies what came back.
  std::error_code send(const Command& cmd, const NodeAddress& target, Deadline deadline, Attempt& a, RetryState& s,
                       Reply& reply);
  /// send() after an ASK: ASKING + `cmd` in one batch; clears the ASK target.
  [[gnu::noinline]] std::error_code send_asking(const Command& cmd, const NodeAddress& target, Deadline deadline,
                                                Attempt& a, RetryState& s, Reply& reply);
  /// Keeps the failed attempt's words (`ec`'s, or the error reply's) for the final error.
  [[gnu::noinline, gnu::cold]] void note_problem(std::error_code ec, const NodeAddress& target, const Reply& reply,
                                                 RetryState& s);

  ClusterClient& c_;
};

}  // namespace fibredis
