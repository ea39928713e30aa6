// WorkerPool (detail/runtime/worker_pool.hpp): fibers that park for the next task instead of
// ending, a surplus reaped after a burst, nothing left parked once Runtime::run() returns.
#include <catch2/catch.hpp>

#include <fibredis/detail/runtime/runtime_access.hpp>
#include <fibredis/detail/runtime/worker_pool.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <chrono>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

TEST_CASE("worker pool: one fiber after another runs on the same parked fiber", "[runtime][workers]") {
  fibredis::Runtime rt;
  rt.run([&] {
    fibredis::WorkerPool& workers = fibredis::detail::workers(rt);
    const auto created = workers.created();
    const auto reused = workers.reused();
    int ran = 0;
    for (int i = 0; i < 100; ++i) {
      fibredis::Fiber f([&] { ++ran; });
      f.join();
    }
    CHECK(ran == 100);
    CHECK(workers.created() - created <= 1);  // the first may need a fiber; the rest reuse it
    CHECK(workers.reused() - reused >= 99);
  });
}

TEST_CASE("worker pool: a task starts only once its creator suspends, on a new fiber or a parked one",
          "[runtime][workers]") {
  fibredis::Runtime rt;
  rt.run([&] {
    for (int round = 0; round < 2; ++round) {  // round 0 may make a fiber, round 1 reuses it
      int x = 0;
      fibredis::Fiber f([&] { x = 1; });
      CHECK(x == 0);
      fibredis::yield();
      CHECK(x == 1);
      f.join();
    }
    CHECK(fibredis::detail::workers(rt).reused() >= 1);
  });
}

TEST_CASE("worker pool: a task that throws leaves its fiber reusable; join rethrows", "[runtime][workers]") {
  fibredis::Runtime rt;
  rt.run([&] {
    fibredis::WorkerPool& workers = fibredis::detail::workers(rt);
    fibredis::Fiber bad([] { throw std::runtime_error("task failed"); });
    CHECK_THROWS_WITH(bad.join(), "task failed");
    const auto reused = workers.reused();
    int ran = 0;
    fibredis::Fiber next([&] { ++ran; });
    next.join();
    CHECK(ran == 1);
    CHECK(workers.reused() == reused + 1);
  });
}

TEST_CASE("worker pool: a burst's surplus is reaped after reap_after, max_idle stay parked", "[runtime][workers]") {
  constexpr std::size_t kMaxIdle = 64;
  constexpr int kBurst = 2000;
  fibredis::Runtime rt(fibredis::RuntimeOptions{.stack_size = 16 * 1024, .cached_stacks = kMaxIdle});
  rt.run([&] {
    fibredis::WorkerPool& workers = fibredis::detail::workers(rt);
    std::vector<fibredis::Fiber> burst;
    burst.reserve(kBurst);
    for (int i = 0; i < kBurst; ++i) burst.emplace_back([] { fibredis::sleep_for(10ms); });
    for (auto& f : burst) f.join();
    // All ended together: the surplus is still parked (reaping it now would put its cost, a
    // page fault and a munmap share each, on the burst's own path).
    CHECK(workers.idle() >= kBurst - 1);  // this fiber's own worker is busy with this test
    const auto t0 = std::chrono::steady_clock::now();
    while (workers.idle() > kMaxIdle && std::chrono::steady_clock::now() - t0 < 5s) fibredis::sleep_for(20ms);
    CHECK(workers.idle() == kMaxIdle);
    CHECK(workers.reaped() >= kBurst - 1 - kMaxIdle);
    CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);  // not before reap_after (500 ms after they parked)
  });
}

TEST_CASE("worker pool: nothing stays parked once run() returns, and the next run() reuses again",
          "[runtime][workers]") {
  fibredis::Runtime rt;
  fibredis::WorkerPool& workers = fibredis::detail::workers(rt);
  rt.run([&] {
    std::vector<fibredis::Fiber> fs;
    for (int i = 0; i < 50; ++i) fs.emplace_back([] { fibredis::yield(); });
  });
  CHECK(workers.idle() == 0);
  CHECK(workers.workers() == 0);
  int spawned = 0;
  rt.run([&] {
    for (int i = 0; i < 10; ++i) {
      fibredis::spawn([&] { ++spawned; });
      fibredis::yield();  // it runs and parks: the next spawn takes it
    }
  });
  CHECK(spawned == 10);
  CHECK(workers.reused() >= 9);
  CHECK(workers.workers() == 0);
}
