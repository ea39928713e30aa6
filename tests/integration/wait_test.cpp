// WAIT and WAITAOF never report an acknowledgement that did not happen (client/wait_batch.hpp).
//
// The destructive case runs on a fresh 3 + 3 cluster: its primaries each have exactly ONE replica,
// so the single-node Client talks to one primary (keys of its slots) and the ClusterClient to the
// same shard. With that replica SIGSTOPped (the primary still counts it as connected: a stopped
// process sends no RST), every form of WAIT the client accepts must report 0, and the forms it
// refuses must throw UsageError before sending; after SIGCONT the same forms report 1.
// The non-destructive refusals and the MOVED path use the shared cluster.
#include <catch2/catch.hpp>

#include <fibredis/fibredis.hpp>
#include <fibredis/detail/cluster/cluster_access.hpp>
#include <fibredis/client/async.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>

#include "support/helpers.hpp"
#include "support/servers.hpp"

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using fibredis::Client;
using fibredis::ClusterClient;
using fibredis::NodeAddress;
using fibredis::Options;
using fibredis::Runtime;
using fibredis::UsageError;
namespace test = fibredis::test;
using fibredis::test::since;

namespace {

Options node_options(const NodeAddress& a) {
  Options o;
  o.host = a.host;
  o.port = a.port;
  o.command_timeout = 5000ms;
  return o;
}

// SIGCONT however the test ends: a stopped replica would stall the cluster's later users.
struct Stopped {
  pid_t pid;
  explicit Stopped(pid_t p) : pid(p) { REQUIRE(::kill(pid, SIGSTOP) == 0); }
  ~Stopped() { ::kill(pid, SIGCONT); }
  Stopped(const Stopped&) = delete;
  Stopped& operator=(const Stopped&) = delete;
};

// Every accepted form of WAIT 1 <timeout> after a SET of `key`, through a single-node Client:
// the WAIT replies in the order pipeline, raw command in a pipeline, transaction, WATCH + MULTI.
std::vector<long long> client_forms(Client& c, const std::string& key, std::chrono::milliseconds timeout) {
  std::vector<long long> got;
  {
    auto p = c.pipeline();
    p.set(key, "a").wait(1, timeout);
    auto r = p.execute();
    REQUIRE(r.size() == 2);
    got.push_back(r[1].integer());
  }
  {
    auto p = c.pipeline();
    p.command({"SET", key, "b"}).command({"WAIT", "1", std::to_string(timeout.count())});
    got.push_back(p.execute().at(1).integer());
  }
  {
    auto tx = c.pipeline(true);
    tx.set(key, "c").incr("{w}n").wait(1, timeout);
    auto r = tx.execute();
    REQUIRE(r.size() == 3);  // SET's OK, INCR's count (unwrapped from EXEC), then WAIT's count
    CHECK(r[0].str() == "OK");
    got.push_back(r[2].integer());
  }
  {
    auto w = c.watch({key});
    auto tx = w.multi();
    tx.set(key, "d").wait(1, timeout);
    got.push_back(tx.execute().at(1).integer());
  }
  CHECK(c.get(key) == "d");
  return got;
}

long long cluster_form(ClusterClient& rc, const std::string& key, std::chrono::milliseconds timeout) {
  auto p = rc.pipeline();
  p.set(key, "x").set("{w}o", "y").wait(1, timeout);
  auto r = p.execute();
  REQUIRE(r.size() == 3);
  return r[2].integer();
}

// `key` is served by c's node (WATCH on another node's key would fail first, with MOVED).
void check_refusals(Client& c, ClusterClient& rc, const std::string& key) {
  CHECK_THROWS_AS(c.wait(1, 100ms), UsageError);
  CHECK_THROWS_AS(c.command({"WAIT", "1", "100"}), UsageError);
  CHECK_THROWS_AS(c.command({"wait", "0", "100"}), UsageError);
  CHECK_THROWS_AS(c.waitaof(0, 1, 100ms), UsageError);
  CHECK_THROWS_AS(c.async().wait(1, 100ms).get(), UsageError);
  CHECK_THROWS_AS(c.watch({key}).wait(1, 100ms), UsageError);
  CHECK_THROWS_AS(rc.wait(1, 100ms), UsageError);
  CHECK_THROWS_WITH(rc.command({"WAIT", "1", "100"}), Catch::Contains("end of a pipeline"));
  CHECK_THROWS_AS(rc.on(fibredis::Target::Primaries).wait(1, 100ms), UsageError);
  CHECK_THROWS_AS(rc.async_command({"WAIT", "1", "100"}).get(), UsageError);
}

}  // namespace

TEST_CASE("WAIT with the only replica stopped reports 0 in every accepted form, 1 once it runs", "[wait][faults]") {
  test::FreshCluster fresh;
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(fresh.info));
    const std::string key = "{w}k";  // {w}n and {w}o share its slot
    const auto topology = rc.topology();
    const fibredis::Shard* shard = topology->shard_for_slot(fibredis::key_slot(key));
    REQUIRE(shard != nullptr);
    REQUIRE(shard->replicas.size() == 1);
    Client c(node_options(shard->primary));

    // Replica running: both clients' forms see its acknowledgement.
    for (long long n : client_forms(c, key, 5000ms)) CHECK(n == 1);
    CHECK(cluster_form(rc, key, 5000ms) == 1);

    {
      Stopped stop(test::server_pid(shard->replicas.front().port));
      const auto t0 = std::chrono::steady_clock::now();
      for (long long n : client_forms(c, key, 300ms)) CHECK(n == 0);
      CHECK(cluster_form(rc, key, 300ms) == 0);
      // Each WAIT really waited its timeout for an acknowledgement that could not come.
      CHECK(since(t0) >= 5 * 300ms);
      check_refusals(c, rc, key);
    }
    // SIGCONT: the replica catches up and acknowledges again.
    for (long long n : client_forms(c, key, 5000ms)) CHECK(n == 1);
    CHECK(cluster_form(rc, key, 5000ms) == 1);
  });
}

TEST_CASE("WAIT forms that cannot be honest are refused before anything is sent", "[wait]") {
  const auto& info = test::cluster();
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(info));
    Client c(node_options(rc.get_node_from_key("wait:r")));
    check_refusals(c, rc, "wait:r");

    auto only_wait = c.pipeline();
    only_wait.wait(1, 100ms);
    CHECK_THROWS_WITH(only_wait.execute(), Catch::Contains("must follow the writes"));
    auto forever = c.pipeline();
    forever.set("wait:r", "1").wait(1, 0ms);
    CHECK_THROWS_WITH(forever.execute(), Catch::Contains("timeout 0"));
    auto tx = c.pipeline(true);
    tx.set("wait:r", "1").wait(1, 100ms).set("wait:r", "2");
    CHECK_THROWS_WITH(tx.execute(), Catch::Contains("after EXEC"));
    CHECK(c.get("wait:r") != "2");  // refused before sending: nothing of it ran

    // Cluster: keys in two shards cannot share one WAIT; keyless batches have no shard.
    std::string other = "wait:b";
    for (int i = 0; i < 1000 && rc.get_node_from_key(other) == rc.get_node_from_key("wait:a"); ++i)
      other = "wait:b" + std::to_string(i);
    REQUIRE(!(rc.get_node_from_key(other) == rc.get_node_from_key("wait:a")));
    auto two_shards = rc.pipeline();
    two_shards.set("wait:a", "1").set(other, "1").wait(1, 100ms);
    CHECK_THROWS_WITH(two_shards.execute(), Catch::Contains("one shard"));
    auto keyless = rc.pipeline();
    keyless.command({"SCRIPT", "FLUSH"}).wait(1, 100ms);
    CHECK_THROWS_AS(keyless.execute(), UsageError);
  });
}

TEST_CASE("a cluster pipeline with WAIT follows MOVED to the owner and re-runs the whole batch there", "[wait][cluster]") {
  const auto& info = test::cluster();
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(info));
    const std::string key = "wait:moved";
    const std::uint16_t slot = fibredis::key_slot(key);
    const NodeAddress owner = rc.get_node_from_key(key);
    rc.del({key});
    NodeAddress wrong;
    for (const NodeAddress& p : rc.get_primaries())
      if (!(p == owner)) wrong = p;
    fibredis::detail::topology_holder(rc).move_slot(slot, wrong);  // a stale map: the batch first lands on `wrong`
    REQUIRE(rc.get_node_from_key(key) == wrong);
    const auto redirects = rc.redirects();

    auto p = rc.pipeline();
    p.incr(key).wait(1, 5000ms);
    auto r = p.execute();
    REQUIRE(r.size() == 2);
    CHECK(r[0].integer() == 1);         // refused as a whole on `wrong`: the INCR ran once
    CHECK(r[1].integer() == 1);         // at the owner, whose replica acknowledged it
    CHECK(rc.redirects() > redirects);  // it went through MOVED
    CHECK(rc.get_node_from_key(key) == owner);
    Client direct(node_options(owner));
    CHECK(direct.get(key) == "1");
  });
}
