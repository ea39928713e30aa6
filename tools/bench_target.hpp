// Which client fibredis-bench measures: a single-node Client, or (with --cluster HOST:PORT) a
// ClusterClient discovering the cluster from that node.
#pragma once

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/fibredis.hpp>

#include <cstdint>
#include <string>

template <class Fn>
void with_bench_target(const std::string& host, int port, const std::string& cluster, Fn&& fn) {
  if (!cluster.empty()) {
    auto node = fibredis::NodeAddress::parse(cluster);
    if (!node) throw fibredis::UsageError("--cluster wants HOST:PORT, got '" + cluster + "'");
    fibredis::ClusterClient rc(node->host, node->port);
    fn(rc);
    return;
  }
  fibredis::Client client({.host = host, .port = static_cast<std::uint16_t>(port)});
  fn(client);
}
