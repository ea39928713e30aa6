#include <fibredis/detail/runtime/stack_pool.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <new>

namespace fibredis {

struct StackPool::Allocator::State {
  std::size_t usable = 0;     // bytes above the guard page
  std::size_t page = 4096;
  std::size_t max_cached = 0;
  std::vector<void*> free;    // mapping bases (guard page included)

  ~State() {
    for (void* base : free) unmap(base);
  }

  void unmap(void* base) const noexcept { ::munmap(base, usable + page); }
};

StackPool::StackPool(std::size_t stack_size, std::size_t max_cached)
    : state_(std::make_shared<Allocator::State>()) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  state_->page = page;
  state_->usable = (stack_size + page - 1) / page * page;
  state_->max_cached = max_cached;
}

std::size_t StackPool::stack_size() const noexcept { return state_->usable; }
std::size_t StackPool::cached() const noexcept { return state_->free.size(); }

boost::context::stack_context StackPool::Allocator::allocate() {
  State& s = *state_;
  void* base;
  if (!s.free.empty()) {
    base = s.free.back();
    s.free.pop_back();
  } else {
    base = ::mmap(nullptr, s.usable + s.page, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    ::mprotect(base, s.page, PROT_NONE);  // guard page: overflow faults instead of corrupting
  }
  boost::context::stack_context sctx;
  sctx.size = s.usable;
  sctx.sp = static_cast<char*>(base) + s.page + s.usable;
  return sctx;
}

void StackPool::Allocator::deallocate(boost::context::stack_context& sctx) noexcept {
  State& s = *state_;
  void* base = static_cast<char*>(sctx.sp) - sctx.size - s.page;
  if (s.free.size() < s.max_cached) {
    try {
      s.free.push_back(base);
      return;
    } catch (...) {
    }
  }
  s.unmap(base);
}

}  // namespace fibredis
