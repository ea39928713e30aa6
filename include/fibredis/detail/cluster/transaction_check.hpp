// The socket-free half of cluster transactions (ClusterClient::pipeline(true), ClusterWatch):
// what a transaction is before it is sent, the batch that carries it, and where in its replies
// the cluster refused it. No I/O, no fibers; unit-tested in tests/unit/transaction_check_test.cpp.
#pragma once

#include <fibredis/client/wait_batch.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/command_info.hpp>
#include <fibredis/resp/reply.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace fibredis {

/// What a transaction is, found before anything is sent.
struct TransactionShape {
  std::optional<std::uint16_t> slot;  ///< of every keyed command; nullopt: no key at all
  WaitBatch waits;                    ///< trailing WAIT/WAITAOF (sent after EXEC)
  bool read_only = true;              ///< every command only reads: resending after a lost answer is harmless
};

/// Throws UsageError for a keyless command one node cannot answer for the cluster: a fan-out with
/// a merge rule (DBSIZE, KEYS, FLUSHALL, SCRIPT LOAD...) or one routed by a slot argument.
/// `where` names the context for the message ("a cluster transaction").
void refuse_on_one_node(const Command& cmd, const CommandInfo* info, std::string_view where);

/// Checks a transaction's commands (check_wait_batch's rules, commands refused in cluster mode,
/// refuse_on_one_node) and finds its one slot. Throws UsageError, or CrossSlotError when keyed
/// commands (or one command's keys) span slots.
TransactionShape check_transaction(const std::vector<Command>& cmds, std::string_view where);

/// MULTI, the commands, EXEC, then the `trailing` WAITs (the server never blocks inside MULTI).
std::vector<Command> wrap_transaction(std::vector<Command>&& cmds, std::size_t trailing);

/// The cluster's refusal among MULTI's, the QUEUED and EXEC's replies (replies[multi..exec]), with
/// its position: the first MOVED/ASK/TRYAGAIN/CLUSTERDOWN/... (classify_outcome). Final when EXEC
/// ran (an array), was aborted by WATCH (nil) or refused for an ordinary reason (a queue-time
/// syntax error, EXECABORT without a cluster fault).
std::pair<Outcome, std::size_t> cluster_refusal(const std::vector<Reply>& replies, std::size_t multi,
                                                std::size_t exec);

}  // namespace fibredis
