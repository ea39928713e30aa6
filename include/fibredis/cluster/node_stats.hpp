// NodeStats: what a ClusterClient holds open to one node, read without changing anything.
//
// @code
//   if (auto s = rc.node_stats(node)) std::cout << s->pool_open << " pooled connections\n";
// @endcode
#pragma once

#include <cstddef>
#include <cstdint>

namespace fibredis {

struct NodeStats {
  /// The shared (multiplexed) connection is connected now.
  bool shared_connected = false;
  /// Times the shared connection (re)connected.
  std::uint64_t shared_connects = 0;
  /// Commands written on the shared connection and not yet answered.
  std::size_t shared_in_flight = 0;
  /// Exclusive connections in the pool (blocking commands, transactions, WATCH): open = idle +
  /// in use; created counts every one ever opened.
  std::size_t pool_open = 0;
  std::size_t pool_idle = 0;
  std::size_t pool_in_use = 0;
  std::uint64_t pool_created = 0;
};

}  // namespace fibredis
