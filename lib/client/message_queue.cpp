#include <fibredis/detail/client/message_queue.hpp>

#include <algorithm>
#include <utility>

namespace fibredis {

void MessageQueue::push(Message&& m) {
  if (closed_) return;
  if (handler_ && items_.empty() && dropped_unreported_ == 0) {
    handler_(std::move(m));
    return;
  }
  if (items_.size() >= capacity_) {
    items_.pop_front();
    ++dropped_unreported_;
    ++dropped_total_;
  }
  items_.push_back(std::move(m));
  if (!waiters_.empty()) {
    Parker* p = waiters_.front();
    waiters_.pop_front();
    p->unpark();
  }
}

std::optional<Message> MessageQueue::take() {
  if (dropped_unreported_ != 0) {
    Message o;
    o.kind = MessageKind::Overflow;
    o.count = static_cast<long long>(dropped_unreported_);
    dropped_unreported_ = 0;
    return o;
  }
  if (items_.empty()) return std::nullopt;
  Message m = std::move(items_.front());
  items_.pop_front();
  return m;
}

std::optional<Message> MessageQueue::pop(Deadline deadline) {
  for (;;) {
    if (closed_) return std::nullopt;
    // FIFO among waiters: a newcomer does not overtake fibers already parked.
    if (waiters_.empty())
      if (auto m = take()) return m;
    if (expired(deadline)) return std::nullopt;
    Parker me;
    waiters_.push_back(&me);
    const bool woken = me.park(deadline);
    if (!woken) {
      auto it = std::find(waiters_.begin(), waiters_.end(), &me);
      if (it != waiters_.end()) waiters_.erase(it);
      // A push may have readied us just as the deadline hit: take what is there.
      if (!closed_)
        if (auto m = take()) return m;
      return std::nullopt;
    }
    if (closed_) return std::nullopt;
    if (auto m = take()) {
      // More left: pass the baton so a second waiter does not sleep on a non-empty queue.
      if ((!items_.empty() || dropped_unreported_ != 0) && !waiters_.empty()) {
        Parker* next = waiters_.front();
        waiters_.pop_front();
        next->unpark();
      }
      return m;
    }
  }
}

void MessageQueue::set_handler(Handler handler) {
  handler_ = std::move(handler);
  if (!handler_) return;
  while (auto m = take()) handler_(std::move(*m));
}

void MessageQueue::close() noexcept {
  closed_ = true;
  while (!waiters_.empty()) {
    Parker* p = waiters_.front();
    waiters_.pop_front();
    p->unpark();
  }
}

}  // namespace fibredis
