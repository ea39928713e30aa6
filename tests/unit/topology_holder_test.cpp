// TopologyHolder (detail/cluster/topology_holder.hpp) with a scripted fetch: the swap hook sees every
// new snapshot with the one before it (ClusterClient breaks a demoted primary's connection there),
// and is not called for the first map, a failed fetch, or a patched slot. MOVED replies patch at
// once and make a full refresh due only sometimes (moved(): after `steps`, backing off while
// they keep coming), never while one runs.
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/resp/reply.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <boost/fiber/operations.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

using namespace fibredis;
using namespace std::chrono_literals;

namespace {

Reply node(std::uint16_t port) {
  return Reply::array({Reply::string("127.0.0.1"), Reply::integer(port), Reply::string("id")});
}

Topology one_shard(std::uint16_t primary) {
  return Topology::from_cluster_slots(
      Reply::array({Reply::array({Reply::integer(0), Reply::integer(16383), node(primary)})}),
      NodeAddress{"127.0.0.1", primary}, {});
}

}  // namespace

TEST_CASE("TopologyHolder tells the swap hook what changed", "[topology_holder]") {
  Runtime rt;
  rt.run([] {
    std::vector<std::uint16_t> script{7000, 0, 7003};  // 0: the fetch fails
    std::size_t next = 0;
    std::vector<std::pair<std::uint16_t, std::uint16_t>> swaps;  // (primary before, primary after)
    TopologyHolder holder(
        [&](Deadline, Topology& out) -> std::error_code {
          const std::uint16_t port = script.at(next++);
          if (port == 0) return make_error_code(errc::connection_closed);
          out = one_shard(port);
          return {};
        },
        0ms,
        [&](const Topology& before, const Topology& after) {
          swaps.emplace_back(before.primaries().at(0).port, after.primaries().at(0).port);
        });
    CHECK_FALSE(holder.refresh_now(deadline_after(1s)));  // the first map: nothing before it
    CHECK(swaps.empty());
    holder.move_slot(5, NodeAddress{"127.0.0.1", 7001});  // a patch is not a refresh
    CHECK(swaps.empty());
    CHECK(holder.refresh_now(deadline_after(1s)) == errc::connection_closed);
    CHECK(swaps.empty());
    CHECK(holder.version() == 1);
    CHECK_FALSE(holder.refresh_now(deadline_after(1s)));
    REQUIRE(swaps.size() == 1);
    CHECK(swaps[0] == std::pair<std::uint16_t, std::uint16_t>{7000, 7003});
    CHECK(holder.version() == 2);
    CHECK(holder.refreshes() == 3);
    CHECK_FALSE(holder.refreshing());
    CHECK(holder.last_refresh() > Clock::time_point{});
  });
}

namespace {

// Two shards: 0-8191 on `a`, 8192-16383 on `b`.
Topology two_shards(std::uint16_t a, std::uint16_t b) {
  return Topology::from_cluster_slots(
      Reply::array({Reply::array({Reply::integer(0), Reply::integer(8191), node(a)}),
                    Reply::array({Reply::integer(8192), Reply::integer(16383), node(b)})}),
      NodeAddress{"127.0.0.1", a}, {});
}

}  // namespace

TEST_CASE("TopologyHolder: MOVEDs patch at once, make a refresh due after `steps`, then back off",
          "[topology_holder]") {
  Runtime rt;
  rt.run([] {
    int fetches = 0;
    TopologyHolder holder(
        [&](Deadline, Topology& out) -> std::error_code {
          ++fetches;
          out = two_shards(7000, 7001);
          return {};
        },
        10ms, {}, TopologyHolder::MovedPolicy{.steps = 3, .max_interval = 80ms});
    REQUIRE_FALSE(holder.refresh_now(deadline_after(1s)));
    const NodeAddress b{"127.0.0.1", 7001};
    // The first two MOVEDs of an episode only patch; the third makes a refresh due at once.
    CHECK_FALSE(holder.moved(1, b));
    CHECK(holder.current()->shard_for_slot(1)->primary == b);  // patched before any refresh
    CHECK_FALSE(holder.moved(2, b));
    CHECK(holder.moved(3, b));
    CHECK_FALSE(holder.refresh(holder.version(), deadline_after(1s)));
    CHECK(holder.current()->shard_for_slot(1)->primary.port == 7000);  // the fresh map won
    // Right after it, `steps` more MOVEDs wait for the back-off (twice the base, 20 ms).
    for (std::uint16_t s = 10; s < 16; ++s) CHECK_FALSE(holder.moved(s, b));
    boost::this_fiber::sleep_for(25ms);
    CHECK(holder.moved(20, b));
    CHECK_FALSE(holder.refresh(holder.version(), deadline_after(1s)));

    // A stream of MOVEDs for 600 ms (a reshard): refreshes stay few, however many MOVEDs come.
    const std::uint64_t before = holder.moved_refreshes();
    const auto end = Clock::now() + 600ms;
    std::uint16_t slot = 100;
    while (Clock::now() < end) {
      if (holder.moved(slot++, b)) CHECK_FALSE(holder.refresh(holder.version(), deadline_after(1s)));
      boost::this_fiber::sleep_for(1ms);
    }
    const std::uint64_t during = holder.moved_refreshes() - before;
    // The back-off is at 40 ms and doubles to 80 ms: about 1 + 600 / 80; every third MOVED would
    // have made hundreds.
    CHECK(during >= 5);
    CHECK(during <= 12);
    CHECK(holder.moved_replies() > 100);
    CHECK(fetches == static_cast<int>(holder.refreshes()));

    // After a quiet spell longer than max_interval, a new episode: its first refresh is not held
    // back; and a MOVED to a node the map does not have as a primary makes one due by itself.
    boost::this_fiber::sleep_for(100ms);
    CHECK(holder.moved(5000, NodeAddress{"127.0.0.1", 7005}));
    CHECK(holder.current()->shard_for_slot(5000)->primary.port == 7005);
  });
}

TEST_CASE("TopologyHolder: no MOVED makes a refresh due while one is running", "[topology_holder]") {
  Runtime rt;
  rt.run([] {
    bool slow = false;
    TopologyHolder holder(
        [&](Deadline, Topology& out) -> std::error_code {
          if (slow) boost::this_fiber::sleep_for(50ms);
          out = two_shards(7000, 7001);
          return {};
        },
        0ms, {}, TopologyHolder::MovedPolicy{.steps = 1, .max_interval = 1000ms});
    REQUIRE_FALSE(holder.refresh_now(deadline_after(1s)));
    slow = true;
    Fiber refresher([&] { holder.refresh_now(deadline_after(1s)); });
    boost::this_fiber::yield();
    REQUIRE(holder.refreshing());
    CHECK_FALSE(holder.moved(1, NodeAddress{"127.0.0.1", 7009}));  // unknown owner, steps 1: still not
    CHECK(holder.current()->shard_for_slot(1)->primary.port == 7009);
    refresher.join();
    CHECK(holder.moved_refreshes() == 0);
  });
}

TEST_CASE("TopologyHolder: refreshes that change nothing space out; a change brings the pace back", "[topology_holder]") {
  Runtime rt;
  rt.run([] {
    std::uint16_t second = 7001;
    TopologyHolder holder(
        [&](Deadline, Topology& out) -> std::error_code {
          out = two_shards(7000, second);
          return {};
        },
        10ms, {}, {}, 80ms);
    REQUIRE_FALSE(holder.refresh_now(deadline_after(1s)));
    // Callers asking again and again while the cluster has not changed (a dead primary not yet
    // failed over): the gap doubles from 10 ms to 80 ms, so 600 ms cost about 3 + 600 / 80.
    const auto end = Clock::now() + 600ms;
    const std::uint64_t before = holder.refreshes();
    while (Clock::now() < end) CHECK_FALSE(holder.refresh_now(deadline_after(1s)));
    const std::uint64_t unchanged = holder.refreshes() - before;
    CHECK(unchanged >= 4);
    CHECK(unchanged <= 13);  // 60 at a steady 10 ms
    // The failover happens: the next refresh (at most 80 ms later) shows it, and the one after
    // it may follow after the base gap again.
    second = 7004;
    REQUIRE_FALSE(holder.refresh_now(deadline_after(1s)));
    CHECK(holder.current()->shard_for_slot(9000)->primary.port == 7004);
    const auto t0 = Clock::now();
    REQUIRE_FALSE(holder.refresh_now(deadline_after(1s)));
    CHECK(Clock::now() - t0 < 60ms);
  });
}
