#include <fibredis/runtime/runtime.hpp>

#include <fibredis/errors.hpp>

#include <boost/fiber/algo/round_robin.hpp>
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

Runtime::Runtime(RuntimeOptions options)
    : options_(options), stacks_(options.stack_size * kStackFactor, options.cached_stacks) {
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
  t_runtime = nullptr;
  // Put back Boost's default algorithm so this runtime's ring is closed now (RAII), not at thread exit.
  boost::fibers::use_scheduling_algorithm<boost::fibers::algo::round_robin>();
}

Runtime* Runtime::current() noexcept { return t_runtime; }

void Runtime::run_void(const std::function<void()>& fn) {
  spawn([&fn] { fn(); });
  {
    std::unique_lock<boost::fibers::mutex> lock(mutex_);
    all_done_.wait(lock, [this] { return live_fibers_ == 0; });
  }
  if (first_error_) {
    std::exception_ptr e = std::exchange(first_error_, nullptr);
    std::rethrow_exception(e);
  }
}

}  // namespace fibredis
