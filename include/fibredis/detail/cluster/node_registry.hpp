// NodeRegistry: the connections a ClusterClient keeps, by node address (go-redis's clusterNodes).
//
// One NodeConnections per node for ordinary traffic (a shared multiplexed connection and a pool of
// exclusive ones, detail/conn/node_connections.hpp), opened lazily: an entry costs nothing until a
// command runs on it. Replica reads after readonly() travel on a second set whose connections sent
// READONLY (replica_node()). Auto-flush (ClusterClient::set_auto_flush) is applied here, to
// every entry, now and to entries made later. Internal: not installed.
#pragma once

#include <fibredis/cluster/node_address.hpp>
#include <fibredis/conn/client_stats.hpp>

#include <memory>
#include <system_error>
#include <unordered_map>

namespace fibredis {

struct ClusterOptions;
class NodeConnections;

class NodeRegistry {
 public:
  /// `options` and `stats` (the owning client's) must outlive the registry.
  NodeRegistry(const ClusterOptions& options, ClientStats* stats);
  ~NodeRegistry();
  NodeRegistry(const NodeRegistry&) = delete;
  NodeRegistry& operator=(const NodeRegistry&) = delete;

  /// The connections to `address`, made on first use (nothing connects until a command runs).
  NodeConnections& node(const NodeAddress& address);
  /// The connections for replica reads on `address`: ones that sent READONLY. With
  /// read_from_replicas at construction every connection does, and node() is returned.
  NodeConnections& replica_node(const NodeAddress& address);
  /// The ordinary connections to `address` if it has an entry; never creates one.
  NodeConnections* find(const NodeAddress& address) const noexcept;

  void set_auto_flush(bool on);
  bool auto_flush() const noexcept { return auto_flush_; }
  /// Makes every queued command of every node writable (each connection's in one write).
  void flush();
  void flush(const NodeAddress& address);
  /// Breaks `address`'s shared connection, if it has one: its parked callers fail now (and retry
  /// under the retry rules) instead of at their deadline.
  void break_shared(const NodeAddress& address, std::error_code why);

 private:
  using Map = std::unordered_map<NodeAddress, std::unique_ptr<NodeConnections>>;
  NodeConnections& entry(Map& map, const NodeAddress& address, bool readonly);

  const ClusterOptions& options_;
  ClientStats* stats_;
  bool auto_flush_ = true;
  Map nodes_;
  Map readonly_nodes_;  // replica reads enabled at run time (readonly()), see replica_node()
};

}  // namespace fibredis
