// The internals of a Runtime, for lib/ and tests only (not installed): its io_uring scheduler
// (ring features, enter counts), its pool of fiber stacks and its pool of worker fibers.
// runtime.hpp holds all three by pointer so that a user's translation unit includes neither
// liburing nor Boost.Fiber.
#pragma once

#include <fibredis/detail/runtime/stack_pool.hpp>
#include <fibredis/detail/runtime/uring_scheduler.hpp>
#include <fibredis/detail/runtime/worker_pool.hpp>
#include <fibredis/runtime/runtime.hpp>

namespace fibredis::detail {

struct RuntimeAccess {
  static UringScheduler& scheduler(Runtime& rt) noexcept { return *rt.scheduler_; }
  static StackPool& stacks(Runtime& rt) noexcept { return *rt.stacks_; }
  static WorkerPool& workers(Runtime& rt) noexcept { return *rt.workers_; }
};

inline UringScheduler& scheduler(Runtime& rt) noexcept { return RuntimeAccess::scheduler(rt); }
inline StackPool& stacks(Runtime& rt) noexcept { return RuntimeAccess::stacks(rt); }
inline WorkerPool& workers(Runtime& rt) noexcept { return RuntimeAccess::workers(rt); }

}  // namespace fibredis::detail
