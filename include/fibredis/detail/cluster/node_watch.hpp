// NodeWatch: which cluster nodes look dead right now, judged from the client's own calls.
//
// A node that is stopped (SIGSTOP, a lost host, a partition) sends no RST: connections stay up
// and requests just never get answered. Waiting for each caller's deadline to notice that costs
// the whole command_timeout per caller, and nobody re-reads the slot map meanwhile. So the
// cluster client reports every call it sends to a node (started/finished); a node with calls
// outstanding that has answered nothing for `silence` is suspect, and so is a node whose call
// just failed (connection error, timeout). While any node is suspect the client re-reads the map
// often, asking other nodes first, until the suspect answers again or the map no longer makes it
// a primary.
//
// Suspicion ends when the node answers, when forget() is called (it stopped being a primary), or
// `forget_after` after its last fault with nothing outstanding.
//
// Pure: the caller passes the time; no sockets, no fibers.
#pragma once

#include <fibredis/cluster/node_address.hpp>
#include <fibredis/runtime/deadline.hpp>

#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace fibredis {

class NodeWatch {
 public:
  NodeWatch(std::chrono::milliseconds silence, std::chrono::milliseconds forget_after)
      : silence_(silence), forget_after_(forget_after) {}

  /// A call to `node` was sent (or is about to be).
  void started(const NodeAddress& node, Clock::time_point now);
  /// That call ended: `answered` when the node replied (any reply, an error reply included),
  /// false when it failed without an answer (the node becomes suspect).
  void finished(const NodeAddress& node, Clock::time_point now, bool answered);
  /// Marks `node` suspect without a call of ours (a fault seen elsewhere).
  void suspect(const NodeAddress& node, Clock::time_point now);
  /// The node is no longer a primary (its connection was broken): no longer suspect, and its
  /// silence is timed afresh from `now`.
  void forget(const NodeAddress& node, Clock::time_point now);

  /// Marks silent nodes suspect and drops old suspicions. Returns any_suspect().
  bool tick(Clock::time_point now);

  bool is_suspect(const NodeAddress& node) const;
  bool any_suspect() const noexcept { return suspects_ > 0; }
  std::vector<NodeAddress> suspects() const;
  /// Calls outstanding on any node, or some call started since the last tick().
  bool busy() const noexcept { return in_flight_ > 0 || started_since_tick_; }

 private:
  struct State {
    int in_flight = 0;
    Clock::time_point busy_since{};  // when in_flight last went from 0 to 1
    Clock::time_point last_reply{};
    Clock::time_point last_fault{};
    bool suspect = false;
  };
  void set_suspect(State& s, bool on);

  std::chrono::milliseconds silence_;
  std::chrono::milliseconds forget_after_;
  std::unordered_map<NodeAddress, State> nodes_;
  std::size_t suspects_ = 0;
  long in_flight_ = 0;
  bool started_since_tick_ = false;
};

}  // namespace fibredis
