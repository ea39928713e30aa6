#include <fibredis/runtime/runtime.hpp>

#include <fibredis/errors.hpp>
#include <fibredis/detail/runtime/runtime_access.hpp>

#include <boost/context/detail/exception.hpp>
#include <boost/fiber/algo/round_robin.hpp>
#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/mutex.hpp>
#include <boost/fiber/operations.hpp>

#include <sys/resource.h>

#include <functional>
#include <mutex>

namespace fibredis {

namespace {
thread_local Runtime* t_runtime = nullptr;

#if defined(FIBREDIS_ASAN)
// AddressSanitizer's frames are several times larger; give fibers room (see docs/SANITIZERS.md).
constexpr std::size_t kStackFactor = 4;
#else
constexpr std::size_t kStackFactor = 1;
#endif

void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}
}  // namespace

struct Runtime::Sync {
  boost::fibers::mutex mutex;
  boost::fibers::condition_variable_any all_done;
};

// A Fiber's outcome. The task runs on a pooled worker fiber (detail/runtime/worker_pool.hpp),
// which parks for the next task when this one ends, so the handle tracks the task, not the fiber.
struct Fiber::State {
  bool done = false;
  boost::fibers::context* joiner = nullptr;  // the fiber suspended in join(), if any
  std::exception_ptr error;
};
Runtime::Runtime(RuntimeOptions options)
    : options_(options),
      stacks_(std::make_unique<StackPool>(options.stack_size * kStackFactor, options.cached_stacks)),
      workers_(std::make_unique<WorkerPool>(*stacks_, options.cached_stacks)),
      sync_(std::make_unique<Sync>()) {
  if (t_runtime != nullptr) throw UsageError("this thread already has a fibredis::Runtime");
  if (options_.raise_fd_limit) raise_fd_limit();
  // Boost.Fiber owns the algorithm (intrusive_ptr); installing a new one releases the previous
  // Runtime's scheduler and with it that ring.
  auto* sched = new UringScheduler(options_.ring);
  boost::fibers::context::active()->get_scheduler()->set_algo(
      boost::fibers::algo::algorithm::ptr_t(sched));
  scheduler_ = sched;
  t_runtime = this;
}

Runtime::~Runtime() {
  workers_->stop();  // its idle fibers end while this runtime's scheduler still runs them
  t_runtime = nullptr;
  // Put back Boost's default algorithm so this runtime's ring is closed now (RAII), not at thread exit.
  boost::fibers::use_scheduling_algorithm<boost::fibers::algo::round_robin>();
}

Runtime* Runtime::current() noexcept { return t_runtime; }

void Runtime::spawn_task(detail::Task task) {
  ++live_fibers_;
  try {
    workers_->run(detail::Task([this, f = std::move(task)]() mutable {
      try {
        f();
      } catch (const boost::context::detail::forced_unwind&) {
        throw;  // Boost.Context unwinding a fiber's stack: not ours
      } catch (...) {
        if (!first_error_) first_error_ = std::current_exception();
      }
      if (--live_fibers_ == 0) sync_->all_done.notify_all();
    }));
  } catch (...) {
    --live_fibers_;  // no fiber (no stack): nothing will count it down
    throw;
  }
}

void Runtime::run_void(const std::function<void()>& fn) {
  workers_->start();
  spawn([&fn] { fn(); });
  {
    std::unique_lock<boost::fibers::mutex> lock(sync_->mutex);
    sync_->all_done.wait(lock, [this] { return live_fibers_ == 0; });
  }
  workers_->stop();  // no fiber of this run stays parked past it
  if (first_error_) {
    std::exception_ptr e = std::exchange(first_error_, nullptr);
    std::rethrow_exception(e);
  }
}

void sleep_for(Clock::duration duration) { boost::this_fiber::sleep_for(duration); }
void sleep_until(Deadline deadline) { boost::this_fiber::sleep_until(deadline); }
void yield() { boost::this_fiber::yield(); }

Fiber::Fiber(detail::Task task) {
  Runtime* rt = Runtime::current();
  if (rt == nullptr) throw UsageError("fibredis::Fiber created on a thread without a Runtime");
  state_ = std::make_unique<State>();
  detail::workers(*rt).run(detail::Task([st = state_.get(), f = std::move(task)]() mutable {
    try {
      f();
    } catch (const boost::context::detail::forced_unwind&) {
      throw;  // Boost.Context unwinding a fiber's stack: not ours
    } catch (...) {
      st->error = std::current_exception();
    }
    // The last touch of the state: the joiner may free it once it runs, and it runs only after
    // this task's worker has switched away (to the next ready fiber, or parked idle).
    st->done = true;
    if (st->joiner) boost::fibers::context::active()->schedule(st->joiner);
  }));
}

Fiber::Fiber() noexcept = default;
Fiber::Fiber(Fiber&&) noexcept = default;

void Fiber::wait_done() noexcept {
  // Only the ending fiber schedules the joiner, once, after setting `done`.
  state_->joiner = boost::fibers::context::active();
  while (!state_->done) state_->joiner->suspend();
  state_->joiner = nullptr;
}

void Fiber::join_and_report() noexcept {
  if (!state_) return;
  wait_done();
  if (state_->error) {
    if (Runtime* rt = Runtime::current()) rt->report_error(std::exchange(state_->error, nullptr));
  }
  state_.reset();
}

Fiber& Fiber::operator=(Fiber&& other) noexcept {
  if (this != &other) {
    join_and_report();
    state_ = std::move(other.state_);
  }
  return *this;
}

Fiber::~Fiber() { join_and_report(); }

void Fiber::join() {
  if (!state_) return;
  wait_done();
  std::exception_ptr error = std::exchange(state_->error, nullptr);
  state_.reset();
  if (error) std::rethrow_exception(error);
}

bool Fiber::joinable() const noexcept { return state_ != nullptr; }

}  // namespace fibredis
