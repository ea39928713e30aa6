// Small helpers shared by the integration tests: options for a test cluster, a fresh cluster that
// stops however the test ends, and running an example program.
#pragma once

#include <catch2/catch.hpp>

#include <fibredis/cluster/cluster_options.hpp>
#include <fibredis/conn/options.hpp>

#include "support/servers.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

namespace fibredis::test {

/// The shared single server, with `timeout` for connecting and for each command.
inline Options single_options(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
  const auto& s = single_server();
  Options o;
  o.host = s.host;
  o.port = s.port;
  o.command_timeout = timeout;
  o.connect_timeout = timeout;
  return o;
}

/// Milliseconds from t0 to now (how long a call took, for bounds on waits).
inline std::chrono::milliseconds since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
}

/// One startup node (the cluster's first) and a 5 s command timeout.
inline ClusterOptions options_for(const ClusterInfo& c) {
  ClusterOptions o;
  o.startup_nodes = {{c.host, c.ports.front()}};
  o.command_timeout = std::chrono::milliseconds(5000);
  return o;
}

/// A fresh 3 + 3 cluster, stopped however the test ends.
struct FreshCluster {
  ClusterInfo info = fresh_cluster();
  FreshCluster() = default;
  FreshCluster(const FreshCluster&) = delete;
  FreshCluster& operator=(const FreshCluster&) = delete;
  ~FreshCluster() {
    try {
      stop_cluster(info);
    } catch (const std::exception& e) {
      std::cerr << "stop_cluster: " << e.what() << "\n";
    }
  }
};

struct ExampleRun {
  int status = -1;   ///< pclose() status: 0 = exited 0
  std::string out;   ///< stdout and stderr
};

/// Runs build/examples/NAME ARGS (FIBREDIS_EXAMPLES_DIR, set by meson), bounded to 60 s.
inline ExampleRun run_example(const std::string& name, const std::string& args) {
  const char* dir = std::getenv("FIBREDIS_EXAMPLES_DIR");
  const std::string path = std::string(dir ? dir : "examples") + "/" + name;
  ExampleRun r;
  FILE* f = ::popen(("timeout 60 " + path + " " + args + " 2>&1").c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  r.status = ::pclose(f);
  return r;
}

}  // namespace fibredis::test
