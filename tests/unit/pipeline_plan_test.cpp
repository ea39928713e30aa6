// The cluster pipeline planner, without sockets: rounds are played by hand with the replies a
// cluster would send.
#include <fibredis/detail/cluster/pipeline_plan.hpp>
#include <fibredis/cluster/topology.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/resp/reply.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

using namespace fibredis;
using Plan = PipelinePlan;

namespace {

NodeAddress local(std::uint16_t port) { return NodeAddress{"127.0.0.1", port}; }

Reply node(std::uint16_t port) {
  return Reply::array({Reply::string("127.0.0.1"), Reply::integer(port), Reply::string("id")});
}

// 7000 (replica 7003): 0-5460, 7001 (replica 7004): 5461-10922, 7002 (replica 7005): 10923-16383.
Topology three_shards() {
  return Topology::from_cluster_slots(
      Reply::array({
          Reply::array({Reply::integer(0), Reply::integer(5460), node(7000), node(7003)}),
          Reply::array({Reply::integer(5461), Reply::integer(10922), node(7001), node(7004)}),
          Reply::array({Reply::integer(10923), Reply::integer(16383), node(7002), node(7005)}),
      }),
      local(7000), {});
}

// The same cluster with 0-5460 missing (its primary failed, no replica promoted yet).
Topology missing_first_shard() {
  return Topology::from_cluster_slots(
      Reply::array({
          Reply::array({Reply::integer(5461), Reply::integer(10922), node(7001)}),
          Reply::array({Reply::integer(10923), Reply::integer(16383), node(7002)}),
      }),
      local(7001), {});
}

using Items = std::vector<std::pair<std::size_t, bool>>;

Items items(const Plan::NodeBatch& b) {
  Items out;
  for (const auto& i : b.items) out.emplace_back(i.index, i.asking);
  return out;
}

Reply ok(std::string s = "OK") { return Reply::status(std::move(s)); }

// Answers every item of every batch with `answer(index)`.
template <class F>
void answer_all(Plan& plan, const std::vector<Plan::NodeBatch>& batches, F answer) {
  for (const auto& b : batches) {
    for (const auto& i : b.items) plan.set_reply(i.index, answer(i.index));
  }
}

}  // namespace

TEST_CASE("classify_outcome", "[pipeline_plan]") {
  CHECK(classify_outcome(ok()) == Outcome::Final);
  CHECK(classify_outcome(Reply::nil()) == Outcome::Final);
  CHECK(classify_outcome(Reply::integer(3)) == Outcome::Final);
  CHECK(classify_outcome(Reply::error("WRONGTYPE Operation against a key")) == Outcome::Final);
  CHECK(classify_outcome(Reply::error("CROSSSLOT Keys in request don't hash")) == Outcome::Final);
  CHECK(classify_outcome(Reply::error("MOVED 3999 127.0.0.1:6381")) == Outcome::Moved);
  CHECK(classify_outcome(Reply::error("ASK 3999 127.0.0.1:6381")) == Outcome::Ask);
  CHECK(classify_outcome(Reply::error("MOVED 3999 nowhere")) == Outcome::Final);
  CHECK(classify_outcome(Reply::error("MOVED")) == Outcome::Final);
  CHECK(classify_outcome(Reply::error("TRYAGAIN Multiple keys request during rehashing of slot")) ==
        Outcome::TryAgain);
  CHECK(classify_outcome(Reply::error("CLUSTERDOWN The cluster is down")) == Outcome::ClusterDown);
  CHECK(classify_outcome(Reply::error("LOADING Redis is loading the dataset in memory")) ==
        Outcome::Loading);
  CHECK(classify_outcome(Reply::error("MASTERDOWN Link with MASTER is down")) ==
        Outcome::MasterDown);
  CHECK(classify_outcome(Reply::error("READONLY You can't write against a read only replica.")) ==
        Outcome::ReadOnly);
  // A bulk string that happens to read like an error is data.
  CHECK(classify_outcome(Reply::string("MOVED 1 127.0.0.1:7000")) == Outcome::Final);
}

TEST_CASE("grouping by node keeps queue order; an all-ok round ends the plan", "[pipeline_plan]") {
  Plan plan;
  CHECK(plan.add({.slot = 0}) == 0);                   // 7000
  CHECK(plan.add({.slot = 6000}) == 1);                // 7001
  CHECK(plan.add({.slot = 1}) == 2);                   // 7000
  CHECK(plan.add({.slot = 12000}) == 3);               // 7002
  CHECK(plan.add({.slot = 5460}) == 4);                // 7000
  CHECK(plan.add({.node = local(7001)}) == 5);         // keyless, default node
  CHECK(plan.add({.slot = 0, .node = local(7002)}) == 6);  // a chosen node wins over the slot
  CHECK(plan.size() == 7);
  CHECK_FALSE(plan.done());

  const auto batches = plan.next_round(three_shards());
  REQUIRE(batches.size() == 3);
  CHECK(batches[0].node == local(7000));
  CHECK(items(batches[0]) == Items{{0, false}, {2, false}, {4, false}});
  CHECK(batches[1].node == local(7001));
  CHECK(items(batches[1]) == Items{{1, false}, {5, false}});
  CHECK(batches[2].node == local(7002));
  CHECK(items(batches[2]) == Items{{3, false}, {6, false}});
  for (const auto& b : batches) CHECK_FALSE(b.replica_read);

  // Replies arrive node by node, not in queue order.
  for (auto it = batches.rbegin(); it != batches.rend(); ++it) {
    for (const auto& i : it->items) plan.set_reply(i.index, Reply::integer(static_cast<long long>(i.index) * 10));
  }
  const auto s = plan.finish_round();
  CHECK(s.done);
  CHECK(s.retries == 0);
  CHECK(s.moved.empty());
  CHECK_FALSE(s.refresh_topology);
  CHECK_FALSE(s.back_off);
  CHECK(plan.done());
  CHECK(plan.rounds() == 1);
  CHECK(plan.next_round(three_shards()).empty());
  for (std::size_t i = 0; i < plan.size(); ++i) CHECK(plan.status(i) == Plan::Status::Done);

  const auto replies = plan.take_replies();
  REQUIRE(replies.size() == 7);
  for (std::size_t i = 0; i < replies.size(); ++i) CHECK(replies[i].integer() == static_cast<long long>(i) * 10);
}

TEST_CASE("an ordinary error reply is an answer", "[pipeline_plan]") {
  Plan plan;
  plan.add({.slot = 0});
  const auto b = plan.next_round(three_shards());
  plan.set_reply(0, Reply::error("WRONGTYPE Operation against a key holding the wrong kind of value"));
  CHECK(plan.finish_round().done);
  CHECK(plan.status(0) == Plan::Status::Done);
  CHECK(plan.last_outcome(0) == Outcome::Final);
  CHECK(plan.reply(0).is_error());
}

TEST_CASE("MOVED re-routes the slot's commands in order and records the move", "[pipeline_plan]") {
  Plan plan;
  plan.add({.slot = 100});  // 0
  plan.add({.slot = 200});  // 1
  plan.add({.slot = 100});  // 2
  plan.add({.slot = 100});  // 3
  const Topology topo = three_shards();

  auto b1 = plan.next_round(topo);
  REQUIRE(b1.size() == 1);
  CHECK(items(b1[0]) == Items{{0, false}, {1, false}, {2, false}, {3, false}});
  // Slot 100 has moved to 7002 (resharding finished); slot 200 has not.
  answer_all(plan, b1, [](std::size_t i) {
    return i == 1 ? ok() : Reply::error("MOVED 100 127.0.0.1:7002");
  });
  const auto s1 = plan.finish_round();
  CHECK_FALSE(s1.done);
  CHECK(s1.retries == 3);
  CHECK(s1.moved == std::vector<Plan::SlotMove>{{100, local(7002)}});  // once per slot
  CHECK_FALSE(s1.refresh_topology);  // the redirect named the owner: go on at once
  CHECK_FALSE(s1.back_off);
  CHECK(plan.status(1) == Plan::Status::Done);
  CHECK(plan.status(0) == Plan::Status::Pending);
  CHECK(plan.last_outcome(0) == Outcome::Moved);

  // The caller has not applied the move: the redirect alone routes the retry.
  auto b2 = plan.next_round(topo);
  REQUIRE(b2.size() == 1);
  CHECK(b2[0].node == local(7002));
  CHECK(items(b2[0]) == Items{{0, false}, {2, false}, {3, false}});
  answer_all(plan, b2, [](std::size_t i) { return Reply::integer(static_cast<long long>(i)); });
  const auto s2 = plan.finish_round();
  CHECK(s2.done);
  CHECK(s2.moved.empty());
  CHECK(plan.rounds() == 2);
  const auto replies = plan.take_replies();
  CHECK(replies[0] == Reply::integer(0));
  CHECK(replies[1] == ok());
  CHECK(replies[2] == Reply::integer(2));
  CHECK(replies[3] == Reply::integer(3));
}

TEST_CASE("MOVED with an unknown host goes to the host we asked; targets are mapped",
          "[pipeline_plan]") {
  SECTION("empty host") {
    Plan plan;
    plan.add({.slot = 7000});
    auto b1 = plan.next_round(three_shards());
    CHECK(b1[0].node == local(7001));
    plan.set_reply(0, Reply::error("MOVED 7000 :7005"));
    const auto s = plan.finish_round();
    CHECK(s.moved == std::vector<Plan::SlotMove>{{7000, local(7005)}});
    auto b2 = plan.next_round(three_shards());
    CHECK(b2[0].node == local(7005));
  }
  SECTION("address map") {
    Plan plan({}, [](const NodeAddress& a) { return NodeAddress{"gw", static_cast<std::uint16_t>(a.port + 1)}; });
    plan.add({.slot = 7000});
    (void)plan.next_round(three_shards());
    plan.set_reply(0, Reply::error("ASK 7000 10.0.0.9:7005"));
    (void)plan.finish_round();
    auto b2 = plan.next_round(three_shards());
    CHECK(b2[0].node == NodeAddress{"gw", 7006});
    CHECK(items(b2[0]) == Items{{0, true}});
  }
}

TEST_CASE("ASK sends ASKING once, and records no move", "[pipeline_plan]") {
  Plan plan;
  plan.add({.slot = 300});  // 0: key still on the source
  plan.add({.slot = 300});  // 1: key already migrated
  const Topology topo = three_shards();

  auto b1 = plan.next_round(topo);
  plan.set_reply(0, Reply::string("v0"));
  plan.set_reply(1, Reply::error("ASK 300 127.0.0.1:7001"));
  const auto s1 = plan.finish_round();
  CHECK(s1.retries == 1);
  CHECK(s1.moved.empty());
  CHECK_FALSE(s1.refresh_topology);
  CHECK_FALSE(s1.back_off);

  auto b2 = plan.next_round(topo);
  REQUIRE(b2.size() == 1);
  CHECK(b2[0].node == local(7001));
  CHECK(items(b2[0]) == Items{{1, true}});

  SECTION("answered at the target") {
    plan.set_reply(1, Reply::string("v1"));
    CHECK(plan.finish_round().done);
    const auto r = plan.take_replies();
    CHECK(r[0] == Reply::string("v0"));
    CHECK(r[1] == Reply::string("v1"));
  }
  SECTION("a later retry does not repeat ASKING") {
    plan.set_reply(1, Reply::error("TRYAGAIN Multiple keys request during rehashing of slot"));
    const auto s2 = plan.finish_round();
    CHECK(s2.back_off);
    auto b3 = plan.next_round(topo);
    REQUIRE(b3.size() == 1);
    CHECK(b3[0].node == local(7000));  // back to the owner the topology names
    CHECK(items(b3[0]) == Items{{1, false}});
  }
}

TEST_CASE("a command redirected twice", "[pipeline_plan]") {
  Plan plan;
  plan.add({.slot = 42});
  const Topology topo = three_shards();

  auto b1 = plan.next_round(topo);
  CHECK(b1[0].node == local(7000));
  plan.set_reply(0, Reply::error("MOVED 42 127.0.0.1:7001"));
  const auto s1 = plan.finish_round();
  CHECK(s1.moved == std::vector<Plan::SlotMove>{{42, local(7001)}});

  // The caller applies the move, as the holder would.
  const Topology applied = topo.with_slot_moved(42, local(7001));
  auto b2 = plan.next_round(applied);
  CHECK(b2[0].node == local(7001));
  CHECK(items(b2[0]) == Items{{0, false}});
  // 7001 is migrating the slot on to 7002 and the key is already there.
  plan.set_reply(0, Reply::error("ASK 42 127.0.0.1:7002"));
  const auto s2 = plan.finish_round();
  CHECK(s2.moved.empty());

  auto b3 = plan.next_round(applied);
  CHECK(b3[0].node == local(7002));
  CHECK(items(b3[0]) == Items{{0, true}});
  plan.set_reply(0, Reply::integer(1));
  CHECK(plan.finish_round().done);
  CHECK(plan.rounds() == 3);
  CHECK(plan.reply(0) == Reply::integer(1));
}

TEST_CASE("TRYAGAIN and LOADING back off; CLUSTERDOWN also refreshes", "[pipeline_plan]") {
  Plan plan;
  plan.add({.slot = 0});
  plan.add({.slot = 6000});
  plan.add({.slot = 12000});
  auto b1 = plan.next_round(three_shards());

  SECTION("TRYAGAIN") {
    answer_all(plan, b1, [](std::size_t i) {
      return i == 1 ? Reply::error("TRYAGAIN Multiple keys request during rehashing of slot") : ok();
    });
    const auto s = plan.finish_round();
    CHECK(s.back_off);
    CHECK_FALSE(s.refresh_topology);
    CHECK(s.retries == 1);
    auto b2 = plan.next_round(three_shards());
    REQUIRE(b2.size() == 1);
    CHECK(b2[0].node == local(7001));
    CHECK(items(b2[0]) == Items{{1, false}});
  }
  SECTION("LOADING") {
    answer_all(plan, b1, [](std::size_t i) {
      return i == 2 ? Reply::error("LOADING Redis is loading the dataset in memory") : ok();
    });
    const auto s = plan.finish_round();
    CHECK(s.back_off);
    CHECK_FALSE(s.refresh_topology);
    CHECK(plan.last_outcome(2) == Outcome::Loading);
  }
  SECTION("CLUSTERDOWN") {
    answer_all(plan, b1, [](std::size_t i) {
      return i == 0 ? Reply::error("CLUSTERDOWN The cluster is down") : ok();
    });
    const auto s = plan.finish_round();
    CHECK(s.back_off);
    CHECK(s.refresh_background);
    CHECK_FALSE(s.refresh_topology);
    CHECK(s.retries == 1);
    CHECK(plan.last_outcome(0) == Outcome::ClusterDown);
  }
  SECTION("READONLY after a failover: refresh and re-route") {
    answer_all(plan, b1, [](std::size_t i) {
      return i == 0 ? Reply::error("READONLY You can't write against a read only replica.") : ok();
    });
    const auto s = plan.finish_round();
    CHECK(s.refresh_topology);
    CHECK_FALSE(s.back_off);
    // The refreshed topology: 7003 took over 0-5460.
    const Topology after = three_shards().with_slot_moved(0, local(7003));
    auto b2 = plan.next_round(after);
    REQUIRE(b2.size() == 1);
    CHECK(b2[0].node == local(7003));
  }
}

TEST_CASE("a connection error re-routes the unanswered rest after a refresh", "[pipeline_plan]") {
  Plan plan;
  for (std::uint16_t slot : {0, 1, 6000, 2, 3}) plan.add({.slot = slot});
  auto b1 = plan.next_round(three_shards());
  REQUIRE(b1.size() == 2);
  CHECK(items(b1[0]) == Items{{0, false}, {1, false}, {3, false}, {4, false}});

  // 7000 answered the first command, then its connection broke.
  plan.set_reply(0, ok("first"));
  plan.fail_node(local(7000), std::make_error_code(std::errc::connection_reset));
  plan.set_reply(2, ok("other node"));
  const auto s1 = plan.finish_round();
  CHECK(s1.refresh_topology);
  CHECK(s1.back_off);
  CHECK(s1.retries == 3);
  CHECK(s1.suspects == std::vector<NodeAddress>{local(7000)});
  CHECK(plan.status(0) == Plan::Status::Done);
  CHECK(plan.last_outcome(1) == Outcome::ConnectionError);
  CHECK(plan.error(1) == std::errc::connection_reset);

  // After the refresh, 7003 serves the first shard: the retry follows the new topology, in order.
  const Topology refreshed = three_shards().with_slot_moved(0, local(7003)).with_slot_moved(1, local(7003))
                                 .with_slot_moved(2, local(7003)).with_slot_moved(3, local(7003));
  auto b2 = plan.next_round(refreshed);
  REQUIRE(b2.size() == 1);
  CHECK(b2[0].node == local(7003));
  CHECK(items(b2[0]) == Items{{1, false}, {3, false}, {4, false}});
  answer_all(plan, b2, [](std::size_t i) { return Reply::integer(static_cast<long long>(i)); });
  CHECK(plan.finish_round().done);
  const auto r = plan.take_replies();
  CHECK(r[0] == ok("first"));
  CHECK(r[1] == Reply::integer(1));
  CHECK(r[2] == ok("other node"));
  CHECK(r[3] == Reply::integer(3));
  CHECK(r[4] == Reply::integer(4));
}

TEST_CASE("a command never reported counts as a connection error", "[pipeline_plan]") {
  Plan plan;
  plan.add({.slot = 0});
  plan.add({.slot = 1});
  (void)plan.next_round(three_shards());
  plan.set_reply(0, ok());
  const auto s = plan.finish_round();
  CHECK(s.refresh_topology);
  CHECK(s.retries == 1);
  CHECK(plan.last_outcome(1) == Outcome::ConnectionError);
  CHECK(plan.error(1) == make_error_code(errc::connection_closed));
}

TEST_CASE("an uncovered slot waits for a refresh", "[pipeline_plan]") {
  Plan plan;
  plan.add({.slot = 10});    // uncovered in the first snapshot
  plan.add({.slot = 6000});
  auto b1 = plan.next_round(missing_first_shard());
  REQUIRE(b1.size() == 1);
  CHECK(items(b1[0]) == Items{{1, false}});
  plan.set_reply(1, ok());
  const auto s1 = plan.finish_round();
  CHECK(s1.refresh_background);  // asked for, not waited on: rate-limited per client
  CHECK_FALSE(s1.refresh_topology);
  CHECK(s1.back_off);
  CHECK(s1.retries == 1);
  CHECK(s1.suspects.empty());
  CHECK(plan.last_outcome(0) == Outcome::SlotNotCovered);

  // Every pending command uncovered: an empty round, still not done.
  auto b2 = plan.next_round(missing_first_shard());
  CHECK(b2.empty());
  CHECK_FALSE(plan.finish_round().done);

  auto b3 = plan.next_round(three_shards());
  REQUIRE(b3.size() == 1);
  CHECK(b3[0].node == local(7000));
  plan.set_reply(0, ok());
  CHECK(plan.finish_round().done);
}

TEST_CASE("TRYAGAIN is retried until the caller gives up; only redirects count", "[pipeline_plan]") {
  Plan plan({.max_redirects = 2});
  plan.add({.slot = 0});
  plan.add({.slot = 6000});
  // Far more rounds than max_redirects: a transient fault spends the deadline, not a count.
  for (int round = 1; round <= 10; ++round) {
    auto b = plan.next_round(three_shards());
    REQUIRE(b.size() == (round == 1 ? 2U : 1U));
    answer_all(plan, b, [](std::size_t i) {
      return i == 0 ? Reply::error("TRYAGAIN Multiple keys request during rehashing of slot")
                    : Reply::integer(6);
    });
    const auto s = plan.finish_round();
    CHECK_FALSE(s.done);
    CHECK(s.retries == 1);
    CHECK(s.redirects == 0);
    CHECK(s.back_off);
  }
  CHECK(plan.rounds() == 10);
  // The caller's deadline passed.
  CHECK(plan.give_up() == 1);
  CHECK(plan.done());
  CHECK(plan.next_round(three_shards()).empty());
  CHECK(plan.status(0) == Plan::Status::Exhausted);
  CHECK(plan.last_outcome(0) == Outcome::TryAgain);
  CHECK(plan.reply(0).str().starts_with("TRYAGAIN"));
  CHECK(plan.status(1) == Plan::Status::Done);
  CHECK(plan.last_node(0) == local(7000));

  SECTION("MOVED past max_redirects is exhausted") {
    Plan moved({.max_redirects = 3});  // three sends
    moved.add({.slot = 0});
    for (int round = 1; round <= 3; ++round) {
      auto b = moved.next_round(three_shards());
      REQUIRE(b.size() == 1);
      moved.set_reply(0, Reply::error(round % 2 ? "MOVED 0 127.0.0.1:7001" : "MOVED 0 127.0.0.1:7000"));
      const auto s = moved.finish_round();
      CHECK(s.done == (round == 3));
      CHECK(s.redirects == (round < 3 ? 1U : 0U));
      CHECK(s.exhausted == (round == 3 ? 1U : 0U));
    }
    CHECK(moved.status(0) == Plan::Status::Exhausted);
    CHECK(moved.last_outcome(0) == Outcome::Moved);
  }
  SECTION("max_redirects 0: no redirect is followed") {
    Plan once({.max_redirects = 0});
    once.add({.slot = 0});
    (void)once.next_round(three_shards());
    once.set_reply(0, Reply::error("MOVED 0 127.0.0.1:7001"));
    const auto s = once.finish_round();
    CHECK(s.done);
    CHECK(s.exhausted == 1);
    CHECK(s.moved.size() == 1);  // still worth applying
    CHECK(once.status(0) == Plan::Status::Exhausted);
    CHECK(once.last_outcome(0) == Outcome::Moved);
  }
  SECTION("give_up while a round is open is a logic error") {
    Plan open;
    open.add({.slot = 0});
    (void)open.next_round(three_shards());
    CHECK_THROWS_AS(open.give_up(), std::logic_error);
  }
}

TEST_CASE("a lost answer: unwritten and read-only commands are resent, written writes per policy", "[pipeline_plan]") {
  const bool retry_writes = GENERATE(true, false);
  Plan plan({.retry_unknown_writes = retry_writes});
  plan.add({.slot = 0});                      // a write, written, then the connection broke
  plan.add({.slot = 1, .read_only = true});   // a read, written
  plan.add({.slot = 6000});                   // a write that never left (written = false)
  auto b = plan.next_round(three_shards());
  REQUIRE(b.size() == 2);
  plan.set_error(0, std::make_error_code(std::errc::connection_reset), true);
  plan.set_error(1, make_error_code(errc::timeout), true);
  plan.set_error(2, std::make_error_code(std::errc::connection_refused), false);
  const auto s = plan.finish_round();
  CHECK(plan.last_outcome(1) == Outcome::Timeout);
  CHECK(plan.status(1) == Plan::Status::Pending);
  CHECK(plan.status(2) == Plan::Status::Pending);
  CHECK(s.suspects.size() == 2);
  if (retry_writes) {
    CHECK(plan.status(0) == Plan::Status::Pending);
    CHECK(s.retries == 3);
    CHECK(s.exhausted == 0);
  } else {
    CHECK(plan.status(0) == Plan::Status::Exhausted);  // its outcome is unknown: the caller decides
    CHECK(plan.last_outcome(0) == Outcome::ConnectionError);
    CHECK(plan.error(0) == std::errc::connection_reset);
    CHECK(s.retries == 2);
    CHECK(s.exhausted == 1);
  }
  CHECK(s.refresh_topology);
  CHECK(s.back_off);
}

TEST_CASE("replica reads fall back to the primary when the replica fails", "[pipeline_plan]") {
  Plan plan;
  plan.add({.slot = 0, .read_only = true});
  plan.add({.slot = 1});  // a write: always the primary
  plan.add({.slot = 2, .read_only = true});
  const auto pick = [](const Shard& s) { return s.replicas.empty() ? s.primary : s.replicas.front(); };

  auto b1 = plan.next_round(three_shards(), pick);
  REQUIRE(b1.size() == 2);
  CHECK(b1[0].node == local(7003));
  CHECK(b1[0].replica_read);
  CHECK(items(b1[0]) == Items{{0, false}, {2, false}});
  CHECK(b1[1].node == local(7000));
  CHECK_FALSE(b1[1].replica_read);

  plan.set_reply(0, Reply::error("LOADING Redis is loading the dataset in memory"));
  plan.set_reply(2, Reply::string("from replica"));
  plan.set_reply(1, ok());
  const auto s1 = plan.finish_round();
  CHECK(s1.back_off);

  auto b2 = plan.next_round(three_shards(), pick);
  REQUIRE(b2.size() == 1);
  CHECK(b2[0].node == local(7000));  // the replica failed this command: the primary now
  CHECK_FALSE(b2[0].replica_read);
  plan.set_reply(0, Reply::string("from primary"));
  CHECK(plan.finish_round().done);

  SECTION("without a picker, read-only commands go to the primary") {
    Plan p2;
    p2.add({.slot = 0, .read_only = true});
    auto b = p2.next_round(three_shards());
    CHECK(b[0].node == local(7000));
  }
}

TEST_CASE("on a chosen node READONLY and MASTERDOWN are answers", "[pipeline_plan]") {
  Plan plan;
  plan.add({.node = local(7003)});
  plan.add({.node = local(7004)});
  auto b = plan.next_round(three_shards());
  plan.set_reply(0, Reply::error("READONLY You can't write against a read only replica."));
  plan.set_reply(1, Reply::error("MASTERDOWN Link with MASTER is down"));
  CHECK(plan.finish_round().done);
  CHECK(plan.status(0) == Plan::Status::Done);
  CHECK(plan.status(1) == Plan::Status::Done);
}

TEST_CASE("PipelinePlan refuses misuse", "[pipeline_plan]") {
  Plan plan;
  CHECK_THROWS_AS(plan.add({}), UsageError);
  CHECK_THROWS_AS(plan.add({.slot = 16384}), UsageError);
  CHECK_THROWS_AS(plan.finish_round(), std::logic_error);
  plan.add({.slot = 0});
  plan.add({.slot = 6000});
  auto b = plan.next_round(three_shards());
  CHECK_THROWS_AS(plan.next_round(three_shards()), std::logic_error);
  CHECK_THROWS_AS(plan.add({.slot = 0}), UsageError);
  CHECK_THROWS_AS(plan.set_reply(7, ok()), std::out_of_range);
  plan.set_reply(0, ok());
  CHECK_THROWS_AS(plan.set_reply(0, ok()), std::logic_error);  // reported twice
  plan.set_reply(1, ok());
  CHECK(plan.finish_round().done);
  CHECK_THROWS_AS(plan.set_reply(0, ok()), std::logic_error);  // no round open

  Plan empty;
  CHECK(empty.done());
  CHECK(empty.next_round(three_shards()).empty());
}
