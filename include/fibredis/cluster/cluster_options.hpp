// ClusterOptions: how ClusterClient finds and talks to a Redis Cluster (redis-py RedisCluster's
// names where its users know them).
#pragma once

#include <fibredis/cluster/node_address.hpp>
#include <fibredis/conn/options.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace fibredis {

struct ClusterOptions {
  /// Nodes asked for the slot map, in turn, until one answers. Any one node of the cluster is enough.
  std::vector<NodeAddress> startup_nodes;
  std::string username{};
  std::string password{};
  std::string client_name{};

  std::chrono::milliseconds connect_timeout{2000};
  /// Bounds a whole call: redirects, back-off, waiting for a topology refresh or a pooled connection.
  std::chrono::milliseconds command_timeout{5000};
  std::chrono::milliseconds pool_timeout{5000};
  /// Exclusive connections per node (blocking commands); callers past it wait.
  std::size_t max_connections_per_node = 16384;
  std::size_t max_in_flight = 4096;

  /// The TTL: redirections and retries one call may take before RedirectLimitError.
  int max_redirects = 16;
  /// After this many MOVED replies, refresh the whole slot map instead of patching one slot.
  int reinitialize_steps = 5;
  /// Accept a slot map with holes (cluster-require-full-coverage no): commands on uncovered slots
  /// fail with SlotNotCoveredError instead of the whole client failing to start.
  bool skip_full_coverage_check = false;
  /// Read-only commands go round-robin over a shard's primary and online replicas (READONLY).
  bool read_from_replicas = false;
  /// Refresh the slot map this often even when no command noticed a change (catches a failover
  /// nobody's command has hit yet). Zero: only on demand.
  std::chrono::milliseconds refresh_interval{0};
  /// Two on-demand refreshes are at least this far apart; callers in between share the last one.
  std::chrono::milliseconds min_refresh_interval{50};
  /// Remaps every address the cluster announces (NAT, proxies, port forwards).
  AddressMap address_remap{};

  /// redis://[user:password@]host:port — one startup node, plus credentials.
  static ClusterOptions from_url(std::string_view url);

  /// Per-node connection options derived from these.
  Options node_options(const NodeAddress& address) const;
};

}  // namespace fibredis
