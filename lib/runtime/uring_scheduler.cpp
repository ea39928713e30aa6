#include <fibredis/detail/runtime/uring_scheduler.hpp>

#include <fibredis/detail/runtime/io_call.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fibredis {

namespace {
thread_local UringScheduler* t_current = nullptr;

// Tries the richest flag set first and drops features the kernel refuses (-EINVAL), so an old
// kernel still gets a working ring.
int init_ring(io_uring* ring, const RingOptions& o, unsigned* flags_out) {
  unsigned candidates[4];
  int n = 0;
  if (o.single_issuer && o.defer_taskrun)
    candidates[n++] = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (o.single_issuer && o.coop_taskrun)
    candidates[n++] = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
  if (o.coop_taskrun) candidates[n++] = IORING_SETUP_COOP_TASKRUN;
  candidates[n++] = 0;
  int rc = -EINVAL;
  for (int i = 0; i < n; ++i) {
    io_uring_params p{};
    p.flags = candidates[i];
    // A big completion queue: 10,000 blocked calls whose replies arrive together post 20,000
    // CQEs in one pass (each receive plus its linked timeout). The default (2 x entries) would
    // spill into the kernel's overflow list, which is flushed slowly, a few CQEs per enter.
    if (o.cq_entries > 2 * o.entries) {
      p.flags |= IORING_SETUP_CQSIZE;
      p.cq_entries = o.cq_entries;
    }
    rc = io_uring_queue_init_params(o.entries, ring, &p);
    if (rc == 0) {
      *flags_out = candidates[i];
      return 0;
    }
    if (rc != -EINVAL) return rc;
  }
  return rc;
}
}  // namespace

void IoCancel::on_cancel() noexcept {
  fired = true;
  if (active == nullptr) return;
  UringScheduler* sched = UringScheduler::current();
  if (sched == nullptr) return;
  io_uring_sqe* sqe = sched->get_sqe(1);
  io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(active), 0);
  io_uring_sqe_set_data64(sqe, 0);  // its own CQE says nothing we need (the target's CQE does)
}

IoResult io_result(int res, Deadline deadline) noexcept {
  if (res >= 0) return {res, {}};
  if ((res == -ECANCELED || res == -ETIME) && deadline != kNoDeadline && Clock::now() >= deadline)
    return {0, make_error_code(errc::timeout)};
  if (res == -ECANCELED) return {0, make_error_code(errc::cancelled)};
  if (res == -ETIME) return {0, make_error_code(errc::timeout)};
  return {0, std::error_code(-res, std::system_category())};
}

UringScheduler::UringScheduler(const RingOptions& options) {
  const int rc = init_ring(&ring_, options, &setup_flags_);
  if (rc < 0)
    throw std::system_error(-rc, std::system_category(), "io_uring_queue_init");
  if (setup_flags_ & IORING_SETUP_SINGLE_ISSUER) features_ += "single_issuer ";
  if (setup_flags_ & IORING_SETUP_DEFER_TASKRUN) features_ += "defer_taskrun ";
  if (setup_flags_ & IORING_SETUP_COOP_TASKRUN) features_ += "coop_taskrun ";
  if (!features_.empty()) features_.pop_back();
  sqe_slots_.resize(ring_.sq.ring_entries);
  // Blocking eventfd: io_uring would answer -EAGAIN at once on an O_NONBLOCK one.
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    const int err = errno;
    io_uring_queue_exit(&ring_);
    throw std::system_error(err, std::system_category(), "eventfd");
  }
  t_current = this;
}

UringScheduler::~UringScheduler() {
  if (t_current == this) t_current = nullptr;
  for (RoundHook* h : round_hooks_) h->sched_ = nullptr;
  io_uring_queue_exit(&ring_);
  ::close(wake_fd_);
}

UringScheduler* UringScheduler::current() noexcept { return t_current; }

void UringScheduler::awakened(boost::fibers::context* ctx) noexcept { ctx->ready_link(ready_); }

boost::fibers::context* UringScheduler::pick_next() noexcept {
  if (++picks_since_enter_ >= kFairnessPicks) {
    // Rule 3: a long run of ready fibers still gets its I/O submitted and completed.
    enter(0, nullptr);
  } else if (io_uring_cq_ready(&ring_) != 0) {
    reap();
  }
  if (ready_.empty() && !round_hooks_.empty()) run_round_hooks();
  if (ready_.empty()) return nullptr;
  boost::fibers::context* ctx = &ready_.front();
  ready_.pop_front();
  return ctx;
}

void UringScheduler::run_round_hooks() noexcept {
  running_hooks_.swap(round_hooks_);  // hooks armed while these run belong to the next round
  for (RoundHook* h : running_hooks_) {
    h->sched_ = nullptr;
    h->on_round_end();
  }
  running_hooks_.clear();
}

void UringScheduler::defer_to_round_end(RoundHook* hook) noexcept {
  hook->sched_ = this;
  try {
    round_hooks_.push_back(hook);
  } catch (...) {  // no memory for the list: run it now rather than lose it
    hook->sched_ = nullptr;
    hook->on_round_end();
  }
}

void UringScheduler::cancel_round_end(RoundHook* hook) noexcept {
  auto it = std::find(round_hooks_.begin(), round_hooks_.end(), hook);
  if (it != round_hooks_.end()) round_hooks_.erase(it);
  hook->sched_ = nullptr;
}

RoundHook::~RoundHook() {
  if (sched_) sched_->cancel_round_end(this);
}

void RoundHook::arm() noexcept {
  if (sched_) return;
  if (UringScheduler* s = UringScheduler::current()) {
    s->defer_to_round_end(this);
  } else {
    on_round_end();
  }
}

bool UringScheduler::has_ready_fibers() const noexcept { return !ready_.empty(); }

void UringScheduler::suspend_until(std::chrono::steady_clock::time_point const& abs_time) noexcept {
  if (!wake_armed_) arm_wake();
  if (abs_time != std::chrono::steady_clock::time_point::max()) {
    if (abs_time <= std::chrono::steady_clock::now()) {
      enter(0, nullptr);
      return;
    }
    // Rule 5: timers are ring timeouts armed only when an earlier one is needed. Every call's
    // deadline is later than the oldest pending one, so the hot path waits with no timer at all
    // (a timed wait per io_uring_enter costs ~40% of throughput with DEFER_TASKRUN here).
    if (abs_time < timer_armed_until_) arm_timer(abs_time);
  }
  enter(1, nullptr);
}

void UringScheduler::arm_timer(std::chrono::steady_clock::time_point when) noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  timer_ts_.tv_sec = ns / 1'000'000'000;
  timer_ts_.tv_nsec = ns % 1'000'000'000;
  io_uring_sqe* sqe = get_sqe(1);
  // The kernel copies the timespec when it takes the SQE, which is before timer_ts_ is reused.
  io_uring_prep_timeout(sqe, &timer_ts_, 0, IORING_TIMEOUT_ABS);
  io_uring_sqe_set_data64(sqe, kTimerTag);
  timer_armed_until_ = when;
}

void UringScheduler::notify() noexcept {
  // Called from other threads (a remote fiber made one of ours ready): only the eventfd is touched,
  // never the ring, which has a single issuer.
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

io_uring_sqe* UringScheduler::get_sqe(unsigned needed) noexcept {
  if (io_uring_sq_space_left(&ring_) < needed) {
    io_uring_submit(&ring_);
    ++enters_;
  }
  for (int attempt = 0; attempt < 1000; ++attempt) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) return sqe;
    // SQ still full (the kernel could not take entries): reap to make room, then retry.
    io_uring_submit_and_get_events(&ring_);
    ++enters_;
    reap();
  }
  std::terminate();  // the kernel refused submissions 1000 times in a row: nothing sane to do
}

void UringScheduler::enter(unsigned wait_nr, const __kernel_timespec* ts) noexcept {
  picks_since_enter_ = 0;
  ++enters_;
  if (wait_nr == 0) {
    io_uring_submit_and_get_events(&ring_);
  } else {
    io_uring_cqe* cqe = nullptr;
    // -ETIME (timer due) and -EINTR (a signal) are normal wake-ups; the scheduler re-checks timers.
    io_uring_submit_and_wait_timeout(&ring_, &cqe, wait_nr, const_cast<__kernel_timespec*>(ts), nullptr);
  }
  reap();
}

void UringScheduler::reap() noexcept {
  unsigned head;
  unsigned count = 0;
  io_uring_cqe* cqe;
  boost::fibers::context* self = boost::fibers::context::active();
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++count;
    const std::uint64_t tag = io_uring_cqe_get_data64(cqe);
    if (tag == 0) continue;  // a linked timeout's own completion
    if (tag == kWakeTag) {
      wake_armed_ = false;
      continue;
    }
    if (tag == kTimerTag) {
      // Some armed timer fired; later ones may still be pending (they only cause a spare wake-up).
      if (std::chrono::steady_clock::now() >= timer_armed_until_)
        timer_armed_until_ = std::chrono::steady_clock::time_point::max();
      continue;
    }
    auto* wait = reinterpret_cast<IoWait*>(tag);
    wait->result = cqe->res;
    self->schedule(wait->waiter);
  }
  io_uring_cq_advance(&ring_, count);
  completions_ += count;
}

void UringScheduler::arm_wake() noexcept {
  io_uring_sqe* sqe = get_sqe(1);
  io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof wake_buf_, 0);
  io_uring_sqe_set_data64(sqe, kWakeTag);
  wake_armed_ = true;
}

}  // namespace fibredis
