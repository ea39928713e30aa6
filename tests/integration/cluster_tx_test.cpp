// Cluster transactions, WATCH, keyless commands in cluster pipelines and the read mode at run
// time, on real 3+3 clusters (tests/support): single-slot MULTI/EXEC results, cross-slot ones
// refused before a byte is sent (the servers' INFO commandstats and the client's own counters say
// so), WATCH against a concurrent writer fiber, transactions through MOVED (stale map) and ASK
// (a slot being migrated, on a fresh cluster) running exactly once, DBSIZE/KEYS in a pipeline
// answering what rc.dbsize()/rc.keys() answer, readonly()/readwrite() moving GETs onto and off
// the replicas while every SET stays on the primaries.
//
// Keys carry a per-process prefix; the shared cluster is never resharded (the ASK test uses its
// own cluster).
#include <catch2/catch.hpp>

#include <fibredis/fibredis.hpp>
#include <fibredis/detail/cluster/cluster_access.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>

#include "support/helpers.hpp"
#include "support/servers.hpp"

#include <boost/fiber/operations.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using fibredis::ClusterClient;
using fibredis::NodeAddress;
using fibredis::Reply;
using fibredis::Runtime;
using fibredis::Target;
namespace test = fibredis::test;

namespace {

std::string key(std::string_view what) {
  static const std::string run = "ftx" + std::to_string(::getpid());
  return run + ":" + std::string(what);
}

// One field of a `cmdstat_<cmd>` line of INFO commandstats ("calls", "rejected_calls"), 0 when
// the command never ran there. A line reads
// "cmdstat_get:calls=1,usec=5,usec_per_call=5.00,rejected_calls=0,failed_calls=0".
long long cmdstat(std::uint16_t port, const std::string& cmd, const std::string& field = "calls") {
  std::istringstream text(test::redis_cli(port, "INFO commandstats"));
  const std::string head = "cmdstat_" + cmd + ":";
  for (std::string line; std::getline(text, line);) {
    if (line.rfind(head, 0) != 0) continue;
    std::istringstream fields(line.substr(head.size()));
    for (std::string f; std::getline(fields, f, ',');) {
      while (!f.empty() && (f.back() == '\r' || f.back() == '\n')) f.pop_back();
      if (f.rfind(field + "=", 0) == 0) return std::stoll(f.substr(field.size() + 1));
    }
  }
  return 0;
}

long long sum_cmdstat(const std::vector<NodeAddress>& nodes, const std::string& cmd,
                      const std::string& field = "calls") {
  long long total = 0;
  for (const NodeAddress& n : nodes) total += cmdstat(n.port, cmd, field);
  return total;
}

// Every replica of `c` listed in the client's map (replication is up).
void await_three_replicas(ClusterClient& rc) {
  for (int i = 0; i < 400 && rc.get_replicas().size() < 3; ++i) {
    boost::this_fiber::sleep_for(50ms);
    rc.refresh_topology();
  }
  REQUIRE(rc.get_replicas().size() == 3);
}

std::string node_id(std::uint16_t port) { return test::redis_cli(port, "CLUSTER MYID"); }

}  // namespace

// ---- transactions ---------------------------------------------------------------------------

TEST_CASE("cluster transaction: single-slot MULTI/EXEC answers EXEC's replies", "[cluster-tx]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(test::cluster()));
    const std::string a = key("{acct}:a");
    const std::string b = key("{acct}:b");
    rc.del({a, b});
    const NodeAddress owner = rc.get_node_from_key(a);
    const long long multis = cmdstat(owner.port, "multi");
    const long long execs = cmdstat(owner.port, "exec");

    auto tx = rc.pipeline(/*transaction=*/true);
    CHECK(tx.is_transaction());
    tx.set(a, "10").incrby(b, 5).get(a).incr(b).ping();
    std::vector<Reply> r = tx.execute();
    REQUIRE(r.size() == 5);
    CHECK(r[0].str() == "OK");
    CHECK(r[1].integer() == 5);
    CHECK(r[2].str() == "10");
    CHECK(r[3].integer() == 6);
    CHECK(r[4].str() == "PONG");
    CHECK(rc.get(b) == std::optional<std::string>("6"));
    // One MULTI and one EXEC, on the slot's primary.
    CHECK(cmdstat(owner.port, "multi") == multis + 1);
    CHECK(cmdstat(owner.port, "exec") == execs + 1);

    // A runtime error inside EXEC stays per command (raise_on_error = false); the rest ran.
    rc.set(a, "text");
    auto tx2 = rc.pipeline(true);
    tx2.incr(a).incr(b);
    r = tx2.execute(false);
    REQUIRE(r.size() == 2);
    CHECK(r[0].is_error());
    CHECK(r[1].integer() == 7);
    auto tx3 = rc.pipeline(true);
    tx3.incr(a);
    CHECK_THROWS_AS(tx3.execute(), fibredis::ResponseError);
    rc.del({a, b});
  });
}

TEST_CASE("cluster transaction: cross-slot and fan-out commands refused before anything is sent", "[cluster-tx]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(test::cluster()));
    std::string x = key("cross:x");
    std::string y;
    for (int i = 0; i < 1000 && (y.empty() || fibredis::key_slot(y) == fibredis::key_slot(x)); ++i)
      y = key("cross:y" + std::to_string(i));
    REQUIRE(fibredis::key_slot(x) != fibredis::key_slot(y));
    rc.del({x});
    rc.del({y});
    const auto primaries = rc.get_primaries();
    const long long multis = sum_cmdstat(primaries, "multi");
    const long long sets = sum_cmdstat(primaries, "set");
    const std::uint64_t sent = rc.stats().commands;

    auto tx = rc.pipeline(true);
    tx.set(x, "1").set(y, "2");
    CHECK_THROWS_AS(tx.execute(), fibredis::CrossSlotError);
    auto tx2 = rc.pipeline(true);
    tx2.set(x, "1").dbsize();
    CHECK_THROWS_AS(tx2.execute(), fibredis::UsageError);
    auto tx3 = rc.pipeline(true);
    tx3.set(x, "1").on(Target::Primaries).ping();
    CHECK_THROWS_AS(tx3.execute(), fibredis::UsageError);
    CHECK_THROWS_AS(rc.watch({x, y}), fibredis::CrossSlotError);

    CHECK(rc.stats().commands == sent);  // nothing reached a connection
    CHECK(sum_cmdstat(primaries, "multi") == multis);
    CHECK(sum_cmdstat(primaries, "set") == sets);
    CHECK_FALSE(rc.get(x).has_value());
    CHECK_FALSE(rc.get(y).has_value());
  });
}

TEST_CASE("cluster watch: a concurrent write from another fiber aborts EXEC with WatchError", "[cluster-tx]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(test::cluster()));
    const std::string bal = key("{wallet}:balance");
    const std::string ops = key("{wallet}:ops");
    rc.set(bal, "100");
    rc.del({ops});
    {
      // Undisturbed: the optimistic transaction applies.
      auto w = rc.watch({bal, ops});
      CHECK(w.node() == rc.get_node_from_key(bal));
      const long long v = std::stoll(w.get(bal).value());
      auto tx = w.multi();
      tx.set(bal, std::to_string(v - 30)).incr(ops);
      std::vector<Reply> r = tx.execute();
      REQUIRE(r.size() == 2);
      CHECK(r[1].integer() == 1);
      CHECK(rc.get(bal) == std::optional<std::string>("70"));
    }
    {
      // Another fiber writes the watched key between the read and EXEC.
      auto w = rc.watch({bal});
      const long long v = std::stoll(w.get(bal).value());
      fibredis::Fiber other([&] { rc.set(bal, "555"); });
      other.join();
      auto tx = w.multi();
      tx.set(bal, std::to_string(v - 30)).incr(ops);
      CHECK_THROWS_AS(tx.execute(), fibredis::WatchError);
      CHECK(rc.get(bal) == std::optional<std::string>("555"));  // the transaction did not run
      CHECK(rc.get(ops) == std::optional<std::string>("1"));
    }
    {
      // The usual loop: retried after the WatchError, it succeeds once nobody interferes.
      int attempts = 0;
      bool done = false;
      for (int i = 0; i < 5 && !done; ++i) {
        ++attempts;
        auto w = rc.watch({bal});
        const long long v = std::stoll(w.get(bal).value());
        if (i == 0) {
          fibredis::Fiber other([&] { rc.incr(bal); });
          other.join();
        }
        auto tx = w.multi();
        tx.set(bal, std::to_string(v + 1));
        try {
          tx.execute();
          done = true;
        } catch (const fibredis::WatchError&) {
        }
      }
      CHECK(done);
      CHECK(attempts == 2);
      CHECK(rc.get(bal) == std::optional<std::string>("557"));
    }
    // Keys of another slot on the watch: refused before sending.
    auto w = rc.watch({bal});
    CHECK_THROWS_AS(w.get(key("elsewhere-" + std::to_string(fibredis::key_slot(bal)))), fibredis::CrossSlotError);
    rc.del({bal, ops});
  });
}

TEST_CASE("cluster transaction: a stale slot map (MOVED before EXEC) still runs it once", "[cluster-tx]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(test::cluster()));
    const std::string k = key("{moved}:n");
    rc.del({k});
    const std::uint16_t slot = fibredis::key_slot(k);
    const NodeAddress right = rc.get_node_from_key(k);
    NodeAddress wrong;
    for (const NodeAddress& p : rc.get_primaries())
      if (!(p == right)) wrong = p;
    fibredis::detail::topology_holder(rc).move_slot(slot, wrong);
    REQUIRE(rc.get_node_from_key(k) == wrong);
    const long long wrong_incrs = cmdstat(wrong.port, "incr");
    const long long wrong_refused = cmdstat(wrong.port, "incr", "rejected_calls");
    const auto redirects = rc.stats().redirects;

    auto tx = rc.pipeline(true);
    tx.incr(k).incr(k);
    std::vector<Reply> r = tx.execute();
    REQUIRE(r.size() == 2);
    CHECK(r[0].integer() == 1);
    CHECK(r[1].integer() == 2);
    CHECK(rc.get(k) == std::optional<std::string>("2"));  // once, not twice
    CHECK(rc.stats().redirects == redirects + 1);
    CHECK(rc.get_node_from_key(k) == right);  // the map was patched
    // The wrong node refused the INCRs at queue time (MOVED) and ran none of them.
    CHECK(cmdstat(wrong.port, "incr") == wrong_incrs);
    CHECK(cmdstat(wrong.port, "incr", "rejected_calls") == wrong_refused + 2);

    // The same for a watch: WATCH follows MOVED to the owner.
    fibredis::detail::topology_holder(rc).move_slot(slot, wrong);
    auto w = rc.watch({k});
    CHECK(w.node() == right);
    auto wtx = w.multi();
    wtx.incr(k);
    CHECK(wtx.execute().at(0).integer() == 3);
    rc.del({k});
  });
}

TEST_CASE("cluster transaction: a slot being migrated (ASK) runs it once on the importing node", "[cluster-tx]") {
  test::FreshCluster fresh;
  const test::ClusterInfo& c = fresh.info;
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(c));
    const std::string k = key("{ask}:n");
    const std::uint16_t slot = fibredis::key_slot(k);
    const NodeAddress source = rc.get_node_from_key(k);
    NodeAddress dest;
    for (const NodeAddress& p : rc.get_primaries())
      if (!(p == source)) dest = p;
    const std::string source_id = node_id(source.port);
    const std::string dest_id = node_id(dest.port);
    REQUIRE(test::redis_cli(dest.port, "CLUSTER SETSLOT " + std::to_string(slot) + " IMPORTING " + source_id) == "OK");
    REQUIRE(test::redis_cli(source.port, "CLUSTER SETSLOT " + std::to_string(slot) + " MIGRATING " + dest_id) == "OK");
    const auto redirects = rc.stats().redirects;

    // The key is not on the source: it answers ASK at queue time, EXEC aborts, the client sends
    // ASKING, MULTI, INCR, INCR, EXEC to the importing node.
    auto tx = rc.pipeline(true);
    tx.incr(k).incr(k);
    std::vector<Reply> r = tx.execute();
    REQUIRE(r.size() == 2);
    CHECK(r[0].integer() == 1);
    CHECK(r[1].integer() == 2);
    CHECK(rc.stats().redirects == redirects + 1);
    CHECK(test::redis_cli(dest.port, "CLUSTER COUNTKEYSINSLOT " + std::to_string(slot)) == "1");
    CHECK(test::redis_cli(source.port, "CLUSTER COUNTKEYSINSLOT " + std::to_string(slot)) == "0");
    CHECK(rc.get_node_from_key(k) == source);  // ASK moves nothing in the map

    // Finish the migration: the value the transaction wrote once is the one the owner serves.
    for (const NodeAddress& n : {dest, source})
      REQUIRE(test::redis_cli(n.port, "CLUSTER SETSLOT " + std::to_string(slot) + " NODE " + dest_id) == "OK");
    CHECK(rc.get(k) == std::optional<std::string>("2"));
  });
}

// ---- keyless commands in a cluster pipeline ---------------------------------------------------

TEST_CASE("cluster pipeline: DBSIZE and KEYS answer what rc.dbsize() and rc.keys() answer", "[cluster-pipeline]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(test::cluster()));
    const std::string pattern = key("keyless:*");
    std::set<NodeAddress> owners;
    for (int i = 0; i < 60; ++i) {
      rc.set(key("keyless:" + std::to_string(i)), "v");
      owners.insert(rc.get_node_from_key(key("keyless:" + std::to_string(i))));
    }
    REQUIRE(owners.size() == 3);  // spread: one node's count would differ from the sum

    const long long dbsize = rc.dbsize();
    std::vector<std::string> keys = rc.keys(pattern);
    std::sort(keys.begin(), keys.end());
    REQUIRE(keys.size() == 60);
    std::map<NodeAddress, long long> per_node = rc.on(Target::Primaries).dbsize();

    auto p = rc.pipeline();
    p.dbsize().keys(pattern).get(key("keyless:7")).on(Target::Primaries).dbsize().time();
    std::vector<Reply> r = p.execute();
    REQUIRE(r.size() == 5);
    CHECK(r[0].integer() == dbsize);
    std::vector<std::string> piped = r[1].as_string_vector();
    std::sort(piped.begin(), piped.end());
    CHECK(piped == keys);
    CHECK(r[2].str() == "v");
    // on(target): one reply, [[node, reply], ...] for every primary, read back as rc.on() answers.
    REQUIRE(r[3].is_array());
    REQUIRE(r[3].elements().size() == 3);
    fibredis::PerNode<Reply> fanned = fibredis::per_node_replies(std::move(r[3]));
    REQUIRE(fanned.size() == per_node.size());
    long long sum = 0;
    for (const auto& [node, n] : per_node) {
      REQUIRE(fanned.count(node) == 1);
      CHECK(fanned.at(node).integer() == n);
      sum += fanned.at(node).integer();
    }
    CHECK(sum == dbsize);
    for (const auto& [node, n] : per_node) CHECK(n < dbsize);  // no single node's answer
    // TIME: a per-node command, answered by the default node (one [seconds, micros] pair).
    CHECK(r[4].elements().size() == 2);

    for (int i = 0; i < 60; ++i) rc.del({key("keyless:" + std::to_string(i))});
  });
}

// ---- read mode at run time --------------------------------------------------------------------

TEST_CASE("readonly()/readwrite() at run time: replicas serve the GETs, then none; SETs on primaries only",
          "[readonly]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(test::cluster()));
    await_three_replicas(rc);
    const auto replicas = rc.get_replicas();
    const auto primaries = rc.get_primaries();
    CHECK_FALSE(rc.read_from_replicas());
    std::vector<std::string> keys;
    for (int i = 0; i < 30; ++i) keys.push_back(key("ro:" + std::to_string(i)));

    const long long replica_set_rejected = sum_cmdstat(replicas, "set", "rejected_calls");
    const long long primary_sets = sum_cmdstat(primaries, "set");
    const auto redirects = rc.stats().redirects;
    for (const std::string& k : keys) rc.set(k, "val-" + k);
    CHECK(sum_cmdstat(primaries, "set") == primary_sets + 30);

    // Replica reads on: wait (bounded) for asynchronous replication, then count.
    rc.readonly();
    CHECK(rc.read_from_replicas());
    bool converged = false;
    for (int round = 0; round < 200 && !converged; ++round) {
      converged = true;
      for (int rep = 0; rep < 2; ++rep)
        for (const std::string& k : keys)
          if (rc.get(k) != std::optional<std::string>("val-" + k)) converged = false;
      if (!converged) boost::this_fiber::sleep_for(50ms);
    }
    REQUIRE(converged);
    std::map<std::uint16_t, long long> before;
    for (const NodeAddress& n : replicas) before[n.port] = cmdstat(n.port, "get");
    for (int rep = 0; rep < 10; ++rep)
      for (const std::string& k : keys) CHECK(rc.get(k) == std::optional<std::string>("val-" + k));
    long long replica_gets = 0;
    for (const NodeAddress& n : replicas) {
      const long long d = cmdstat(n.port, "get") - before[n.port];
      INFO("replica " << n.to_string() << " served " << d << " GETs");
      CHECK(d > 0);
      replica_gets += d;
    }
    CHECK(replica_gets >= 100);  // round-robin: about half of 300
    CHECK(replica_gets <= 200);

    // Replica reads off: not one more GET on any replica.
    rc.readwrite();
    CHECK_FALSE(rc.read_from_replicas());
    for (const NodeAddress& n : replicas) before[n.port] = cmdstat(n.port, "get");
    for (int rep = 0; rep < 5; ++rep)
      for (const std::string& k : keys) CHECK(rc.get(k) == std::optional<std::string>("val-" + k));
    auto p = rc.pipeline();
    for (const std::string& k : keys) p.get(k);
    CHECK(p.execute().size() == 30);
    for (const NodeAddress& n : replicas) CHECK(cmdstat(n.port, "get") == before[n.port]);

    // One replica only: it alone serves reads, in pipelines too.
    const NodeAddress chosen = replicas.front();
    rc.readonly(chosen);
    for (const NodeAddress& n : replicas) before[n.port] = cmdstat(n.port, "get");
    for (int rep = 0; rep < 4; ++rep) {
      auto q = rc.pipeline();
      for (const std::string& k : keys) q.get(k);
      for (const Reply& v : q.execute()) CHECK(v.is_string());
      for (const std::string& k : keys) rc.get(k);
    }
    for (const NodeAddress& n : replicas) {
      const long long d = cmdstat(n.port, "get") - before[n.port];
      INFO("replica " << n.to_string() << " served " << d << " GETs");
      if (n == chosen) {
        CHECK(d > 0);
      } else {
        CHECK(d == 0);
      }
    }
    rc.readwrite(chosen);
    CHECK_FALSE(rc.read_from_replicas());

    // Writes all along: on primaries, never refused by a replica, never redirected.
    for (const std::string& k : keys) rc.set(k, "again");
    CHECK(sum_cmdstat(replicas, "set", "rejected_calls") == replica_set_rejected);
    CHECK(rc.stats().redirects == redirects);
    for (const std::string& k : keys) rc.del({k});
  });
}

TEST_CASE("get_node_from_key(key, replica): the primary or a replica of the key's shard, no side effects",
          "[readonly]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(test::cluster()));
    await_three_replicas(rc);
    for (int i = 0; i < 20; ++i) {
      const std::string k = key("gn:" + std::to_string(i));
      const fibredis::Shard* shard = rc.topology()->shard_for_slot(fibredis::key_slot(k));
      REQUIRE(shard != nullptr);
      CHECK(rc.get_node_from_key(k) == shard->primary);
      const NodeAddress r1 = rc.get_node_from_key(k, true);
      const NodeAddress r2 = rc.get_node_from_key(k, true);
      CHECK(r1 == r2);  // no round-robin moved
      CHECK(std::find(shard->replicas.begin(), shard->replicas.end(), r1) != shard->replicas.end());
    }
    // Asking for a replica turned no replica reads on.
    CHECK_FALSE(rc.read_from_replicas());
  });
}

TEST_CASE("examples/replica_reads runs its checks against the cluster", "[readonly][examples]") {
  const auto& c = test::cluster();
  {
    Runtime rt;
    rt.run([&] {
      ClusterClient rc(test::options_for(c));
      await_three_replicas(rc);
    });
  }
  const test::ExampleRun r =
      test::run_example("replica_reads", "--cluster 127.0.0.1:" + std::to_string(c.ports[0]) + " --keys 30");
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(r.out.find("FAILED") == std::string::npos);
  CHECK(r.out.find("ok: replicas served GETs after readonly()") != std::string::npos);
  CHECK(r.out.find("ok: no replica served a GET after readwrite()") != std::string::npos);
  CHECK(r.out.find("readwrite(): replicas served 0 of 30 GETs") != std::string::npos);
  // A bad address is an error exit, not a silent success.
  const test::ExampleRun bad = test::run_example("replica_reads", "--cluster nonsense");
  CHECK(bad.status != 0);
}
