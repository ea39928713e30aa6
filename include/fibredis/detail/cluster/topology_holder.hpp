// TopologyHolder: the current slot map, and the one place that refreshes it.
//
// Refresh is single-flight and rate-limited: a storm of MOVED replies or connection errors from a
// thousand fibers costs one CLUSTER SHARDS round trip, and every fiber waiting uses its result
// (the peers' most reported cluster failure: redis-py#4074, lettuce#3331, ioredis#1415). A caller
// passes the version it routed with; if the map changed since, it returns at once.
//
// A MOVED patches one slot (moved()), and only sometimes makes a full refresh due: a reshard
// moves thousands of slots one after another, so 200 fibers see a stream of MOVEDs that each
// patch explains exactly, and refreshing on every few of them (redis-py's reinitialize_steps
// alone) re-reads the whole map several times a second for as long as the reshard runs.
#pragma once

#include <fibredis/cluster/topology.hpp>
#include <fibredis/runtime/deadline.hpp>
#include <fibredis/detail/runtime/parker.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <system_error>

namespace fibredis {

/// When MOVED replies make a full refresh due (TopologyHolder::moved()). Outside the class so
/// that its default member initializers can serve as a default argument of the constructor.
struct MovedRefreshPolicy {
  /// MOVEDs since the last full refresh that make one due (ClusterOptions::reinitialize_steps);
  /// zero or less: only a MOVED to a node that is no primary of the map does.
  int steps = 5;
  /// The longest wait between two refreshes made due by MOVEDs (see moved()).
  std::chrono::milliseconds max_interval{5000};
};

class TopologyHolder {
 public:
  /// Fetches a fresh map (asks the nodes); returns an error if no node answered.
  using Fetch = std::function<std::error_code(Deadline, Topology&)>;

  /// Told of every full refresh that swapped in a new snapshot: (the one before, the new one).
  /// Runs in the refreshing fiber, before the waiters are woken; must not suspend.
  using OnSwap = std::function<void(const Topology& before, const Topology& after)>;

  using MovedPolicy = MovedRefreshPolicy;

  /// `unchanged_max_interval`: a refresh that changed nothing routing depends on (same_layout:
  /// a node down but not failed over yet, while its callers keep asking) doubles the gap before
  /// the next one, from min_interval up to this (so a failover costs a refresh per this interval,
  /// not one per min_interval); a refresh that changed something resets it. Zero: every gap is
  /// min_interval.
  TopologyHolder(Fetch fetch, std::chrono::milliseconds min_interval, OnSwap on_swap = {},
                 MovedPolicy moved_policy = {},
                 std::chrono::milliseconds unchanged_max_interval = std::chrono::milliseconds(0));

  /// The snapshot in force; cheap (a shared_ptr copy), immutable, safe to keep across suspensions.
  std::shared_ptr<const Topology> current() const noexcept { return current_; }
  /// Bumped by every full refresh only. A patched slot (move_slot) does not count: a caller that
  /// saw a MOVED or a connection error must still get a full refresh even if other fibers patched
  /// single slots meanwhile, or a storm of MOVEDs would forever postpone the refresh.
  std::uint64_t version() const noexcept { return version_; }

  /// Makes sure the map is newer than `seen_version`: returns at once if it already is, waits for
  /// a refresh in flight, or runs one (no sooner than the gap after the last: min_interval, or
  /// up to unchanged_max_interval after refreshes that changed nothing). Waits within
  /// `deadline`. Errors: the fetch's error, errc::timeout.
  std::error_code refresh(std::uint64_t seen_version, Deadline deadline);
  /// Unconditional refresh (startup, the periodic timer); still single-flight.
  std::error_code refresh_now(Deadline deadline) { return refresh(version_, deadline); }

  /// Applies one MOVED: the slot now belongs to `owner`'s shard (no round trip).
  void move_slot(std::uint16_t slot, const NodeAddress& owner);

  /// A MOVED reply: patches the slot (move_slot) and says whether the caller should now run a
  /// full refresh (refresh() with the version it routed with). One is due when the owner is no
  /// primary of the map (a failover or a node the map lacks: the patch leaves that shard's other
  /// slots and replicas wrong) or `steps` MOVEDs came since the last full refresh (a stale map
  /// heals at once instead of one MOVED per slot), and then only if:
  ///  - no refresh is running (its result is near; the patch routes right meanwhile), and
  ///  - the MOVED back-off has passed: the first MOVED-made refresh of an episode is never held
  ///    back, but while MOVEDs keep coming after it (a reshard moving slot after slot, where a
  ///    refresh learns only the few slots moved since the last one), each next one waits twice
  ///    as long after the last full refresh, from min_interval up to max_interval. A quiet spell
  ///    of max_interval without any MOVED ends the episode.
  /// So a reshard of any length costs about log2(max_interval / min_interval) refreshes plus one
  /// per max_interval, however many fibers hit MOVED.
  bool moved(std::uint16_t slot, const NodeAddress& owner);

  /// How many full refreshes ran (the storm counter tests and users watch).
  std::uint64_t refreshes() const noexcept { return refreshes_; }
  /// MOVED replies passed to moved(), and the full refreshes it made due.
  std::uint64_t moved_replies() const noexcept { return moved_replies_; }
  std::uint64_t moved_refreshes() const noexcept { return moved_refreshes_; }
  /// When the last full refresh ended (successful or not); epoch before the first.
  Clock::time_point last_refresh() const noexcept { return last_refresh_; }
  /// A refresh is running now.
  bool refreshing() const noexcept { return refreshing_; }

 private:
  Fetch fetch_;
  OnSwap on_swap_;
  std::chrono::milliseconds min_interval_;
  MovedPolicy moved_policy_;
  std::chrono::milliseconds unchanged_max_;
  std::chrono::milliseconds gap_;  // the least time from the last refresh to the next
  std::shared_ptr<const Topology> current_;
  std::uint64_t version_ = 0;
  std::uint64_t refreshes_ = 0;
  bool refreshing_ = false;
  std::error_code last_error_;
  Clock::time_point last_refresh_{};
  std::deque<Parker*> waiters_;
  // The MOVED episode (moved()): MOVEDs since the last successful full refresh, the back-off
  // before the next MOVED-made refresh, and when the last MOVED came.
  int moved_since_refresh_ = 0;
  std::chrono::milliseconds moved_base_;  // the back-off's first step: min_interval, at least 1 ms
  std::chrono::milliseconds moved_interval_;
  Clock::time_point last_moved_{};
  std::uint64_t moved_replies_ = 0;
  std::uint64_t moved_refreshes_ = 0;
};

}  // namespace fibredis
