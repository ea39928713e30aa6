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
  /// Per node, as Options::max_idle and Options::idle_timeout: idle pooled connections beyond
  /// max_idle_per_node are closed after idle_timeout.
  std::size_t max_idle_per_node = 64;
  std::chrono::milliseconds idle_timeout{30000};
  std::size_t max_in_flight = 4096;
  /// PING each node's idle shared connection this often (zero: never); see Options.
  std::chrono::milliseconds health_check_interval{0};
  /// TCP keepalive on every socket to every node (net/socket_options.hpp).
  SocketOptions socket{};
  /// The largest reply accepted from any node; see Options::max_reply_bytes.
  std::size_t max_reply_bytes = std::size_t{512} * 1024 * 1024;

  /// The TTL of MOVED/ASK loops, in sends (redis-py's RedisClusterRequestTTL): a command follows
  /// at most max_redirects - 1 redirects, then RedirectLimitError. Only redirects count:
  /// an unreachable node, an uncovered slot, TRYAGAIN, CLUSTERDOWN or LOADING are retried with
  /// back-off until the call's deadline (command_timeout) instead.
  int max_redirects = 16;
  /// A write that was sent and then lost its answer (timeout, connection lost after the write)
  /// may or may not have been applied. True (the default, as redis-py and Lettuce): it is sent
  /// again, so writes are at-least-once (an INCR may count twice). False: at-most-once, the
  /// caller gets the TimeoutError/ConnectionError and decides. Commands known unwritten and
  /// read-only commands are retried either way (docs/CLUSTER.md, "Retry semantics").
  bool retry_unknown_writes = true;
  /// Every MOVED patches its slot at once. This many MOVED replies since the last full refresh
  /// make one due (so a stale map heals at once); while MOVEDs keep coming after it (a reshard
  /// moves slot after slot) the next such refresh waits twice as long, from min_refresh_interval
  /// up to refresh_interval (5 s when that is zero). A MOVED to a node that is no primary of the
  /// map (a failover) makes one due by itself. Zero or less: MOVED counts make none.
  int reinitialize_steps = 5;
  /// Accept a slot map with holes (cluster-require-full-coverage no): commands on uncovered slots
  /// fail with SlotNotCoveredError instead of the whole client failing to start.
  bool skip_full_coverage_check = false;
  /// Read-only commands go round-robin over a shard's primary and online replicas (READONLY).
  bool read_from_replicas = false;
  /// Refresh the slot map when none ran for this long, even if no command noticed a change
  /// (catches a failover, a new replica or a reshard nobody's command has hit yet: one CLUSTER
  /// SHARDS + CLUSTER INFO per interval per client). Zero: only on demand and on faults.
  std::chrono::milliseconds refresh_interval{5000};
  /// Two on-demand refreshes are at least this far apart; callers in between share the last one.
  /// After a refresh that changed nothing (a dead primary not yet failed over, its callers asking
  /// again) the gap doubles, up to fault_refresh_interval; a refresh that changed something
  /// resets it.
  std::chrono::milliseconds min_refresh_interval{50};
  /// While a node is suspect (below), or the cluster answers CLUSTERDOWN / leaves a slot
  /// uncovered, the slot map is re-read this often, once per client however many callers wait.
  std::chrono::milliseconds fault_refresh_interval{200};
  /// A node with calls outstanding that answers nothing for this long is suspect (a stopped or
  /// partitioned host sends no RST). A node whose call failed or timed out is suspect at once.
  /// Being suspect costs only the frequent refreshes above; once a refresh shows the node is no
  /// longer a primary, its shared connection is broken and the callers parked on it retry at
  /// the new primary (under the retry rules) instead of waiting for their deadline.
  std::chrono::milliseconds suspect_after{1000};
  /// Each node asked for the slot map gets this long to answer (connecting included), so a
  /// stopped node cannot stall a refresh. Up to three nodes are asked at once, suspects last.
  std::chrono::milliseconds topology_timeout{1000};
  /// Remaps every address the cluster announces (NAT, proxies, port forwards).
  AddressMap address_remap{};

  /// redis://[user:password@]host:port — one startup node, plus credentials.
  static ClusterOptions from_url(std::string_view url);

  /// Per-node connection options derived from these.
  Options node_options(const NodeAddress& address) const;
};

}  // namespace fibredis
