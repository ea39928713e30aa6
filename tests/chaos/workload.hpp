// The chaos suite's verified workload: many fibers writing and reading through one ClusterClient
// while a scenario breaks the cluster, with every acknowledged write recorded so that, afterwards,
// every loss and every duplicate is counted rather than guessed.
//
// Each fiber, in turn: SETs a key of its own that was never written before (so a lost string
// write is a missing key, not an overwritten one), RPUSHes a value unique in the whole run onto
// one of a few shared lists (so a duplicated non-idempotent write shows as a value present twice),
// and GETs one of its acknowledged keys back. A write counts as acknowledged only once its call
// returned without an exception; its acknowledgement time is kept to tell losses inside the
// server's split-brain window from losses outside it.
#pragma once

#include <fibredis/cluster/cluster_client.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fibredis::chaos {

using Clock = std::chrono::steady_clock;

struct WorkloadOptions {
  int fibers = 200;
  int lists = 20;
  /// Pause between one fiber's calls: keeps the load moderate on a shared two-core machine.
  std::chrono::milliseconds pause{20};
  std::chrono::milliseconds deadline{5000};  ///< the client's command_timeout
  std::string prefix;                        ///< key prefix of this scenario
};

/// What callers saw, and what the read-back found.
struct Outcome {
  std::uint64_t calls = 0;
  std::map<std::string, std::uint64_t> errors;  ///< by exception type
  std::uint64_t acked_strings = 0;
  std::uint64_t acked_pushes = 0;
  std::uint64_t reads = 0;
  std::uint64_t stale_reads = 0;  ///< a GET of an acknowledged key that gave another value
  std::uint64_t lost_in_window = 0;
  std::uint64_t lost_outside_window = 0;
  std::uint64_t duplicates = 0;          ///< extra copies of pushed values in the lists
  std::uint64_t unacked_applied = 0;     ///< writes that failed for the caller but did happen
  double longest_call_s = 0;
  std::uint64_t past_deadline = 0;       ///< calls longer than the deadline + kDeadlineSlack
  double recovery_s = 0;  ///< fault start -> end of the last call that failed or took > 1 s
  std::uint64_t topology_queries = 0;    ///< full slot-map refreshes of the client
  std::uint64_t moved = 0;               ///< MOVED replies the client followed
  std::uint64_t moved_refreshes = 0;     ///< of the topology queries, those MOVEDs made due
  Clock::time_point last_bad_call{};
};

/// Calls may end this much after their deadline before they count as late: the deadline is
/// checked by timers on a machine that the suite shares with the servers and the proxies.
inline constexpr std::chrono::milliseconds kDeadlineSlack{250};

class Workload {
 public:
  Workload(ClusterClient& client, WorkloadOptions options);
  /// Starts the fibers (they run until stop()).
  void start();
  /// Asks the fibers to stop after their current call and waits for them.
  void stop();

  /// Reads every acknowledged write back through `reader` (a fresh client) and fills `out`.
  /// A lost write acknowledged in [window_from, window_to] counts as lost in the window.
  void verify(ClusterClient& reader, Clock::time_point window_from, Clock::time_point window_to,
              Outcome& out) const;
  /// Caller-side figures (errors, longest call, recovery from `fault_start`).
  void caller_figures(Clock::time_point fault_start, Outcome& out) const;

 private:
  struct Ack {
    std::string value;
    Clock::time_point at;
  };
  void fiber_main(int id);
  template <class Fn>
  bool call(Fn&& fn);

  ClusterClient& client_;
  WorkloadOptions options_;
  bool stopping_ = false;
  int running_ = 0;
  std::uint64_t calls_ = 0;
  std::uint64_t reads_ = 0;
  std::uint64_t stale_reads_ = 0;
  std::map<std::string, std::uint64_t> errors_;
  double longest_s_ = 0;
  std::uint64_t past_deadline_ = 0;
  Clock::time_point last_bad_{};
  std::map<std::string, Ack> strings_;                   ///< key -> acknowledged value
  std::map<std::string, std::vector<Ack>> pushes_;       ///< list -> acknowledged values
  std::map<std::string, std::vector<std::string>> unacked_pushes_;  ///< failed for the caller
  std::vector<std::string> unacked_sets_;
};

}  // namespace fibredis::chaos
