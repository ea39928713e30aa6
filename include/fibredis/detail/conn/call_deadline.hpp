// call_deadline: the one rule for how long a call may take — command_timeout, plus the block time
// of every command the server may hold (BLPOP 5 → 5 s more), no deadline when one of them blocks
// forever (BLPOP 0). Every call of both clients takes its deadline from here: Client's commands,
// pipelines and WATCH calls (lib/client/), and the ClusterClient's commands, fan-outs, pipelines,
// WAIT batches and transactions (lib/cluster/).
#pragma once

#include <fibredis/resp/command.hpp>
#include <fibredis/runtime/deadline.hpp>

#include <chrono>
#include <cstddef>

namespace fibredis {

/// The deadline of a call that sends cmds[0..n) and starts now.
inline Deadline call_deadline(std::chrono::milliseconds command_timeout, const Command* cmds, std::size_t n) noexcept {
  auto budget = std::chrono::duration_cast<Clock::duration>(command_timeout);
  for (std::size_t i = 0; i < n; ++i) {
    if (!cmds[i].blocking) continue;
    if (cmds[i].blocking->count() == 0) return kNoDeadline;  // the caller asked to wait forever
    budget += *cmds[i].blocking;
  }
  return deadline_after(budget);
}

}  // namespace fibredis
