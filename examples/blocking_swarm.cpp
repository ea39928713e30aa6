// blocking_swarm: gevent's promise in C++ — hundreds of blocking calls in one OS thread.
//
// Usage: blocking_swarm [--host 127.0.0.1] [--port 6379] [--clients 500] [--timeout-ms 1000]
//
// N fibers each run BRPOP with a 1 s timeout on an empty list of their own, so each parks for the
// full second. A heartbeat fiber prints every 200 ms meanwhile: the thread is never blocked. It ends
// with one summary line:
//   clients=N returned=R threads=T wall_ms=W heartbeats=H rss_kib=K
// (threads: OS threads of this process while all clients were blocked; rss_kib: peak RSS).
#include <fibredis/fibredis.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

using namespace std::chrono_literals;

namespace {
int os_threads() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  return -1;
}
long peak_rss_kib() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}
}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 6379, clients = 500, timeout_ms = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--host") host = argv[i + 1];
    else if (flag == "--port") port = std::atoi(argv[i + 1]);
    else if (flag == "--clients") clients = std::atoi(argv[i + 1]);
    else if (flag == "--timeout-ms") timeout_ms = std::atoi(argv[i + 1]);
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }

  fibredis::Runtime rt;
  int returned = 0, errors = 0, heartbeats = 0, threads = -1;
  bool done = false;
  std::chrono::milliseconds wall{};
  try {
    rt.run([&] {
      fibredis::Client client({.host = host, .port = static_cast<std::uint16_t>(port)});
      client.ping();  // connect (and fail fast) before the swarm
      const auto start = std::chrono::steady_clock::now();
      fibredis::spawn([&] {
        while (!done) {
          fibredis::sleep_for(200ms);
          if (done) break;
          ++heartbeats;
          std::cout << "heartbeat " << heartbeats << ": t=" << std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start).count()
                    << "ms connections opened=" << client.stats().connects << std::endl;
        }
      });
      fibredis::spawn([&] {
        // Sample while every client is parked in BRPOP.
        fibredis::sleep_for(std::chrono::milliseconds(timeout_ms / 2));
        threads = os_threads();
      });
      std::vector<fibredis::Fiber> swarm;
      swarm.reserve(clients);
      for (int i = 0; i < clients; ++i) {
        swarm.emplace_back([&, i] {
          try {
            auto item = client.brpop({"swarm:empty:" + std::to_string(i)},
                                     std::chrono::milliseconds(timeout_ms));
            if (!item) ++returned;  // timed out as expected: the list is empty
          } catch (const fibredis::Error& e) {
            ++errors;
            std::cerr << "client " << i << ": " << e.what() << "\n";
          }
        });
      }
      for (auto& f : swarm) f.join();
      wall = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      done = true;
      std::cout << "connections opened=" << client.stats().connects << " errors=" << errors << std::endl;
    });
  } catch (const std::exception& e) {
    std::cerr << "blocking_swarm: " << e.what() << "\n";
    return 1;
  }
  std::printf("clients=%d returned=%d threads=%d wall_ms=%lld heartbeats=%d rss_kib=%ld\n", clients, returned,
              threads, static_cast<long long>(wall.count()), heartbeats, peak_rss_kib());
  return returned == clients ? 0 : 1;
}
