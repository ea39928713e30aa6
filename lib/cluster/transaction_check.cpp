// The socket-free half of cluster transactions (cluster/transaction_check.hpp).
#include <fibredis/detail/cluster/transaction_check.hpp>

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/cluster/command_route.hpp>
#include <fibredis/errors.hpp>

#include <string>

namespace fibredis {

void refuse_on_one_node(const Command& cmd, const CommandInfo* info, std::string_view where) {
  if (info == nullptr) return;
  const CommandRoute route = command_route(info);
  const bool fan_out = (route.policy == RoutePolicy::AllNodes || route.policy == RoutePolicy::AllPrimaries) &&
                       route.merge != MergePolicy::PerNode;
  if (!fan_out && route.policy != RoutePolicy::BySlotArg) return;
  throw UsageError(ascii_upper(cmd.name()) + " is not allowed in " + std::string(where) +
                   ": it runs on one node, and the cluster's answer to " + ascii_upper(cmd.name()) +
                   " needs " + (fan_out ? "every node of its fan-out" : "the node of its slot argument") +
                   "; send it outside");
}

TransactionShape check_transaction(const std::vector<Command>& cmds, std::string_view where) {
  TransactionShape t;
  t.waits = check_wait_batch(cmds.data(), cmds.size(), /*transaction=*/true);
  std::size_t first_keyed = 0;
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    const Command& cmd = cmds[i];
    const CommandInfo* info = lookup_command(cmd);
    if (const CommandRoute route = command_route(info); route.policy == RoutePolicy::Blocked && !info->has(kOwnWrites))
      throw UsageError(ascii_upper(cmd.name()) + " is not allowed in " + std::string(where) + ": " +
                       std::string(route.blocked_reason));
    if (counts_own_writes(cmd)) continue;  // after EXEC, keyless
    if (info == nullptr || !info->has(kReadOnly)) t.read_only = false;
    const std::optional<std::uint16_t> slot = ClusterClient::command_slot(cmd);  // CrossSlotError
    if (!slot) {
      refuse_on_one_node(cmd, info, where);
      continue;
    }
    if (!t.slot) {
      t.slot = slot;
      first_keyed = i;
    } else if (*t.slot != *slot) {
      throw CrossSlotError("CROSSSLOT " + std::string(where) + ": " + ascii_upper(cmds[first_keyed].name()) +
                           " (command " + std::to_string(first_keyed + 1) + ") is in slot " +
                           std::to_string(*t.slot) + ", " + ascii_upper(cmd.name()) + " (command " +
                           std::to_string(i + 1) + ") in slot " + std::to_string(*slot) +
                           "; a transaction runs on one node: use keys with a common {hash tag}");
    }
  }
  return t;
}

std::vector<Command> wrap_transaction(std::vector<Command>&& cmds, std::size_t trailing) {
  std::vector<Command> batch;
  batch.reserve(cmds.size() + 2);
  batch.push_back(Command{"MULTI"});
  const std::size_t queued = cmds.size() - trailing;
  for (std::size_t i = 0; i < queued; ++i) batch.push_back(std::move(cmds[i]));
  batch.push_back(Command{"EXEC"});
  for (std::size_t i = queued; i < cmds.size(); ++i) batch.push_back(std::move(cmds[i]));
  return batch;
}

std::pair<Outcome, std::size_t> cluster_refusal(const std::vector<Reply>& replies, std::size_t multi,
                                                std::size_t exec) {
  if (replies[exec].is_array() || replies[exec].is_nil()) return {Outcome::Final, exec};
  for (std::size_t i = multi; i <= exec; ++i) {
    const Outcome o = classify_outcome(replies[i]);
    if (o != Outcome::Final) return {o, i};
  }
  return {Outcome::Final, exec};
}

}  // namespace fibredis
