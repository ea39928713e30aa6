// ClusterPipeline on the shared 3+3 cluster: commands across slots in one pipeline, answers in
// queue order, redirected commands retried, per-reply errors, blocked commands refused.
#include <catch2/catch.hpp>

#include <fibredis/fibredis.hpp>
#include <fibredis/detail/cluster/cluster_access.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>

#include "support/servers.hpp"

#include <set>
#include <string>
#include <vector>

using fibredis::ClusterClient;
using fibredis::Runtime;

namespace {
fibredis::ClusterOptions cluster_options() {
  const auto& c = fibredis::test::cluster();
  fibredis::ClusterOptions o;
  o.startup_nodes.push_back({c.host, c.ports[0]});
  return o;
}
}  // namespace

TEST_CASE("cluster pipeline: keys on every node, replies in queue order", "[cluster][pipeline]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(cluster_options());
    auto p = rc.pipeline();
    for (int i = 0; i < 300; ++i) p.set("cp:" + std::to_string(i), std::to_string(i * 7));
    for (int i = 0; i < 300; ++i) p.get("cp:" + std::to_string(i));
    auto r = p.execute();
    REQUIRE(r.size() == 600);
    for (int i = 0; i < 300; ++i) {
      CHECK(r[static_cast<size_t>(i)].str() == "OK");
      REQUIRE(r[static_cast<size_t>(300 + i)].str() == std::to_string(i * 7));
    }
    // The keys really are spread over the three primaries.
    std::set<fibredis::NodeAddress> owners;
    for (int i = 0; i < 300; ++i) owners.insert(rc.get_node_from_key("cp:" + std::to_string(i)));
    CHECK(owners.size() == 3);
  });
}

TEST_CASE("cluster pipeline: a stale slot map is healed by MOVED and the batch still answers in order",
          "[cluster][pipeline]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(cluster_options());
    const std::string key = "cp:moved";
    const auto slot = fibredis::key_slot(key);
    const auto right = rc.topology()->shard_for_slot(slot)->primary;
    fibredis::NodeAddress wrong;
    for (const auto& p : rc.get_primaries())
      if (!(p == right)) wrong = p;
    fibredis::detail::topology_holder(rc).move_slot(slot, wrong);
    REQUIRE(rc.topology()->shard_for_slot(slot)->primary == wrong);
    const auto before = rc.redirects();
    auto p = rc.pipeline();
    p.set(key, "v1").get(key).set("cp:other", "x").get("cp:other");
    auto r = p.execute();
    REQUIRE(r.size() == 4);
    CHECK(r[1].str() == "v1");
    CHECK(r[3].str() == "x");
    CHECK(rc.redirects() > before);
    CHECK(rc.topology()->shard_for_slot(slot)->primary == right);
  });
}

TEST_CASE("cluster pipeline: error replies stay per command; raise_on_error throws", "[cluster][pipeline]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(cluster_options());
    rc.set("cp:str", "text");
    auto p = rc.pipeline();
    p.incr("cp:str").set("cp:ok", "1").get("cp:ok");
    auto r = p.execute(false);
    REQUIRE(r.size() == 3);
    CHECK(r[0].is_error());
    CHECK(r[2].str() == "1");
    p.incr("cp:str");
    CHECK_THROWS_AS(p.execute(), fibredis::ResponseError);
    auto q = rc.pipeline();
    q.command({"MGET", "cp:a", "cp:b"});
    CHECK_THROWS_AS(q.execute(), fibredis::CrossSlotError);
    auto m = rc.pipeline();
    m.command({"MULTI"});
    CHECK_THROWS_AS(m.execute(), fibredis::UsageError);
  });
}
