#include <fibredis/detail/conn/node_connections.hpp>

#include <fibredis/errors.hpp>

#include <algorithm>

namespace fibredis {

Deadline NodeConnections::deadline_for(const Command* cmds, std::size_t n) const {
  auto budget = std::chrono::duration_cast<Clock::duration>(options_.command_timeout);
  for (std::size_t i = 0; i < n; ++i) {
    if (!cmds[i].blocking) continue;
    if (cmds[i].blocking->count() == 0) return kNoDeadline;  // the caller asked to wait forever
    budget += *cmds[i].blocking;
  }
  return deadline_after(budget);
}

std::error_code NodeConnections::run(const Command* cmds, std::size_t n, Reply* out, Deadline deadline,
                                     bool* written) {
  const bool blocking = std::any_of(cmds, cmds + n, [](const Command& c) { return c.blocking.has_value(); });
  if (!blocking) {
    std::error_code ec = shared_.execute(cmds, n, out, deadline, written);
    if (ec == errc::auth_failed) error_text_ = shared_.last_error_text();
    return ec;
  }
  // A command the server may hold gets a connection of its own: the shared one must keep flowing.
  return run_exclusive(cmds, n, out, deadline, written);
}

std::error_code NodeConnections::run_exclusive(const Command* cmds, std::size_t n, Reply* out,
                                               Deadline deadline, bool* written) {
  if (written) *written = false;
  ConnectionPool::Lease lease;
  if (std::error_code ec = pool_.acquire(deadline, lease)) {
    if (ec == errc::auth_failed) error_text_ = pool_.last_error_text();
    return ec;
  }
  if (written) *written = true;
  std::error_code ec = lease->roundtrip(cmds, n, out, deadline);
  if (ec) lease->mark_broken();  // a late reply would land on a reused connection: never reuse it
  return ec;
}

}  // namespace fibredis
