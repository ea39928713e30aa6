// WorkerPool: fibers that outlive their task. A fiber whose task has ended parks on the pool's
// idle list instead of ending, and the next Fiber or spawn() of the Runtime hands its task to an
// idle fiber (the one parked last: its stack page is warm) instead of making a new one.
//
// Why: Boost.Fiber 1.74 touches a second page of a fiber's stack when the fiber ends
// (context::terminate() locks a spinlock whose lock() keeps a std::random_device, 5 KB, in its
// frame; the call below that frame writes its return address at the bottom). A call parked in
// BRPOP keeps to one page; its end faulted in a second one, and the stack pool unmapped it again:
// a page fault and a share of a munmap per ended fiber, a quarter of the client's CPU when 10,000
// parked BRPOPs are woken together (docs/BENCHMARKS.md). A parked worker keeps its one page.
//
// Bounds: up to `max_idle` idle workers are kept (RuntimeOptions::cached_stacks). A burst that
// leaves more idle (10,000 callers woken at once) keeps the surplus for `reap_after`, then a
// reaper ends it, oldest first and `kReapBatch` at a time, off the burst's path; each ended
// worker then pays the second page and returns its stack to the StackPool.
//
// What a task sees: a fresh fiber as far as fibredis goes. A reused worker keeps its
// boost::this_fiber::get_id() and any boost::fibers::fiber_specific_ptr values of its last task
// (Boost clears those only when a fiber ends; docs/GETTING_STARTED.md).
#pragma once

#include <fibredis/runtime/deadline.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>

namespace fibredis {

class Parker;
class StackPool;

class WorkerPool {
 public:
  static constexpr std::size_t kReapBatch = 256;

  WorkerPool(StackPool& stacks, std::size_t max_idle,
             std::chrono::milliseconds reap_after = std::chrono::milliseconds(500));
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Runs `task` on a fiber of its own: an idle worker, else a new fiber. Like a new fiber, it
  /// starts once the caller suspends (it is put at the back of the ready queue). The task must
  /// not throw (Fiber and spawn() wrap theirs); Boost's forced_unwind passes through.
  void run(detail::Task task);

  /// Ends the idle workers and the reaper (waiting, on this thread's scheduler, until they are
  /// gone); busy workers end when their task does, until start() is called again. Called when a
  /// Runtime::run() ends and when the Runtime goes.
  void stop() noexcept;
  /// Lets workers park again after stop().
  void start() noexcept { stopping_ = false; }

  std::size_t idle() const noexcept { return idle_.size(); }
  /// Workers alive: idle or running a task.
  std::size_t workers() const noexcept { return workers_; }
  /// Fibers made, and tasks handed to a parked worker instead.
  std::uint64_t created() const noexcept { return created_; }
  std::uint64_t reused() const noexcept { return reused_; }
  std::uint64_t reaped() const noexcept { return reaped_; }

 private:
  struct Worker;
  void worker_main(detail::Task first);
  /// Parks `w` on the idle list until run() hands it a task or it is told to end (empty task).
  void park_idle(Worker& w);
  void reaper_loop();
  void end_worker(Worker& w) noexcept;
  void let_ended_go() noexcept;

  StackPool& stacks_;
  std::size_t max_idle_;
  std::chrono::milliseconds reap_after_;
  std::deque<Worker*> idle_;  // back: parked last (reused first); front: parked longest (reaped first)
  std::size_t workers_ = 0;
  std::size_t ending_ = 0;  // idle workers told to end that have not yet run
  bool stopping_ = false;
  bool reaper_running_ = false;
  Parker* reaper_parker_ = nullptr;
  std::uint64_t created_ = 0;
  std::uint64_t reused_ = 0;
  std::uint64_t reaped_ = 0;
};

}  // namespace fibredis
