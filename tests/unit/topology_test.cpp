// Topology snapshots built from CLUSTER SHARDS / CLUSTER SLOTS replies in the exact shapes
// redis-server 7.0.15 sends (captured from a 3-primary/3-replica loopback cluster: a healthy one,
// one with a replica still loading, one mid-failover, one after it, with
// cluster-preferred-endpoint-type unknown-endpoint and hostname).
#include <fibredis/cluster/node_address.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/cluster/topology.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/resp/reply.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

using namespace fibredis;

namespace {

Reply S(std::string s) { return Reply::string(std::move(s)); }
Reply I(long long v) { return Reply::integer(v); }
Reply A(std::vector<Reply> v) { return Reply::array(std::move(v)); }

NodeAddress addr(std::string host, std::uint16_t port) { return NodeAddress{std::move(host), port}; }
NodeAddress local(std::uint16_t port) { return addr("127.0.0.1", port); }

const std::string kId0 = "47ea8093489310fc67286d8db498a50eb0503f72";
const std::string kId1 = "a00ef057f2bebb2e000226453d786670f34d67c8";
const std::string kId2 = "62683b4007c1394d764bb2e581557fa926358fc6";
const std::string kId3 = "1acf3ec7ab5bf54c501688fd995829e23b18dc96";
const std::string kId4 = "b3e2b5a67644ebb595d9a1383ca8a888c36bbe6c";
const std::string kId5 = "3466dd5b33796c59e557a9dc78951762336903d7";

struct N {
  std::string id;
  long long port;
  std::string role;
  std::string health = "online";
  std::string endpoint = "127.0.0.1";
  std::optional<std::string> hostname = std::nullopt;
  std::string ip = "127.0.0.1";
};

// A node of CLUSTER SHARDS: *14 (or *16 with hostname) flat map, fields in the server's order.
Reply shards_node(const N& n) {
  std::vector<Reply> v{S("id"), S(n.id), S("port"), I(n.port), S("ip"), S(n.ip),
                       S("endpoint"), S(n.endpoint)};
  if (n.hostname) {
    v.push_back(S("hostname"));
    v.push_back(S(*n.hostname));
  }
  for (Reply r : {S("role"), S(n.role), S("replication-offset"), I(14), S("health"), S(n.health)})
    v.push_back(std::move(r));
  return A(std::move(v));
}

Reply shard(std::vector<long long> slots, std::vector<N> nodes) {
  std::vector<Reply> s;
  for (long long x : slots) s.push_back(I(x));
  std::vector<Reply> n;
  for (const N& x : nodes) n.push_back(shards_node(x));
  return A({S("slots"), A(std::move(s)), S("nodes"), A(std::move(n))});
}

// CLUSTER SHARDS of the fresh cluster, in the order node 16700 listed the shards.
Reply healthy_shards(std::string replica_2_health = "online") {
  return A({
      shard({10923, 16383}, {{kId2, 16702, "master"}, {kId4, 16704, "replica"}}),
      shard({0, 5460}, {{kId0, 16700, "master"}, {kId5, 16705, "replica"}}),
      shard({5461, 10922}, {{kId1, 16701, "master"}, {kId3, 16703, "replica", replica_2_health}}),
  });
}

// CLUSTER SLOTS node: [host, port, id, metadata] (7.0 sends an empty metadata array by default).
Reply slots_node(Reply host, long long port, std::string id, std::vector<Reply> meta = {}) {
  return A({std::move(host), I(port), S(std::move(id)), A(std::move(meta))});
}

Reply healthy_slots() {
  // 16703 is loading in this capture, so the server leaves it out.
  return A({
      A({I(0), I(5460), slots_node(S("127.0.0.1"), 16700, kId0),
         slots_node(S("127.0.0.1"), 16705, kId5)}),
      A({I(5461), I(10922), slots_node(S("127.0.0.1"), 16701, kId1)}),
      A({I(10923), I(16383), slots_node(S("127.0.0.1"), 16702, kId2),
         slots_node(S("127.0.0.1"), 16704, kId4)}),
  });
}

const NodeAddress kOrigin = local(16700);

using Ranges = std::vector<std::pair<std::uint16_t, std::uint16_t>>;

}  // namespace

TEST_CASE("NodeAddress parses, prints, orders and hashes", "[topology][node_address]") {
  CHECK(NodeAddress::parse("127.0.0.1:7000") == local(7000));
  CHECK(NodeAddress::parse("redis-1.example:6379") == addr("redis-1.example", 6379));
  CHECK(NodeAddress::parse("::1:7000") == addr("::1", 7000));
  CHECK(NodeAddress::parse("[fe80::1]:7000") == addr("fe80::1", 7000));
  CHECK(NodeAddress::parse(":7000") == addr("", 7000));
  CHECK(NodeAddress::parse("127.0.0.1:65535") == local(65535));
  CHECK_FALSE(NodeAddress::parse("127.0.0.1"));
  CHECK_FALSE(NodeAddress::parse("127.0.0.1:"));
  CHECK_FALSE(NodeAddress::parse("127.0.0.1:0"));
  CHECK_FALSE(NodeAddress::parse("127.0.0.1:65536"));
  CHECK_FALSE(NodeAddress::parse("127.0.0.1:70x"));
  CHECK_FALSE(NodeAddress::parse("127.0.0.1:-1"));
  CHECK_FALSE(NodeAddress::parse("127.0.0.1:+80"));

  CHECK(local(7000).to_string() == "127.0.0.1:7000");
  CHECK(addr("::1", 7000).to_string() == "::1:7000");
  CHECK(NodeAddress::parse(addr("::1", 7000).to_string()) == addr("::1", 7000));

  CHECK(local(7000) < local(7001));
  CHECK(addr("a", 9000) < addr("b", 1));
  CHECK(local(7000) != local(7001));

  std::unordered_set<NodeAddress> set{local(7000), local(7001), local(7000)};
  CHECK(set.size() == 2);
  CHECK(set.contains(local(7001)));
  CHECK(std::hash<NodeAddress>{}(local(7000)) != std::hash<NodeAddress>{}(local(7001)));
}

TEST_CASE("an empty Topology covers nothing", "[topology]") {
  Topology t;
  CHECK(t.shard_for_slot(0) == nullptr);
  CHECK_FALSE(t.fully_covered());
  CHECK(t.covered_slots() == 0);
  CHECK(t.uncovered_ranges() == Ranges{{0, 16383}});
  CHECK(t.shards().empty());
  CHECK(t.all_nodes().empty());
  CHECK(t.same_layout(Topology()));
}

TEST_CASE("CLUSTER SHARDS of a healthy 3+3 cluster", "[topology][shards]") {
  const Topology t = Topology::from_cluster_shards(healthy_shards(), kOrigin, {});
  REQUIRE(t.shards().size() == 3);
  CHECK(t.fully_covered());
  CHECK(t.covered_slots() == 16384);
  CHECK(t.uncovered_ranges().empty());

  // Canonical order: by lowest slot, whatever order the server listed them in.
  CHECK(t.shards()[0] == Shard{0, local(16700), {local(16705)}});
  CHECK(t.shards()[1] == Shard{1, local(16701), {local(16703)}});
  CHECK(t.shards()[2] == Shard{2, local(16702), {local(16704)}});

  CHECK(t.shard_for_slot(0)->primary == local(16700));
  CHECK(t.shard_for_slot(5460)->primary == local(16700));
  CHECK(t.shard_for_slot(5461)->primary == local(16701));
  CHECK(t.shard_for_slot(16383)->primary == local(16702));
  CHECK(t.shard_for_slot(16384) == nullptr);
  CHECK(t.shard_for_slot(key_slot("foo"))->primary == local(16702));  // slot 12182

  CHECK(t.primaries() == std::vector{local(16700), local(16701), local(16702)});
  CHECK(t.replicas() == std::vector{local(16705), local(16703), local(16704)});
  CHECK(t.all_nodes() == std::vector{local(16700), local(16705), local(16701), local(16703),
                                     local(16702), local(16704)});
  CHECK(t.role_of(local(16701)) == NodeRole::Primary);
  CHECK(t.role_of(local(16704)) == NodeRole::Replica);
  CHECK_FALSE(t.role_of(local(6379)));

  REQUIRE(t.nodes().size() == 6);
  bool found = false;
  for (const NodeInfo& n : t.nodes()) {
    if (n.address == local(16705)) {
      found = true;
      CHECK(n.id == kId5);
      CHECK(n.role == NodeRole::Replica);
      CHECK(n.health == NodeHealth::Online);
    }
  }
  CHECK(found);

  // Copies share the table: the same Shard object answers.
  const Topology copy = t;  // NOLINT(performance-unnecessary-copy-initialization)
  CHECK(copy.shard_for_slot(100) == t.shard_for_slot(100));
}

TEST_CASE("CLUSTER SHARDS leaves a loading replica out of reads", "[topology][shards]") {
  const Topology t = Topology::from_cluster_shards(healthy_shards("loading"), kOrigin, {});
  CHECK(t.fully_covered());
  CHECK(t.shard_for_slot(6000)->replicas.empty());
  CHECK_FALSE(t.role_of(local(16703)));
  CHECK(t.replicas() == std::vector{local(16705), local(16704)});
  // ...but still lists it, with its state.
  bool found = false;
  for (const NodeInfo& n : t.nodes()) {
    if (n.address == local(16703)) {
      found = true;
      CHECK(n.health == NodeHealth::Loading);
      CHECK(n.role == NodeRole::Replica);
    }
  }
  CHECK(found);
}

TEST_CASE("CLUSTER SHARDS with a failed primary leaves its slots uncovered", "[topology][shards]") {
  // Captured between the primary's failure being agreed ("fail") and its replica's promotion.
  const Reply mid = A({
      shard({5461, 10922}, {{kId1, 16701, "master", "online", "127.0.0.1", "host-b.example"},
                            {kId3, 16703, "replica"}}),
      shard({0, 5460}, {{kId0, 16700, "master", "fail"}, {kId5, 16705, "replica"}}),
      shard({10923, 16383}, {{kId2, 16702, "master"}, {kId4, 16704, "replica"}}),
  });
  const Topology t = Topology::from_cluster_shards(mid, local(16701), {});
  CHECK_FALSE(t.fully_covered());
  CHECK(t.covered_slots() == 16384 - 5461);
  CHECK(t.uncovered_ranges() == Ranges{{0, 5460}});
  CHECK(t.shard_for_slot(0) == nullptr);
  CHECK(t.shard_for_slot(5461)->primary == local(16701));
  CHECK(t.shards().size() == 2);
  CHECK_FALSE(t.role_of(local(16700)));
  CHECK_FALSE(t.role_of(local(16705)));  // a replica of an unserved shard serves nothing
  CHECK(t.nodes().size() == 6);
  for (const NodeInfo& n : t.nodes()) {
    if (n.address == local(16700)) CHECK(n.health == NodeHealth::Failed);
  }

  // The documented spelling "failed" means the same.
  const Reply documented = A({shard({0, 16383}, {{kId0, 16700, "master", "failed"}})});
  CHECK(Topology::from_cluster_shards(documented, kOrigin, {}).covered_slots() == 0);

  // A shard with no primary at all (only replicas listed) is unserved too.
  const Reply orphan = A({shard({0, 16383}, {{kId5, 16705, "replica"}})});
  const Topology o = Topology::from_cluster_shards(orphan, kOrigin, {});
  CHECK(o.covered_slots() == 0);
  CHECK(o.shards().empty());
}

TEST_CASE("CLUSTER SHARDS after a failover", "[topology][shards]") {
  // The promoted replica heads its own shard; the old primary is listed as a slotless, failed
  // master ("slots" is an empty array).
  const Reply after = A({
      shard({0, 5460}, {{kId5, 16705, "master"}}),
      shard({5461, 10922}, {{kId1, 16701, "master"}, {kId3, 16703, "replica"}}),
      shard({}, {{kId0, 16700, "master", "fail"}}),
      shard({10923, 16383}, {{kId2, 16702, "master"}, {kId4, 16704, "replica"}}),
  });
  const Topology t = Topology::from_cluster_shards(after, local(16701), {});
  CHECK(t.fully_covered());
  REQUIRE(t.shards().size() == 3);
  CHECK(t.shard_for_slot(0)->primary == local(16705));
  CHECK(t.shard_for_slot(0)->replicas.empty());
  CHECK(t.primaries() == std::vector{local(16705), local(16701), local(16702)});
  CHECK_FALSE(t.role_of(local(16700)));

  // Same slots, same primaries as a healthy cluster? No: 0-5460 changed hands.
  CHECK_FALSE(t.same_layout(Topology::from_cluster_shards(healthy_shards(), kOrigin, {})));
}

TEST_CASE("CLUSTER SHARDS keeps an online primary without slots", "[topology][shards]") {
  const Reply r = A({
      shard({}, {{"e", 16706, "master"}}),
      shard({0, 16383}, {{kId0, 16700, "master"}}),
  });
  const Topology t = Topology::from_cluster_shards(r, kOrigin, {});
  REQUIRE(t.shards().size() == 2);
  CHECK(t.shards()[0].primary == local(16700));
  CHECK(t.shards()[1].primary == local(16706));  // slotless shards sort last
  CHECK(t.role_of(local(16706)) == NodeRole::Primary);
  CHECK(t.fully_covered());
}

TEST_CASE("CLUSTER SHARDS with several ranges per shard", "[topology][shards]") {
  const Reply r = A({
      shard({0, 99, 200, 299, 1000, 1000}, {{kId0, 7000, "master"}}),
      shard({300, 999}, {{kId1, 7001, "master"}}),
  });
  const Topology t = Topology::from_cluster_shards(r, kOrigin, {});
  CHECK(t.shard_for_slot(99)->primary == local(7000));
  CHECK(t.shard_for_slot(100) == nullptr);
  CHECK(t.shard_for_slot(250)->primary == local(7000));
  CHECK(t.shard_for_slot(300)->primary == local(7001));
  CHECK(t.shard_for_slot(1000)->primary == local(7000));
  CHECK(t.covered_slots() == 100 + 100 + 700 + 1);
  CHECK(t.uncovered_ranges() == Ranges{{100, 199}, {1001, 16383}});
}

TEST_CASE("CLUSTER SHARDS unknown endpoints mean the host we asked", "[topology][shards]") {
  // unknown-endpoint: 7.0 sends "" here; hostname preference without a hostname: "?".
  const Reply r = A({
      shard({0, 5460}, {{kId0, 16700, "master", "online", ""}, {kId5, 16705, "replica", "online", ""}}),
      shard({5461, 10922}, {{kId1, 16701, "master", "online", "host-b.example", "host-b.example"},
                            {kId3, 16703, "replica", "online", "?"}}),
      shard({10923, 16383}, {{kId2, 16702, "master", "online", "?"}}),
  });
  const NodeAddress origin = addr("lb.example", 16702);
  const Topology t = Topology::from_cluster_shards(r, origin, {});
  CHECK(t.shard_for_slot(0)->primary == addr("lb.example", 16700));
  CHECK(t.shard_for_slot(0)->replicas == std::vector{addr("lb.example", 16705)});
  CHECK(t.shard_for_slot(6000)->primary == addr("host-b.example", 16701));
  CHECK(t.shard_for_slot(6000)->replicas == std::vector{addr("lb.example", 16703)});
  CHECK(t.shard_for_slot(16000)->primary == addr("lb.example", 16702));
}

TEST_CASE("CLUSTER SHARDS without an endpoint field falls back to ip, then tls-port",
          "[topology][shards]") {
  const Reply r = A({A({S("slots"), A({I(0), I(16383)}), S("nodes"),
                        A({A({S("id"), S(kId0), S("tls-port"), I(17000), S("ip"), S("10.1.2.3"),
                              S("role"), S("master"), S("health"), S("online")})})})});
  const Topology t = Topology::from_cluster_shards(r, kOrigin, {});
  CHECK(t.shard_for_slot(0)->primary == addr("10.1.2.3", 17000));
}

TEST_CASE("the address map applies to every address", "[topology]") {
  // NAT: the cluster announces 127.0.0.1:1670x, the client reaches gw.example:2670x.
  const AddressMap nat = [](const NodeAddress& a) { return addr("gw.example", a.port + 10000); };
  const Topology t = Topology::from_cluster_shards(healthy_shards(), kOrigin, nat);
  CHECK(t.primaries() ==
        std::vector{addr("gw.example", 26700), addr("gw.example", 26701), addr("gw.example", 26702)});
  CHECK(t.shard_for_slot(0)->replicas == std::vector{addr("gw.example", 26705)});
  for (const NodeInfo& n : t.nodes()) CHECK(n.address.host == "gw.example");

  // The origin host stands in for an unknown endpoint before the map sees it.
  std::vector<NodeAddress> seen;
  const AddressMap spy = [&seen](const NodeAddress& a) {
    seen.push_back(a);
    return a;
  };
  const Reply unknown = A({shard({0, 16383}, {{kId0, 16700, "master", "online", "?"}})});
  (void)Topology::from_cluster_shards(unknown, addr("seed.example", 7000), spy);
  CHECK(seen == std::vector{addr("seed.example", 16700)});

  const Topology s = Topology::from_cluster_slots(healthy_slots(), kOrigin, nat);
  CHECK(s.same_layout(Topology::from_cluster_shards(healthy_shards("loading"), kOrigin, nat)));
  CHECK(s.shard_for_slot(0)->primary == addr("gw.example", 26700));
}

TEST_CASE("CLUSTER SLOTS of a 7.0 cluster", "[topology][slots]") {
  const Topology t = Topology::from_cluster_slots(healthy_slots(), kOrigin, {});
  REQUIRE(t.shards().size() == 3);
  CHECK(t.fully_covered());
  CHECK(t.shards()[0] == Shard{0, local(16700), {local(16705)}});
  CHECK(t.shards()[1] == Shard{1, local(16701), {}});
  CHECK(t.shards()[2] == Shard{2, local(16702), {local(16704)}});
  CHECK(t.nodes().size() == 5);
  for (const NodeInfo& n : t.nodes()) {
    CHECK(n.health == NodeHealth::Online);
    if (n.address == local(16702)) {
      CHECK(n.id == kId2);
      CHECK(n.role == NodeRole::Primary);
    }
  }
  // Same cluster through CLUSTER SHARDS (with 16703 loading there, too): same layout.
  CHECK(t.same_layout(Topology::from_cluster_shards(healthy_shards("loading"), kOrigin, {})));
  CHECK_FALSE(t.same_layout(Topology::from_cluster_shards(healthy_shards(), kOrigin, {})));
}

TEST_CASE("CLUSTER SLOTS unknown hosts, old node shapes, split ranges", "[topology][slots]") {
  const Reply r = A({
      // unknown-endpoint: 7.0 sends a nil host and puts the ip in the metadata.
      A({I(0), I(5460), slots_node(Reply::nil(), 16700, kId0, {S("ip"), S("127.0.0.1")}),
         slots_node(Reply::nil(), 16705, kId5, {S("ip"), S("127.0.0.1")})}),
      // hostname preference without a hostname: "?"; an empty host from pre-7 servers.
      A({I(5461), I(8000), slots_node(S("?"), 16701, kId1)}),
      A({I(8001), I(10922), slots_node(S(""), 16701, kId1)}),
      // Redis 3.x: [host, port] only.
      A({I(10923), I(16383), A({S("10.0.0.2"), I(16702)})}),
  });
  const Topology t = Topology::from_cluster_slots(r, addr("seed", 16700), {});
  REQUIRE(t.shards().size() == 3);  // the two ranges of 16701 make one shard
  CHECK(t.shard_for_slot(0)->primary == addr("seed", 16700));
  CHECK(t.shard_for_slot(0)->replicas == std::vector{addr("seed", 16705)});
  CHECK(t.shard_for_slot(5461) == t.shard_for_slot(10922));
  CHECK(t.shard_for_slot(8000)->primary == addr("seed", 16701));
  CHECK(t.shard_for_slot(16383)->primary == addr("10.0.0.2", 16702));
  CHECK(t.fully_covered());

  // An empty reply (a node not yet in a cluster with slots) is valid: nothing is covered.
  const Topology e = Topology::from_cluster_slots(A({}), kOrigin, {});
  CHECK(e.covered_slots() == 0);
  CHECK(e.uncovered_ranges() == Ranges{{0, 16383}});
}

TEST_CASE("CLUSTER SLOTS lists the failed primary of an unserved shard", "[topology][slots]") {
  // SLOTS carries no health: the failed 16705 still looks like the owner of 0-5460, and the
  // client learns otherwise from CLUSTERDOWN/connection errors (and refreshes).
  const Reply r = A({
      A({I(0), I(5460), slots_node(S("127.0.0.1"), 16705, kId5)}),
      A({I(5461), I(10922), slots_node(S("127.0.0.1"), 16701, kId1, {S("hostname"), S("host-b.example")}),
         slots_node(S("127.0.0.1"), 16703, kId3)}),
  });
  const Topology t = Topology::from_cluster_slots(r, kOrigin, {});
  CHECK(t.shard_for_slot(0)->primary == local(16705));
  CHECK(t.uncovered_ranges() == Ranges{{10923, 16383}});
}

TEST_CASE("same_layout ignores order and health, sees slots and replica sets", "[topology]") {
  const Topology a = Topology::from_cluster_shards(healthy_shards(), kOrigin, {});
  // The same cluster described by another node, shards and replicas in another order.
  const Reply reordered = A({
      shard({5461, 10922}, {{kId3, 16703, "replica"}, {kId1, 16701, "master"}}),
      shard({0, 5460}, {{kId5, 16705, "replica"}, {kId0, 16700, "master", "loading"}}),
      shard({10923, 16383}, {{kId2, 16702, "master"}, {kId4, 16704, "replica"}}),
  });
  const Topology b = Topology::from_cluster_shards(reordered, local(16701), {});
  CHECK(a.same_layout(b));
  CHECK(b.same_layout(a));
  CHECK(a.shards() == b.shards());  // canonical order

  const Topology moved = a.with_slot_moved(7, local(16701));
  CHECK_FALSE(a.same_layout(moved));
  CHECK_FALSE(moved.same_layout(a));

  const Reply extra_replica = A({
      shard({0, 5460}, {{kId0, 16700, "master"}, {kId5, 16705, "replica"}, {"x", 16706, "replica"}}),
      shard({5461, 10922}, {{kId1, 16701, "master"}, {kId3, 16703, "replica"}}),
      shard({10923, 16383}, {{kId2, 16702, "master"}, {kId4, 16704, "replica"}}),
  });
  CHECK_FALSE(a.same_layout(Topology::from_cluster_shards(extra_replica, kOrigin, {})));
}

TEST_CASE("with_slot_moved applies a MOVED to a copy", "[topology]") {
  const Topology t = Topology::from_cluster_shards(healthy_shards(), kOrigin, {});

  SECTION("to a known primary") {
    const Topology m = t.with_slot_moved(100, local(16702));
    CHECK(m.shard_for_slot(100)->primary == local(16702));
    CHECK(m.shard_for_slot(99)->primary == local(16700));
    CHECK(m.shard_for_slot(101)->primary == local(16700));
    CHECK(m.shards().size() == 3);
    CHECK(m.fully_covered());
    CHECK(t.shard_for_slot(100)->primary == local(16700));  // the original is untouched
  }
  SECTION("to the slot's current owner: nothing changes") {
    const Topology m = t.with_slot_moved(100, local(16700));
    CHECK(m.shard_for_slot(100) == t.shard_for_slot(100));  // same table, shared
    CHECK(m.same_layout(t));
  }
  SECTION("to an unknown node: a new one-node shard") {
    const Topology m = t.with_slot_moved(16383, local(16710));
    REQUIRE(m.shards().size() == 4);
    CHECK(m.shards()[3] == Shard{3, local(16710), {}});
    CHECK(m.shard_for_slot(16383)->primary == local(16710));
    CHECK(m.shard_for_slot(16382)->primary == local(16702));
    CHECK(m.role_of(local(16710)) == NodeRole::Primary);
    CHECK(m.nodes().size() == 7);
    // A second slot moving there joins the same shard.
    const Topology m2 = m.with_slot_moved(16382, local(16710));
    CHECK(m2.shards().size() == 4);
    CHECK(m2.shard_for_slot(16382) == &m2.shards()[3]);
  }
  SECTION("to a replica: it was promoted") {
    const Topology m = t.with_slot_moved(0, local(16705));
    CHECK(m.shard_for_slot(0)->primary == local(16705));
    CHECK(m.shard_for_slot(1)->primary == local(16700));
    CHECK(m.shard_for_slot(1)->replicas.empty());
    CHECK(m.role_of(local(16705)) == NodeRole::Primary);
    for (const NodeInfo& n : m.nodes()) {
      if (n.address == local(16705)) CHECK(n.role == NodeRole::Primary);
    }
  }
  SECTION("an uncovered slot becomes covered") {
    const Reply half = A({shard({0, 8191}, {{kId0, 16700, "master"}})});
    const Topology h = Topology::from_cluster_shards(half, kOrigin, {});
    const Topology m = h.with_slot_moved(9000, local(16700));
    CHECK(m.covered_slots() == 8193);
    CHECK(m.uncovered_ranges() == Ranges{{8192, 8999}, {9001, 16383}});
  }
  SECTION("an out-of-range slot changes nothing") {
    CHECK(t.with_slot_moved(16384, local(16710)).same_layout(t));
  }
}

TEST_CASE("malformed topology replies throw ProtocolError", "[topology]") {
  const auto shards = [](const Reply& r) { (void)Topology::from_cluster_shards(r, kOrigin, {}); };
  const auto slots = [](const Reply& r) { (void)Topology::from_cluster_slots(r, kOrigin, {}); };
  const auto node = [](std::vector<Reply> fields) {
    return A({A({S("slots"), A({I(0), I(16383)}), S("nodes"), A({A(std::move(fields))})})});
  };

  SECTION("CLUSTER SHARDS") {
    CHECK_THROWS_AS(shards(Reply::error("ERR unknown subcommand 'shards'.")), ProtocolError);
    CHECK_THROWS_AS(shards(S("nope")), ProtocolError);
    CHECK_THROWS_AS(shards(A({S("slots")})), ProtocolError);
    CHECK_THROWS_AS(shards(A({A({S("slots"), A({I(0), I(10)})})})), ProtocolError);  // no nodes
    CHECK_THROWS_AS(shards(A({shard({0}, {{kId0, 7000, "master"}})})), ProtocolError);
    CHECK_THROWS_AS(shards(A({shard({0, 16384}, {{kId0, 7000, "master"}})})), ProtocolError);
    CHECK_THROWS_AS(shards(A({shard({10, 9}, {{kId0, 7000, "master"}})})), ProtocolError);
    CHECK_THROWS_AS(shards(A({shard({-1, 9}, {{kId0, 7000, "master"}})})), ProtocolError);
    CHECK_THROWS_AS(shards(A({shard({0, 9}, {{kId0, 0, "master"}})})), ProtocolError);
    CHECK_THROWS_AS(shards(A({shard({0, 9}, {{kId0, 70000, "master"}})})), ProtocolError);
    CHECK_THROWS_AS(shards(A({shard({0, 9}, {{kId0, 7000, "arbiter"}})})), ProtocolError);
    CHECK_THROWS_AS(shards(node({S("id"), S(kId0), S("role"), S("master")})), ProtocolError);
    CHECK_THROWS_AS(shards(node({S("port"), S("x"), S("role"), S("master")})), ProtocolError);
    CHECK_THROWS_AS(shards(node({S("port"), I(7000), S("endpoint")})), ProtocolError);
    CHECK_THROWS_AS(shards(node({S("port"), I(7000), S("endpoint"), I(1), S("role"), S("master")})),
                    ProtocolError);
    CHECK_THROWS_AS(shards(node({S("port"), I(7000)})), ProtocolError);  // no role
    // A numeric string port is accepted (some proxies stringify numbers).
    CHECK_NOTHROW(shards(node({S("port"), S("7000"), S("role"), S("master")})));
  }
  SECTION("CLUSTER SLOTS") {
    CHECK_THROWS_AS(slots(Reply::error("ERR This instance has cluster support disabled")),
                    ProtocolError);
    CHECK_THROWS_AS(slots(A({I(0)})), ProtocolError);
    CHECK_THROWS_AS(slots(A({A({I(0), I(10)})})), ProtocolError);  // no primary
    CHECK_THROWS_AS(slots(A({A({I(0), I(10), A({S("h")})})})), ProtocolError);
    CHECK_THROWS_AS(slots(A({A({I(0), I(10), A({I(5), I(7000)})})})), ProtocolError);
    CHECK_THROWS_AS(slots(A({A({I(0), I(10), A({S("h"), S("port")})})})), ProtocolError);
    CHECK_THROWS_AS(slots(A({A({I(0), I(10), A({S("h"), I(0)})})})), ProtocolError);
    CHECK_THROWS_AS(slots(A({A({I(9), I(3), A({S("h"), I(7000)})})})), ProtocolError);
    CHECK_THROWS_AS(slots(A({A({S("a"), I(3), A({S("h"), I(7000)})})})), ProtocolError);
    CHECK_THROWS_AS(slots(A({A({I(0), I(10), A({S("h"), I(7000)}), S("replica")})})),
                    ProtocolError);
  }
}
