#include <fibredis/client/async.hpp>

namespace fibredis {

void AsyncTracker::drain() noexcept {
  // Bounded: each async command ends by its own deadline, and end() wakes us on the last one.
  while (live_ > 0) {
    Parker parker;  // bound to the draining fiber
    drainer_ = &parker;
    parker.park(kNoDeadline);
    drainer_ = nullptr;
  }
}

}  // namespace fibredis
