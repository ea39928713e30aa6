// Deadline: an absolute point on the monotonic clock; Deadline::max() means "no deadline".
// Calls take deadlines, not timeouts, so one deadline can bound a whole retry loop.
#pragma once

#include <chrono>

namespace fibredis {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

inline constexpr Deadline kNoDeadline = Deadline::max();

/// now + timeout, saturating (a zero or negative timeout is "already expired"; use kNoDeadline for none).
inline Deadline deadline_after(Clock::duration timeout) noexcept {
  const auto now = Clock::now();
  if (timeout > kNoDeadline - now) return kNoDeadline;
  return now + timeout;
}

inline bool expired(Deadline d) noexcept { return d != kNoDeadline && Clock::now() >= d; }

}  // namespace fibredis
