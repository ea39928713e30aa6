// Router (detail/cluster/router.hpp): from a command to its slot or nodes.
#include <fibredis/detail/cluster/router.hpp>

#include <fibredis/cluster/slot.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/errors.hpp>

#include <charconv>
#include <string>
#include <string_view>

namespace fibredis {

Router::Router(const TopologyHolder& holder, bool all_replicas_read)
    : holder_(holder), rng_(std::random_device{}()), replica_reads_all_(all_replicas_read) {}

std::optional<std::uint16_t> Router::command_slot(const Command& cmd) {
  thread_local std::vector<std::size_t> keys;
  key_positions(cmd, keys);
  if (keys.empty()) return std::nullopt;
  const std::uint16_t slot = key_slot(cmd[keys[0]]);
  for (std::size_t i = 1; i < keys.size(); ++i)
    if (key_slot(cmd[keys[i]]) != slot)
      throw CrossSlotError("CROSSSLOT keys of " + ascii_upper(cmd.name()) +
                           " hash to different slots; use keys with a common {hash tag}, or a _nonatomic helper");
  return slot;
}

Router::KeylessRoute Router::route_keyless(const Command& cmd, const CommandInfo* info) {
  KeylessRoute r;
  const CommandRoute route = command_route(info);
  const RoutePolicy policy = route.policy;
  switch (policy) {
    case RoutePolicy::ByKey:
      // Keyless after all: an unknown command asks the default node; a known one (EVAL with
      // numkeys 0) any primary.
      r.nodes.push_back(info == nullptr ? default_node_ : random_primary());
      break;
    case RoutePolicy::ByChannel:
      if (cmd.size() >= 2) {
        r.slot = key_slot(cmd[1]);
      } else {
        r.nodes.push_back(default_node_);
      }
      break;
    case RoutePolicy::BySlotArg: {
      unsigned slot = 0;
      if (cmd.size() > 2) {
        const std::string_view s = cmd[2];
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), slot);
        if (ec == std::errc() && p == s.data() + s.size() && slot < kSlotCount) r.slot = static_cast<std::uint16_t>(slot);
      }
      if (!r.slot) r.nodes.push_back(default_node_);
      break;
    }
    case RoutePolicy::AllNodes:
    case RoutePolicy::AllPrimaries:
      if (route.merge == MergePolicy::PerNode) {
        r.nodes.push_back(default_node_);
      } else {
        r.nodes = policy == RoutePolicy::AllNodes ? holder_.current()->all_nodes() : holder_.current()->primaries();
        r.merge = route.merge;
      }
      break;
    case RoutePolicy::RandomNode: {
      auto all = holder_.current()->all_nodes();
      r.nodes.push_back(all.empty() ? default_node_ : all[rng_() % all.size()]);
      break;
    }
    case RoutePolicy::RandomPrimary:
      r.nodes.push_back(random_primary());
      break;
    case RoutePolicy::DefaultNode:
    default:
      r.nodes.push_back(default_node_);
      break;
  }
  return r;
}

std::vector<NodeAddress> Router::resolve_target(const Target& target) {
  const auto t = holder_.current();
  switch (target.kind()) {
    case Target::Kind::Primaries: return t->primaries();
    case Target::Kind::Replicas: return t->replicas();
    case Target::Kind::AllNodes: return t->all_nodes();
    case Target::Kind::Random: {
      auto all = t->all_nodes();
      if (all.empty()) return {};
      return {all[rng_() % all.size()]};
    }
    case Target::Kind::Default: return {default_node_};
    case Target::Kind::Nodes:
    default: return target.nodes();
  }
}

NodeAddress Router::random_primary() {
  std::vector<NodeAddress> p = holder_.current()->primaries();
  if (p.empty()) throw SlotNotCoveredError("the cluster has no primary");
  return p[rng_() % p.size()];
}

NodeAddress Router::pick_for_read(const Shard& shard) {
  if (shard.replicas.empty() || (!replica_reads_all_ && replica_reads_.empty())) return shard.primary;
  if (replica_reads_all_) {
    const std::size_t i = round_robin_++ % (shard.replicas.size() + 1);  // primary, then each replica
    return i == 0 ? shard.primary : shard.replicas[i - 1];
  }
  // readonly(nodes): only the enabled replicas of this shard take turns with the primary.
  thread_local std::vector<const NodeAddress*> enabled;
  enabled.clear();
  for (const NodeAddress& r : shard.replicas)
    if (replica_reads_.count(r) != 0) enabled.push_back(&r);
  if (enabled.empty()) return shard.primary;
  const std::size_t i = round_robin_++ % (enabled.size() + 1);
  return i == 0 ? shard.primary : *enabled[i - 1];
}

// ---- read mode (ClusterClient::readonly / readwrite) ---------------------------------------

void Router::readonly(const Target& target) {
  switch (target.kind()) {
    case Target::Kind::Replicas:
    case Target::Kind::AllNodes:
      replica_reads_all_ = true;
      replica_reads_.clear();
      return;
    case Target::Kind::Nodes:
      if (replica_reads_all_) return;  // already every replica
      for (const NodeAddress& n : target.nodes()) replica_reads_.insert(n);
      return;
    default:
      throw UsageError("readonly(): the target must be Target::Replicas, Target::AllNodes or named nodes");
  }
}

void Router::readwrite(const Target& target) {
  switch (target.kind()) {
    case Target::Kind::Replicas:
    case Target::Kind::AllNodes:
      replica_reads_all_ = false;
      replica_reads_.clear();
      return;
    case Target::Kind::Nodes:
      if (replica_reads_all_) {
        // "Every replica but these": the replicas of the current map, named.
        replica_reads_all_ = false;
        for (NodeAddress& r : holder_.current()->replicas()) replica_reads_.insert(std::move(r));
      }
      for (const NodeAddress& n : target.nodes()) replica_reads_.erase(n);
      return;
    default:
      throw UsageError("readwrite(): the target must be Target::Replicas, Target::AllNodes or named nodes");
  }
}

}  // namespace fibredis
