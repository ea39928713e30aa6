// StackPool: stacks 32 to a mapping, reused first, whole slabs returned past max_cached.
#include <catch2/catch.hpp>
#include <fibredis/detail/runtime/runtime_access.hpp>
#include <fibredis/detail/runtime/worker_pool.hpp>
#include <fibredis/detail/runtime/stack_pool.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <boost/context/stack_context.hpp>

#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

using fibredis::StackPool;

TEST_CASE("stack pool: 32 stacks per mapping, distinct and writable", "[runtime]") {
  StackPool pool(8 * 1024, 1024);
  auto alloc = pool.allocator();
  std::vector<boost::context::stack_context> stacks;
  std::set<void*> tops;
  for (int i = 0; i < 33; ++i) {
    stacks.push_back(alloc.allocate());
    CHECK(stacks.back().size == 8 * 1024);
    tops.insert(stacks.back().sp);
    // The whole usable range is writable (the guard page lies below it).
    std::memset(static_cast<char*>(stacks.back().sp) - stacks.back().size, 0x5a, stacks.back().size);
  }
  CHECK(tops.size() == 33);
  CHECK(pool.mappings() == 2);  // 32 in the first slab, the 33rd opened a second
  CHECK(pool.cached() == 31);
  for (auto& s : stacks) alloc.deallocate(s);
  CHECK(pool.cached() == 64);  // under max_cached: both slabs are kept
  CHECK(pool.mappings() == 2);
}

TEST_CASE("stack pool: a freed stack is the next one handed out", "[runtime]") {
  StackPool pool(8 * 1024, 1024);
  auto alloc = pool.allocator();
  auto a = alloc.allocate();
  auto b = alloc.allocate();
  void* b_top = b.sp;
  alloc.deallocate(b);
  auto c = alloc.allocate();
  CHECK(c.sp == b_top);  // warm pages first
  alloc.deallocate(c);
  alloc.deallocate(a);
}

TEST_CASE("stack pool: whole free slabs beyond max_cached are unmapped, partly used ones kept", "[runtime]") {
  StackPool pool(8 * 1024, 0);
  auto alloc = pool.allocator();
  std::vector<boost::context::stack_context> stacks;
  for (int i = 0; i < 96; ++i) stacks.push_back(alloc.allocate());
  CHECK(pool.mappings() == 3);
  // Free all of the first slab but one stack: nothing can go back yet.
  for (int i = 0; i < 31; ++i) alloc.deallocate(stacks[i]);
  CHECK(pool.mappings() == 3);
  alloc.deallocate(stacks[31]);  // the first slab is now wholly free, and nothing is to be cached
  CHECK(pool.mappings() == 2);
  CHECK(pool.cached() == 0);
  for (int i = 32; i < 96; ++i) alloc.deallocate(stacks[i]);
  CHECK(pool.mappings() == 0);
}

TEST_CASE("stack pool: a Fiber's fiber is free for the next task when its task ends, before its join", "[runtime]") {
  fibredis::Runtime rt(fibredis::RuntimeOptions{.stack_size = 16 * 1024, .cached_stacks = 1024});
  rt.run([&] {
    fibredis::WorkerPool& workers = fibredis::detail::workers(rt);
    const std::size_t stacks_before = fibredis::detail::stacks(rt).cached();
    const std::size_t idle_before = workers.idle();
    const auto created_before = workers.created();
    fibredis::Fiber f([] {});
    // Let it run and end.
    for (int i = 0; i < 3; ++i) fibredis::yield();
    CHECK(workers.idle() == idle_before + 1);  // parked for the next task while the handle is still unjoined
    CHECK(f.joinable());
    const auto reused_before = workers.reused();
    fibredis::Fiber g([] {});  // takes the parked fiber: no new fiber, no stack
    CHECK(workers.reused() == reused_before + 1);
    CHECK(fibredis::detail::stacks(rt).cached() + workers.created() - created_before == stacks_before);
    f.join();
    g.join();
    CHECK_FALSE(f.joinable());
  });
}
