#include <fibredis/detail/cluster/topology_holder.hpp>

#include <fibredis/errors.hpp>

#include <boost/fiber/operations.hpp>

#include <algorithm>

namespace fibredis {

TopologyHolder::TopologyHolder(Fetch fetch, std::chrono::milliseconds min_interval, OnSwap on_swap,
                               MovedPolicy moved_policy, std::chrono::milliseconds unchanged_max_interval)
    : fetch_(std::move(fetch)),
      on_swap_(std::move(on_swap)),
      min_interval_(min_interval),
      moved_policy_(moved_policy),
      unchanged_max_(std::max(unchanged_max_interval, min_interval)),
      gap_(min_interval),
      moved_base_(std::max(min_interval, std::chrono::milliseconds(1))),
      moved_interval_(moved_base_) {}

std::error_code TopologyHolder::refresh(std::uint64_t seen_version, Deadline deadline) {
  if (current_ && version_ > seen_version) return {};  // someone refreshed since the caller looked
  if (refreshing_) {
    Parker p;
    waiters_.push_back(&p);
    if (!p.park(deadline)) {
      waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &p));
      return make_error_code(errc::timeout);
    }
    return version_ > seen_version ? std::error_code() : last_error_;
  }
  refreshing_ = true;
  // Rate limit: a caller arriving right after a refresh waits out the rest of the interval, and
  // callers arriving meanwhile queue behind it instead of starting their own.
  const Clock::time_point allowed = last_refresh_ + gap_;
  if (current_ && Clock::now() < allowed) boost::this_fiber::sleep_until(std::min(allowed, deadline));
  std::error_code ec;
  bool changed = false;
  if (expired(deadline)) {
    ec = make_error_code(errc::timeout);
  } else {
    Topology fresh;
    ec = fetch_(deadline, fresh);
    ++refreshes_;
    last_refresh_ = Clock::now();
    if (!ec) {
      std::shared_ptr<const Topology> before = std::move(current_);
      current_ = std::make_shared<const Topology>(std::move(fresh));
      changed = !before || !before->same_layout(*current_);
      ++version_;
      moved_since_refresh_ = 0;
      if (on_swap_ && before) on_swap_(*before, *current_);
    }
  }
  // Nothing new (or no answer): the cluster has not moved yet, so asking again at once would
  // only repeat it; the gap doubles. Something new: back to min_interval, a change may follow.
  gap_ = changed ? min_interval_
                 : std::min(std::max(gap_ * 2, moved_base_), std::max(unchanged_max_, min_interval_));
  last_error_ = ec;
  refreshing_ = false;
  std::deque<Parker*> waiters;
  waiters.swap(waiters_);
  for (Parker* p : waiters) p->unpark();
  return ec;
}

bool TopologyHolder::moved(std::uint16_t slot, const NodeAddress& owner) {
  ++moved_replies_;
  if (!current_) return false;
  const Clock::time_point now = Clock::now();
  if (now - last_moved_ > moved_policy_.max_interval) moved_interval_ = moved_base_;  // a new episode
  last_moved_ = now;
  const bool known_primary = current_->role_of(owner) == NodeRole::Primary;
  move_slot(slot, owner);
  ++moved_since_refresh_;
  const bool wanted = !known_primary || (moved_policy_.steps > 0 && moved_since_refresh_ >= moved_policy_.steps);
  if (!wanted || refreshing_) return false;
  // The episode's first refresh goes at once (refresh() still keeps min_interval after the last).
  if (moved_interval_ > moved_base_ && now - last_refresh_ < moved_interval_) return false;
  moved_interval_ = std::min(moved_interval_ * 2, std::max(moved_policy_.max_interval, moved_base_));
  ++moved_refreshes_;
  return true;
}

void TopologyHolder::move_slot(std::uint16_t slot, const NodeAddress& owner) {
  if (!current_) return;
  const Shard* shard = current_->shard_for_slot(slot);
  if (shard != nullptr && shard->primary == owner) return;  // already applied by another fiber
  current_ = std::make_shared<const Topology>(current_->with_slot_moved(slot, owner));
}

}  // namespace fibredis
