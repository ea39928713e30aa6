#include <fibredis/runtime/stack_pool.hpp>

#include <fibredis/runtime/asan_stack.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <new>

#if defined(FIBREDIS_ASAN)
#include <sanitizer/asan_interface.h>

#include <cstdint>
#include <map>

#include <dlfcn.h>
#endif

namespace fibredis {

#if defined(FIBREDIS_ASAN)
namespace {
// Live fiber stacks of this thread: top -> bottom of the usable range (for the lookup below).
thread_local std::map<std::uintptr_t, std::uintptr_t> t_live_stacks;

}  // namespace

void asan_forget_dead_stack() noexcept {
  char probe = 0;
  const auto here = reinterpret_cast<std::uintptr_t>(&probe) & ~std::uintptr_t{7};
  auto it = t_live_stacks.upper_bound(here);
  if (it == t_live_stacks.end() || it->second > here) return;  // not a fiber stack: ASan knows it
  __asan_unpoison_memory_region(reinterpret_cast<void*>(it->second), here - it->second);
}
}  // namespace fibredis

// Boost.Context from Debian is built without BOOST_USE_ASAN, so ASan is never told about fiber
// switches. On a fiber stack __asan_handle_no_return then refuses to clean the frames a throw is
// about to unwind ("ASan is ignoring requested __asan_handle_no_return"); their redzones stay
// poisoned and the next code to use that stack is reported (a false stack-use-after-scope). Every
// catch starts with __cxa_begin_catch, when every frame below the handler is dead: this build
// interposes it to clear those frames' shadow, then calls the C++ runtime's own. Sanitizer builds
// only; see docs/SANITIZERS.md.
extern "C" void* __cxa_begin_catch(void* exception) noexcept {
  using BeginCatch = void* (*)(void*) noexcept;
  static const auto real = reinterpret_cast<BeginCatch>(::dlsym(RTLD_NEXT, "__cxa_begin_catch"));
  fibredis::asan_forget_dead_stack();
  return real(exception);
}

namespace fibredis {
#endif

struct StackPool::Allocator::State {
  std::size_t usable = 0;     // bytes above the guard page
  std::size_t page = 4096;
  std::size_t max_cached = 0;
  std::vector<void*> free;    // mapping bases (guard page included)

  ~State() {
    for (void* base : free) ::munmap(base, usable + page);
  }
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
#if defined(FIBREDIS_ASAN)
  // Frames left by a context switch keep their redzones poisoned, and munmap does not clear the
  // shadow of a stack unmapped earlier at this address: every stack handed out starts clean.
  __asan_unpoison_memory_region(static_cast<char*>(base) + s.page, s.usable);
#endif
  boost::context::stack_context sctx;
  sctx.size = s.usable;
  sctx.sp = static_cast<char*>(base) + s.page + s.usable;
#if defined(FIBREDIS_ASAN)
  t_live_stacks[reinterpret_cast<std::uintptr_t>(sctx.sp)] = reinterpret_cast<std::uintptr_t>(base) + s.page;
#endif
  return sctx;
}

void StackPool::Allocator::deallocate(boost::context::stack_context& sctx) noexcept {
  State& s = *state_;
  void* base = static_cast<char*>(sctx.sp) - sctx.size - s.page;
#if defined(FIBREDIS_ASAN)
  t_live_stacks.erase(reinterpret_cast<std::uintptr_t>(sctx.sp));
#endif
  if (s.free.size() < s.max_cached) {
    try {
      s.free.push_back(base);
      return;
    } catch (...) {
    }
  }
  ::munmap(base, s.usable + s.page);
}

}  // namespace fibredis
