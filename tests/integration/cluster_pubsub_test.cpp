// Pub/sub on a real 3 + 3 cluster: ClusterPubSub subscribers on 100 channels over all slots get
// exactly what was published, a pattern only what matches, replica subscriptions with
// read_from_replicas; sharded pub/sub values, then (fresh clusters) a shard subscriber across a
// `redis-cli --cluster reshard` that moves its channel's slot and a CLUSTER FAILOVER of its
// shard, keyspace events across a reshard and a failover that makes a new primary, and a
// ClusterPubSub whose node is killed (kill -9) and which carries on at the promoted replica.
#include <catch2/catch.hpp>

#include <fibredis/fibredis.hpp>

#include "support/cluster_ops.hpp"
#include "support/helpers.hpp"
#include "support/pubsub_inbox.hpp"
#include "support/servers.hpp"

#include <boost/fiber/operations.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using fibredis::ClusterClient;
using fibredis::ClusterPubSub;
using fibredis::Message;
using fibredis::MessageKind;
using fibredis::NodeAddress;
using fibredis::Runtime;
namespace test = fibredis::test;
using SteadyClock = std::chrono::steady_clock;

namespace {

long long ms(SteadyClock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// A channel name whose slot the primary on `port` serves.
std::string channel_on(ClusterClient& rc, std::uint16_t port, const std::string& prefix) {
  for (int i = 0; i < 100'000; ++i) {
    std::string ch = prefix + std::to_string(i);
    if (rc.get_node_from_key(ch) == NodeAddress{"127.0.0.1", port}) return ch;
  }
  FAIL("no channel on port " << port);
  return {};
}

// The `count` lowest slots the primary on `port` serves: the ones `redis-cli --cluster reshard
// --cluster-slots count` moves away from it.
std::set<std::uint16_t> lowest_slots_of(ClusterClient& rc, std::uint16_t port, std::size_t count) {
  std::set<std::uint16_t> out;
  const auto topo = rc.topology();
  for (std::uint16_t s = 0; s < fibredis::kSlotCount && out.size() < count; ++s) {
    const fibredis::Shard* shard = topo->shard_for_slot(s);
    if (shard != nullptr && shard->primary == NodeAddress{"127.0.0.1", port}) out.insert(s);
  }
  return out;
}

// A name starting with `prefix` whose slot is one of `slots`, past the first few of them (so the
// reshard is already under way when it reaches it).
std::string name_in(const std::set<std::uint16_t>& slots, const std::string& prefix) {
  REQUIRE(slots.size() >= 20);
  const std::uint16_t after = *std::next(slots.begin(), 10);
  for (int i = 0; i < 1'000'000; ++i) {
    std::string name = prefix + std::to_string(i);
    const std::uint16_t s = fibredis::key_slot(name);
    if (s > after && slots.count(s) != 0) return name;
  }
  FAIL("no name in the slots");
  return {};
}

// Publishes numbered messages to one channel (SPUBLISH, or PUBLISH with `sharded` false) every
// 5 ms until stopped, remembering when each publish started and whether it was acknowledged.
struct ShardPublisher {
  ClusterClient& rc;
  std::string channel;
  bool sharded = true;
  std::vector<SteadyClock::time_point> started;
  std::vector<bool> acked;
  bool stop = false;
  fibredis::Fiber fiber;

  ShardPublisher(ClusterClient& c, std::string ch, bool shard_channel = true)
      : rc(c), channel(std::move(ch)), sharded(shard_channel) {
    fiber = fibredis::Fiber([this] {
      while (!stop) {
        const std::size_t i = started.size();
        started.push_back(SteadyClock::now());
        acked.push_back(false);
        try {
          if (sharded) {
            rc.spublish(channel, std::to_string(i));
          } else {
            rc.publish(channel, std::to_string(i));
          }
          acked[i] = true;
        } catch (const fibredis::Error&) {
          // Counted below: an unacknowledged publish may or may not have been delivered.
        }
        boost::this_fiber::sleep_for(5ms);
      }
    });
  }
  void finish() {
    stop = true;
    if (fiber.joinable()) fiber.join();
  }
};

}  // namespace

TEST_CASE("ClusterPubSub: 100 channels over all slots, each subscriber gets exactly its messages", "[pubsub][cluster]") {
  const auto& c = test::cluster();
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(c));
    std::vector<std::unique_ptr<ClusterPubSub>> subs;
    std::set<NodeAddress> nodes;
    std::set<std::uint16_t> slots;
    for (int i = 0; i < 100; ++i) {
      const std::string ch = "cps:" + std::to_string(i * 7919);  // spread over the slot space
      slots.insert(fibredis::key_slot(ch));
      subs.push_back(std::make_unique<ClusterPubSub>(rc));
      subs.back()->subscribe(ch);
      // The seed rule: the subscriber sits on the channel's slot owner.
      CHECK(subs.back()->address() == rc.get_node_from_key(ch).to_string());
      nodes.insert(rc.get_node_from_key(ch));
    }
    CHECK(nodes.size() == 3);   // every primary serves some of them
    CHECK(slots.size() >= 95);  // (nearly) all distinct slots
    for (auto& s : subs) {
      auto conf = s->get_message(2s);
      REQUIRE(conf);
      CHECK(conf->kind == MessageKind::Subscribe);
    }
    // i % 5 + 1 messages to channel i; PUBLISH is routed like the subscription, so its count
    // (the subscribers on the node that took it) is exactly 1.
    std::size_t published = 0;
    for (int i = 0; i < 100; ++i) {
      const std::string ch = *subs[i]->channels().begin();
      for (int k = 0; k < i % 5 + 1; ++k, ++published) CHECK(rc.publish(ch, ch + "#" + std::to_string(k)) == 1);
    }
    std::size_t received = 0;
    for (int i = 0; i < 100; ++i) {
      const std::string ch = *subs[i]->channels().begin();
      for (int k = 0; k < i % 5 + 1; ++k) {
        auto m = subs[i]->get_message(2s);
        REQUIRE(m);
        CHECK(m->kind == MessageKind::Message);
        CHECK(m->channel == ch);
        CHECK(m->data == ch + "#" + std::to_string(k));
        ++received;
      }
      CHECK_FALSE(subs[i]->get_message(0ms));  // nothing more was queued
    }
    CHECK(received == published);
    CHECK(published == 300);
    boost::this_fiber::sleep_for(100ms);
    for (auto& s : subs) CHECK_FALSE(s->get_message(0ms));  // and nothing late
  });
}

TEST_CASE("ClusterPubSub: a pattern gets matching channels published on every node, nothing else", "[pubsub][cluster]") {
  const auto& c = test::cluster();
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(c));
    ClusterPubSub ps = rc.pubsub();
    ps.psubscribe("cpat.news.*");
    REQUIRE(ps.get_message(2s));
    test::Inbox in(ps);
    std::set<NodeAddress> publish_nodes;
    std::set<std::string> expected;
    for (int i = 0; i < 30; ++i) {
      const std::string match = "cpat.news." + std::to_string(i), other = "cpat.sport." + std::to_string(i);
      publish_nodes.insert(rc.get_node_from_key(match));
      expected.insert(match);
      rc.publish(match, "m" + std::to_string(i));
      rc.publish(other, "o" + std::to_string(i));
    }
    CHECK(publish_nodes.size() == 3);  // published through every primary: the bus broadcasts them
    REQUIRE(test::fiber_wait_until([&] { return in.data_count() >= 30; }, 5s));
    boost::this_fiber::sleep_for(200ms);
    in.stop();
    CHECK(in.data_count() == 30);
    std::set<std::string> got;
    for (const auto& [ch, v] : in.data) {
      got.insert(ch);
      CHECK(v.size() == 1);
    }
    CHECK(got == expected);
  });
}

TEST_CASE("ClusterPubSub: with read_from_replicas the subscriber sits on a replica of the slot", "[pubsub][cluster]") {
  const auto& c = test::cluster();
  Runtime rt;
  rt.run([&] {
    fibredis::ClusterOptions o = test::options_for(c);
    o.read_from_replicas = true;
    ClusterClient rc(o);
    ClusterPubSub ps = rc.pubsub();
    ps.subscribe("crep:chan");
    REQUIRE(ps.get_message(2s));
    const auto topo = rc.topology();
    const fibredis::Shard* shard = topo->shard_for_slot(fibredis::key_slot("crep:chan"));
    REQUIRE(shard != nullptr);
    std::set<std::string> replicas;
    for (const auto& r : shard->replicas) replicas.insert(r.to_string());
    CHECK(replicas.count(ps.address()) == 1);
    rc.publish("crep:chan", "via the bus");
    auto m = ps.get_message(2s);
    REQUIRE(m);
    CHECK(m->data == "via the bus");
    CHECK(m->node == ps.address());
  });
}

TEST_CASE("ShardedPubSub: channels on every shard get exactly their SPUBLISHed messages", "[pubsub][cluster]") {
  const auto& c = test::cluster();
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(test::options_for(c));
    fibredis::ShardedPubSub ps = rc.sharded_pubsub();
    std::vector<std::string> chans;
    std::set<NodeAddress> nodes;
    for (int i = 0; i < 30; ++i) chans.push_back("shp:" + std::to_string(i * 104729));
    ps.ssubscribe(chans);
    for (const auto& ch : chans) {
      nodes.insert(rc.get_node_from_key(ch));
      CHECK(ps.node_of(ch) == rc.get_node_from_key(ch));
    }
    CHECK(nodes.size() == 3);
    test::Inbox in(ps);
    REQUIRE(test::fiber_wait_until([&] { return in.count(MessageKind::SSubscribe) == 30; }, 5s));
    for (const auto& ch : chans)
      for (int k = 0; k < 3; ++k) CHECK(ps.spublish(ch, ch + "/" + std::to_string(k)) == 1);
    REQUIRE(test::fiber_wait_until([&] { return in.data_count() >= 90; }, 5s));
    boost::this_fiber::sleep_for(100ms);
    ps.sunsubscribe({chans[0]});
    REQUIRE(test::fiber_wait_until([&] { return in.count(MessageKind::SUnsubscribe) == 1; }, 5s));
    CHECK(rc.spublish(chans[0], "after") == 0);
    boost::this_fiber::sleep_for(100ms);
    in.stop();
    CHECK(in.data_count() == 90);
    for (const auto& ch : chans) {
      REQUIRE(in.data[ch].size() == 3);
      for (int k = 0; k < 3; ++k) CHECK(in.data[ch][k] == ch + "/" + std::to_string(k));
    }
    CHECK(in.gaps.empty());
    CHECK(ps.channels().size() == 29);
  });
}

TEST_CASE("ShardedPubSub: follows its channel across a redis-cli reshard and a CLUSTER FAILOVER of its shard",
          "[pubsub][cluster][faults]") {
  test::FreshCluster cluster;
  const test::ClusterInfo& c = cluster.info;
  const std::uint16_t from = c.ports[0], to = c.ports[1];
  const std::uint16_t replica = test::replica_of(c, to);
  Runtime rt;
  rt.run([&] {
    fibredis::ClusterOptions o = test::options_for(c);
    o.connect_timeout = 1000ms;
    ClusterClient rc(o);
    // The channel sits in one of the 200 slots the reshard moves, past its first few.
    const std::string ch = name_in(lowest_slots_of(rc, from, 200), "moving:");
    fibredis::ShardedPubSub ps = rc.sharded_pubsub();
    ps.ssubscribe(ch);
    test::Inbox in(ps);
    REQUIRE(test::fiber_wait_until([&] { return in.count(MessageKind::SSubscribe) == 1; }, 5s));
    ShardPublisher pub(rc, ch);
    boost::this_fiber::sleep_for(300ms);

    // 1. `redis-cli --cluster reshard` moves 200 slots, the channel's among them, to another
    // primary (the server sends `sunsubscribe` when it loses the slot).
    const auto t_move = SteadyClock::now();
    bool moved = false;
    std::string reshard_out;
    {
      test::OffThread op([&] { reshard_out = test::reshard(from, to, 200, moved); });
      REQUIRE(op.wait(90s));
    }
    INFO(reshard_out);
    REQUIRE(moved);
    REQUIRE(test::fiber_wait_until([&] { return !in.gaps.empty(); }, 10s));
    CHECK(ps.node_of(ch) == NodeAddress{"127.0.0.1", to});
    boost::this_fiber::sleep_for(500ms);

    // 2. Its new shard fails over (the primary becomes a replica, its replica the primary).
    const std::size_t gaps_before = in.gaps.size();
    const auto t_failover = SteadyClock::now();
    bool flipped = false;
    {
      test::OffThread op([&] { flipped = test::manual_failover(replica, to); });
      REQUIRE(op.wait(60s));
    }
    REQUIRE(flipped);
    REQUIRE(test::fiber_wait_until([&] { return ps.node_of(ch) == NodeAddress{"127.0.0.1", replica}; }, 15s));
    REQUIRE(test::fiber_wait_until([&] { return in.gaps.size() > gaps_before && ps.moving() == 0; }, 15s));
    boost::this_fiber::sleep_for(500ms);
    pub.finish();
    boost::this_fiber::sleep_for(300ms);
    in.stop();

    const Message& last_gap = in.gaps.back();
    std::set<int> got;
    std::size_t dup = 0;
    for (const auto& d : in.data[ch]) dup += got.insert(std::stoi(d)).second ? 0 : 1;
    std::size_t missing = 0, after = 0, unacked = 0, in_gaps = 0;
    for (std::size_t i = 0; i < pub.started.size(); ++i) {
      const bool arrived = got.count(static_cast<int>(i)) != 0;
      unacked += pub.acked[i] ? 0 : 1;
      bool during = false;
      for (const auto& g : in.gaps) during = during || (pub.started[i] >= g.since - 100ms && pub.started[i] <= g.until);
      in_gaps += during ? 1 : 0;
      if (pub.started[i] > last_gap.until && pub.acked[i]) {
        ++after;
        CHECK(arrived);  // everything published after the last re-subscription arrives
      }
      if (!arrived && pub.acked[i]) ++missing;
    }
    CHECK(dup == 0);
    CHECK(after > 20);
    CHECK(ps.moves() >= 2);
    for (const auto& g : in.gaps) {
      CHECK(g.channels == std::vector<std::string>{ch});
      CHECK(g.until >= g.since);
    }
    std::cout << "[sharded] redis-cli reshard of 200 slots at +0 ms, failover at +" << ms(t_failover - t_move) << " ms; "
              << in.gaps.size() << " gap events:";
    for (const auto& g : in.gaps) std::cout << " [" << g.data << " " << ms(g.until - g.since) << " ms @" << g.node << "]";
    std::cout << "\n[sharded] " << pub.started.size() << " published (" << unacked << " unacknowledged), "
              << in_gaps << " during the gaps, " << missing << " acknowledged but not received, " << after
              << " after the last gap (all received)\n";
  });
}

TEST_CASE("KeyspaceEvents: events from every primary, across a redis-cli reshard and a failover",
          "[pubsub][cluster][faults]") {
  test::FreshCluster cluster;
  const test::ClusterInfo& c = cluster.info;
  const std::uint16_t from = c.ports[0], to = c.ports[1], failing = c.ports[2];
  const std::uint16_t promoted = test::replica_of(c, failing);
  Runtime rt;
  rt.run([&] {
    fibredis::ClusterOptions o = test::options_for(c);
    o.connect_timeout = 1000ms;
    ClusterClient rc(o);
    fibredis::KeyspaceOptions ko;
    ko.configure = "K$";  // keyspace channel, string commands
    fibredis::KeyspaceEvents ev = rc.keyspace_events("__keyspace@0__:ks:*", ko);
    CHECK(ev.nodes().size() == 3);
    test::Inbox in(ev);
    REQUIRE(test::fiber_wait_until([&] { return ev.subscribed(); }, 5s));
    CHECK(in.count(MessageKind::PSubscribe) == 3);

    // A key in a slot that will move, then `redis-cli --cluster reshard` of 200 slots (that one
    // among them) and a failover of another shard.
    const std::string moved_key = name_in(lowest_slots_of(rc, from, 200), "ks:moved:");
    bool moved = false, flipped = false;
    std::string reshard_out;
    {
      test::OffThread op([&] {
        reshard_out = test::reshard(from, to, 200, moved);
        flipped = test::manual_failover(promoted, failing);
      });
      REQUIRE(op.wait(120s));
    }
    INFO(reshard_out);
    REQUIRE(moved);
    REQUIRE(flipped);
    const NodeAddress new_primary{"127.0.0.1", promoted};
    REQUIRE(test::fiber_wait_until([&] {
      const auto n = ev.nodes();
      return std::count(n.begin(), n.end(), new_primary) == 1 && n.size() == 3 && ev.subscribed();
    }, 15s));
    rc.refresh_topology();
    CHECK(rc.get_node_from_key(moved_key) == NodeAddress{"127.0.0.1", to});

    // Writes after it, on every primary (the new owner of the moved slot and the promoted one).
    std::set<std::string> keys{moved_key};
    std::set<NodeAddress> nodes;
    for (int i = 0; i < 300; ++i) keys.insert("ks:" + std::to_string(i));
    for (const auto& k : keys) {
      nodes.insert(rc.get_node_from_key(k));
      rc.set(k, "v");
    }
    CHECK(nodes.size() == 3);
    CHECK(nodes.count(new_primary) == 1);
    REQUIRE(test::fiber_wait_until([&] { return in.data_count() >= keys.size(); }, 10s));
    boost::this_fiber::sleep_for(200ms);
    in.stop();
    std::set<std::string> seen;
    for (const auto& [channel, events] : in.data) {
      CHECK(events == std::vector<std::string>{"set"});
      seen.insert(channel.substr(std::string("__keyspace@0__:").size()));
    }
    CHECK(seen == keys);
    bool new_primary_gap = false;
    for (const auto& g : in.gaps) new_primary_gap = new_primary_gap || (g.data == "new primary" && g.node == new_primary.to_string());
    CHECK(new_primary_gap);
    std::cout << "[keyspace] " << seen.size() << " keys written on " << nodes.size() << " primaries after a redis-cli reshard and a failover, "
              << in.data_count() << " events, " << in.gaps.size() << " gap events\n";
  });
}

TEST_CASE("ClusterPubSub: its node killed (kill -9), it re-subscribes at the promoted replica and reports the gap",
          "[pubsub][cluster][faults]") {
  test::FreshCluster cluster;
  const test::ClusterInfo& c = cluster.info;
  const std::uint16_t victim = c.ports[0];
  const std::uint16_t replica = test::replica_of(c, victim);
  const NodeAddress promoted{"127.0.0.1", replica};
  Runtime rt;
  rt.run([&] {
    fibredis::ClusterOptions o = test::options_for(c);
    o.startup_nodes = {{c.host, c.ports[1]}};  // not the node that dies
    o.connect_timeout = 1000ms;
    ClusterClient rc(o);
    const std::string ch = channel_on(rc, victim, "dying:");
    ClusterPubSub ps = rc.pubsub();
    ps.subscribe(ch);
    CHECK(ps.address() == NodeAddress{"127.0.0.1", victim}.to_string());  // the seed rule: the slot's primary
    test::Inbox in(ps);
    REQUIRE(test::fiber_wait_until([&] { return in.count(MessageKind::Subscribe) == 1; }, 5s));
    ShardPublisher pub(rc, ch, /*shard_channel=*/false);
    boost::this_fiber::sleep_for(300ms);

    // kill -9 of the subscriber's node: its replica takes over after cluster-node-timeout.
    const auto t_kill = SteadyClock::now();
    bool killed = false;
    {
      test::OffThread op([&] { killed = ::kill(test::server_pid(victim), SIGKILL) == 0; });
      REQUIRE(op.wait(30s));
    }
    REQUIRE(killed);
    REQUIRE(test::fiber_wait_until([&] { return !in.gaps.empty(); }, 30s));
    CHECK(ps.address() == promoted.to_string());
    CHECK(ps.reconnects() >= 1);
    CHECK(rc.get_node_from_key(ch) == promoted);
    boost::this_fiber::sleep_for(1000ms);
    pub.finish();
    boost::this_fiber::sleep_for(300ms);
    in.stop();

    REQUIRE(in.gaps.size() == 1);
    const Message& gap = in.gaps.front();
    CHECK(gap.data == "reconnected");
    CHECK(gap.node == promoted.to_string());
    CHECK(gap.channels == std::vector<std::string>{ch});
    CHECK(gap.since >= t_kill);
    CHECK(gap.until >= gap.since);
    std::set<int> got;
    std::size_t dup = 0;
    for (const auto& d : in.data[ch]) dup += got.insert(std::stoi(d)).second ? 0 : 1;
    std::size_t after = 0, during = 0, unacked = 0, missing_after = 0;
    for (std::size_t i = 0; i < pub.started.size(); ++i) {
      const bool arrived = got.count(static_cast<int>(i)) != 0;
      unacked += pub.acked[i] ? 0 : 1;
      if (pub.started[i] >= gap.since - 100ms && pub.started[i] <= gap.until) ++during;
      if (pub.started[i] > gap.until && pub.acked[i]) {
        ++after;
        missing_after += arrived ? 0 : 1;
      }
    }
    CHECK(dup == 0);
    CHECK(after > 20);
    CHECK(missing_after == 0);  // every message published after the re-subscription arrives
    std::cout << "[pubsub-kill] node killed at +0 ms, gap " << ms(gap.since - t_kill) << " .. "
              << ms(gap.until - t_kill) << " ms, re-subscribed at " << gap.node << "; " << pub.started.size()
              << " published (" << unacked << " unacknowledged), " << during << " during the gap, " << after
              << " after it, " << missing_after << " of those missing\n";
  });
}
