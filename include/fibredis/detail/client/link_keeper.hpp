// LinkKeeper: the fiber that keeps a set of subscription links (pubsub_link.hpp) where they
// belong. Every pass it naps (200 ms, 20 ms while a refresh is wanted, woken early by wake()),
// refreshes the slot map when something says it may be stale (a link is down, a channel lost
// its owner, a link asked for it), then rebalances (resubscribes what moved). Cluster keyspace
// events and sharded pub/sub (lib/cluster/) both run their links on one.
//
// The keeper knows nothing of clusters: its owner gives it the three steps. Errors thrown by
// `refresh` (fibredis::Error: no node answered) are swallowed, the next pass tries again; the
// other steps must not throw.
#pragma once

#include <fibredis/runtime/deadline.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <chrono>
#include <functional>

namespace fibredis {

class Parker;

class LinkKeeper {
 public:
  struct Steps {
    /// True when the map may be stale for a reason only the owner sees (a link is down, a
    /// channel waits for its new owner); want_refresh() covers the rest.
    std::function<bool()> stale;
    /// Re-reads the slot map (may throw fibredis::Error).
    std::function<void()> refresh;
    /// Puts the links where the map says; may check stopping() between slow steps.
    std::function<void()> rebalance;
  };

  /// How long a pass naps when nothing is wanted, and when a refresh is.
  static constexpr std::chrono::milliseconds kCheckInterval{200};
  static constexpr std::chrono::milliseconds kRefreshInterval{20};

  LinkKeeper() = default;
  /// stop()s.
  ~LinkKeeper();
  LinkKeeper(const LinkKeeper&) = delete;
  LinkKeeper& operator=(const LinkKeeper&) = delete;

  /// Starts the keeper fiber on this thread's Runtime; once (later calls do nothing).
  void start(Steps steps);
  bool running() const noexcept { return fiber_.joinable(); }

  /// Ends the current nap now (something changed that the next pass should see).
  void wake() noexcept;
  /// Refresh the map at the next pass (a link lost its connection), and nap short until then.
  void want_refresh() noexcept {
    refresh_wanted_ = true;
    wake();
  }

  /// Asks the fiber to end and waits for it; the owner calls it before tearing down its links.
  void stop() noexcept;
  bool stopping() const noexcept { return stopping_; }

 private:
  void loop();

  Steps steps_;
  bool refresh_wanted_ = false;
  bool stopping_ = false;
  Parker* nap_ = nullptr;  // the keeper's parker while it naps
  Fiber fiber_;
};

/// True when a link of `links` (a map of node -> std::unique_ptr<PubSubLink>) is not connected.
template <class LinkMap>
bool any_link_down(const LinkMap& links) {
  for (const auto& entry : links)
    if (!entry.second->connected()) return true;
  return false;
}

}  // namespace fibredis
