// StackPool: fiber stacks from mmap with a guard page, cached for reuse.
//
// Only the pages a fiber touches become resident, so a 64 KiB stack costs ~8 KiB for a fiber
// parked in a Redis call. Reuse avoids an mmap/mprotect/munmap per fiber (per pipeline fan-out).
#pragma once

#include <boost/context/stack_context.hpp>

#include <cstddef>
#include <memory>
#include <vector>

namespace fibredis {

class StackPool {
 public:
  StackPool(std::size_t stack_size, std::size_t max_cached);

  /// A Boost.Context StackAllocator; copies share the pool, which lives as long as any copy.
  class Allocator {
   public:
    boost::context::stack_context allocate();
    void deallocate(boost::context::stack_context& sctx) noexcept;

   private:
    friend class StackPool;
    struct State;
    explicit Allocator(std::shared_ptr<State> s) : state_(std::move(s)) {}
    std::shared_ptr<State> state_;
  };

  Allocator allocator() const { return Allocator(state_); }
  std::size_t stack_size() const noexcept;
  std::size_t cached() const noexcept;

 private:
  std::shared_ptr<Allocator::State> state_;
};

}  // namespace fibredis
