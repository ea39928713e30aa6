// The chaos suite: 200 fibers doing verified writes and reads (workload.hpp) on a 3 + 3 cluster
// behind fibredis-proxy, while one scenario at a time breaks it: a reshard of 4,000 slots,
// CLUSTER FAILOVER, every proxy fault on a primary's client route, a proxy blackhole of a
// primary (both its client and its bus route: a partition), SIGSTOP past cluster-node-timeout,
// and kill -9. Afterwards every acknowledged write is read back.
//
// The scenarios share one cluster and run in the order written (kill -9 last: it leaves a shard
// without a replica). Each prints one row of docs/RELIABILITY.md's "Chaos scenarios" table and
// checks the figures issue 11 asks for. Run: tools/test.sh --chaos, or (one scenario, by tag)
//   FIBREDIS_LOCAL_CLUSTER=$PWD/tools/local-cluster build/tests/fibredis-chaos "[chaos-kill]"
#include <catch2/catch.hpp>

#include "chaos/workload.hpp"
#include "support/servers.hpp"

#include <fibredis/fibredis.hpp>
#include <fibredis/detail/cluster/cluster_access.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>

#include <boost/fiber/operations.hpp>

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

namespace {

using namespace fibredis;
using namespace fibredis::chaos;
using namespace std::chrono_literals;
namespace ft = fibredis::test;

/// cluster-node-timeout of tools/local-cluster.
constexpr auto kNodeTimeout = 2000ms;

/// The inject functions run on their own thread, where Catch2's assertions must not be used:
/// they throw instead, and run_scenario rethrows on the test's thread.
void must(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("scenario step failed: " + what);
}

std::string sh(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(("timeout -k 5 600 " + cmd + " </dev/null 2>&1").c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

std::string info_field(const std::string& text, const std::string& field) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind(field + ":", 0) == 0) return line.substr(field.size() + 1);
  }
  return {};
}

const ft::ClusterInfo& chaos_cluster() {
  static const ft::ClusterInfo c = ft::fresh_proxied_cluster();
  return c;
}

std::set<uint16_t>& dead() {
  static std::set<uint16_t> d;
  return d;
}

uint16_t control_of(uint16_t port) {
  const auto& c = chaos_cluster();
  for (std::size_t i = 0; i < c.ports.size(); ++i)
    if (c.ports[i] == port) return c.control_ports[i];
  throw std::runtime_error("no proxy for port " + std::to_string(port));
}

struct Node {
  std::string id;
  uint16_t port = 0;
  bool primary = false;
  std::string master_id;
  bool has_slots = false;
};

/// CLUSTER NODES as seen by `via`.
std::vector<Node> cluster_nodes(uint16_t via) {
  std::vector<Node> out;
  std::istringstream in(ft::redis_cli(via, "cluster nodes"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    Node n;
    std::string addr, flags, master, ping, pong, epoch, link, slot;
    if (!(f >> n.id >> addr >> flags >> master >> ping >> pong >> epoch >> link)) continue;
    const auto colon = addr.rfind(':');
    const auto at = addr.find('@');
    if (colon == std::string::npos) continue;
    n.port = static_cast<uint16_t>(std::stoi(addr.substr(colon + 1, at - colon - 1)));
    n.primary = flags.find("master") != std::string::npos;
    n.master_id = master;
    n.has_slots = static_cast<bool>(f >> slot);
    out.push_back(n);
  }
  return out;
}

std::vector<uint16_t> live_ports() {
  std::vector<uint16_t> out;
  for (uint16_t p : chaos_cluster().ports)
    if (dead().count(p) == 0) out.push_back(p);
  return out;
}

/// Every live node: cluster_state ok, all slots served, every replica's link up, and every node
/// agrees on the set of primaries.
bool wait_healthy(std::chrono::seconds limit, std::string& why) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    bool ok = true;
    std::set<std::string> views;
    for (uint16_t p : live_ports()) {
      const std::string ci = ft::redis_cli(p, "cluster info");
      if (info_field(ci, "cluster_state") != "ok" || info_field(ci, "cluster_slots_ok") != "16384") {
        ok = false;
        why = "node " + std::to_string(p) + ": " + info_field(ci, "cluster_state") + ", slots ok " +
              info_field(ci, "cluster_slots_ok");
        break;
      }
      const std::string rep = ft::redis_cli(p, "info replication");
      if (info_field(rep, "role") == "slave" && info_field(rep, "master_link_status") != "up") {
        ok = false;
        why = "replica " + std::to_string(p) + ": link to its primary not up";
        break;
      }
      std::set<uint16_t> primaries;  // CLUSTER NODES lists nodes in each node's own order
      for (const Node& n : cluster_nodes(p))
        if (n.primary && n.has_slots) primaries.insert(n.port);
      std::string v;
      for (uint16_t q : primaries) v += std::to_string(q) + ",";
      views.insert(v);
    }
    if (ok && views.size() == 1) return true;
    if (ok) why = "nodes disagree about the primaries";
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

/// What a fault did, filled by the inject function (on its own thread).
struct Injection {
  uint16_t primary = 0;  ///< the primary the scenario aims at
  uint16_t replica = 0;  ///< one of its replicas
  std::string primary_id, replica_id;
  Clock::time_point fault_start{};
  Clock::time_point fault_end{};
  Clock::time_point failover_at{};  ///< the replica answered role:master (zero if never)
  std::string note;
};

/// Polls the replica until it reports role:master, at most `limit`.
void await_promotion(Injection& in, Clock::duration limit) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (info_field(ft::redis_cli(in.replica, "info replication"), "role") == "master") {
      in.failover_at = Clock::now();
      return;
    }
    std::this_thread::sleep_for(100ms);
  }
}

/// A proxy fault on the primary's client route for `hold`, then cleared.
std::function<void(Injection&)> proxy_fault(const std::string& fault, std::chrono::milliseconds hold,
                                            bool reset_first = false) {
  return [=](Injection& in) {
    const uint16_t c = control_of(in.primary);
    in.fault_start = Clock::now();
    const std::string set = fault.rfind("delay", 0) == 0 ? fault + " client" : "fault " + fault + " client";
    must(ft::proxy_command(c, set) == "OK", set);
    if (reset_first) must(ft::proxy_command(c, "reset client") == "OK", "reset client");
    std::this_thread::sleep_for(hold);
    must(ft::proxy_command(c, "clear client") == "OK", "clear client");
    in.fault_end = Clock::now();
  };
}

struct Expect {
  bool failover = false;     ///< the scenario makes the replica take over
  bool zero_errors = false;  ///< callers must see no error at all
};

std::string errors_text(const chaos::Outcome& o) {
  std::string s;
  for (const auto& [type, n] : o.errors) s += (s.empty() ? "" : ", ") + type + " " + std::to_string(n);
  return s.empty() ? "0" : s;
}

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void run_scenario(const std::string& name, const std::function<void(Injection&)>& inject, Expect expect) {
  std::string why;
  REQUIRE(chaos_cluster().ports.size() == 6);
  if (!wait_healthy(120s, why)) FAIL("cluster not healthy before " << name << ": " << why);

  Injection in;
  const uint16_t via = live_ports().front();
  const std::vector<Node> nodes = cluster_nodes(via);
  for (const Node& n : nodes)
    if (n.primary && n.has_slots && (in.primary == 0 || n.port < in.primary)) {
      in.primary = n.port;
      in.primary_id = n.id;
    }
  for (const Node& n : nodes)
    if (!n.primary && n.master_id == in.primary_id && dead().count(n.port) == 0) {
      in.replica = n.port;
      in.replica_id = n.id;
    }
  REQUIRE(in.primary != 0);
  REQUIRE(in.replica != 0);

  WorkloadOptions wo;
  wo.prefix = name;
  ClusterOptions co;
  co.startup_nodes = {{"127.0.0.1", via}};
  co.command_timeout = wo.deadline;
  // At-most-once for writes whose outcome is unknown: the caller sees the error, so a duplicate
  // in a list can only come from the client re-sending on its own.
  co.retry_unknown_writes = false;

  chaos::Outcome out;
  Clock::time_point started{};
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(co);
    const std::uint64_t refreshes0 = rc.stats().refreshes;
    const std::uint64_t moved0 = fibredis::detail::topology_holder(rc).moved_replies();
    const std::uint64_t moved_refreshes0 = fibredis::detail::topology_holder(rc).moved_refreshes();
    Workload w(rc, wo);
    w.start();
    started = Clock::now();
    std::atomic<bool> done{false};
    std::exception_ptr thread_error;
    std::thread t([&] {
      try {
        std::this_thread::sleep_for(2s);  // warm-up: the fault hits a client in full flow
        inject(in);
        std::this_thread::sleep_for(3s);  // and the client must carry on after it
      } catch (...) {
        thread_error = std::current_exception();
      }
      done = true;
    });
    while (!done) boost::this_fiber::sleep_for(50ms);
    t.join();
    w.stop();
    if (thread_error) std::rethrow_exception(thread_error);
    out.topology_queries = rc.stats().refreshes - refreshes0;
    out.moved = fibredis::detail::topology_holder(rc).moved_replies() - moved0;
    out.moved_refreshes = fibredis::detail::topology_holder(rc).moved_refreshes() - moved_refreshes0;
    w.caller_figures(in.fault_start, out);

    // The cluster must settle before the read-back (a failed-over primary rejoins as a replica).
    std::string settle;
    if (!wait_healthy(120s, settle)) FAIL("cluster did not settle after " << name << ": " << settle);
    ClusterOptions ro = co;
    ro.command_timeout = 20000ms;
    ClusterClient reader(ro);
    // The documented window (Redis Cluster spec, "Write safety"): writes a primary acknowledged
    // but had not replicated when it was lost are lost on failover. Only scenarios that fail a
    // primary over without its consent have one: from just before the fault to the promotion.
    Clock::time_point from{}, to{};
    if (expect.failover && in.failover_at != Clock::time_point{}) {
      from = in.fault_start - 1s;
      to = in.failover_at;
    }
    w.verify(reader, from, to, out);
  });
  // The next scenario starts empty. Asked of each node itself (not through a client's slot map,
  // which may be a refresh behind after a failover); replicas refuse and follow their primary.
  for (uint16_t p : live_ports())
    if (info_field(ft::redis_cli(p, "info replication"), "role") == "master") ft::redis_cli(p, "flushall");

  const double failover_s = in.failover_at != Clock::time_point{} ? secs(in.failover_at - in.fault_start) : 0.0;
  std::printf(
      "| %s | %.1f s | %llu | %s | %llu + %llu | %llu / %llu | %llu | %llu | %.2f s / %.0f s | %llu | %s | %.2f s | %llu |\n",
      name.c_str(), secs(in.fault_end - in.fault_start), static_cast<unsigned long long>(out.calls), errors_text(out).c_str(),
      static_cast<unsigned long long>(out.acked_strings), static_cast<unsigned long long>(out.acked_pushes),
      static_cast<unsigned long long>(out.lost_in_window), static_cast<unsigned long long>(out.lost_outside_window),
      static_cast<unsigned long long>(out.duplicates), static_cast<unsigned long long>(out.unacked_applied),
      out.longest_call_s, secs(wo.deadline), static_cast<unsigned long long>(out.past_deadline),
      failover_s > 0 ? (std::to_string(failover_s).substr(0, 4) + " s").c_str() : "-", out.recovery_s,
      static_cast<unsigned long long>(out.topology_queries));
  std::fflush(stdout);
  // Off the table (stderr): what the topology queries came from.
  std::fprintf(stderr, "[%s] %llu MOVED replies; %llu of the %llu topology queries made due by MOVEDs\n", name.c_str(),
               static_cast<unsigned long long>(out.moved), static_cast<unsigned long long>(out.moved_refreshes),
               static_cast<unsigned long long>(out.topology_queries));

  CHECK(out.calls > 1000);
  CHECK(out.acked_strings > 100);
  CHECK(out.duplicates == 0);
  CHECK(out.lost_outside_window == 0);
  CHECK(out.past_deadline == 0);
  CHECK(out.topology_queries < 50);
  if (expect.zero_errors) {
    CHECK(out.errors.empty());
    CHECK(out.stale_reads == 0);
  }
  if (expect.failover) {
    CHECK(in.failover_at != Clock::time_point{});
    CHECK(out.recovery_s <= failover_s + 1.0);
  }
}

void header_once() {
  static bool printed = false;
  if (printed) return;
  printed = true;
  std::printf(
      "| scenario | fault lasted | calls | errors seen by callers | acked SET + RPUSH | lost in window / outside | "
      "duplicates | failed but applied | longest call / deadline | past deadline | failover | "
      "recovery | topology queries |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

}  // namespace

TEST_CASE("chaos: redis-cli --cluster reshard of 4,000 slots", "[chaos][chaos-reshard]") {
  header_once();
  run_scenario("reshard 4000 slots", [](Injection& in) {
    // From the aimed-at primary to another one, keys and all (MIGRATE under ASK redirects).
    std::string to_id;
    for (const Node& n : cluster_nodes(in.replica))
      if (n.primary && n.has_slots && n.id != in.primary_id) to_id = n.id;
    must(!to_id.empty(), "!to_id.empty()");
    in.fault_start = Clock::now();
    const std::string out = sh("redis-cli --cluster reshard 127.0.0.1:" + std::to_string(in.primary) +
                               " --cluster-from " + in.primary_id + " --cluster-to " + to_id +
                               " --cluster-slots 4000 --cluster-yes");
    in.fault_end = Clock::now();
    must(out.find("[ERR]") == std::string::npos, "reshard: " + out.substr(out.size() > 2000 ? out.size() - 2000 : 0));
  }, {.failover = false, .zero_errors = true});
}

TEST_CASE("chaos: CLUSTER FAILOVER", "[chaos][chaos-failover]") {
  header_once();
  run_scenario("CLUSTER FAILOVER", [](Injection& in) {
    in.fault_start = Clock::now();
    must(ft::redis_cli(in.replica, "cluster failover") == "OK", "ft::redis_cli(in.replica, \"cluster failover\") == \"OK\"");
    await_promotion(in, 30s);
    in.fault_end = Clock::now();
    must(in.failover_at != Clock::time_point{}, "in.failover_at != Clock::time_point{}");
  }, {.failover = false, .zero_errors = true});
}

TEST_CASE("chaos: proxy split (1-byte writes)", "[chaos][chaos-proxy][chaos-split]") {
  header_once();
  run_scenario("proxy split", proxy_fault("split", 3000ms), {.failover = false, .zero_errors = true});
}

TEST_CASE("chaos: proxy delay 50 ms each way", "[chaos][chaos-proxy][chaos-delay]") {
  header_once();
  run_scenario("proxy delay 50 ms", proxy_fault("delay both 50", 3000ms), {.failover = false, .zero_errors = true});
}

TEST_CASE("chaos: proxy stall 3 s", "[chaos][chaos-proxy][chaos-stall]") {
  header_once();
  run_scenario("proxy stall 3 s", proxy_fault("stall", 3000ms), {.failover = false, .zero_errors = false});
}

TEST_CASE("chaos: proxy truncate replies mid-frame", "[chaos][chaos-proxy][chaos-truncate]") {
  header_once();
  run_scenario("proxy truncate", proxy_fault("truncate", 2000ms), {.failover = false, .zero_errors = false});
}

TEST_CASE("chaos: proxy reset", "[chaos][chaos-proxy][chaos-reset]") {
  header_once();
  run_scenario("proxy reset", proxy_fault("none", 10ms, true), {.failover = false, .zero_errors = false});
}

TEST_CASE("chaos: proxy reset then refuse new connections", "[chaos][chaos-proxy][chaos-refuse]") {
  header_once();
  run_scenario("proxy reset + refuse 3 s", proxy_fault("refuse", 3000ms, true), {.failover = false, .zero_errors = false});
}

TEST_CASE("chaos: proxy blackhole of a primary (partition)", "[chaos][chaos-proxy][chaos-blackhole]") {
  header_once();
  run_scenario("proxy blackhole (partition)", [](Injection& in) {
    const auto& cl = chaos_cluster();
    const uint16_t c = control_of(in.primary);
    std::string src;
    for (std::size_t i = 0; i < cl.ports.size(); ++i)
      if (cl.ports[i] == in.primary) src = cl.source_addrs[i];
    in.fault_start = Clock::now();
    // Both of its routes: clients, its replicas' links and the others' bus links to it lose the
    // node. And on every other proxy the bus connections it opened itself: a partition cuts
    // both ways, or its pings would still tell the others it is alive.
    must(ft::proxy_command(c, "fault blackhole") == "OK", "fault blackhole");
    for (uint16_t p : live_ports())
      if (p != in.primary)
        must(ft::proxy_command(control_of(p), "fault blackhole bus from " + src) == "OK", "blackhole from " + src);
    await_promotion(in, 20s);
    std::this_thread::sleep_for(1s);
    must(ft::proxy_command(c, "clear") == "OK", "clear");
    for (uint16_t p : live_ports())
      if (p != in.primary) must(ft::proxy_command(control_of(p), "clear bus") == "OK", "clear bus");
    in.fault_end = Clock::now();
    must(in.failover_at != Clock::time_point{}, "in.failover_at != Clock::time_point{}");
  }, {.failover = true, .zero_errors = false});
}

TEST_CASE("chaos: SIGSTOP of a primary past cluster-node-timeout", "[chaos][chaos-sigstop]") {
  header_once();
  run_scenario("SIGSTOP 2.5 x node timeout", [](Injection& in) {
    const pid_t pid = ft::server_pid(in.primary);
    in.fault_start = Clock::now();
    must(::kill(pid, SIGSTOP) == 0, "::kill(pid, SIGSTOP) == 0");
    await_promotion(in, kNodeTimeout * 5 / 2);
    const auto resume_at = in.fault_start + kNodeTimeout * 5 / 2;
    std::this_thread::sleep_until(resume_at);
    must(::kill(pid, SIGCONT) == 0, "::kill(pid, SIGCONT) == 0");
    in.fault_end = Clock::now();
    if (in.failover_at == Clock::time_point{}) await_promotion(in, 10s);
    must(in.failover_at != Clock::time_point{}, "in.failover_at != Clock::time_point{}");
  }, {.failover = true, .zero_errors = false});
}

TEST_CASE("chaos: kill -9 of a primary", "[chaos][chaos-kill]") {
  header_once();
  run_scenario("kill -9 primary", [](Injection& in) {
    const pid_t pid = ft::server_pid(in.primary);
    in.fault_start = Clock::now();
    must(::kill(pid, SIGKILL) == 0, "::kill(pid, SIGKILL) == 0");
    dead().insert(in.primary);
    await_promotion(in, 20s);
    in.fault_end = Clock::now();
    must(in.failover_at != Clock::time_point{}, "in.failover_at != Clock::time_point{}");
  }, {.failover = true, .zero_errors = false});
}
