// for_each_concurrently: n tasks in n fibers at once, the first exception rethrown after all end.
//
// The one fan-out loop of the library: the cluster client's split commands (DEL over several
// slots, mget_nonatomic, mset_nonatomic) and the _nonatomic helpers (cluster/nonatomic_commands.hpp)
// all run their parts this way. An implementation helper (namespace detail), installed only
// because NonAtomicCommands<> is a template that calls it.
#pragma once

#include <fibredis/runtime/runtime.hpp>

#include <cstddef>
#include <exception>
#include <vector>

namespace fibredis::detail {

/// Runs fn(i) for i in [0, n) in n fibers of this thread at once and waits for all of them. The
/// first exception by index is rethrown after every fiber has finished: a part never outlives
/// the call, whatever the others threw.
template <class F>
void for_each_concurrently(std::size_t n, F&& fn) {
  std::vector<std::exception_ptr> errors(n);
  {
    std::vector<Fiber> fibers;
    fibers.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      fibers.emplace_back([&fn, &errors, i] {
        try {
          fn(i);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      });
  }  // Fiber's destructor joins
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace fibredis::detail
