// ClusterPipeline batches that hold WAIT/WAITAOF (client/wait_batch.hpp): the whole batch on one
// exclusive connection of the primary that owns its keys, so WAIT counts that primary's replicas
// for exactly the writes before it.
#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/cluster/command_route.hpp>
#include <fibredis/detail/cluster/node_registry.hpp>
#include <fibredis/detail/cluster/retry_loop.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/detail/cluster/router.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/call_deadline.hpp>
#include <fibredis/detail/conn/node_connections.hpp>

#include <fibredis/client/pipeline.hpp>
#include <fibredis/client/wait_batch.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/detail/resp/error_reply.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fibredis {
namespace {

// Refusals that mean "this command did not run here": the slot moved or is migrating, the shard
// is failing over, or the node was demoted. A batch refused as a whole can be sent again.
bool refused_by_cluster(const Reply& r) {
  if (!r.is_error()) return false;
  switch (classify_error(r.str())) {
    case ErrorKind::Moved:
    case ErrorKind::Ask:
    case ErrorKind::TryAgain:
    case ErrorKind::Loading:
    case ErrorKind::ClusterDown:
    case ErrorKind::MasterDown:
    case ErrorKind::ReadOnly:
      return true;
    default:
      return false;
  }
}


// The keyed commands of a WAIT batch (their slots, and their indexes in cmds). Throws UsageError
// for a refused command or a batch without keys, CrossSlotError before anything is sent.
struct KeyedCommands {
  std::vector<std::uint16_t> slots;
  std::vector<std::size_t> index;
};

KeyedCommands keyed_commands(const std::vector<Command>& cmds) {
  KeyedCommands k;
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    const Command& cmd = cmds[i];
    const CommandInfo* info = lookup_command(cmd);
    if (const CommandRoute route = command_route(info); route.policy == RoutePolicy::Blocked && !info->has(kOwnWrites))
      throw UsageError(std::string(cmd.name()) + " is not allowed in a cluster pipeline: " +
                       std::string(route.blocked_reason));
    if (counts_own_writes(cmd)) continue;
    if (std::optional<std::uint16_t> slot = Router::command_slot(cmd)) {  // CrossSlotError before sending
      k.slots.push_back(*slot);
      k.index.push_back(i);
    }
  }
  if (k.slots.empty())
    throw UsageError("a cluster pipeline with WAIT needs keyed commands: their shard's primary is "
                     "where it runs, and its replicas are what WAIT counts");
  return k;
}

// The primary that serves every slot of the batch, or nullopt when the first slot is uncovered.
// Throws UsageError when the slots live in different shards.
std::optional<NodeAddress> batch_primary(const Topology& topology, const std::vector<std::uint16_t>& slots) {
  const Shard* shard = topology.shard_for_slot(slots.front());
  if (shard == nullptr) return std::nullopt;
  for (std::uint16_t s : slots) {
    const Shard* other = topology.shard_for_slot(s);
    if (other == nullptr || !(other->primary == shard->primary))
      throw UsageError("the keys of a cluster pipeline with WAIT must live in one shard (slot " +
                       std::to_string(slots.front()) + " is on " + shard->primary.to_string() + ", slot " +
                       std::to_string(s) + " on " + (other ? other->primary.to_string() : "no node") +
                       "): WAIT counts the replicas of one primary; use {hash tags}");
  }
  return shard->primary;
}

// A batch the cluster refused as a whole: patches the slot map for each MOVED. True when a
// refusal (CLUSTERDOWN, MASTERDOWN, READONLY) asks for a full refresh.
bool follow_refusal(const std::vector<Reply>& replies, const std::vector<std::size_t>& keyed, const NodeAddress& target,
                    TopologyHolder& holder, const AddressMap& remap, std::string& last_problem) {
  bool refresh = false;
  for (std::size_t i : keyed) {
    const Reply& r = replies[i];
    last_problem = std::string(r.str());
    const ErrorKind kind = classify_error(r.str());
    if (kind == ErrorKind::Moved) {
      auto redirect = parse_redirect(r.str());
      if (!redirect) continue;
      if (redirect->host.empty()) redirect->host = target.host;
      NodeAddress owner{redirect->host, redirect->port};
      if (remap) owner = remap(owner);
      holder.move_slot(redirect->slot, owner);
    } else if (kind == ErrorKind::ClusterDown || kind == ErrorKind::MasterDown || kind == ErrorKind::ReadOnly) {
      refresh = true;
    }
  }
  return refresh;
}

}  // namespace

std::vector<Reply> ClusterClient::run_wait_pipeline(const std::vector<Command>& cmds, bool raise_on_error) {
  check_wait_batch(cmds.data(), cmds.size(), false);
  const KeyedCommands keyed = keyed_commands(cmds);
  // WAIT's own timeout is positive (check_wait_batch); a BLPOP's may be 0: no deadline then.
  const Deadline deadline = call_deadline(options_.command_timeout, cmds.data(), cmds.size());

  std::string last_problem;
  for (int attempt = 0; attempt < options_.max_redirects; ++attempt) {
    const std::uint64_t version = holder_->version();
    const std::optional<NodeAddress> primary = batch_primary(*holder_->current(), keyed.slots);
    if (!primary) {
      last_problem = "slot " + std::to_string(keyed.slots.front()) + " not covered";
      retry_->refresh_after_fault(version, deadline);
      if (expired(deadline)) throw SlotNotCoveredError("pipeline with WAIT: " + last_problem + " by any node");
      retry_->backoff(attempt, deadline);
      continue;
    }
    const NodeAddress target = *primary;
    std::vector<Reply> replies(cmds.size());
    bool written = true;
    if (std::error_code ec =
            nodes_->node(target).run_exclusive(cmds.data(), cmds.size(), replies.data(), deadline, &written)) {
      // Only a batch that never reached the server is sent again: a written one may have run its
      // writes, and running them twice is not ours to decide.
      const bool retry = !written && ec != errc::timeout && ec != errc::auth_failed && ec != errc::usage;
      if (!retry || expired(deadline)) retry_->fail(ec, target, "pipeline with WAIT");
      ++stats_.retries;
      last_problem = target.to_string() + ": " + ec.message();
      retry_->refresh_after_fault(version, deadline);
      retry_->backoff(attempt, deadline);
      continue;
    }
    std::size_t refused = 0;
    for (std::size_t i : keyed.index) refused += refused_by_cluster(replies[i]) ? 1 : 0;
    if (refused == 0) {
      if (raise_on_error) raise_first_error(replies);
      return replies;
    }
    if (refused < keyed.index.size())
      throw ClusterError("pipeline with WAIT: part of the batch ran on " + target.to_string() +
                         " while the rest was redirected (a slot migrating?); not sent again, so no "
                         "write runs twice");
    // Refused as a whole, so nothing of it ran: follow the cluster and send it all again.
    ++stats_.redirects;
    if (follow_refusal(replies, keyed.index, target, *holder_, options_.address_remap, last_problem))
      retry_->refresh_after_fault(version, deadline);
    if (classify_error(replies[keyed.index.front()].str()) != ErrorKind::Moved) retry_->backoff(attempt, deadline);
    if (expired(deadline))
      throw TimeoutError("pipeline with WAIT: deadline passed while retrying (last: " + last_problem + ")");
  }
  throw RedirectLimitError("pipeline with WAIT: TTL exhausted after " + std::to_string(options_.max_redirects) +
                           " redirections/retries (last: " + last_problem + ")");
}

}  // namespace fibredis
