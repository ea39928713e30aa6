#include <fibredis/detail/cluster/node_watch.hpp>

#include <algorithm>

namespace fibredis {

void NodeWatch::set_suspect(State& s, bool on) {
  if (s.suspect == on) return;
  s.suspect = on;
  if (on) {
    ++suspects_;
  } else {
    --suspects_;
  }
}

void NodeWatch::started(const NodeAddress& node, Clock::time_point now) {
  State& s = nodes_[node];
  if (s.in_flight++ == 0) s.busy_since = now;
  ++in_flight_;
  started_since_tick_ = true;
}

void NodeWatch::finished(const NodeAddress& node, Clock::time_point now, bool answered) {
  State& s = nodes_[node];
  if (s.in_flight > 0) {
    --s.in_flight;
    --in_flight_;
  }
  if (answered) {
    s.last_reply = now;
    set_suspect(s, false);
  } else {
    s.last_fault = now;
    set_suspect(s, true);
  }
}

void NodeWatch::suspect(const NodeAddress& node, Clock::time_point now) {
  State& s = nodes_[node];
  s.last_fault = now;
  set_suspect(s, true);
}

void NodeWatch::forget(const NodeAddress& node, Clock::time_point now) {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return;
  // Calls still outstanding keep their count (they will finish); the silence is timed afresh.
  set_suspect(it->second, false);
  it->second.busy_since = now;
  it->second.last_reply = now;
}

bool NodeWatch::tick(Clock::time_point now) {
  started_since_tick_ = false;
  for (auto& [node, s] : nodes_) {
    if (s.in_flight > 0 && now - std::max(s.busy_since, s.last_reply) >= silence_) {
      // Still silent: keep the suspicion fresh so it cannot expire while calls hang.
      s.last_fault = now;
      set_suspect(s, true);
    } else if (s.suspect && s.in_flight == 0 && now - s.last_fault >= forget_after_) {
      set_suspect(s, false);
    }
  }
  return any_suspect();
}

bool NodeWatch::is_suspect(const NodeAddress& node) const {
  auto it = nodes_.find(node);
  return it != nodes_.end() && it->second.suspect;
}

std::vector<NodeAddress> NodeWatch::suspects() const {
  std::vector<NodeAddress> out;
  for (const auto& [node, s] : nodes_)
    if (s.suspect) out.push_back(node);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace fibredis
