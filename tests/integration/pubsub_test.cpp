// PubSub on a single server: values delivered exactly, patterns match only what they should,
// get_message(timeout) parks only its fiber, a CLIENT KILL of the subscribed connection is
// re-subscribed and reported as a Gap whose window covers every lost message, a slow consumer
// loses the oldest messages and is told how many.
#include <catch2/catch.hpp>

#include <fibredis/fibredis.hpp>

#include "support/cluster_ops.hpp"
#include "support/helpers.hpp"
#include "support/pubsub_inbox.hpp"
#include "support/servers.hpp"

#include <boost/fiber/operations.hpp>

#include <chrono>
#include <iostream>
#include <set>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using fibredis::Client;
using fibredis::Message;
using fibredis::MessageKind;
using fibredis::PubSub;
using fibredis::Runtime;
namespace test = fibredis::test;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Waits (≤ limit) until the inbox holds `n` data messages.
template <class Inbox>
bool wait_data(const Inbox& in, std::size_t n, std::chrono::milliseconds limit = 5s) {
  const auto end = SteadyClock::now() + limit;
  while (in.data_count() < n && SteadyClock::now() < end) boost::this_fiber::sleep_for(10ms);
  return in.data_count() >= n;
}

// The id of the server-side client named `name`, from CLIENT LIST.
std::string client_id(Client& c, const std::string& name) {
  const std::string list = c.execute(fibredis::Command{"CLIENT", "LIST"}).as_string();
  const std::size_t at = list.find("name=" + name + " ");
  if (at == std::string::npos) return {};
  const std::size_t line = list.rfind('\n', at);
  const std::size_t id = list.find("id=", line == std::string::npos ? 0 : line);
  return list.substr(id + 3, list.find(' ', id) - id - 3);
}

}  // namespace

TEST_CASE("PubSub: subscribe, publish, unsubscribe, exact values in order", "[pubsub]") {
  Runtime rt;
  rt.run([] {
    Client c(test::single_options());
    PubSub ps = c.pubsub();
    ps.subscribe({"ps:a", "ps:b"});
    // The confirmations come first, each with the connection's subscription count.
    auto m1 = ps.get_message(2s), m2 = ps.get_message(2s);
    REQUIRE(m1);
    REQUIRE(m2);
    CHECK(m1->kind == MessageKind::Subscribe);
    CHECK(m1->channel == "ps:a");
    CHECK(m1->count == 1);
    CHECK(m2->channel == "ps:b");
    CHECK(m2->count == 2);
    CHECK(ps.channels() == std::set<std::string>{"ps:a", "ps:b"});
    for (int i = 0; i < 20; ++i) CHECK(c.publish(i % 2 ? "ps:b" : "ps:a", "v" + std::to_string(i)) == 1);
    CHECK(c.publish("ps:other", "x") == 0);
    for (int i = 0; i < 20; ++i) {
      auto m = ps.get_message(2s);
      REQUIRE(m);
      CHECK(m->kind == MessageKind::Message);
      CHECK(m->channel == (i % 2 ? "ps:b" : "ps:a"));
      CHECK(m->data == "v" + std::to_string(i));
    }
    ps.ping("hello");
    auto pong = ps.get_message(2s);
    REQUIRE(pong);
    CHECK(pong->kind == MessageKind::Pong);
    CHECK(pong->data == "hello");
    ps.unsubscribe("ps:a");
    auto u = ps.get_message(2s);
    REQUIRE(u);
    CHECK(u->kind == MessageKind::Unsubscribe);
    CHECK(u->channel == "ps:a");
    CHECK(u->count == 1);
    CHECK(c.publish("ps:a", "gone") == 0);
    CHECK(c.publish("ps:b", "still") == 1);
    auto still = ps.get_message(2s);
    REQUIRE(still);
    CHECK(still->data == "still");
    CHECK_FALSE(ps.get_message(100ms));
  });
}

TEST_CASE("PubSub: a pattern receives what matches and nothing else", "[pubsub]") {
  Runtime rt;
  rt.run([] {
    Client c(test::single_options());
    PubSub ps = c.pubsub();
    ps.psubscribe("news.*");
    auto conf = ps.get_message(2s);
    REQUIRE(conf);
    CHECK(conf->kind == MessageKind::PSubscribe);
    CHECK(conf->channel == "news.*");
    test::Inbox in(ps);
    int matching = 0;
    for (const char* ch : {"news.eu", "sport.eu", "news.us", "newsroom", "news.", "xnews.eu"}) {
      const bool match = std::string(ch).rfind("news.", 0) == 0;
      matching += match ? 1 : 0;
      CHECK(c.publish(ch, std::string("about ") + ch) == (match ? 1 : 0));
    }
    REQUIRE(wait_data(in, static_cast<std::size_t>(matching)));
    boost::this_fiber::sleep_for(100ms);  // anything extra would have arrived by now
    in.stop();
    CHECK(in.data_count() == 3);
    CHECK(in.data.count("news.eu") == 1);
    CHECK(in.data.count("news.us") == 1);
    CHECK(in.data.count("news.") == 1);
    for (const auto& m : in.all) {
      if (!m.is_data()) continue;
      CHECK(m.kind == MessageKind::PMessage);
      CHECK(m.pattern == "news.*");
      CHECK(m.data == "about " + m.channel);
    }
  });
}

TEST_CASE("PubSub: get_message(timeout) returns empty after its timeout, other fibers run", "[pubsub]") {
  Runtime rt;
  rt.run([] {
    Client c(test::single_options());
    PubSub ps = c.pubsub();
    ps.subscribe("quiet:chan");
    REQUIRE(ps.get_message(2s));  // the confirmation
    int ticks = 0;
    bool stop = false;
    fibredis::Fiber ticker([&] {
      while (!stop) {
        ++ticks;
        boost::this_fiber::sleep_for(10ms);
      }
    });
    long long gets = 0;
    fibredis::Fiber worker([&] {
      while (!stop) {
        c.set("quiet:key", std::to_string(gets));
        ++gets;
      }
    });
    const auto t0 = SteadyClock::now();
    auto m = ps.get_message(300ms);
    const auto waited = SteadyClock::now() - t0;
    stop = true;
    ticker.join();
    worker.join();
    CHECK_FALSE(m);
    CHECK(waited >= 300ms);
    CHECK(waited < 1500ms);  // the machine is shared and busy: generous upper bound
    CHECK(ticks >= 10);      // ≥ 100 ms of 10 ms sleeps ran meanwhile
    CHECK(gets >= 10);       // and commands on the shared connection
    std::cout << "[pubsub] get_message(300ms) waited "
              << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() << " ms; meanwhile "
              << ticks << " ticks, " << gets << " SETs\n";
    CHECK(ps.get_message(0ms) == std::nullopt);
  });
}

TEST_CASE("PubSub: CLIENT KILL of the subscribed connection re-subscribes and reports the gap", "[pubsub]") {
  Runtime rt;
  rt.run([] {
    Client c(test::single_options());
    fibredis::Options o = test::single_options();
    o.client_name = "fibredis-pubsub-kill";
    PubSub ps(o);
    ps.subscribe("kill:chan");
    ps.psubscribe("kill:pat.*");
    REQUIRE(ps.get_message(2s));
    REQUIRE(ps.get_message(2s));
    test::Inbox in(ps);

    // Publisher: one message every 2 ms, numbered, remembering when each was sent.
    std::vector<SteadyClock::time_point> sent_at;
    bool stop = false;
    fibredis::Fiber publisher([&] {
      while (!stop) {
        const int i = static_cast<int>(sent_at.size());
        sent_at.push_back(SteadyClock::now());
        c.publish("kill:chan", std::to_string(i));
        boost::this_fiber::sleep_for(2ms);
      }
    });
    boost::this_fiber::sleep_for(300ms);
    const std::string id = client_id(c, "fibredis-pubsub-kill");
    REQUIRE_FALSE(id.empty());
    const auto killed_at = SteadyClock::now();
    CHECK(c.execute(fibredis::Command{"CLIENT", "KILL", "ID", id}).as_integer() == 1);
    REQUIRE(test::fiber_wait_until([&] { return !in.gaps.empty(); }, 5s));
    const Message gap = in.gaps.front();
    boost::this_fiber::sleep_for(300ms);  // keep publishing after the re-subscription
    stop = true;
    publisher.join();
    boost::this_fiber::sleep_for(200ms);
    c.publish("kill:pat.x", "pattern after");
    boost::this_fiber::sleep_for(200ms);
    in.stop();

    CHECK(ps.reconnects() == 1);
    CHECK(gap.data == "reconnected");
    CHECK(gap.since >= killed_at);
    CHECK(gap.until > gap.since);
    CHECK(gap.channels == std::vector<std::string>{"kill:chan", "kill:pat.*"});
    // Every message sent after the re-subscription arrived; those missing were sent before it.
    std::set<int> got;
    for (const auto& d : in.data["kill:chan"]) got.insert(std::stoi(d));
    int missing = 0, in_window = 0, after = 0;
    for (int i = 0; i < static_cast<int>(sent_at.size()); ++i) {
      const bool arrived = got.count(i) != 0;
      if (sent_at[i] > gap.until) {
        ++after;
        CHECK(arrived);
      }
      if (sent_at[i] >= killed_at && sent_at[i] <= gap.until) ++in_window;
      if (!arrived) {
        ++missing;
        CHECK(sent_at[i] <= gap.until);
        CHECK(sent_at[i] >= killed_at - 50ms);
      }
    }
    CHECK(after > 10);
    CHECK(in.data["kill:pat.x"] == std::vector<std::string>{"pattern after"});
    std::cout << "[pubsub] CLIENT KILL: gap of "
              << std::chrono::duration_cast<std::chrono::milliseconds>(gap.until - gap.since).count()
              << " ms; " << sent_at.size() << " published, " << in_window << " during the gap, " << missing
              << " lost, " << after << " after it (all arrived)\n";
  });
}

TEST_CASE("PubSub: a slow consumer loses the oldest messages and gets an Overflow event", "[pubsub]") {
  Runtime rt;
  rt.run([] {
    Client c(test::single_options());
    fibredis::PubSubOptions po;
    po.max_queued = 10;
    PubSub ps = c.pubsub(po);
    ps.subscribe("slow:chan");
    for (int i = 0; i < 50; ++i) c.publish("slow:chan", std::to_string(i));
    c.publish("slow:chan", "last");
    // The reader reads on; nobody consumes. Wait until it has taken everything in.
    REQUIRE(test::fiber_wait_until([&] { return ps.dropped() == 42; }, 5s));
    auto first = ps.get_message(1s);
    REQUIRE(first);
    CHECK(first->kind == MessageKind::Overflow);
    CHECK(first->count == 42);  // 52 pushed (the confirmation, 51 messages), 10 kept
    std::vector<std::string> rest;
    while (auto m = ps.get_message(100ms)) rest.push_back(m->data);
    REQUIRE(rest.size() == 10);
    CHECK(rest.front() == "41");
    CHECK(rest.back() == "last");
    // With a handler, messages bypass the queue.
    int handled = 0;
    ps.set_handler([&](Message&& m) { handled += m.is_data() ? 1 : 0; });
    for (int i = 0; i < 5; ++i) c.publish("slow:chan", "h");
    REQUIRE(test::fiber_wait_until([&] { return handled == 5; }, 5s));
    CHECK(ps.dropped() == 42);
  });
}

TEST_CASE("PubSub: the first subscribe to an unreachable server throws ConnectionError", "[pubsub]") {
  Runtime rt;
  rt.run([] {
    fibredis::Options o = test::single_options();
    o.port = test::unused_port();
    PubSub ps(o);
    CHECK_THROWS_AS(ps.subscribe("x"), fibredis::ConnectionError);
    CHECK_FALSE(ps.subscribed());
    CHECK_THROWS_AS(ps.ping(), fibredis::UsageError);
  });
}
