// ClusterClient, read mode at run time: readonly()/readwrite() choose which replicas serve
// read-only commands; replica reads travel on connections that sent READONLY.
//
// A replica answers a read of its primary's slots only on a connection that sent READONLY (else
// MOVED to the primary, cluster spec "Scaling reads using replica nodes"). Connections opened
// before readonly() did not send it, and a connection's handshake is fixed when it opens, so
// replica reads get their own READONLY connections (readonly_nodes_), kept apart from the ones
// ordinary and targeted commands use. With read_from_replicas at construction every connection
// sends READONLY already, and those are used.
#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/detail/cluster/node_watch.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/node_connections.hpp>

#include <fibredis/errors.hpp>

namespace fibredis {

NodeConnections& ClusterClient::replica_node(const NodeAddress& address) {
  if (options_.read_from_replicas) return node(address);
  auto it = readonly_nodes_.find(address);
  if (it == readonly_nodes_.end()) {
    Options o = options_.node_options(address);
    o.readonly = true;
    it = readonly_nodes_.emplace(address, std::make_unique<NodeConnections>(o, &stats_)).first;
  }
  if (!auto_flush_) it->second->shared().set_auto_flush(false);
  return *it->second;
}

void ClusterClient::readonly(const Target& target) {
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

void ClusterClient::readwrite(const Target& target) {
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
        for (NodeAddress& r : holder_->current()->replicas()) replica_reads_.insert(std::move(r));
      }
      for (const NodeAddress& n : target.nodes()) replica_reads_.erase(n);
      return;
    default:
      throw UsageError("readwrite(): the target must be Target::Replicas, Target::AllNodes or named nodes");
  }
}

}  // namespace fibredis
