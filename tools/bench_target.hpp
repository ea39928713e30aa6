// Which client fibredis-bench measures: a single-node Client, or (with --cluster HOST:PORT) a
// ClusterClient discovering the cluster from that node.
#pragma once

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/fibredis.hpp>

#include <chrono>
#include <cstdint>
#include <string>

/// `timeout`: the command_timeout of either client (0: the client's default).
template <class Fn>
void with_bench_target(const std::string& host, int port, const std::string& cluster,
                       std::chrono::milliseconds timeout, Fn&& fn) {
  if (!cluster.empty()) {
    auto node = fibredis::NodeAddress::parse(cluster);
    if (!node) throw fibredis::UsageError("--cluster wants HOST:PORT, got '" + cluster + "'");
    fibredis::ClusterOptions o;
    o.startup_nodes = {*node};
    if (timeout.count() > 0) o.command_timeout = timeout;
    fibredis::ClusterClient rc(o);
    fn(rc);
    return;
  }
  fibredis::Options o{.host = host, .port = static_cast<std::uint16_t>(port)};
  if (timeout.count() > 0) o.command_timeout = timeout;
  fibredis::Client client(o);
  fn(client);
}
