// ClientStats: what one client (Client or ClusterClient, all its nodes together) has done on the
// wire, so a claim such as "one write carries many fibers' commands" can be checked by a counter.
//
// Plain counters, bumped by the one thread that owns the client (no atomics needed: a client
// belongs to one Runtime). Read them with client.stats(); ring_enters is filled in at that moment
// from the thread's scheduler (it counts the whole runtime, not only this client).
#pragma once

#include <cstdint>

namespace fibredis {

struct ClientStats {
  std::uint64_t commands = 0;    ///< commands handed to a connection to be written
  std::uint64_t writes = 0;      ///< send calls (a syscall, or a ring send) carrying them
  std::uint64_t replies = 0;     ///< replies read (dropped ones of abandoned requests included)
  std::uint64_t connects = 0;    ///< connections established (shared and pooled)
  std::uint64_t reconnects = 0;  ///< shared connections replaced after a failure
  std::uint64_t redirects = 0;   ///< MOVED and ASK replies followed (cluster)
  std::uint64_t refreshes = 0;   ///< full topology refreshes (cluster)
  std::uint64_t retries = 0;     ///< commands re-sent after a fault (TRYAGAIN, CLUSTERDOWN, a lost node...)
  std::uint64_t timeouts = 0;    ///< calls that ended with a timeout
  std::uint64_t ring_enters = 0; ///< io_uring_enter calls of this thread's runtime (whole runtime)
  // Exclusive-connection pools (blocking commands, WATCH, WAIT batches), all nodes together:
  std::uint64_t pool_created = 0;     ///< pooled connections opened
  std::uint64_t pool_reused = 0;      ///< acquisitions served by an idle pooled connection
  std::uint64_t pool_closed_idle = 0; ///< idle pooled connections closed (idle_timeout, or shed on EMFILE)
  std::uint64_t pool_open = 0;        ///< pooled connections open now (idle + in use)
  std::uint64_t pool_timeouts = 0;    ///< callers that got PoolTimeoutError
  // Cancelled blocking calls (CancelScope deadline or CancelSource::cancel):
  std::uint64_t cancels = 0;          ///< blocked calls ended early by their caller
  std::uint64_t cancel_reused = 0;    ///< ... whose connection was unblocked and went back to the pool clean
  std::uint64_t cancel_dropped = 0;   ///< ... whose connection had to be closed instead
  std::uint64_t cancel_rescued = 0;   ///< ... that got the server's element after all (it won the race)
};

}  // namespace fibredis
