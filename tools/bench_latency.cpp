#include "bench_latency.hpp"

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/fibredis.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace fibredis::bench {

namespace {

struct LatencyArgs {
  std::string cluster;
  int runs = 50;
  int keys_per_node = 100;
  bool serial = false;
  long timeout_ms = 0;
};

struct Stat {
  double median = 0, min = 0, max = 0;
};

Stat stat_of(std::vector<double> v) {
  Stat s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  s.min = v.front();
  s.max = v.back();
  return s;
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

[[noreturn]] void fail(const std::string& why) {
  std::cerr << "fibredis-bench latency: " << why << "\n";
  std::exit(1);
}

std::string value_of(const std::string& key) { return "latency-value-of-" + key; }

/// Queues a GET per key on `p`, executes, checks every value.
void get_checked(ClusterClient& rc, const std::vector<std::string>& keys) {
  auto p = rc.pipeline();
  for (const std::string& k : keys) p.get(k);
  const std::vector<Reply> replies = p.execute();
  if (replies.size() != keys.size()) fail("pipeline returned " + std::to_string(replies.size()) + " replies");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto v = replies[i].as_optional_string();
    if (!v || *v != value_of(keys[i])) fail("wrong value for " + keys[i]);
  }
}

LatencyArgs parse(int argc, char** argv) {
  LatencyArgs a;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "--serial") {
      a.serial = true;
      continue;
    }
    if (i + 1 >= argc) fail(f + " needs a value");
    const std::string v = argv[++i];
    if (f == "--workload") continue;
    if (f == "--cluster") a.cluster = v;
    else if (f == "--runs") a.runs = std::atoi(v.c_str());
    else if (f == "--keys-per-node") a.keys_per_node = std::atoi(v.c_str());
    else if (f == "--timeout-ms") a.timeout_ms = std::atol(v.c_str());
    else fail("unknown flag " + f + " (latency takes --cluster, --runs, --keys-per-node, --serial, --timeout-ms)");
  }
  if (a.cluster.empty()) fail("--cluster HOST:PORT is required");
  if (a.runs < 1 || a.keys_per_node < 1) fail("--runs and --keys-per-node must be positive");
  return a;
}

}  // namespace

bool wants_latency(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--workload" && std::string(argv[i + 1]) == "latency") return true;
  return false;
}

int latency_main(int argc, char** argv) {
  const LatencyArgs a = parse(argc, argv);
  std::vector<double> pipeline_ms, single_ms, ping_ms, serial_ms;
  std::size_t nodes = 0;
  try {
    Runtime rt;
    rt.run([&] {
      auto node = NodeAddress::parse(a.cluster);
      if (!node) fail("--cluster wants HOST:PORT, got '" + a.cluster + "'");
      ClusterOptions o;
      o.startup_nodes = {*node};
      if (a.timeout_ms > 0) o.command_timeout = std::chrono::milliseconds(a.timeout_ms);
      ClusterClient rc(o);
      // keys-per-node keys on each of (at most) three primaries, found by asking the slot map.
      std::vector<NodeAddress> primaries = rc.get_primaries();
      std::sort(primaries.begin(), primaries.end());
      if (primaries.size() > 3) primaries.resize(3);
      nodes = primaries.size();
      std::map<NodeAddress, std::vector<std::string>> per_node;
      for (const NodeAddress& p : primaries) per_node[p];
      const std::size_t want = static_cast<std::size_t>(a.keys_per_node);
      std::size_t filled = 0;
      for (long i = 0; filled < nodes && i < 10'000'000; ++i) {
        const std::string key = "latency:" + std::to_string(i);
        auto it = per_node.find(rc.get_node_from_key(key));
        if (it == per_node.end() || it->second.size() >= want) continue;
        it->second.push_back(key);
        if (it->second.size() == want) ++filled;
      }
      if (filled < nodes) fail("could not find keys for every primary");
      std::vector<std::string> all;
      for (auto& [addr, keys] : per_node) all.insert(all.end(), keys.begin(), keys.end());
      {
        auto p = rc.pipeline();
        for (const std::string& k : all) p.set(k, value_of(k));
        p.execute();
      }
      const std::vector<std::string>& one = per_node.begin()->second;
      get_checked(rc, all);  // warm: every node's connection is open before the timed runs
      for (int run = 0; run < a.runs; ++run) {
        auto t0 = Clock::now();
        get_checked(rc, all);
        pipeline_ms.push_back(ms_since(t0));
        t0 = Clock::now();
        get_checked(rc, one);
        single_ms.push_back(ms_since(t0));
        t0 = Clock::now();
        rc.execute(Command{"PING"});
        ping_ms.push_back(ms_since(t0));
        if (a.serial) {
          t0 = Clock::now();
          for (auto& [addr, keys] : per_node) get_checked(rc, keys);
          serial_ms.push_back(ms_since(t0));
        }
      }
    });
  } catch (const std::exception& e) {
    fail(e.what());
  }
  const Stat p = stat_of(pipeline_ms), s = stat_of(single_ms), g = stat_of(ping_ms);
  std::printf(
      "{\"workload\":\"latency\",\"client\":\"fibredis\",\"runs\":%d,\"nodes\":%zu,\"keys_per_node\":%d,"
      "\"pipeline_ms\":%.3f,\"pipeline_min_ms\":%.3f,\"pipeline_max_ms\":%.3f,"
      "\"single_node_ms\":%.3f,\"single_node_min_ms\":%.3f,\"single_node_max_ms\":%.3f,"
      "\"ping_ms\":%.3f,\"pipeline_over_single\":%.3f",
      a.runs, nodes, a.keys_per_node, p.median, p.min, p.max, s.median, s.min, s.max, g.median,
      s.median > 0 ? p.median / s.median : 0.0);
  if (a.serial) {
    const Stat r = stat_of(serial_ms);
    std::printf(",\"serial_ms\":%.3f,\"serial_min_ms\":%.3f,\"serial_max_ms\":%.3f,\"serial_over_single\":%.3f",
                r.median, r.min, r.max, s.median > 0 ? r.median / s.median : 0.0);
  }
  std::printf("}\n");
  return 0;
}

}  // namespace fibredis::bench
