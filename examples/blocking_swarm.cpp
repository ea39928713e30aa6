// blocking_swarm: gevent's promise in C++ — thousands of blocking calls in one OS thread.
//
// Usage:
//   blocking_swarm [--host 127.0.0.1] [--port 6379] [--clients 500] [--timeout 1] [--wake]
//   blocking_swarm --cluster HOST:PORT --clients 10000 [--timeout 1] [--wake]
//                  [--command-timeout 30]   (the client's command_timeout, seconds)
//
// N fibers each run BRPOP with a `--timeout` seconds timeout (default 1) on an empty list of their
// own, so each parks in the server until it times out. The lists' keys cover all 16384 slots, so a
// cluster's nodes share the swarm. A heartbeat fiber ticks every 200 ms meanwhile and reports how
// late it ran: the thread is never blocked. --clients goes up to the fd limit (the soft limit is
// raised to the hard one; 15,000 clients need a hard limit of about 15,300).
//
// --wake: every client blocks with a 10 s timeout; once INFO clients on every node counts them all
// blocked, a producer pipelines one LPUSH into every list; each client checks that it got its own
// list's element. wake_ms: from the first push until the last client had its element.
//
// It ends with one summary line (exit 0 only if every call ended as expected):
//   clients=N returned=R mismatches=0 errors=0 threads=1 wall_ms=W setup_ms=S [wake_ms=K]
//   max_late_ms=L heartbeats=H connections=C max_rss_kib=P baseline_rss_kib=B rss_per_call_kib=X cpu_ms=U
// (threads: OS threads of this process; setup_ms: wall_ms minus the block time, or in a --wake run
// the time until all were blocked; rss_per_call_kib: peak RSS minus the RSS before the swarm, per
// client.) The swarm itself is tools/bench_blocking.cpp, shared with fibredis-bench.
#include "bench_blocking.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  fibredis::swarm::Endpoint endpoint;
  fibredis::swarm::Config config;
  config.heartbeat_log = &std::cout;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--wake") {
      config.wake = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "blocking_swarm: " << flag << " needs a value\n";
      return 2;
    }
    const char* value = argv[++i];
    if (flag == "--host") endpoint.host = value;
    else if (flag == "--port") endpoint.port = std::atoi(value);
    else if (flag == "--cluster") endpoint.cluster = value;
    else if (flag == "--clients") config.clients = std::atoi(value);
    else if (flag == "--timeout") config.block = std::chrono::milliseconds(static_cast<long long>(std::atof(value) * 1000));
    else if (flag == "--command-timeout")
      config.command_timeout = std::chrono::milliseconds(static_cast<long long>(std::atof(value) * 1000));
    else {
      std::cerr << "blocking_swarm: unknown flag " << flag << "\n";
      return 2;
    }
  }
  fibredis::swarm::Result r;
  try {
    r = fibredis::swarm::run(endpoint, config);
  } catch (const std::exception& e) {
    std::cerr << "blocking_swarm: " << e.what() << "\n";
    return 1;
  }
  if (!r.first_error.empty()) std::cerr << "blocking_swarm: first failure: " << r.first_error << "\n";
  std::cout << fibredis::swarm::summary_line(r) << std::endl;
  return r.ok() ? 0 : 1;
}
