// Template bodies of runtime.hpp (kept apart so the header reads as an interface).
#pragma once

#include <fibredis/errors.hpp>

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
  fiber_ = boost::fibers::fiber(std::allocator_arg, rt->stacks().allocator(), std::forward<F>(fn));
}

inline Fiber& Fiber::operator=(Fiber&& other) noexcept {
  if (this != &other) {
    if (fiber_.joinable()) fiber_.join();
    fiber_ = std::move(other.fiber_);
  }
  return *this;
}

inline Fiber::~Fiber() {
  if (fiber_.joinable()) fiber_.join();
}

inline void Fiber::join() {
  if (fiber_.joinable()) fiber_.join();
}

}  // namespace fibredis
