// fibredis-bench: workloads against a server or a cluster, one JSON object per line.
//
// Usage:
//   fibredis-bench --workload sequential [--host 127.0.0.1] [--port 6379] [--ops 100000]
//   fibredis-bench --workload concurrent --fibers 200 ...   (many fibers, one shared connection)
//   fibredis-bench --workload pipeline --batch 100 ...      (pipelines of SET/GET pairs)
//   fibredis-bench ... --cluster HOST:PORT                  (a ClusterClient instead)
//   fibredis-bench ... --timeout-ms 20000                   (command_timeout; default: the client's)
//   fibredis-bench --workload latency --cluster H:P [--serial]  (cross-node pipeline latency,
//                                                            tools/bench_latency.hpp)
//   fibredis-bench --workload blocking --clients N [--timeout S] [--wake] [--cluster HOST:PORT]
//                                     (N fibers parked in BRPOP: tools/bench_blocking.hpp)
//
// sequential: one caller alternates SET and GET of 32-byte values on keys drawn from 1,000,000 and
// checks every value read back; concurrent: each fiber does the same on keys of its own. An error
// or a wrong value ends the run with exit code 1 (so a run through a failover, with --timeout-ms
// longer than the failover, proves every call succeeded and every acknowledged write was read
// back; tools/chaos-bench.sh does that).
// Output: {"workload":..,"client":"fibredis",..,"ops":N,"checked":V,"seconds":S,"ops_per_sec":R,
//          "cpu_s":C,"max_rss_kib":K}
#include "bench_latency.hpp"
#include "bench_blocking.hpp"
#include "bench_target.hpp"

#include <fibredis/fibredis.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Args {
  std::string workload = "sequential";
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string cluster;  // HOST:PORT
  long ops = 100000;
  int fibers = 100;
  int batch = 100;
  long keyspace = 1000000;
  long timeout_ms = 0;  // 0: the client's default command_timeout
};

long checked_values = 0;  // values read back and compared (one thread: no atomics)

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
long max_rss_kib() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// 32 bytes that depend on key and round, so a stale or misrouted value is caught.
std::string value_for(long key, long round) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "v%015ld-%015ld", key, round);
  return std::string(buf, 32);
}

[[noreturn]] void wrong_value(const std::string& key, const std::optional<std::string>& got, const std::string& want) {
  std::cerr << "fibredis-bench: wrong value for " << key << ": got " << (got ? *got : "(nil)") << ", want " << want << "\n";
  std::exit(1);
}

// One SET and a GET of the same key, the value checked: the unit every workload but pipeline runs.
template <class C>
void set_and_check(C& client, const std::string& key, const std::string& val) {
  client.set(key, val);
  auto got = client.get(key);
  if (!got || *got != val) wrong_value(key, got, val);
  ++checked_values;
}

template <class C>
long run_sequential(C& client, const Args& a) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<long> pick(0, a.keyspace - 1);
  long done = 0;
  for (long i = 0; done < a.ops; ++i) {
    const long k = pick(rng);
    const std::string key = "bench:" + std::to_string(k);
    set_and_check(client, key, value_for(k, i));
    done += 2;
  }
  return done;
}

template <class C>
long run_concurrent(C& client, const Args& a) {
  long done = 0;
  const long per_fiber = a.ops / a.fibers / 2;
  std::string first_error;  // the first fiber's failure ends the run once all have stopped
  bool failed = false;
  std::vector<fibredis::Fiber> fibers;
  for (int f = 0; f < a.fibers; ++f) {
    fibers.emplace_back([&, f] {
      std::mt19937_64 rng(f);
      try {
        for (long i = 0; i < per_fiber && !failed; ++i) {
          const long k = static_cast<long>(rng() % static_cast<unsigned long>(a.keyspace));
          const std::string key = "bench:" + std::to_string(f) + ":" + std::to_string(k);
          set_and_check(client, key, value_for(k, i));
          done += 2;
        }
      } catch (const std::exception& e) {
        if (!failed) first_error = "fiber " + std::to_string(f) + ": " + e.what();
        failed = true;
      }
    });
  }
  for (auto& f : fibers) f.join();
  if (failed) throw std::runtime_error(first_error);
  return done;
}

template <class C>
long run_pipeline(C& client, const Args& a) {
  if constexpr (!requires { client.pipeline(); }) {
    std::cerr << "fibredis-bench: the pipeline workload needs a client with pipeline()\n";
    std::exit(2);
  } else {
  long done = 0;
  for (long round = 0; done < a.ops; ++round) {
    auto p = client.pipeline();
    for (int j = 0; j < a.batch; ++j) {
      const long k = (round * a.batch + j) % a.keyspace;
      p.set("bench:" + std::to_string(k), value_for(k, round));
    }
    for (int j = 0; j < a.batch; ++j) p.get("bench:" + std::to_string((round * a.batch + j) % a.keyspace));
    auto replies = p.execute();
    for (int j = 0; j < a.batch; ++j) {
      const long k = (round * a.batch + j) % a.keyspace;
      auto got = replies[static_cast<std::size_t>(a.batch + j)].as_optional_string();
      if (!got || *got != value_for(k, round)) wrong_value("bench:" + std::to_string(k), got, value_for(k, round));
      ++checked_values;
    }
    done += 2L * a.batch;
  }
  return done;
  }
}

template <class C>
long run_workload(C& client, const Args& a) {
  if (a.workload == "sequential") return run_sequential(client, a);
  if (a.workload == "concurrent") return run_concurrent(client, a);
  if (a.workload == "pipeline") return run_pipeline(client, a);
  std::cerr << "fibredis-bench: unknown workload " << a.workload << "\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (fibredis::bench::wants_latency(argc, argv)) return fibredis::bench::latency_main(argc, argv);
  if (const int rc = fibredis::swarm::bench_main(argc, argv); rc >= 0) return rc;  // --workload blocking
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string f = argv[i];
    const char* v = argv[i + 1];
    if (f == "--workload") a.workload = v;
    else if (f == "--host") a.host = v;
    else if (f == "--port") a.port = std::atoi(v);
    else if (f == "--cluster") a.cluster = v;
    else if (f == "--ops") a.ops = std::atol(v);
    else if (f == "--fibers") a.fibers = std::atoi(v);
    else if (f == "--batch") a.batch = std::atoi(v);
    else if (f == "--keyspace") a.keyspace = std::atol(v);
    else if (f == "--timeout-ms") a.timeout_ms = std::atol(v);
    else {
      std::cerr << "fibredis-bench: unknown flag " << f << "\n";
      return 2;
    }
  }
  fibredis::Runtime rt;
  long ops = 0;
  double seconds = 0, cpu = 0;
  fibredis::ClientStats wire{};  // what the timed part did on the wire
  try {
    rt.run([&] {
      auto measure = [&](auto& client) {
        client.ping();  // connect outside the timed part
        const fibredis::ClientStats s0 = client.stats();
        const double cpu0 = cpu_seconds();
        const auto t0 = std::chrono::steady_clock::now();
        ops = run_workload(client, a);
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        cpu = cpu_seconds() - cpu0;
        const fibredis::ClientStats s1 = client.stats();
        wire.commands = s1.commands - s0.commands;
        wire.writes = s1.writes - s0.writes;
        wire.ring_enters = s1.ring_enters - s0.ring_enters;
        wire.reconnects = s1.reconnects - s0.reconnects;
        wire.retries = s1.retries - s0.retries;
        wire.redirects = s1.redirects - s0.redirects;
        wire.timeouts = s1.timeouts - s0.timeouts;
      };
      with_bench_target(a.host, a.port, a.cluster, std::chrono::milliseconds(a.timeout_ms), measure);
    });
  } catch (const std::exception& e) {
    std::cerr << "fibredis-bench: " << e.what() << "\n";
    return 1;
  }
  std::printf(
      "{\"workload\":\"%s\",\"client\":\"fibredis\",\"target\":\"%s\",\"ops\":%ld,\"checked\":%ld,"
      "\"seconds\":%.3f,\"ops_per_sec\":%.0f,\"cpu_s\":%.3f,\"max_rss_kib\":%ld,\"commands\":%llu,"
      "\"writes_per_cmd\":%.4f,\"ring_enters_per_cmd\":%.4f,\"reconnects\":%llu,\"retries\":%llu,"
      "\"redirects\":%llu,\"timeouts\":%llu}\n",
      a.workload.c_str(), a.cluster.empty() ? "single" : "cluster", ops, checked_values, seconds, ops / seconds,
      cpu, max_rss_kib(), static_cast<unsigned long long>(wire.commands),
      wire.commands ? static_cast<double>(wire.writes) / static_cast<double>(wire.commands) : 0.0,
      wire.commands ? static_cast<double>(wire.ring_enters) / static_cast<double>(wire.commands) : 0.0,
      static_cast<unsigned long long>(wire.reconnects), static_cast<unsigned long long>(wire.retries),
      static_cast<unsigned long long>(wire.redirects), static_cast<unsigned long long>(wire.timeouts));
  return 0;
}
