// WAIT and WAITAOF in batches: the rules that keep their counts honest.
//
// WAIT n t answers how many replicas acknowledged the writes of THE CONNECTION IT RUNS ON (WAITAOF:
// how many fsynced them). Sent alone through a client that multiplexes, it would run on a
// connection that carried none of the caller's writes: a fresh pooled connection has written
// nothing, so the server reports every connected replica as caught up, even a stopped one. So
// fibredis accepts WAIT/WAITAOF only inside a batch, after the writes they must cover, and runs
// such a batch on one exclusive connection (Pipeline, ClusterPipeline: the primary of its keys):
//
// @code
//   auto p = client.pipeline();
//   p.set("k", "v").wait(1, 500ms);
//   long long acked = p.execute()[1].integer();   // replicas that have "k", after at most 500 ms
// @endcode
//
// The rules, checked before anything is sent (UsageError):
//   - a lone WAIT/WAITAOF (client.command, client.wait, rc.on(target).wait) is refused;
//   - a WAIT needs a command before it in the batch that may write (anything but read-only
//     commands, PING-like keyless ones and other WAITs): with none, its count means nothing;
//   - its timeout must be positive: WAIT 0 waits forever for a replica that may never come back,
//     holding a connection and a fiber with no deadline;
//   - in a transaction, WAIT/WAITAOF must come last (they are sent after EXEC): the server never
//     blocks inside MULTI, so a WAIT queued there would answer at once, before the writes queued
//     with it have been propagated.
#pragma once

#include <fibredis/resp/command.hpp>

#include <cstddef>
#include <string_view>

namespace fibredis {

/// Why a lone WAIT/WAITAOF is refused: the text of the UsageError, from Client and (through the
/// cluster routing table, cluster/command_route.hpp) ClusterClient alike.
inline constexpr std::string_view kLoneWaitReason =
    "it counts the replicas that acknowledged the writes of the connection it runs on, which a "
    "lone call does not own; queue it at the end of a pipeline (or transaction) after the writes "
    "it must cover: p.set(k, v).wait(1, 100ms); p.execute() runs the batch on one exclusive "
    "connection";

/// True for WAIT and WAITAOF (the command table's kOwnWrites flag). Cheap for other commands.
bool counts_own_writes(const Command& cmd) noexcept;

/// Throws the UsageError for a WAIT/WAITAOF called on its own, naming the supported form.
[[noreturn]] void refuse_lone_wait(const Command& cmd);

struct WaitBatch {
  bool any = false;           ///< the batch holds WAIT/WAITAOF: run it on one exclusive connection
  std::size_t trailing = 0;   ///< how many WAIT/WAITAOF end the batch (sent after EXEC)
};

/// Checks cmds[0..n) against the rules above (throws UsageError) and says what it holds.
WaitBatch check_wait_batch(const Command* cmds, std::size_t n, bool transaction);

}  // namespace fibredis
