// io_call: start one io_uring operation for the calling fiber and suspend only that fiber until the
// operation's own completion arrives (helio's FiberCall idea).
//
// With a deadline the operation is linked to an IORING_OP_LINK_TIMEOUT (absolute, CLOCK_MONOTONIC,
// the steady_clock on Linux). If the timer fires the kernel cancels the operation; we still wait for
// the cancelled operation's CQE, because until then the kernel may point into this fiber's stack.
#pragma once

#include <fibredis/errors.hpp>
#include <fibredis/runtime/cancel.hpp>
#include <fibredis/runtime/deadline.hpp>
#include <fibredis/detail/runtime/uring_scheduler.hpp>

#include <cerrno>
#include <system_error>

namespace fibredis {

/// Result of an io_call: the CQE's res (>= 0), or an error: timeout (our errc) when the deadline
/// cancelled it, the kernel's errno otherwise.
struct IoResult {
  int value = 0;
  std::error_code error;
  explicit operator bool() const noexcept { return !error; }
};

/// Maps a CQE's res to an IoResult. -ECANCELED/-ETIME after the deadline passed is a timeout.
IoResult io_result(int res, Deadline deadline) noexcept;

/// Lets a CancelSource end an io_call early: cancel() asks the kernel to cancel the operation
/// (IORING_OP_ASYNC_CANCEL on its user_data); the call still waits for the operation's own CQE
/// (the kernel may point into the fiber's stack until then) and returns errc::call_cancelled
/// unless the operation completed first. A receive cancelled this way consumed no bytes.
class IoCancel final : public CancelRegistration {
 public:
  IoWait* active = nullptr;  // the operation in flight, set by io_call
  bool fired = false;

 protected:
  void on_cancel() noexcept override;
};

/// Runs `prep(sqe)` on a fresh SQE, links a timeout if `deadline` is set, suspends the fiber until
/// the CQE. Must be called from a fiber of a thread with a live Runtime. With `cancel` (attached
/// to a source by the caller), a cancellation ends the wait early (see IoCancel).
template <class Prep>
IoResult io_call(Prep&& prep, Deadline deadline = kNoDeadline, IoCancel* cancel = nullptr) noexcept {
  UringScheduler* sched = UringScheduler::current();
  if (sched == nullptr) return {0, std::make_error_code(std::errc::operation_not_permitted)};
  if (cancel != nullptr && cancel->fired) return {0, make_error_code(errc::call_cancelled)};
  if (expired(deadline)) return io_result(-ETIME, deadline);
  IoWait wait;
  wait.waiter = boost::fibers::context::active();
  const bool timed = deadline != kNoDeadline;
  io_uring_sqe* sqe = sched->get_sqe(timed ? 2 : 1);
  prep(sqe);
  io_uring_sqe_set_data(sqe, &wait);
  if (timed) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    sqe->flags |= IOSQE_IO_LINK;
    io_uring_sqe* tsqe = sched->get_sqe(1);
    // The kernel reads the timespec when it takes the SQE: in the SQE's slot, not on this stack.
    __kernel_timespec& ts = sched->slot_of(tsqe).ts;
    ts.tv_sec = ns / 1'000'000'000;
    ts.tv_nsec = ns % 1'000'000'000;
    io_uring_prep_link_timeout(tsqe, &ts, IORING_TIMEOUT_ABS);
    io_uring_sqe_set_data64(tsqe, 0);
  }
  if (cancel != nullptr) cancel->active = &wait;
  wait.waiter->suspend();
  if (cancel != nullptr) {
    cancel->active = nullptr;
    if (cancel->fired && wait.result == -ECANCELED) return {0, make_error_code(errc::call_cancelled)};
  }
  return io_result(wait.result, deadline);
}

}  // namespace fibredis
