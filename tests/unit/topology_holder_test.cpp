// TopologyHolder (detail/cluster/topology_holder.hpp) with a scripted fetch: the swap hook sees every
// new snapshot with the one before it (ClusterClient breaks a demoted primary's connection there),
// and is not called for the first map, a failed fetch, or a patched slot.
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/resp/reply.hpp>
#include <fibredis/runtime/runtime.hpp>

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
