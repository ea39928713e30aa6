// ClusterClient's manual flushing: with auto-flush off, commands for every node queue until
// flush(); then each node's queue leaves in few writes and every caller gets its reply. The
// client's own topology queries are not held back meanwhile.
#include <catch2/catch.hpp>

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/fibredis.hpp>

#include "support/servers.hpp"

#include <boost/fiber/operations.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;

TEST_CASE("ClusterClient manual flush: 3,000 queued SETs over all nodes complete on flush()", "[cluster][shared]") {
  const auto& c = fibredis::test::cluster();
  fibredis::Runtime rt;
  rt.run([&] {
    fibredis::ClusterOptions o;
    o.startup_nodes.push_back({c.host, c.ports[0]});
    o.command_timeout = 10s;
    fibredis::ClusterClient rc(o);
    rc.set_auto_flush(false);
    CHECK_FALSE(rc.auto_flush());
    int done = 0;
    std::vector<fibredis::Fiber> fibers;
    for (int i = 0; i < 3000; ++i)
      fibers.emplace_back([&, i] {
        rc.set("cflush:" + std::to_string(i), std::to_string(i));
        ++done;
      });
    boost::this_fiber::sleep_for(100ms);
    CHECK(done == 0);  // nothing written yet
    rc.refresh_topology();  // the client's own queries still go out
    CHECK(done == 0);
    const auto before = rc.stats();
    rc.flush();
    for (auto& f : fibers) f.join();
    CHECK(done == 3000);
    const auto after = rc.stats();
    CHECK(after.writes - before.writes <= 30);  // a few writes per node, not one per command
    rc.set_auto_flush(true);
    auto values = rc.mget_nonatomic({"cflush:0", "cflush:1500", "cflush:2999"});
    REQUIRE(values.size() == 3);
    CHECK(values[0] == "0");
    CHECK(values[1] == "1500");
    CHECK(values[2] == "2999");
  });
}
