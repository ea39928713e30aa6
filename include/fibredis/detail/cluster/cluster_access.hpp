// The internals of a ClusterClient, for tests and in-tree tools and library code outside ClusterClient only (not installed): its slot-map
// holder (to plant a stale map with move_slot()) and a node's connections (to watch a shared
// connection or a pool). The public surface keeps to node_stats() and get_node_client().
#pragma once

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/detail/cluster/node_registry.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/node_connections.hpp>

namespace fibredis::detail {

struct ClusterClientAccess {
  static TopologyHolder& holder(ClusterClient& c) noexcept { return *c.holder_; }
  /// Makes the node's entry when it has none, as the client does on first use.
  static NodeConnections& node(ClusterClient& c, const NodeAddress& a) { return c.nodes_->node(a); }
};

inline TopologyHolder& topology_holder(ClusterClient& c) noexcept { return ClusterClientAccess::holder(c); }
inline NodeConnections& node_connections(ClusterClient& c, const NodeAddress& a) { return ClusterClientAccess::node(c, a); }

}  // namespace fibredis::detail
