#include <fibredis/detail/runtime/stack_pool.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cstdint>
#include <map>
#include <new>

namespace fibredis {

namespace {
// Stacks per mapping. 32 makes a free mask of one word and divides the munmaps (each a TLB
// flush, and on a VM an IPI to every CPU the thread ran on) by 32.
constexpr unsigned kSlabStacks = 32;
constexpr std::uint32_t kAllFree = ~std::uint32_t{0};
static_assert(sizeof(std::uint32_t) * 8 == kSlabStacks);
}  // namespace

// One mapping of kSlabStacks stacks, each [guard page][usable bytes], guard at the low end (the
// stacks grow down).
struct StackPool::Slab {
  char* base = nullptr;
  std::uint32_t free = kAllFree;  // bit i: stack i is free
  Slab* prev = nullptr;           // in the list of slabs with a free stack
  Slab* next = nullptr;
  bool linked = false;
};

struct StackPool::Allocator::State {
  std::size_t usable = 0;  // bytes above each guard page
  std::size_t page = 4096;
  std::size_t stride = 0;  // usable + page
  std::size_t max_cached = 0;
  std::size_t free_stacks = 0;
  std::map<std::uintptr_t, Slab> slabs;  // by base address
  Slab* with_free = nullptr;             // most recently freed-into first: its pages are warm

  ~State() {
    for (auto& [base, slab] : slabs) ::munmap(slab.base, slab_bytes());
  }

  std::size_t slab_bytes() const noexcept { return stride * kSlabStacks; }

  void link(Slab& s) noexcept {
    s.prev = nullptr;
    s.next = with_free;
    if (with_free) with_free->prev = &s;
    with_free = &s;
    s.linked = true;
  }
  void unlink(Slab& s) noexcept {
    if (s.prev) {
      s.prev->next = s.next;
    } else {
      with_free = s.next;
    }
    if (s.next) s.next->prev = s.prev;
    s.prev = s.next = nullptr;
    s.linked = false;
  }

  Slab& new_slab() {
    void* p = ::mmap(nullptr, slab_bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    char* base = static_cast<char*>(p);
    // Guard pages: an overflow faults instead of corrupting the stack below. Nothing is mapped in
    // yet, so these change no page table entry and flush nothing.
    for (unsigned i = 0; i < kSlabStacks; ++i) ::mprotect(base + i * stride, page, PROT_NONE);
    Slab& s = slabs[reinterpret_cast<std::uintptr_t>(base)];
    s.base = base;
    free_stacks += kSlabStacks;
    link(s);
    return s;
  }
};

StackPool::StackPool(std::size_t stack_size, std::size_t max_cached)
    : state_(std::make_shared<Allocator::State>()) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  state_->page = page;
  state_->usable = (stack_size + page - 1) / page * page;
  state_->stride = state_->usable + page;
  state_->max_cached = max_cached;
}

std::size_t StackPool::stack_size() const noexcept { return state_->usable; }
std::size_t StackPool::cached() const noexcept { return state_->free_stacks; }
std::size_t StackPool::mappings() const noexcept { return state_->slabs.size(); }

boost::context::stack_context StackPool::Allocator::allocate() {
  State& s = *state_;
  Slab& slab = s.with_free ? *s.with_free : s.new_slab();
  const unsigned i = static_cast<unsigned>(std::countr_zero(slab.free));
  slab.free &= ~(std::uint32_t{1} << i);
  --s.free_stacks;
  if (slab.free == 0) s.unlink(slab);
  boost::context::stack_context sctx;
  sctx.size = s.usable;
  sctx.sp = slab.base + i * s.stride + s.stride;  // the top: stacks grow down
  return sctx;
}

void StackPool::Allocator::deallocate(boost::context::stack_context& sctx) noexcept {
  State& s = *state_;
  const auto top = reinterpret_cast<std::uintptr_t>(sctx.sp);
  auto it = s.slabs.upper_bound(top - 1);  // the slab whose base is at or below the stack
  --it;
  Slab& slab = it->second;
  const auto i = static_cast<unsigned>((top - 1 - it->first) / s.stride);
  slab.free |= std::uint32_t{1} << i;
  ++s.free_stacks;
  if (!slab.linked) s.link(slab);
  // A whole slab free beyond what the pool keeps goes back to the kernel in one munmap.
  if (slab.free == kAllFree && s.free_stacks > s.max_cached + kSlabStacks - 1) {
    s.unlink(slab);
    ::munmap(slab.base, s.slab_bytes());
    s.free_stacks -= kSlabStacks;
    s.slabs.erase(it);
  } else if (s.free_stacks > s.max_cached) {
    // Beyond the cache, a freed stack's pages go back at once: stacks are freed when the worker
    // pool ends surplus fibers (a reap or a Runtime's end: thousands together, off any call's
    // path), each with a second page just touched by Boost's fiber exit, and their slabs rarely
    // empty in that order. Without this, ending 10,000 parked fibers raised the peak RSS by 40 MB.
    ::madvise(slab.base + i * s.stride + s.page, s.usable, MADV_DONTNEED);
  }
}

}  // namespace fibredis
