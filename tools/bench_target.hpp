// Which client fibredis-bench measures: a single-node Client, or (with --cluster) a ClusterClient.
#pragma once

#include <fibredis/fibredis.hpp>

#include <cstdint>
#include <string>

template <class Fn>
void with_bench_target(const std::string& host, int port, const std::string& cluster, Fn&& fn) {
  if (!cluster.empty()) throw fibredis::UsageError("--cluster needs the cluster client");
  fibredis::Client client({.host = host, .port = static_cast<std::uint16_t>(port)});
  fn(client);
}
