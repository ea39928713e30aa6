// ClusterOptions against real clusters (tests/support): every way to construct a ClusterClient,
// dead startup nodes skipped or reported within the connect timeout, slot coverage (the client's
// check, the servers' cluster-require-full-coverage, skip_full_coverage_check, commands on an
// uncovered slot), address_remap on the topology and on MOVED, max_connections_per_node making
// blocking callers wait their turn while the shared connection keeps flowing, read_from_replicas
// (replicas really serve GETs), AUTH on a cluster, and examples/cluster_basic.
//
// The shared cluster is only read and written under a per-process key prefix; the coverage test,
// which deletes slots, uses its own fresh_cluster().
#include <catch2/catch.hpp>

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/detail/cluster/cluster_access.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/runtime/runtime.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/node_connections.hpp>

#include "support/cluster_ops.hpp"
#include "support/helpers.hpp"
#include "support/servers.hpp"

#include <boost/fiber/operations.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using fibredis::ClusterClient;
using fibredis::ClusterOptions;
using fibredis::NodeAddress;
using fibredis::Runtime;
using fibredis::Target;
namespace test = fibredis::test;
using SteadyClock = std::chrono::steady_clock;

namespace {

// ---- helpers --------------------------------------------------------------------------------

using test::options_for;

// Keys of this process: two test binaries on one machine never share a cluster, but two tests of
// this file must never see each other's keys.
std::string prefix(std::string_view what) {
  static const std::string run = "fbot" + std::to_string(::getpid());
  return run + ":" + std::string(what) + ":";
}

double ms_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// One field of an INFO / CLUSTER INFO text ("cluster_state" → "ok"); empty when absent.
std::string info_field(const std::string& text, const std::string& name) {
  for (const std::string& line : lines(text))
    if (line.rfind(name + ":", 0) == 0) return line.substr(name.size() + 1);
  return {};
}

// `INFO commandstats` of one node: calls of `cmd` ("get"), 0 when never called.
// A line reads "cmdstat_get:calls=1,usec=5,usec_per_call=5.00,rejected_calls=0,failed_calls=0".
long long command_calls(std::uint16_t port, const std::string& cmd) {
  const std::string v = info_field(test::redis_cli(port, "INFO commandstats"), "cmdstat_" + cmd);
  std::istringstream fields(v);
  for (std::string f; std::getline(fields, f, ',');)
    if (f.rfind("calls=", 0) == 0) return std::stoll(f.substr(6));
  return 0;
}

// Polls `CLUSTER INFO` of every port until cluster_state is `want` everywhere (bounded).
bool wait_cluster_state(const test::ClusterInfo& c, const std::string& want, std::chrono::seconds limit) {
  const auto end = SteadyClock::now() + limit;
  for (int i = 0; i < 1000 && SteadyClock::now() < end; ++i) {
    bool all = true;
    for (std::uint16_t p : c.ports)
      if (info_field(test::redis_cli(p, "CLUSTER INFO"), "cluster_state") != want) all = false;
    if (all) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// A key of `pre` whose slot satisfies `pred` (bounded search).
std::string key_where(const std::string& pre, const std::function<bool(std::uint16_t)>& pred) {
  for (unsigned i = 0; i < 1'000'000; ++i) {
    std::string k = pre + std::to_string(i);
    if (pred(fibredis::key_slot(k))) return k;
  }
  FAIL("no key found for the wanted slots");
  return {};
}

// One key per primary of the client's current map (primary → key).
std::map<NodeAddress, std::string> key_per_primary(ClusterClient& rc, const std::string& pre) {
  std::map<NodeAddress, std::string> out;
  const std::size_t want = rc.get_primaries().size();
  for (unsigned i = 0; i < 100'000 && out.size() < want; ++i) {
    std::string k = pre + std::to_string(i);
    out.try_emplace(rc.get_node_from_key(k), std::move(k));
  }
  REQUIRE(out.size() == want);
  return out;
}

NodeAddress owner_of(ClusterClient& rc, std::uint16_t slot) {
  auto t = rc.topology();
  const fibredis::Shard* s = t->shard_for_slot(slot);
  REQUIRE(s != nullptr);
  return s->primary;
}

// Redis 7.0 reports a replica as health "loading" in CLUSTER SHARDS while its replication offset
// is 0: on a new cluster that nobody wrote to yet, for up to repl-ping-replica-period (10 s). The
// client leaves such replicas out of its map. Once per cluster: write to every primary (that
// moves the offsets) and wait, bounded, until a fresh client sees all three replicas. Call from a
// fiber.
void await_replicas(const test::ClusterInfo& c) {
  static std::set<std::uint16_t> done;
  if (done.count(c.ports.front()) != 0) return;
  ClusterOptions o = options_for(c);
  o.password = c.password;
  ClusterClient rc(o);
  for (const auto& [primary, key] : key_per_primary(rc, prefix("await-replicas"))) {
    rc.set(key, "x");
    rc.del({key});
  }
  const auto end = SteadyClock::now() + 20s;
  for (int i = 0; i < 400 && rc.get_replicas().size() < 3 && SteadyClock::now() < end; ++i) {
    boost::this_fiber::sleep_for(50ms);
    rc.refresh_topology();
  }
  REQUIRE(rc.get_replicas().size() == 3);
  done.insert(c.ports.front());
}

using test::FreshCluster;

using test::OffThread;  // support/cluster_ops.hpp

}  // namespace

// ---- 1. construction ------------------------------------------------------------------------

TEST_CASE("options: ClusterClient(host, port) and ClusterClient(url) discover the whole cluster", "[cluster][options]") {
  const auto& c = test::cluster();
  Runtime rt;
  rt.run([&] {
    await_replicas(c);
    const std::string key = prefix("ctor") + "k";
    {
      ClusterClient rc(c.host, c.ports[0]);
      REQUIRE(rc.options().startup_nodes.size() == 1);
      CHECK(rc.options().startup_nodes[0] == NodeAddress{c.host, c.ports[0]});
      CHECK(rc.get_primaries().size() == 3);
      CHECK(rc.get_replicas().size() == 3);
      CHECK(rc.topology()->fully_covered());
      rc.set(key, "via-host-port");
      CHECK(rc.get(key) == std::optional<std::string>("via-host-port"));
    }
    {
      // Another node of the cluster as the only startup node: any one is enough.
      const std::string url = "redis://127.0.0.1:" + std::to_string(c.ports[4]);
      ClusterClient rc{std::string_view(url)};
      CHECK(rc.options().startup_nodes == std::vector<NodeAddress>{{"127.0.0.1", c.ports[4]}});
      CHECK(rc.get_nodes().size() == 6);
      CHECK(rc.get(key) == std::optional<std::string>("via-host-port"));
      rc.set(key, "via-url");
      CHECK(rc.get(key) == std::optional<std::string>("via-url"));
      CHECK(rc.del({key}) == 1);
    }
  });

  const ClusterOptions o = ClusterOptions::from_url("redis://alice:p%40ss@10.1.2.3:7005");
  REQUIRE(o.startup_nodes.size() == 1);
  CHECK(o.startup_nodes[0] == NodeAddress{"10.1.2.3", 7005});
  CHECK(o.username == "alice");
  CHECK(o.password == "p@ss");
  const ClusterOptions d = ClusterOptions::from_url("redis://127.0.0.1:" + std::to_string(c.ports[1]));
  CHECK(d.startup_nodes == std::vector<NodeAddress>{{"127.0.0.1", c.ports[1]}});
  CHECK(d.password.empty());
  CHECK(d.username.empty());
}

TEST_CASE("options: a dead startup node is skipped, all dead is a ConnectionError in time", "[cluster][options]") {
  const auto& c = test::cluster();
  Runtime rt;
  rt.run([&] {
    await_replicas(c);
    const std::uint16_t dead = test::unused_port();
    {
      ClusterOptions o;
      o.startup_nodes = {{"127.0.0.1", dead}, {c.host, c.ports[2]}};
      o.connect_timeout = 1000ms;
      const auto t0 = SteadyClock::now();
      ClusterClient rc(o);
      const double ms = ms_since(t0);
      INFO("construction took " << ms << " ms");
      CHECK(ms < 1000 + 2000);
      CHECK(rc.get_nodes().size() == 6);
      for (const NodeAddress& n : rc.get_nodes()) CHECK(n.port != dead);
      const std::string key = prefix("deadstart") + "k";
      rc.set(key, "alive");
      CHECK(rc.get(key) == std::optional<std::string>("alive"));
      CHECK(rc.del({key}) == 1);
    }
    {
      ClusterOptions o;
      const std::uint16_t dead2 = test::unused_port();
      REQUIRE(dead2 != dead);
      o.startup_nodes = {{"127.0.0.1", dead}, {"127.0.0.1", dead2}};
      o.connect_timeout = 500ms;
      const auto t0 = SteadyClock::now();
      CHECK_THROWS_AS(ClusterClient{o}, fibredis::ConnectionError);
      const double ms = ms_since(t0);
      INFO("failing construction took " << ms << " ms");
      CHECK(ms < 500 * 2 + 2000);
    }
  });
}

// ---- 2. coverage ----------------------------------------------------------------------------

TEST_CASE("options: slot coverage: client check, server's require-full-coverage, skip_full_coverage_check",
          "[cluster][options][coverage]") {
  FreshCluster fc;
  const test::ClusterInfo& c = fc.info;
  constexpr std::uint16_t kLo = 16000;
  constexpr std::uint16_t kHi = 16383;
  const std::string pre = prefix("coverage");
  const std::string uncovered = key_where(pre + "u", [](std::uint16_t s) { return s >= kLo; });
  const std::string covered_low = key_where(pre + "l", [](std::uint16_t s) { return s < 5000; });
  // Same shard as the deleted range (10923-16383 after --cluster create), but a slot it kept.
  const std::string covered_high = key_where(pre + "h", [](std::uint16_t s) { return s >= 11000 && s < kLo; });

  Runtime rt;
  NodeAddress high_owner;
  rt.run([&] {
    ClusterClient rc(options_for(c));
    REQUIRE(rc.topology()->fully_covered());
    high_owner = owner_of(rc, fibredis::key_slot(uncovered));
    CHECK(owner_of(rc, fibredis::key_slot(covered_high)) == high_owner);
  });

  // Every node forgets the range (DELSLOTS only changes the view of the node it is sent to). The
  // owner goes first: until it has forgotten them it keeps announcing the slots (so does its
  // replica, on its behalf) and a node that already dropped them takes them back from the gossip.
  // That race is why the round repeats (bounded) until every node reports the cluster down.
  std::vector<std::uint16_t> order{high_owner.port};
  for (std::uint16_t p : c.ports)
    if (p != high_owner.port) order.push_back(p);
  bool down = false;
  for (int round = 0; round < 5 && !down; ++round) {
    for (std::uint16_t p : order)  // "ERR Slot ... is already unassigned" on a repeat: fine
      test::redis_cli(p, "CLUSTER DELSLOTSRANGE " + std::to_string(kLo) + " " + std::to_string(kHi));
    down = wait_cluster_state(c, "fail", 4s);
  }
  REQUIRE(down);
  for (std::uint16_t p : c.ports)
    REQUIRE(test::redis_cli(p, "CONFIG GET cluster-require-full-coverage").find("yes") != std::string::npos);

  rt.run([&] {
    // Servers require full coverage and so does the client: the constructor refuses.
    try {
      ClusterClient rc(options_for(c));
      FAIL("constructor did not throw on a slot map with holes");
    } catch (const fibredis::SlotNotCoveredError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find("16000-16383") != std::string::npos);
    }

    // skip_full_coverage_check: it starts and sees the hole (the servers still refuse keys).
    ClusterOptions o = options_for(c);
    o.skip_full_coverage_check = true;
    o.command_timeout = 1500ms;
    ClusterClient rc(o);
    CHECK_FALSE(rc.topology()->fully_covered());
    CHECK(rc.topology()->covered_slots() == 16000);
    using Ranges = std::vector<std::pair<std::uint16_t, std::uint16_t>>;
    CHECK(rc.topology()->uncovered_ranges() == Ranges{{kLo, kHi}});
    CHECK_THROWS_AS(rc.get_node_from_key(uncovered), fibredis::SlotNotCoveredError);
    const auto t0 = SteadyClock::now();
    CHECK_THROWS_AS(rc.get(uncovered), fibredis::SlotNotCoveredError);
    CHECK(ms_since(t0) < 1500 + 1000);
    // The servers themselves are down (cluster_state:fail): a covered key fails too, typed.
    CHECK_THROWS_AS(rc.get(covered_low), fibredis::Error);
  });

  for (std::uint16_t p : c.ports)
    REQUIRE(test::redis_cli(p, "CONFIG SET cluster-require-full-coverage no") == "OK");
  REQUIRE(wait_cluster_state(c, "ok", 15s));

  rt.run([&] {
    for (bool skip : {false, true}) {
      INFO("skip_full_coverage_check = " << skip);
      ClusterOptions o = options_for(c);
      o.skip_full_coverage_check = skip;
      o.command_timeout = 1500ms;
      // Without skip, the servers' own "no" is honoured: the client starts.
      ClusterClient rc(o);
      CHECK(rc.topology()->covered_slots() == 16000);
      rc.set(covered_low, "low");
      rc.set(covered_high, "high");
      CHECK(rc.get(covered_low) == std::optional<std::string>("low"));
      CHECK(rc.get(covered_high) == std::optional<std::string>("high"));
      CHECK(rc.get_node_from_key(covered_high) == high_owner);
      const auto t0 = SteadyClock::now();
      CHECK_THROWS_AS(rc.set(uncovered, "x"), fibredis::SlotNotCoveredError);
      CHECK_THROWS_AS(rc.get(uncovered), fibredis::SlotNotCoveredError);
      CHECK(ms_since(t0) < 2 * (1500 + 1000));
      // A DEL split over slots fails as a whole when one part's slot is unserved (no partial count).
      CHECK_THROWS_AS(rc.del({covered_low, uncovered}), fibredis::SlotNotCoveredError);
      CHECK(rc.del({covered_high}) == 1);
      CHECK(rc.del({covered_low}) <= 1);
    }
  });
  // The server agrees the slot is unserved.
  const std::string direct = test::redis_cli(high_owner.port, "GET " + uncovered);
  CHECK(direct.find("CLUSTERDOWN") != std::string::npos);
}

// ---- 3. address_remap ------------------------------------------------------------------------

TEST_CASE("options: address_remap maps every announced address, on the map and on MOVED", "[cluster][options]") {
  const auto& c = test::cluster();
  Runtime rt;
  rt.run([&] {
    await_replicas(c);
    int calls = 0;
    std::set<std::string> seen_hosts;
    ClusterOptions o = options_for(c);
    o.address_remap = [&calls, &seen_hosts](const NodeAddress& a) {
      ++calls;
      seen_hosts.insert(a.host);
      if (a.host == "127.0.0.1") return NodeAddress{"localhost", a.port};
      return a;
    };
    ClusterClient rc(o);
    CHECK(calls >= 6);
    CHECK(seen_hosts == std::set<std::string>{"127.0.0.1"});  // announced as the cluster spells it
    std::set<std::uint16_t> ports;
    for (const NodeAddress& n : rc.get_nodes()) {
      CHECK(n.host == "localhost");
      ports.insert(n.port);
    }
    CHECK(ports == std::set<std::uint16_t>(c.ports.begin(), c.ports.end()));

    const auto keys = key_per_primary(rc, prefix("remap"));
    REQUIRE(keys.size() == 3);
    for (const auto& [primary, key] : keys) {
      INFO(primary.to_string() << " " << key);
      CHECK(primary.host == "localhost");
      rc.set(key, "v-" + key);
      CHECK(rc.get(key) == std::optional<std::string>("v-" + key));
    }
    // The mget fan-out and a pipeline go through the remapped nodes too.
    std::vector<std::string> ks;
    for (const auto& kv : keys) ks.push_back(kv.second);
    auto vals = rc.mget_nonatomic({ks[0], ks[1], ks[2]});
    for (std::size_t i = 0; i < 3; ++i) CHECK(vals[i] == std::optional<std::string>("v-" + ks[i]));

    // MOVED names 127.0.0.1:P; the client must remap it before going there.
    const std::string key = keys.begin()->second;
    const std::uint16_t slot = fibredis::key_slot(key);
    const NodeAddress owner = owner_of(rc, slot);
    const NodeAddress wrong = std::next(keys.begin())->first;
    REQUIRE(!(wrong == owner));
    fibredis::detail::topology_holder(rc).move_slot(slot, wrong);
    REQUIRE(owner_of(rc, slot) == wrong);
    const int calls_before = calls;
    const auto redirects0 = rc.redirects();
    CHECK(rc.get(key) == std::optional<std::string>("v-" + key));
    CHECK(rc.redirects() > redirects0);
    CHECK(calls > calls_before);
    CHECK(owner_of(rc, slot) == owner);
    CHECK(owner_of(rc, slot).host == "localhost");

    // The same through a pipeline with a stale map.
    fibredis::detail::topology_holder(rc).move_slot(slot, wrong);
    auto p = rc.pipeline();
    p.get(key);
    auto replies = p.execute();
    REQUIRE(replies.size() == 1);
    CHECK(replies[0].str() == "v-" + key);
    CHECK(owner_of(rc, slot).host == "localhost");

    for (const std::string& k : ks) CHECK(rc.del({k}) == 1);
    for (const NodeAddress& n : rc.get_nodes()) CHECK(n.host == "localhost");
  });
}

// ---- 4. max_connections_per_node -------------------------------------------------------------

TEST_CASE("options: max_connections_per_node = 2 queues blocking calls, the shared connection keeps flowing",
          "[cluster][options][pool]") {
  const auto& c = test::cluster();
  Runtime rt;
  rt.run([&] {
    ClusterOptions o = options_for(c);
    o.max_connections_per_node = 2;
    ClusterClient rc(o);
    const std::string tag = "{" + prefix("pool") + "}";
    std::vector<std::string> lists;
    for (char ch = 'a'; ch < 'a' + 6; ++ch) lists.push_back(tag + ch);
    const std::string plain = tag + "plain";
    for (const std::string& l : lists) rc.del({l});
    rc.set(plain, "still-here");
    const NodeAddress node = rc.get_node_from_key(lists[0]);
    for (const std::string& l : lists) REQUIRE(rc.get_node_from_key(l) == node);

    // Counts the server's blocked clients from another thread (redis-cli must not block the fibers).
    std::atomic<bool> stop{false};
    std::atomic<int> max_blocked{0};
    std::atomic<int> samples{0};
    OffThread sampler([&] {
      const auto end = SteadyClock::now() + 8s;
      for (int i = 0; i < 200 && !stop && SteadyClock::now() < end; ++i) {
        const std::string b = info_field(test::redis_cli(node.port, "INFO clients"), "blocked_clients");
        if (!b.empty()) {
          max_blocked = std::max(max_blocked.load(), std::stoi(b));
          ++samples;
        }
        std::this_thread::sleep_for(50ms);
      }
    });

    int nullopts = 0;
    int errors = 0;
    std::vector<std::string> error_texts;
    std::vector<double> get_ms;
    const auto t0 = SteadyClock::now();
    {
      std::vector<fibredis::Fiber> fibers;
      for (std::size_t i = 0; i < lists.size(); ++i)
        fibers.emplace_back([&, i] {
          try {
            if (!rc.brpop({lists[i]}, 1s)) ++nullopts;
          } catch (const std::exception& e) {
            ++errors;
            error_texts.emplace_back(e.what());
          }
        });
      fibers.emplace_back([&] {
        for (int i = 0; i < 5; ++i) {
          boost::this_fiber::sleep_for(i == 0 ? 200ms : 500ms);
          const auto g0 = SteadyClock::now();
          auto v = rc.get(plain);
          get_ms.push_back(ms_since(g0));
          CHECK(v == std::optional<std::string>("still-here"));
        }
      });
    }
    const double wall = ms_since(t0);
    stop = true;
    for (int i = 0; i < 200 && !sampler.done(); ++i) boost::this_fiber::sleep_for(50ms);
    REQUIRE(sampler.done());
    CHECK(sampler.error().empty());

    INFO("wall " << wall << " ms, max blocked " << max_blocked << " over " << samples << " samples");
    for (const std::string& e : error_texts) WARN(e);
    CHECK(errors == 0);
    CHECK(nullopts == 6);
    CHECK(wall >= 2900);  // three rounds of two
    CHECK(wall < 5000);
    REQUIRE(get_ms.size() == 5);
    for (double ms : get_ms) CHECK(ms < 500);
    CHECK(samples >= 5);
    CHECK(max_blocked >= 1);
    CHECK(max_blocked <= 2);
    const std::optional<fibredis::NodeStats> stats = rc.node_stats(node);
    REQUIRE(stats.has_value());
    CHECK(stats->pool_created <= 2);
    rc.del({plain});
  });
}

// ---- 5. read_from_replicas -----------------------------------------------------------------

TEST_CASE("options: read_from_replicas spreads GETs over replicas, writes go to primaries", "[cluster][options]") {
  const auto& c = test::cluster();
  Runtime rt;
  rt.run([&] {
    await_replicas(c);
    ClusterOptions o = options_for(c);
    o.read_from_replicas = true;
    ClusterClient rc(o);
    const auto replicas = rc.get_replicas();
    REQUIRE(replicas.size() == 3);

    std::vector<std::string> keys;
    for (int i = 0; i < 30; ++i) keys.push_back(prefix("replicas") + std::to_string(i));
    // SETs go straight to the primaries: one sent to a replica would come back MOVED (a redirect).
    const auto redirects0 = rc.redirects();
    for (const std::string& k : keys) rc.set(k, "val-" + k);
    CHECK(rc.redirects() == redirects0);

    // Replication is asynchronous: wait (bounded) until every read, wherever it lands, is right.
    bool converged = false;
    const auto end = SteadyClock::now() + 10s;
    for (int round = 0; round < 200 && !converged && SteadyClock::now() < end; ++round) {
      converged = true;
      for (int rep = 0; rep < 2; ++rep)  // twice: round-robin alternates primary and replica
        for (const std::string& k : keys)
          if (rc.get(k) != std::optional<std::string>("val-" + k)) converged = false;
      if (!converged) boost::this_fiber::sleep_for(50ms);
    }
    REQUIRE(converged);

    std::map<std::uint16_t, long long> before;
    for (const NodeAddress& r : replicas) before[r.port] = command_calls(r.port, "get");
    int wrong = 0;
    for (int rep = 0; rep < 10; ++rep)
      for (const std::string& k : keys)
        if (rc.get(k) != std::optional<std::string>("val-" + k)) ++wrong;
    CHECK(wrong == 0);
    long long replica_gets = 0;
    int replicas_used = 0;
    for (const NodeAddress& r : replicas) {
      const long long d = command_calls(r.port, "get") - before[r.port];
      INFO("replica " << r.to_string() << " served " << d << " GETs");
      CHECK(d >= 0);
      replica_gets += d;
      if (d > 0) ++replicas_used;
    }
    INFO("replicas served " << replica_gets << " of 300 GETs");
    CHECK(replica_gets >= 100);  // about half
    CHECK(replica_gets <= 200);
    CHECK(replicas_used >= 1);

    // A write after all those reads: still a primary's job, no redirect (and no reads redirected).
    rc.set(keys[0], "rewritten");
    CHECK(rc.redirects() == redirects0);
    bool seen = false;
    for (int i = 0; i < 100 && !seen; ++i) {
      seen = rc.get(keys[0]) == std::optional<std::string>("rewritten") &&
             rc.get(keys[0]) == std::optional<std::string>("rewritten");
      if (!seen) boost::this_fiber::sleep_for(20ms);
    }
    CHECK(seen);
    for (const std::string& k : keys) rc.del({k});
  });
}

// ---- 6. AUTH -------------------------------------------------------------------------------

TEST_CASE("options: AUTH on a cluster: right password works, wrong or none is AuthenticationError",
          "[cluster][options][auth]") {
  const auto& c = test::password_cluster();
  REQUIRE_FALSE(c.password.empty());
  Runtime rt;
  rt.run([&] {
    await_replicas(c);
    {
      ClusterOptions o = options_for(c);
      o.password = c.password;
      ClusterClient rc(o);
      CHECK(rc.get_primaries().size() == 3);
      const auto keys = key_per_primary(rc, prefix("auth"));
      for (const auto& [primary, key] : keys) {
        INFO(primary.to_string());
        rc.set(key, "secret-" + key);
        CHECK(rc.get(key) == std::optional<std::string>("secret-" + key));
      }
      // Blocking calls use pooled connections: they authenticate too.
      CHECK_FALSE(rc.brpop({prefix("auth") + "emptylist"}, 100ms).has_value());
      CHECK(rc.on(Target::AllNodes).ping().size() == 6);
    }
    {
      // ACL user + password, given as a URL.
      const std::string url = "redis://fibredis:" + c.password + "@127.0.0.1:" + std::to_string(c.ports[1]);
      ClusterClient rc{std::string_view(url)};
      CHECK(rc.options().username == "fibredis");
      const auto keys = key_per_primary(rc, prefix("auth"));
      for (const auto& [primary, key] : keys) CHECK(rc.get(key) == std::optional<std::string>("secret-" + key));
      for (const auto& [primary, key] : keys) CHECK(rc.del({key}) == 1);
    }
    {
      // Replica connections (READONLY) authenticate as well.
      ClusterOptions o = options_for(c);
      o.password = c.password;
      o.read_from_replicas = true;
      ClusterClient rc(o);
      for (int i = 0; i < 6; ++i) CHECK_FALSE(rc.get(prefix("auth") + "absent").has_value());
    }
    {
      ClusterOptions o = options_for(c);
      o.password = "wrong-password";
      o.command_timeout = 2000ms;
      const auto t0 = SteadyClock::now();
      CHECK_THROWS_AS(ClusterClient{o}, fibredis::AuthenticationError);
      CHECK(ms_since(t0) < 3000);
    }
    {
      ClusterOptions o = options_for(c);
      o.command_timeout = 2000ms;
      const auto t0 = SteadyClock::now();
      CHECK_THROWS_AS(ClusterClient{o}, fibredis::AuthenticationError);
      CHECK(ms_since(t0) < 3000);
    }
  });
}

// ---- 7. examples/cluster_basic -------------------------------------------------------------

namespace {
using test::ExampleRun;
using test::run_example;
}  // namespace

TEST_CASE("options: examples/cluster_basic runs against the cluster", "[cluster][options][examples]") {
  const auto& c = test::cluster();
  {
    Runtime rt;
    rt.run([&] { await_replicas(c); });
  }
  const ExampleRun r = run_example("cluster_basic", "--host 127.0.0.1 --port " + std::to_string(c.ports[0]));
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(r.out.find("primaries: 3, replicas: 3") != std::string::npos);
  // "foo (slot S, 127.0.0.1:P) -> value-of-foo" (sscanf: std::regex trips GCC 12's
  // -Wmaybe-uninitialized in sanitizer builds).
  unsigned slot = 0;
  int port = 0;
  bool found = false;
  for (const std::string& line : lines(r.out)) {
    char tail[32] = {};
    if (std::sscanf(line.c_str(), "foo (slot %u, 127.0.0.1:%d) -> %31s", &slot, &port, tail) == 3 &&
        std::string(tail) == "value-of-foo")
      found = true;
  }
  REQUIRE(found);
  CHECK(slot == fibredis::key_slot("foo"));
  CHECK(std::find(c.ports.begin(), c.ports.end(), port) != c.ports.end());
  CHECK(r.out.find("bar (slot " + std::to_string(fibredis::key_slot("bar"))) != std::string::npos);
  CHECK(r.out.find("-> value-of-baz") != std::string::npos);
  std::size_t pongs = 0;
  for (const std::string& line : lines(r.out))
    if (line.rfind("PING 127.0.0.1:", 0) == 0 && line.size() > 4 && line.substr(line.size() - 4) == "PONG") ++pongs;
  CHECK(pongs == 6);
  CHECK(r.out.find("mget_nonatomic: 3 values, bar -> value-of-bar") != std::string::npos);
  CHECK(r.out.find("DEL across slots: 3 keys") != std::string::npos);
  // It cleaned up after itself.
  CHECK(test::redis_cli(c.ports[0], "-c EXISTS foo") == "0");
}
