// The blocked-call swarm (bench_blocking.hpp): one engine for examples/blocking_swarm and
// `fibredis-bench --workload blocking`.
#include "bench_blocking.hpp"

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/detail/client/client_access.hpp>
#include <fibredis/fibredis.hpp>

#include <boost/fiber/operations.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace fibredis::swarm {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kTick{200};       // the heartbeat's period (the brief's 200 ms)
constexpr milliseconds kWakeBlock{10000};  // a wake run's BRPOP timeout
constexpr milliseconds kBlockedPoll{20};   // INFO clients poll period while waiting for the swarm
constexpr int kSpawnBatch = 64;            // swarm fibers made between two yields of their creator
// Descriptors besides the swarm's sockets: stdio, the ring, each node's shared connection and
// topology queries, the servers' spare connections. Generous, since running out is fatal.
constexpr rlim_t kSpareFds = 256;

long long cpu_ms_now() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000LL + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

long long ms_since(Clock::time_point t0) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
}

// A field of /proc/self/status ("Threads", "VmRSS"): its leading integer, or -1.
long status_field(std::string_view name) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 && line[name.size()] == ':')
      return std::atol(line.c_str() + name.size() + 1);
  return -1;
}


// "blocked_clients:N" of an INFO clients report, or -1 when absent.
long blocked_clients(const std::string& info) {
  static constexpr std::string_view kField = "blocked_clients:";
  const std::size_t at = info.find(kField);
  return at == std::string::npos ? -1 : std::atol(info.c_str() + at + kField.size());
}

// Blocked clients over every node that can hold a BRPOP: the primaries of a cluster, or the one
// server. Counts other programs' blocked clients too, which can only end the wait early (a late
// caller then finds its element already pushed and still checks it).
long count_blocked(Client& c) { return blocked_clients(c.info("clients")); }
long count_blocked(ClusterClient& rc) {
  long sum = 0;
  for (const auto& [node, info] : rc.on(Target::Primaries).info("clients")) sum += std::max(0L, blocked_clients(info));
  return sum;
}

std::uint64_t pooled_connections(Client& c) { return fibredis::detail::connection_pool(c).created(); }
std::uint64_t pooled_connections(ClusterClient& rc) {
  std::uint64_t sum = 0;
  for (const NodeAddress& n : rc.get_nodes())
    if (const auto s = rc.node_stats(n)) sum += s->pool_created;  // reading makes no entry
  return sum;
}

// Ticks every 200 ms on its own schedule (sleep_until, not sleep_for, so lateness does not
// accumulate); a tick's lateness is how long the thread kept this fiber from running on time,
// the figure that shows nothing blocks the thread. Ticks missed entirely count as lateness too.
void heartbeat(const Config& cfg, Result& r, const bool& done, Clock::time_point start,
               const std::function<std::uint64_t()>& open_connections) {
  auto due = start + kTick;
  while (!done) {
    boost::this_fiber::sleep_until(due);
    if (done) break;
    const auto now = Clock::now();
    const long long late = std::chrono::duration_cast<milliseconds>(now - due).count();
    r.max_late_ms = std::max(r.max_late_ms, late);
    r.threads = std::max(r.threads, static_cast<int>(status_field("Threads")));
    ++r.heartbeats;
    if (cfg.heartbeat_log)
      *cfg.heartbeat_log << "heartbeat " << r.heartbeats << ": t=" << ms_since(start) << "ms late=" << late
                         << "ms connections=" << open_connections() << std::endl;
    do due += kTick;
    while (due <= now);
  }
}

// The failure paths of a swarm call, out of line: their string temporaries would otherwise
// enlarge the frame every one of the N fibers keeps on its stack while it waits.
[[gnu::noinline]] void record_mismatch(Result& r, int i, const std::string& name,
                                       const std::optional<std::pair<std::string, std::string>>& got) {
  if (r.mismatches++ == 0)
    r.first_error = "client " + std::to_string(i) + " on " + name + " got " +
                    (got ? got->first + " = " + got->second : std::string("nil"));
}

[[gnu::noinline]] void record_error(Result& r, int i, const std::exception& e) {
  if (r.errors++ == 0) r.first_error = "client " + std::to_string(i) + ": " + e.what();
}

template <class C>
void run_swarm(C& client, const Config& cfg, Result& r) {
  const int n = cfg.clients;
  const std::vector<std::string> names = list_names(n);
  const milliseconds block = cfg.wake ? kWakeBlock : cfg.block;
  client.ping();  // connect (and fail fast) before the swarm and its baseline
  r.baseline_rss_kib = status_field("VmRSS");
  r.threads = static_cast<int>(status_field("Threads"));

  bool done = false;
  Clock::time_point last_arrival{};
  const long long cpu0 = cpu_ms_now();
  const auto start = Clock::now();
  // Joined below, not detached: it reads `done` and the client, which end with this function.
  Fiber ticker([&] { heartbeat(cfg, r, done, start, [&] { return pooled_connections(client); }); });

  // Set however this function ends (an exception included), before `ticker` is joined.
  struct StopTicker {
    bool& done;
    ~StopTicker() { done = true; }
  } stop_ticker{done};

  std::vector<Fiber> swarm;
  swarm.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    // A fiber runs only once its creator suspends: made in one go, ten thousand of them would
    // keep the heartbeat (and the first calls' I/O) waiting for the whole loop, hundreds of ms.
    // Yielding every kSpawnBatch lets the ones made so far start their connects meanwhile.
    if (i > 0 && i % kSpawnBatch == 0) boost::this_fiber::yield();
    swarm.emplace_back([&, i] {
      try {
        const std::optional<std::pair<std::string, std::string>> got = client.brpop({names[i]}, block);
        const bool expected = cfg.wake ? (got && got->first == names[i] && got->second == names[i]) : !got;
        if (expected) {
          ++r.returned;
          last_arrival = std::max(last_arrival, Clock::now());
        } else {
          record_mismatch(r, i, names[i], got);
        }
      } catch (const std::exception& e) {
        record_error(r, i, e);
      }
    });
  }

  if (cfg.wake) {
    // Every caller must be parked in the server before the first push, or the figure would mix
    // set-up into the wake-up. Bounded: a swarm that never fully blocks still gets its pushes
    // (so its fibers end at once) and fails the run.
    long blocked = 0;
    const auto wait_until = Clock::now() + cfg.blocked_wait;
    // A call that already ended (an error, a MOVED on a single-node client) will never block.
    const auto ended = [&] { return r.returned + r.mismatches + r.errors > 0; };
    std::string poll_error;
    for (;;) {
      try {
        blocked = count_blocked(client);
      } catch (const Error& e) {  // a node slow to answer while it accepts the swarm: poll again
        poll_error = e.what();
      }
      if (blocked >= n || Clock::now() >= wait_until || ended()) break;
      boost::this_fiber::sleep_for(kBlockedPoll);
    }
    r.setup_ms = ms_since(start);
    r.all_blocked = blocked >= n;
    if (!r.all_blocked && r.first_error.empty())
      r.first_error = "only " + std::to_string(blocked) + " of " + std::to_string(n) + " clients blocked after " +
                      std::to_string(cfg.blocked_wait.count()) + " ms" +
                      (poll_error.empty() ? "" : " (last INFO error: " + poll_error + ")");
    const auto first_push = Clock::now();
    try {
      auto p = client.pipeline();
      for (int i = 0; i < n; ++i) p.lpush(names[i], {names[i]});
      const std::vector<Reply> pushed = p.execute(/*raise_on_error=*/false);
      for (int i = 0; i < n; ++i) {
        // 1: the list held only our element when LPUSH returned (the waiter pops it right after).
        if (!pushed[i].is_integer() || pushed[i].integer() != 1) {
          if (r.mismatches++ == 0) r.first_error = "LPUSH " + names[i] + " replied " + pushed[i].to_string();
        }
      }
    } catch (const std::exception& e) {  // the swarm's calls then end at their timeout, counted
      if (r.errors++ == 0) r.first_error = std::string("pipelined LPUSH: ") + e.what();
    }
    for (auto& f : swarm) f.join();
    r.wake_ms = last_arrival > first_push ? std::chrono::duration_cast<milliseconds>(last_arrival - first_push).count() : 0;
    r.wall_ms = ms_since(start);
  } else {
    for (auto& f : swarm) f.join();
    r.wall_ms = ms_since(start);
    r.setup_ms = r.wall_ms - block.count();
  }
  r.cpu_ms = cpu_ms_now() - cpu0;
  done = true;
  ticker.join();  // at most one tick away
  r.threads = std::max(r.threads, static_cast<int>(status_field("Threads")));
  r.connections = pooled_connections(client);
}

}  // namespace

std::vector<std::string> list_names(int n) {
  // tag_of[s]: a decimal hash tag whose CRC16 lands in slot s. Filling all 16384 slots by trying
  // 0, 1, 2, ... takes about 16384 * ln(16384) ~ 170,000 CRCs (coupon collector): milliseconds.
  std::vector<std::string> tag_of(kSlotCount);
  std::size_t filled = 0;
  for (unsigned long t = 0; filled < kSlotCount; ++t) {
    std::string tag = std::to_string(t);
    std::string& slot_tag = tag_of[crc16(tag) % kSlotCount];
    if (slot_tag.empty()) {
      slot_tag = std::move(tag);
      ++filled;
    }
  }
  const std::string prefix = "swarm:" + std::to_string(::getpid()) + ":{";
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const auto slot = static_cast<std::size_t>((static_cast<long long>(i) * kSlotCount / std::max(n, 1)) % kSlotCount);
    names.push_back(prefix + tag_of[slot] + "}:" + std::to_string(i));
  }
  return names;
}

void raise_fd_limit(int clients) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) throw std::runtime_error(std::string("getrlimit: ") + std::strerror(errno));
  const rlim_t need = static_cast<rlim_t>(clients) + kSpareFds;
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < need)
    throw std::runtime_error("--clients " + std::to_string(clients) + " needs " + std::to_string(need) +
                             " open files, but the hard RLIMIT_NOFILE is " + std::to_string(lim.rlim_max) +
                             " (raise it, e.g. in /etc/security/limits.conf, or use fewer clients)");
  if (lim.rlim_cur != lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0)
      throw std::runtime_error(std::string("setrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
  }
}

Result run(const Endpoint& endpoint, const Config& config) {
  if (config.clients < 1) throw std::runtime_error("--clients must be at least 1");
  raise_fd_limit(config.clients);
  Result r;
  r.clients = config.clients;
  // Connects of thousands of sockets at once may wait for a SYN retransmission (1 s, then 3 s)
  // when a server's accept backlog overflows: give them time rather than fail the swarm.
  constexpr milliseconds kConnectTimeout{10000};
  Runtime rt;
  rt.run([&] {
    if (!endpoint.cluster.empty()) {
      auto node = NodeAddress::parse(endpoint.cluster);
      if (!node) throw UsageError("--cluster wants HOST:PORT, got '" + endpoint.cluster + "'");
      ClusterOptions o;
      o.startup_nodes = {*node};
      o.connect_timeout = kConnectTimeout;
      o.command_timeout = config.command_timeout;
      ClusterClient rc(o);
      run_swarm(rc, config, r);
    } else {
      Options o{.host = endpoint.host, .port = static_cast<std::uint16_t>(endpoint.port)};
      o.connect_timeout = kConnectTimeout;
      o.command_timeout = config.command_timeout;
      Client c(o);
      run_swarm(c, config, r);
    }
  });
  // VmHWM, the peak, from the same file as the VmRSS baseline so the two compare.
  r.max_rss_kib = status_field("VmHWM");
  r.rss_per_call_kib = static_cast<double>(r.max_rss_kib - r.baseline_rss_kib) / r.clients;
  return r;
}

std::string summary_line(const Result& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "clients=%d returned=%d mismatches=%d errors=%d threads=%d wall_ms=%lld setup_ms=%lld%s "
                "max_late_ms=%lld heartbeats=%d connections=%llu max_rss_kib=%ld baseline_rss_kib=%ld "
                "rss_per_call_kib=%.2f cpu_ms=%lld",
                r.clients, r.returned, r.mismatches, r.errors, r.threads, r.wall_ms, r.setup_ms,
                r.wake_ms >= 0 ? (" wake_ms=" + std::to_string(r.wake_ms)).c_str() : "", r.max_late_ms,
                r.heartbeats, static_cast<unsigned long long>(r.connections), r.max_rss_kib, r.baseline_rss_kib,
                r.rss_per_call_kib, r.cpu_ms);
  return buf;
}

int bench_main(int argc, char** argv) {
  bool blocking = false;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string_view(argv[i]) == "--workload" && std::string_view(argv[i + 1]) == "blocking") blocking = true;
  if (!blocking) return -1;
  Endpoint e;
  Config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string_view f = argv[i];
    if (f == "--wake") {
      cfg.wake = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "fibredis-bench: " << f << " needs a value\n";
      return 2;
    }
    const char* v = argv[++i];
    if (f == "--workload") continue;
    if (f == "--host") e.host = v;
    else if (f == "--port") e.port = std::atoi(v);
    else if (f == "--cluster") e.cluster = v;
    else if (f == "--clients") cfg.clients = std::atoi(v);
    else if (f == "--timeout") cfg.block = milliseconds(static_cast<long long>(std::atof(v) * 1000));
    else if (f == "--command-timeout") cfg.command_timeout = milliseconds(static_cast<long long>(std::atof(v) * 1000));
    else {
      std::cerr << "fibredis-bench: unknown flag for the blocking workload: " << f << "\n";
      return 2;
    }
  }
  Result r;
  try {
    r = run(e, cfg);
  } catch (const std::exception& ex) {
    std::cerr << "fibredis-bench: " << ex.what() << "\n";
    return 1;
  }
  if (!r.first_error.empty()) std::cerr << "fibredis-bench: " << r.first_error << "\n";
  std::printf(
      "{\"workload\":\"blocking\",\"client\":\"fibredis\",\"target\":\"%s\",\"wake\":%s,\"clients\":%d,"
      "\"returned\":%d,\"mismatches\":%d,\"errors\":%d,\"wall_ms\":%lld,\"wake_ms\":%lld,\"setup_ms\":%lld,"
      "\"max_late_ms\":%lld,\"max_rss_kib\":%ld,\"baseline_rss_kib\":%ld,\"rss_per_call_kib\":%.2f,"
      "\"threads\":%d,\"connections\":%llu,\"cpu_ms\":%lld}\n",
      e.cluster.empty() ? "single" : "cluster", cfg.wake ? "true" : "false", r.clients, r.returned, r.mismatches,
      r.errors, r.wall_ms, r.wake_ms, r.setup_ms, r.max_late_ms, r.max_rss_kib, r.baseline_rss_kib,
      r.rss_per_call_kib, r.threads, static_cast<unsigned long long>(r.connections), r.cpu_ms);
  return r.ok() ? 0 : 1;
}

}  // namespace fibredis::swarm
