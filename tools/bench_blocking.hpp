// The blocked-call swarm: N fibers in one OS thread, each parked in BRPOP on a list of its own.
// Shared by examples/blocking_swarm (one summary line) and `fibredis-bench --workload blocking`
// (one JSON line), so both measure exactly the same thing.
//
// Plain run: every list is empty, so every BRPOP returns nil after `block`; setup_ms is
// wall_ms - block, the part of the wall time not spent blocked (connects, handshakes, first
// writes, replies back).
// Wake run (`wake`): every BRPOP blocks for up to 10 s; once INFO clients on every node counts
// them all blocked (setup_ms: start until then), one producer pipelines an LPUSH of the list's
// own name into every list; wake_ms runs from the first push until the last caller has its
// element, and every caller checks that it got its own list and its own value.
//
// Keys: client i waits on "swarm:<pid>:{<tag>}:<i>", the tag chosen so that the key hashes to
// slot i * 16384 / N: the lists cover the slots uniformly, so a cluster's nodes share the swarm
// as their slot ranges do. tools/brpop-floor.cpp names its lists the same way.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace fibredis::swarm {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string cluster;  ///< HOST:PORT of any cluster node; empty: a single server at host:port
};

struct Config {
  int clients = 500;
  std::chrono::milliseconds block{1000};  ///< BRPOP timeout of a plain run (a wake run uses 10 s)
  bool wake = false;
  /// The client's command_timeout: a call's deadline is this plus its block time, and it covers
  /// waiting for a pooled connection, connecting and the handshake. Generous by default, so that a
  /// slow set-up on a busy machine is measured rather than turned into TimeoutErrors.
  std::chrono::milliseconds command_timeout{30000};
  /// Bound on waiting, in a wake run, until the servers count every client blocked.
  std::chrono::milliseconds blocked_wait{60000};
  std::ostream* heartbeat_log = nullptr;  ///< a line per heartbeat tick when set
};

struct Result {
  int clients = 0;
  int returned = 0;     ///< calls that ended as expected (nil; in a wake run: their own element)
  int mismatches = 0;   ///< calls that got something else (a wrong element, nil in a wake run)
  int errors = 0;       ///< calls that threw
  bool all_blocked = true;  ///< a wake run: the servers counted every client blocked before the push
  std::string first_error;
  long long wall_ms = 0;
  long long setup_ms = 0;
  long long wake_ms = -1;  ///< -1: not a wake run
  long long max_late_ms = 0;  ///< the heartbeat's worst lateness against its 200 ms schedule
  int heartbeats = 0;
  int threads = 0;            ///< most OS threads of this process seen while the swarm ran
  long baseline_rss_kib = 0;  ///< RSS with the client connected, before the swarm
  long max_rss_kib = 0;       ///< peak RSS of the process
  double rss_per_call_kib = 0;  ///< (max_rss - baseline) / clients
  long long cpu_ms = 0;  ///< user + system CPU of the swarm (start to the last return): on a busy
                         ///< machine a steadier figure than wall time
  std::uint64_t connections = 0;  ///< exclusive (pooled) connections the client opened

  bool ok() const noexcept { return returned == clients && mismatches == 0 && errors == 0 && all_blocked; }
};

/// The list client i of n waits on (see above).
std::vector<std::string> list_names(int n);

/// Raises the soft RLIMIT_NOFILE to the hard limit; throws std::runtime_error naming both limits
/// when the hard one cannot hold `clients` sockets plus the client's own descriptors.
void raise_fd_limit(int clients);

/// Runs the swarm on a Runtime of its own on this thread. Throws on set-up failures (cannot
/// connect, fd limit); failures of single calls are counted in the Result instead.
Result run(const Endpoint& endpoint, const Config& config);

/// "clients=N returned=R threads=T wall_ms=.. setup_ms=.. [wake_ms=..] max_late_ms=.. ..."
std::string summary_line(const Result& r);

/// `fibredis-bench --workload blocking ...`: when argv asks for that workload, parses its flags
/// (--host, --port, --cluster, --clients, --timeout S, --command-timeout S, --wake), runs it, prints one JSON line and
/// returns the exit code; otherwise returns -1 and leaves the other workloads to the caller.
int bench_main(int argc, char** argv);

}  // namespace fibredis::swarm
