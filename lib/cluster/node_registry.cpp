// NodeRegistry (detail/cluster/node_registry.hpp).
//
// Why replica reads have connections of their own: a replica answers a read of its primary's
// slots only on a connection that sent READONLY (else MOVED to the primary, cluster spec "Scaling
// reads using replica nodes"). Connections opened before readonly() did not send it, and a
// connection's handshake is fixed when it opens, so replica reads get their own READONLY
// connections (readonly_nodes_), kept apart from the ones ordinary and targeted commands use.
// With read_from_replicas at construction every connection sends READONLY already, and those are
// used.
#include <fibredis/detail/cluster/node_registry.hpp>

#include <fibredis/cluster/cluster_options.hpp>
#include <fibredis/detail/conn/node_connections.hpp>

namespace fibredis {

NodeRegistry::NodeRegistry(const ClusterOptions& options, ClientStats* stats) : options_(options), stats_(stats) {}
NodeRegistry::~NodeRegistry() = default;

NodeConnections& NodeRegistry::entry(Map& map, const NodeAddress& address, bool readonly) {
  auto it = map.find(address);
  if (it == map.end()) {
    Options o = options_.node_options(address);
    if (readonly) o.readonly = true;
    it = map.emplace(address, std::make_unique<NodeConnections>(o, stats_)).first;
  }
  if (!auto_flush_) it->second->shared().set_auto_flush(false);
  return *it->second;
}

NodeConnections& NodeRegistry::node(const NodeAddress& address) { return entry(nodes_, address, false); }

NodeConnections& NodeRegistry::replica_node(const NodeAddress& address) {
  if (options_.read_from_replicas) return node(address);
  return entry(readonly_nodes_, address, true);
}

NodeConnections* NodeRegistry::find(const NodeAddress& address) const noexcept {
  auto it = nodes_.find(address);
  return it == nodes_.end() ? nullptr : it->second.get();
}

void NodeRegistry::set_auto_flush(bool on) {
  auto_flush_ = on;
  for (auto& [address, conns] : nodes_) conns->shared().set_auto_flush(on);
  for (auto& [address, conns] : readonly_nodes_) conns->shared().set_auto_flush(on);
}

void NodeRegistry::flush() {
  // Every node's queue at once: each connection's writer sends its own in one write.
  for (auto& [address, conns] : nodes_) conns->shared().flush();
  for (auto& [address, conns] : readonly_nodes_) conns->shared().flush();
}

void NodeRegistry::flush(const NodeAddress& address) {
  if (auto it = nodes_.find(address); it != nodes_.end()) it->second->shared().flush();
  if (auto it = readonly_nodes_.find(address); it != readonly_nodes_.end()) it->second->shared().flush();
}

void NodeRegistry::break_shared(const NodeAddress& address, std::error_code why) {
  if (auto it = nodes_.find(address); it != nodes_.end()) it->second->shared().break_connection(why);
}

}  // namespace fibredis
