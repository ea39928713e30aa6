// Parker: one fiber waits (with a deadline) until another fiber of the same thread wakes it.
//
// Built on Boost.Fiber's low-level context::suspend()/wait_until() + schedule() pair (≈4 KiB of
// stack touched per parked fiber, against ≈9 KiB through condition_variable: shared/DESIGN.md).
// unpark() only schedules a fiber that is parked right now and not already on the ready queue (a
// deadline may have readied it first), so a fiber busy in some other wait is never woken by mistake.
#pragma once

#include <fibredis/runtime/deadline.hpp>

#include <boost/fiber/context.hpp>

namespace fibredis {

class Parker {
 public:
  Parker() noexcept : ctx_(boost::fibers::context::active()) {}
  Parker(const Parker&) = delete;
  Parker& operator=(const Parker&) = delete;

  /// Suspends the calling fiber until unpark() or the deadline. True if unparked.
  bool park(Deadline deadline) noexcept {
    while (!woken_) {
      parked_ = true;
      if (deadline == kNoDeadline) {
        ctx_->suspend();
      } else {
        ctx_->wait_until(deadline);
        if (!woken_ && Clock::now() >= deadline) {
          parked_ = false;
          return false;
        }
      }
      parked_ = false;
    }
    return true;
  }

  void unpark() noexcept {
    woken_ = true;
    if (parked_ && !ctx_->ready_is_linked()) boost::fibers::context::active()->schedule(ctx_);
  }

  bool woken() const noexcept { return woken_; }
  /// Arms the parker for another wait.
  void reset() noexcept { woken_ = false; }

 private:
  boost::fibers::context* ctx_;
  bool parked_ = false;
  bool woken_ = false;
};

}  // namespace fibredis
