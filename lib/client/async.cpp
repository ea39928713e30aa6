#include <fibredis/client/async.hpp>

#include <fibredis/detail/runtime/parker.hpp>

#include <cstddef>
#include <exception>
#include <iterator>
#include <utility>
#include <vector>

namespace fibredis {

void AsyncTracker::end() noexcept {
  if (--live_ == 0 && drainer_ != nullptr) drainer_->unpark();
}

void AsyncTracker::drain() noexcept {
  // Bounded: each async command ends by its own deadline, and end() wakes us on the last one.
  while (live_ > 0) {
    Parker parker;  // bound to the draining fiber
    drainer_ = &parker;
    parker.park(kNoDeadline);
    drainer_ = nullptr;
  }
}

AsyncBatcher::AsyncBatcher() noexcept = default;
AsyncBatcher::~AsyncBatcher() = default;

void AsyncBatcher::add(std::unique_ptr<detail::AsyncItem> item, AsyncTracker& tracker, void* client, Runner run,
                       std::size_t max_batch) {
  queued_.push_back(std::move(item));
  tracker.begin();
  if (queued_.size() == 1) start(tracker, client, run, max_batch);
}

void AsyncBatcher::start(AsyncTracker& tracker, void* client, Runner run, std::size_t max_batch) {
  try {
    // Runs once the caller yields: everything queued by then leaves as one batch.
    spawn([this, t = &tracker, client, run, max_batch] { flush(*t, client, run, max_batch); });
  } catch (...) {
    // No fiber (no Runtime on this thread): the queued futures carry the reason.
    std::vector<std::unique_ptr<detail::AsyncItem>> items = std::move(queued_);
    queued_.clear();
    for (auto& i : items) {
      i->fail(std::current_exception());
      tracker.end();
    }
  }
}

void AsyncBatcher::flush(AsyncTracker& tracker, void* client, Runner run, std::size_t max_batch) {
  std::vector<std::unique_ptr<detail::AsyncItem>> items;
  if (queued_.size() <= max_batch) {
    items = std::move(queued_);
    queued_.clear();
  } else {
    const auto cut = queued_.begin() + static_cast<std::ptrdiff_t>(max_batch);
    items.assign(std::make_move_iterator(queued_.begin()), std::make_move_iterator(cut));
    queued_.erase(queued_.begin(), cut);
    start(tracker, client, run, max_batch);  // the rest is the next batch, on its way at once
  }
  std::vector<Command> cmds;
  cmds.reserve(items.size());
  for (auto& i : items) cmds.push_back(std::move(i->cmd));
  std::vector<Reply> replies(cmds.size());
  std::exception_ptr error;
  try {
    run(client, cmds.data(), cmds.size(), replies.data());
  } catch (...) {
    error = std::current_exception();
  }
  // The last end() may let the client's destructor proceed: from there on only locals are
  // touched (set_value only readies the waiting fibers; they run after this one).
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (error) {
      items[i]->fail(error);
    } else {
      items[i]->complete(std::move(replies[i]));
    }
    tracker.end();
  }
}

}  // namespace fibredis
