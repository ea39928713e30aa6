// The scheduler: timers, I/O completions and deadlines suspend only their own fiber.
#include <catch2/catch.hpp>

#include <fibredis/errors.hpp>
#include <fibredis/detail/runtime/io_call.hpp>
#include <fibredis/detail/runtime/runtime_access.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <boost/fiber/future.hpp>
#include <boost/fiber/operations.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using fibredis::Runtime;

namespace {
fibredis::RuntimeOptions ring_variant(int v) {
  fibredis::RuntimeOptions o;
  o.ring.defer_taskrun = (v == 0);
  o.ring.single_issuer = (v != 2);
  o.ring.coop_taskrun = (v != 2);
  return o;
}
}  // namespace

TEST_CASE("10,000 fibers sleeping varied durations wake in deadline order", "[runtime]") {
  const int variant = GENERATE(0, 1, 2);
  Runtime rt(ring_variant(variant));
  INFO("ring features: " << fibredis::detail::scheduler(rt).features());
  constexpr int kFibers = 10000;
  std::vector<int> order;
  order.reserve(kFibers);
  const auto start = std::chrono::steady_clock::now();
  rt.run([&] {
    for (int i = 0; i < kFibers; ++i) {
      // Durations spread 0..199 ms, spawned in a scrambled order.
      const int ms = (i * 7919) % 200;
      fibredis::spawn([&order, ms, start] {
        boost::this_fiber::sleep_until(start + std::chrono::milliseconds(ms));
        order.push_back(ms);
      });
    }
  });
  REQUIRE(order.size() == static_cast<size_t>(kFibers));
  CHECK(std::is_sorted(order.begin(), order.end()));
  CHECK(rt.live_fibers() == 0);
}

TEST_CASE("a deadline ends only its own fiber's operation, with a timeout", "[runtime]") {
  const int variant = GENERATE(0, 1, 2);
  Runtime rt(ring_variant(variant));
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::error_code timed_out_ec;
  int ticks = 0;
  std::chrono::milliseconds waited{};
  rt.run([&] {
    fibredis::spawn([&] {
      for (int i = 0; i < 10; ++i) {
        boost::this_fiber::sleep_for(10ms);
        ++ticks;
      }
    });
    char buf[8];
    const auto t0 = std::chrono::steady_clock::now();
    auto r = fibredis::io_call(
        [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], buf, sizeof buf, 0); },
        fibredis::deadline_after(60ms));
    waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    timed_out_ec = r.error;
  });
  ::close(fds[0]);
  ::close(fds[1]);
  CHECK(timed_out_ec == fibredis::errc::timeout);
  CHECK(waited >= 55ms);
  CHECK(waited < 1000ms);
  CHECK(ticks == 10);  // the other fiber kept running while this one waited
  CHECK_THROWS_AS(fibredis::throw_error(timed_out_ec, "read"), fibredis::TimeoutError);
}

TEST_CASE("an I/O completion resumes the waiting fiber with the result", "[runtime]") {
  Runtime rt;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::string got;
  rt.run([&] {
    fibredis::spawn([&] {
      boost::this_fiber::sleep_for(5ms);
      auto w = fibredis::io_call([&](io_uring_sqe* sqe) { io_uring_prep_write(sqe, fds[1], "hello", 5, 0); });
      CHECK(w.value == 5);
    });
    char buf[16];
    auto r = fibredis::io_call([&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], buf, sizeof buf, 0); });
    REQUIRE(r);
    got.assign(buf, static_cast<size_t>(r.value));
  });
  ::close(fds[0]);
  ::close(fds[1]);
  CHECK(got == "hello");
}

TEST_CASE("a fiber woken from another thread runs (notify through the ring)", "[runtime]") {
  Runtime rt;
  bool woke = false;
  rt.run([&] {
    boost::fibers::promise<int> p;
    auto f = p.get_future();
    std::thread t([&p] {
      std::this_thread::sleep_for(20ms);
      p.set_value(42);
    });
    CHECK(f.get() == 42);
    woke = true;
    t.join();
  });
  CHECK(woke);
}

TEST_CASE("run() rethrows an exception from a spawned fiber after all fibers end", "[runtime]") {
  Runtime rt;
  int finished = 0;
  CHECK_THROWS_AS(rt.run([&] {
                    fibredis::spawn([] { throw std::runtime_error("boom"); });
                    fibredis::spawn([&] {
                      boost::this_fiber::sleep_for(10ms);
                      ++finished;
                    });
                  }),
                  std::runtime_error);
  CHECK(finished == 1);
}

TEST_CASE("a second Runtime on the same thread is refused", "[runtime]") {
  Runtime rt;
  CHECK_THROWS_AS(Runtime(), fibredis::UsageError);
}

TEST_CASE("an exception in a Fiber: join() rethrows it; unjoined, Runtime::run does", "[runtime]") {
  Runtime rt;
  SECTION("joined") {
    bool caught = false;
    rt.run([&] {
      fibredis::Fiber f([] { throw std::runtime_error("from a fiber"); });
      try {
        f.join();
      } catch (const std::runtime_error& e) {
        caught = std::string(e.what()) == "from a fiber";
      }
      CHECK_NOTHROW(f.join());  // rethrown once
    });
    CHECK(caught);
  }
  SECTION("never joined: reaches run(), after every fiber ended, process alive") {
    int finished = 0;
    CHECK_THROWS_WITH(rt.run([&] {
                        std::vector<fibredis::Fiber> fibers;
                        fibers.emplace_back([] { throw std::logic_error("lost"); });
                        fibers.emplace_back([&] {
                          boost::this_fiber::sleep_for(5ms);
                          ++finished;
                        });
                      }),
                      "lost");
    CHECK(finished == 1);
  }
  SECTION("a Fiber moved over another: the replaced one's exception is kept") {
    CHECK_THROWS_WITH(rt.run([] {
                        fibredis::Fiber f([] { throw std::runtime_error("first"); });
                        f = fibredis::Fiber([] {});
                      }),
                      "first");
  }
}

TEST_CASE("a RoundHook runs once per round, after the fibers ready now", "[runtime]") {
  struct CountingHook : fibredis::RoundHook {
    int runs = 0;
    int seen_done = 0;
    int* done = nullptr;
    void on_round_end() noexcept override {
      ++runs;
      seen_done = *done;
    }
  };
  Runtime rt;
  rt.run([] {
    int done = 0;
    CountingHook hook;
    hook.done = &done;
    std::vector<fibredis::Fiber> fibers;
    for (int i = 0; i < 100; ++i)
      fibers.emplace_back([&] {
        hook.arm();  // all 100 arm it in the same round
        ++done;
      });
    for (auto& f : fibers) f.join();
    // The joins kept a fiber ready all along: the round ends only when this one waits.
    boost::this_fiber::sleep_for(1ms);
    CHECK(hook.runs == 1);
    CHECK(hook.seen_done == 100);  // it ran after every one of them
    hook.arm();
    hook.arm();
    boost::this_fiber::sleep_for(1ms);
    CHECK(hook.runs == 2);
  });
}
