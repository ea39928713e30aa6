#include <catch2/catch.hpp>

#include <fibredis/detail/client/message_queue.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <boost/fiber/operations.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using fibredis::Message;
using fibredis::MessageKind;
using fibredis::MessageQueue;

namespace {
Message msg(const std::string& data) {
  Message m;
  m.channel = "c";
  m.data = data;
  return m;
}
}  // namespace

TEST_CASE("MessageQueue: full drops the oldest, then one Overflow event first", "[pubsub]") {
  fibredis::Runtime rt;
  rt.run([] {
    MessageQueue q(3);
    for (int i = 0; i < 8; ++i) q.push(msg(std::to_string(i)));
    CHECK(q.size() == 3);
    CHECK(q.dropped() == 5);
    auto o = q.pop(fibredis::kNoDeadline);
    REQUIRE(o);
    CHECK(o->kind == MessageKind::Overflow);
    CHECK(o->count == 5);
    std::vector<std::string> rest;
    while (auto m = q.pop(fibredis::deadline_after(0ms))) rest.push_back(m->data);
    CHECK(rest == std::vector<std::string>{"5", "6", "7"});
    // A second overflow reports only what was dropped since the first.
    for (int i = 0; i < 4; ++i) q.push(msg("x"));
    auto o2 = q.pop(fibredis::deadline_after(0ms));
    REQUIRE(o2);
    CHECK(o2->count == 1);
    CHECK(q.dropped() == 6);
  });
}

TEST_CASE("MessageQueue: pop waits for its deadline only, a push wakes one waiter", "[pubsub]") {
  fibredis::Runtime rt;
  rt.run([] {
    MessageQueue q(10);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(q.pop(fibredis::deadline_after(50ms)));
    CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);

    std::vector<std::string> got;
    fibredis::Fiber a([&] {
      if (auto m = q.pop(fibredis::deadline_after(2s))) got.push_back("a:" + m->data);
    });
    fibredis::Fiber b([&] {
      if (auto m = q.pop(fibredis::deadline_after(2s))) got.push_back("b:" + m->data);
    });
    boost::this_fiber::sleep_for(10ms);  // both parked, a first
    q.push(msg("1"));
    q.push(msg("2"));
    a.join();
    b.join();
    CHECK(got == std::vector<std::string>{"a:1", "b:2"});
  });
}

TEST_CASE("MessageQueue: close wakes waiters; a handler takes the backlog first", "[pubsub]") {
  fibredis::Runtime rt;
  rt.run([] {
    MessageQueue q(10);
    q.push(msg("queued"));
    std::vector<std::string> seen;
    q.set_handler([&](Message&& m) { seen.push_back(m.data); });
    q.push(msg("direct"));
    CHECK(seen == std::vector<std::string>{"queued", "direct"});
    CHECK(q.size() == 0);
    q.set_handler({});
    bool woke = false;
    fibredis::Fiber w([&] { woke = !q.pop(fibredis::kNoDeadline).has_value(); });
    boost::this_fiber::sleep_for(10ms);
    q.close();
    w.join();
    CHECK(woke);
  });
}
