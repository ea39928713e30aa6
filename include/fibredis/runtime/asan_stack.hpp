// Fiber stacks and AddressSanitizer (sanitizer builds only; docs/SANITIZERS.md).
//
// Debian's Boost.Context announces no stack switches to ASan, so ASan cannot clean a fiber stack's
// shadow the way it cleans a thread's: frames that are gone leave poisoned bytes behind, and ASan's
// own bookkeeping at the next throw (an intercepted sigaltstack() into a local of its own) is then
// reported against them. These hooks clear what is certainly dead. Without FIBREDIS_ASAN they
// compile to nothing.
#pragma once

namespace fibredis {

/// Clears the shadow of the calling fiber's stack below the caller's frame (all of it dead).
/// Called by the scheduler each time a fiber suspends; a no-op off fiber stacks.
#if defined(FIBREDIS_ASAN)
void asan_forget_dead_stack() noexcept;
#else
inline void asan_forget_dead_stack() noexcept {}
#endif

}  // namespace fibredis
