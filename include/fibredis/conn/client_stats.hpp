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
};

}  // namespace fibredis
