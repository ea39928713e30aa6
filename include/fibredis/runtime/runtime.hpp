// Runtime: one io_uring plus the Boost.Fiber scheduler that it drives, on the calling OS thread.
//
// Threads: one Runtime per OS thread; a client belongs to the runtime (thread) that made it and must
// only be used by fibers of that thread. Many cores = many threads, each with its own Runtime and its
// own clients (thread-per-core); nothing is shared between runtimes.
//
// @code
//   fibredis::Runtime rt;
//   rt.run([] {
//     fibredis::spawn([] { fibredis::sleep_for(10ms); });             // runs concurrently
//     fibredis::Client c({.port = 6379});
//     c.set("k", "v");                                                // blocks this fiber only
//   });                                                               // returns when all are done
// @endcode
//
// This header includes no Boost.Fiber or liburing header (a user's translation unit pays for
// neither): the scheduler is held by pointer, spawn() and Fiber type-erase the callable, and the
// Boost.Fiber work happens in lib/runtime/runtime.cpp. Boost's own fiber types still work on a
// Runtime's thread (include <boost/fiber/...> yourself); fibredis::sleep_for/yield cover the usual
// needs without it.
#pragma once

#include <fibredis/errors.hpp>
#include <fibredis/runtime/deadline.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace fibredis {

class UringScheduler;  // detail/runtime/uring_scheduler.hpp
class StackPool;       // detail/runtime/stack_pool.hpp
class WorkerPool;      // detail/runtime/worker_pool.hpp
namespace detail {
struct RuntimeAccess;  // detail/runtime/runtime_access.hpp
}

/// Ring features to ask for; each falls back cleanly when the kernel lacks it.
struct RingOptions {
  unsigned entries = 4096;
  /// Completion queue size (IORING_SETUP_CQSIZE; rounded up to a power of two by the kernel).
  unsigned cq_entries = 65536;
  bool single_issuer = true;   // IORING_SETUP_SINGLE_ISSUER (6.0)
  bool defer_taskrun = true;   // IORING_SETUP_DEFER_TASKRUN (6.1), needs single_issuer
  bool coop_taskrun = true;    // IORING_SETUP_COOP_TASKRUN (5.19), when defer_taskrun is off/absent
};

namespace detail {

/// A move-only callable of no arguments (g++ 12 has no std::move_only_function): what spawn() and
/// Fiber hand to lib/runtime, where the Boost.Fiber fiber is made. One heap block per task.
class Task {
 public:
  Task() = default;
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, Task>)
  explicit Task(F&& fn) : impl_(std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(fn))) {}
  void operator()() { impl_->run(); }
  explicit operator bool() const noexcept { return impl_ != nullptr; }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void run() = 0;
  };
  template <class F>
  struct Impl final : Base {
    template <class G>
    explicit Impl(G&& g) : fn(std::forward<G>(g)) {}
    void run() override { fn(); }
    F fn;
  };
  std::unique_ptr<Base> impl_;
};

}  // namespace detail

struct RuntimeOptions {
  RingOptions ring{};
  /// Virtual size of each fiber stack; only touched pages cost memory. A guard page below each
  /// stack turns an overflow into a crash instead of silent corruption.
  std::size_t stack_size = 64 * 1024;
  /// Freed stacks kept for reuse (no mmap/munmap per fiber in steady state).
  std::size_t cached_stacks = 1024;
  /// Raise RLIMIT_NOFILE's soft limit to the hard limit (each blocked call owns a socket).
  bool raise_fd_limit = true;
};

class Runtime {
 public:
  /// Installs a fresh io_uring scheduler on this thread. Throws UsageError if this thread already
  /// has a live Runtime, std::system_error if the ring cannot be created (io_uring disabled).
  explicit Runtime(RuntimeOptions options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /// Runs fn in a fiber and returns its result once fn AND every fiber started with spawn() have
  /// finished. An exception from fn, or the first one escaping a spawned fiber, is rethrown here.
  template <class F>
  auto run(F&& fn) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    if constexpr (std::is_void_v<R>) {
      run_void([&] { fn(); });
    } else {
      std::optional<R> result;
      run_void([&] { result.emplace(fn()); });
      return std::move(*result);
    }
  }

  /// Starts a detached fiber on this runtime (see fibredis::spawn).
  template <class F>
  void spawn(F&& fn) {
    spawn_task(detail::Task(std::forward<F>(fn)));
  }
  /// spawn() after type erasure: the fiber is made in lib/runtime/runtime.cpp.
  void spawn_task(detail::Task task);

  /// Keeps the first exception that escaped a fiber nobody observed (a Fiber destroyed unjoined);
  /// run() rethrows it when everything is done.
  void report_error(std::exception_ptr error) noexcept {
    if (!first_error_) first_error_ = std::move(error);
  }

  /// The Runtime of this thread, or nullptr.
  static Runtime* current() noexcept;

  const RuntimeOptions& options() const noexcept { return options_; }
  std::size_t live_fibers() const noexcept { return live_fibers_; }

 private:
  friend struct detail::RuntimeAccess;  // the ring and the stack pool, for lib/ and tests

  void run_void(const std::function<void()>& fn);

  /// What run() waits on: a Boost.Fiber mutex and condition variable (kept out of this header).
  struct Sync;

  RuntimeOptions options_;
  std::unique_ptr<StackPool> stacks_;
  std::unique_ptr<WorkerPool> workers_;  // after stacks_: its fibers use them
  UringScheduler* scheduler_ = nullptr;  // owned by Boost.Fiber's scheduler (intrusive_ptr)
  std::size_t live_fibers_ = 0;
  std::exception_ptr first_error_;
  std::unique_ptr<Sync> sync_;
};

/// Suspends the calling fiber (only it) for `duration` / until `deadline`; other fibers of the
/// thread run meanwhile. Boost's this_fiber::sleep_for does the same.
void sleep_for(Clock::duration duration);
void sleep_until(Deadline deadline);
/// Lets the other ready fibers of this thread run, then continues.
void yield();

/// Starts fn in a new fiber of this thread's Runtime; Runtime::run waits for it. Throws UsageError
/// when called on a thread without a Runtime.
template <class F>
void spawn(F&& fn);

/// A fiber you join yourself (RAII: the destructor joins if still joinable), on a pooled stack.
/// An exception escaping it is caught and carried: join() rethrows it; if the Fiber is destroyed
/// or reassigned without join(), the exception goes to Runtime::run, which rethrows it when all
/// work is done. Nothing that a fiber throws terminates the process.
class Fiber {
 public:
  Fiber() noexcept;
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, Fiber> && !std::is_same_v<std::remove_cvref_t<F>, detail::Task>)
  explicit Fiber(F&& fn) : Fiber(detail::Task(std::forward<F>(fn))) {}
  explicit Fiber(detail::Task task);
  Fiber(Fiber&&) noexcept;
  Fiber& operator=(Fiber&& other) noexcept;
  ~Fiber();
  /// Waits for the fiber to end; rethrows what it threw (once).
  void join();
  bool joinable() const noexcept;

 private:
  /// Whether the fiber ended and what escaped it, on the heap: the fiber writes the outcome even
  /// if the Fiber moves, and this header stays free of Boost.Fiber. (The Boost.Fiber fiber is
  /// detached at once, so its stack goes back to the pool when it ends: runtime.cpp.)
  struct State;
  /// Joins, and hands an exception nobody will see to the Runtime.
  void join_and_report() noexcept;
  /// Suspends the calling fiber until this one has ended (state_ must be set).
  void wait_done() noexcept;

  std::unique_ptr<State> state_;
};

template <class F>
void spawn(F&& fn) {
  Runtime* rt = Runtime::current();
  if (rt == nullptr) throw UsageError("fibredis::spawn called on a thread without a Runtime");
  rt->spawn(std::forward<F>(fn));
}

}  // namespace fibredis
