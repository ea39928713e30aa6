// UringScheduler: the Boost.Fiber scheduling algorithm driven by one io_uring.
//
// Rules of the loop (shared/STYLE.md, runtime/):
//  1. Fibers that start I/O only fill SQEs; nothing is submitted while other fibers are ready.
//  2. When the ready queue drains, suspend_until() submits every pending SQE and sleeps in the ring
//     (io_uring_submit_and_wait_timeout) until a completion or the nearest timer. It is the only
//     place the thread sleeps.
//  3. pick_next() reaps completions that are already posted (no syscall); every kFairnessPicks picks
//     it also enters the kernel once, so a run of always-ready fibers cannot starve the ring.
//  4. Each completion resumes exactly the fiber whose IoWait it carries; user_data 0 (linked
//     timeouts) is ignored, kWakeTag re-arms the cross-thread wake-up eventfd, kTimerTag is a
//     scheduler timer.
//  5. Fiber timers (sleep_for, Parker deadlines) become one IORING_OP_TIMEOUT, armed only when a
//     timer earlier than every armed one appears; the wait itself is never a timed wait.
//  6. The end of a round: when pick_next() finds the ready queue empty, the RoundHooks armed during
//     the round run (a shared connection wakes its writer there), so everything the round's
//     fibers queued on one connection leaves in one write.
#pragma once

#include <fibredis/runtime/runtime.hpp>  // RingOptions

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/scheduler.hpp>
#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace fibredis {

/// The record one suspended I/O call waits on. It lives on the waiting fiber's stack: the fiber
/// stays suspended until this record's own CQE arrives, so the kernel never writes to a dead frame.
struct IoWait {
  boost::fibers::context* waiter = nullptr;
  int result = 0;
};
static_assert(sizeof(IoWait) <= 16, "memory per blocked call is a published figure");

class UringScheduler;

/// Work deferred to the end of the current scheduler round (rule 6). arm() is idempotent within a
/// round; destroying an armed hook disarms it.
class RoundHook {
 public:
  RoundHook() = default;
  RoundHook(const RoundHook&) = delete;
  RoundHook& operator=(const RoundHook&) = delete;
  virtual ~RoundHook();
  /// Runs on_round_end() once, when the fibers ready now (and any they make ready) have run.
  /// Must be called on a thread with a live Runtime; elsewhere it runs on_round_end() at once.
  void arm() noexcept;
  bool armed() const noexcept { return sched_ != nullptr; }

 protected:
  /// Runs in the scheduler, between fibers: it may make fibers ready, never suspend or throw.
  virtual void on_round_end() noexcept = 0;

 private:
  friend class UringScheduler;
  UringScheduler* sched_ = nullptr;
};

class UringScheduler final : public boost::fibers::algo::algorithm {
 public:
  static constexpr std::uint64_t kWakeTag = 1;
  static constexpr std::uint64_t kTimerTag = 2;
  static constexpr unsigned kFairnessPicks = 64;

  explicit UringScheduler(const RingOptions& options);
  ~UringScheduler() override;
  UringScheduler(const UringScheduler&) = delete;
  UringScheduler& operator=(const UringScheduler&) = delete;

  void awakened(boost::fibers::context* ctx) noexcept override;
  boost::fibers::context* pick_next() noexcept override;
  bool has_ready_fibers() const noexcept override;
  void suspend_until(std::chrono::steady_clock::time_point const& abs_time) noexcept override;
  void notify() noexcept override;

  /// The scheduler installed on this thread by a live Runtime, or nullptr.
  static UringScheduler* current() noexcept;

  /// A free SQE, submitting first if the queue is short of `needed` entries.
  io_uring_sqe* get_sqe(unsigned needed = 1) noexcept;

  /// Memory that travels with one SQE until the kernel takes it: what the kernel copies in at
  /// submission (a timeout's timespec, a connect's address) goes here, not on the calling fiber's
  /// stack. On the development VM the kernel's first access to a user page costs 12-25 us even
  /// after the fiber wrote it (docs/BENCHMARKS.md, issue 9 session 4); ten thousand new fibers
  /// each paid it once for a 4-byte value. These slots are reused, so they stay warm. A slot is
  /// valid from get_sqe() until the next submission (the SQE's own lifetime).
  struct SqeSlot {
    __kernel_timespec ts;
    alignas(8) unsigned char addr[32];  ///< a sockaddr_in or sockaddr_in6
  };
  SqeSlot& slot_of(const io_uring_sqe* sqe) noexcept { return sqe_slots_[static_cast<std::size_t>(sqe - ring_.sq.sqes)]; }
  /// Human-readable list of the setup flags in use ("single_issuer defer_taskrun").
  const std::string& features() const noexcept { return features_; }
  unsigned setup_flags() const noexcept { return setup_flags_; }

  /// Rule 6: queue `hook` for the end of this round (RoundHook::arm calls this).
  void defer_to_round_end(RoundHook* hook) noexcept;
  void cancel_round_end(RoundHook* hook) noexcept;

  /// Counters for benchmarks and tests.
  std::uint64_t enters() const noexcept { return enters_; }
  std::uint64_t completions() const noexcept { return completions_; }

 private:
  void reap() noexcept;
  void run_round_hooks() noexcept;
  void arm_wake() noexcept;
  void enter(unsigned wait_nr, const __kernel_timespec* ts) noexcept;
  void arm_timer(std::chrono::steady_clock::time_point when) noexcept;

  boost::fibers::scheduler::ready_queue_type ready_{};
  io_uring ring_{};
  unsigned setup_flags_ = 0;
  std::string features_;
  int wake_fd_ = -1;
  std::uint64_t wake_buf_ = 0;
  bool wake_armed_ = false;
  __kernel_timespec timer_ts_{};
  std::vector<SqeSlot> sqe_slots_;  // one per SQ entry (slot_of)
  std::chrono::steady_clock::time_point timer_armed_until_ = std::chrono::steady_clock::time_point::max();
  unsigned picks_since_enter_ = 0;
  std::vector<RoundHook*> round_hooks_;
  std::vector<RoundHook*> running_hooks_;
  std::uint64_t enters_ = 0;
  std::uint64_t completions_ = 0;
};

}  // namespace fibredis
