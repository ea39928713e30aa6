// StackPool: fiber stacks from mmap with a guard page, cached for reuse.
//
// Only the pages a fiber touches become resident, so a 64 KiB stack costs one or two pages for a
// fiber parked in a Redis call. Stacks come 32 to a mapping (a slab): one mmap per 32 fibers, and
// a slab goes back with one munmap once all its stacks are free and the pool holds more than
// `max_cached` free stacks. Freeing stacks one munmap each cost a TLB shootdown apiece, a third of
// the CPU of 10,000 blocked calls ending together (issue 9's profile). A freed stack is reused
// first (its pages are resident), from the slab freed into last.
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
  /// Free stacks held (in partly used slabs and in whole free ones).
  std::size_t cached() const noexcept;
  /// Slabs mapped (32 stacks each).
  std::size_t mappings() const noexcept;

 private:
  struct Slab;
  std::shared_ptr<Allocator::State> state_;
};

}  // namespace fibredis
