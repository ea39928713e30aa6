// TopologyHolder: the current slot map, and the one place that refreshes it.
//
// Refresh is single-flight and rate-limited: a storm of MOVED replies or connection errors from a
// thousand fibers costs one CLUSTER SHARDS round trip, and every fiber waiting uses its result
// (the peers' most reported cluster failure: redis-py#4074, lettuce#3331, ioredis#1415). A caller
// passes the version it routed with; if the map changed since, it returns at once.
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

class TopologyHolder {
 public:
  /// Fetches a fresh map (asks the nodes); returns an error if no node answered.
  using Fetch = std::function<std::error_code(Deadline, Topology&)>;

  /// Told of every full refresh that swapped in a new snapshot: (the one before, the new one).
  /// Runs in the refreshing fiber, before the waiters are woken; must not suspend.
  using OnSwap = std::function<void(const Topology& before, const Topology& after)>;

  TopologyHolder(Fetch fetch, std::chrono::milliseconds min_interval, OnSwap on_swap = {});

  /// The snapshot in force; cheap (a shared_ptr copy), immutable, safe to keep across suspensions.
  std::shared_ptr<const Topology> current() const noexcept { return current_; }
  /// Bumped by every full refresh only. A patched slot (move_slot) does not count: a caller that
  /// saw a MOVED or a connection error must still get a full refresh even if other fibers patched
  /// single slots meanwhile, or a storm of MOVEDs would forever postpone the refresh.
  std::uint64_t version() const noexcept { return version_; }

  /// Makes sure the map is newer than `seen_version`: returns at once if it already is, waits for
  /// a refresh in flight, or runs one (no sooner than min_interval after the last). Waits within
  /// `deadline`. Errors: the fetch's error, errc::timeout.
  std::error_code refresh(std::uint64_t seen_version, Deadline deadline);
  /// Unconditional refresh (startup, the periodic timer); still single-flight.
  std::error_code refresh_now(Deadline deadline) { return refresh(version_, deadline); }

  /// Applies one MOVED: the slot now belongs to `owner`'s shard (no round trip).
  void move_slot(std::uint16_t slot, const NodeAddress& owner);

  /// How many full refreshes ran (the storm counter tests and users watch).
  std::uint64_t refreshes() const noexcept { return refreshes_; }
  /// When the last full refresh ended (successful or not); epoch before the first.
  Clock::time_point last_refresh() const noexcept { return last_refresh_; }
  /// A refresh is running now.
  bool refreshing() const noexcept { return refreshing_; }

 private:
  Fetch fetch_;
  OnSwap on_swap_;
  std::chrono::milliseconds min_interval_;
  std::shared_ptr<const Topology> current_;
  std::uint64_t version_ = 0;
  std::uint64_t refreshes_ = 0;
  bool refreshing_ = false;
  std::error_code last_error_;
  Clock::time_point last_refresh_{};
  std::deque<Parker*> waiters_;
};

}  // namespace fibredis
