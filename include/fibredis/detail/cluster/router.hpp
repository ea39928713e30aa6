// Router: where a cluster command goes. The slot of its keys, the keyless rules of the routing
// table (cluster/command_route.hpp), a Target's nodes, the replica that serves a read, the default
// node, and the read mode readonly()/readwrite() chose. Reads the slot map; sends nothing.
// Internal: not installed.
#pragma once

#include <fibredis/cluster/command_route.hpp>
#include <fibredis/cluster/node_address.hpp>
#include <fibredis/cluster/target.hpp>
#include <fibredis/cluster/topology.hpp>
#include <fibredis/resp/command.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <vector>

namespace fibredis {

class TopologyHolder;

class Router {
 public:
  /// `holder` must outlive the router. `all_replicas_read`: read_from_replicas at construction.
  Router(const TopologyHolder& holder, bool all_replicas_read);

  /// The slot the command's keys hash to; nullopt when it has no key. Throws CrossSlotError when
  /// its keys span slots.
  static std::optional<std::uint16_t> command_slot(const Command& cmd);

  /// Where a command that names no key and no target goes (the routing table's rule), for
  /// execute() and pipelines alike.
  struct KeylessRoute {
    std::vector<NodeAddress> nodes;     ///< one node, or every node of a fan-out
    std::optional<std::uint16_t> slot;  ///< ByChannel / BySlotArg: route by this slot instead
    std::optional<MergePolicy> merge;   ///< a fan-out: how the node replies become one
  };
  KeylessRoute route_keyless(const Command& cmd, const CommandInfo* info);

  /// The nodes of a target in the current map. Target::Random: one node picked uniformly at
  /// random (a per-client generator seeded from std::random_device), each call anew.
  std::vector<NodeAddress> resolve_target(const Target& target);
  /// A read-only command's node in `shard`: round-robin over the primary and the replicas
  /// readonly() enabled (all of them with read_from_replicas), else the primary.
  NodeAddress pick_for_read(const Shard& shard);
  /// A primary picked at random. Throws SlotNotCoveredError when the map has none.
  NodeAddress random_primary();

  const NodeAddress& default_node() const noexcept { return default_node_; }
  void set_default_node(const NodeAddress& node) { default_node_ = node; }

  /// ClusterClient::readonly() / readwrite(): which replicas serve reads (see there).
  void readonly(const Target& target);
  void readwrite(const Target& target);
  bool replica_reads() const noexcept { return replica_reads_all_ || !replica_reads_.empty(); }

 private:
  const TopologyHolder& holder_;
  NodeAddress default_node_;
  std::minstd_rand rng_;
  std::uint64_t round_robin_ = 0;
  bool replica_reads_all_ = false;       // readonly(): every replica serves reads
  std::set<NodeAddress> replica_reads_;  // readonly(nodes): these replicas serve reads
};

}  // namespace fibredis
