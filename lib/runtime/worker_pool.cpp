#include <fibredis/detail/runtime/worker_pool.hpp>

#include <fibredis/detail/runtime/parker.hpp>
#include <fibredis/detail/runtime/stack_pool.hpp>

#include <boost/fiber/context.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include <algorithm>

namespace fibredis {

namespace {
// stop() yields until the ended workers have run; each needs one turn, so this only guards
// against a scheduler that never runs them.
constexpr long kMaxStopTurns = 1'000'000;
}  // namespace

// Lives on its worker's stack, in worker_main's frame, for the worker's whole life.
struct WorkerPool::Worker {
  boost::fibers::context* ctx = nullptr;
  detail::Task task;  // the next task; empty when woken to end
  bool woken = false;
  Clock::time_point idle_since{};
};

WorkerPool::WorkerPool(StackPool& stacks, std::size_t max_idle, std::chrono::milliseconds reap_after)
    : stacks_(stacks), max_idle_(max_idle), reap_after_(reap_after) {}

WorkerPool::~WorkerPool() = default;

void WorkerPool::run(detail::Task task) {
  if (!idle_.empty() && !stopping_) {
    Worker* w = idle_.back();
    idle_.pop_back();
    w->task = std::move(task);
    w->woken = true;
    ++reused_;
    boost::fibers::context::active()->schedule(w->ctx);
    return;
  }
  boost::fibers::fiber(std::allocator_arg, stacks_.allocator(),
                       [this, first = std::move(task)]() mutable { worker_main(std::move(first)); })
      .detach();
  ++created_;
  ++workers_;
}

void WorkerPool::worker_main(detail::Task first) {
  struct Count {  // however the worker ends (Boost's forced_unwind included)
    std::size_t& workers;
    ~Count() { --workers; }
  } count{workers_};
  Worker w;
  w.ctx = boost::fibers::context::active();
  w.task = std::move(first);
  while (w.task) {
    {
      detail::Task t = std::move(w.task);
      t();
    }  // the task and what it captured are gone before anyone it woke (a joiner) runs
    if (stopping_) return;
    park_idle(w);
  }
}

void WorkerPool::park_idle(Worker& w) {
  w.woken = false;
  w.idle_since = Clock::now();
  idle_.push_back(&w);
  if (idle_.size() > max_idle_ && !reaper_running_) {
    reaper_running_ = true;
    try {
      boost::fibers::fiber(std::allocator_arg, stacks_.allocator(), [this] { reaper_loop(); }).detach();
    } catch (...) {
      reaper_running_ = false;  // no reaper now; the next surplus tries again
    }
  }
  struct Unlist {  // Boost unwinding a parked worker (its thread ending): leave no dangling entry
    WorkerPool& pool;
    Worker& w;
    ~Unlist() {
      if (!w.woken) pool.idle_.erase(std::remove(pool.idle_.begin(), pool.idle_.end(), &w), pool.idle_.end());
    }
  } unlist{*this, w};
  // Only run() and end_worker() schedule a parked worker, each after setting `woken`.
  while (!w.woken) w.ctx->suspend();
  if (!w.task) --ending_;
}

void WorkerPool::end_worker(Worker& w) noexcept {
  w.task = detail::Task();
  w.woken = true;
  ++ending_;
  boost::fibers::context::active()->schedule(w.ctx);
}

void WorkerPool::reaper_loop() {
  struct Done {
    bool& running;
    ~Done() { running = false; }
  } done{reaper_running_};
  while (!stopping_ && idle_.size() > max_idle_) {
    const Clock::time_point due = idle_.front()->idle_since + reap_after_;
    const Clock::time_point now = Clock::now();
    if (now < due) {
      Parker p;
      reaper_parker_ = &p;
      p.park(due);
      reaper_parker_ = nullptr;
      continue;
    }
    for (std::size_t n = 0; n < kReapBatch && idle_.size() > max_idle_ && idle_.front()->idle_since + reap_after_ <= now;
         ++n) {
      Worker* w = idle_.front();
      idle_.pop_front();
      end_worker(*w);
      ++reaped_;
    }
    let_ended_go();  // the batch ends, and its stacks are freed, before the next is chosen
  }
}

void WorkerPool::stop() noexcept {
  stopping_ = true;
  if (reaper_parker_ != nullptr) reaper_parker_->unpark();
  while (!idle_.empty()) {
    for (std::size_t n = 0; n < kReapBatch && !idle_.empty(); ++n) {
      Worker* w = idle_.back();
      idle_.pop_back();
      end_worker(*w);
    }
    let_ended_go();
  }
  for (long turn = 0; (ending_ > 0 || reaper_running_) && turn < kMaxStopTurns; ++turn) boost::this_fiber::yield();
}

void WorkerPool::let_ended_go() noexcept {
  // Each ended worker has touched a second page of its stack on its way out (see the header);
  // Boost frees ended fibers, and the StackPool then those pages, only in its dispatcher, which
  // runs when no fiber is ready. A short sleep lets the batch run and be freed before the next
  // one, so ending 10,000 parked workers never holds 10,000 second pages at once.
  for (long turn = 0; turn < kMaxStopTurns; ++turn) {
    boost::this_fiber::sleep_for(std::chrono::microseconds(50));
    if (ending_ == 0) break;
  }
}

}  // namespace fibredis
