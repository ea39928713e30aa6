// Runtime: one io_uring plus the Boost.Fiber scheduler that it drives, on the calling OS thread.
//
// Threads: one Runtime per OS thread; a client belongs to the runtime (thread) that made it and must
// only be used by fibers of that thread. Many cores = many threads, each with its own Runtime and its
// own clients (thread-per-core); nothing is shared between runtimes.
//
// @code
//   fibredis::Runtime rt;
//   rt.run([] {
//     fibredis::spawn([] { boost::this_fiber::sleep_for(10ms); });   // runs concurrently
//     fibredis::Client c({.port = 6379});
//     c.set("k", "v");                                                // blocks this fiber only
//   });                                                               // returns when all are done
// @endcode
#pragma once

#include <fibredis/runtime/stack_pool.hpp>
#include <fibredis/runtime/uring_scheduler.hpp>

#include <boost/context/detail/exception.hpp>
#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/mutex.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace fibredis {

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
    ++live_fibers_;
    boost::fibers::fiber(std::allocator_arg, stacks_.allocator(),
                         [this, f = std::forward<F>(fn)]() mutable {
                           try {
                             f();
                           } catch (const boost::context::detail::forced_unwind&) {
                             throw;  // Boost.Context unwinding a fiber's stack: not ours
                           } catch (...) {
                             if (!first_error_) first_error_ = std::current_exception();
                           }
                           if (--live_fibers_ == 0) all_done_.notify_all();
                         })
        .detach();
  }

  /// Keeps the first exception that escaped a fiber nobody observed (a Fiber destroyed unjoined);
  /// run() rethrows it when everything is done.
  void report_error(std::exception_ptr error) noexcept {
    if (!first_error_) first_error_ = std::move(error);
  }

  /// The Runtime of this thread, or nullptr.
  static Runtime* current() noexcept;

  UringScheduler& scheduler() noexcept { return *scheduler_; }
  const RuntimeOptions& options() const noexcept { return options_; }
  StackPool& stacks() noexcept { return stacks_; }
  std::size_t live_fibers() const noexcept { return live_fibers_; }

 private:
  void run_void(const std::function<void()>& fn);

  RuntimeOptions options_;
  StackPool stacks_;
  UringScheduler* scheduler_ = nullptr;  // owned by Boost.Fiber's scheduler (intrusive_ptr)
  std::size_t live_fibers_ = 0;
  std::exception_ptr first_error_;
  boost::fibers::mutex mutex_;
  boost::fibers::condition_variable_any all_done_;
};

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
  Fiber() = default;
  template <class F>
  explicit Fiber(F&& fn);
  Fiber(Fiber&&) noexcept = default;
  Fiber& operator=(Fiber&& other) noexcept;
  ~Fiber();
  /// Waits for the fiber to end; rethrows what it threw (once).
  void join();
  bool joinable() const noexcept { return fiber_.joinable(); }

 private:
  struct Outcome {
    std::exception_ptr error;
  };
  /// Joins, and hands an exception nobody will see to the Runtime.
  void join_and_report() noexcept;

  std::unique_ptr<Outcome> outcome_;  // on the heap: the fiber writes it even if the Fiber moves
  boost::fibers::fiber fiber_;
};

}  // namespace fibredis

#include <fibredis/runtime/runtime_impl.hpp>
