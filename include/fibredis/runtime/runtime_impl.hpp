// Template bodies of runtime.hpp (kept apart so the header reads as an interface).
#pragma once

#include <fibredis/errors.hpp>

#include <boost/context/detail/exception.hpp>

namespace fibredis {

template <class F>
void spawn(F&& fn) {
  Runtime* rt = Runtime::current();
  if (rt == nullptr) throw UsageError("fibredis::spawn called on a thread without a Runtime");
  rt->spawn(std::forward<F>(fn));
}

template <class F>
Fiber::Fiber(F&& fn) {
  Runtime* rt = Runtime::current();
  if (rt == nullptr) throw UsageError("fibredis::Fiber created on a thread without a Runtime");
  outcome_ = std::make_unique<Outcome>();
  fiber_ = boost::fibers::fiber(std::allocator_arg, rt->stacks().allocator(),
                                [out = outcome_.get(), f = std::forward<F>(fn)]() mutable {
                                  try {
                                    f();
                                  } catch (const boost::context::detail::forced_unwind&) {
                                    throw;  // Boost.Context unwinding a fiber's stack: not ours
                                  } catch (...) {
                                    out->error = std::current_exception();
                                  }
                                });
}

inline void Fiber::join_and_report() noexcept {
  if (fiber_.joinable()) fiber_.join();
  if (outcome_ && outcome_->error) {
    if (Runtime* rt = Runtime::current()) rt->report_error(std::exchange(outcome_->error, nullptr));
  }
}

inline Fiber& Fiber::operator=(Fiber&& other) noexcept {
  if (this != &other) {
    join_and_report();
    fiber_ = std::move(other.fiber_);
    outcome_ = std::move(other.outcome_);
  }
  return *this;
}

inline Fiber::~Fiber() { join_and_report(); }

inline void Fiber::join() {
  if (fiber_.joinable()) fiber_.join();
  if (outcome_ && outcome_->error) std::rethrow_exception(std::exchange(outcome_->error, nullptr));
}

}  // namespace fibredis
