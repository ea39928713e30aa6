// MessageQueue: the bounded buffer between a subscription's reader fiber(s) and the user's fibers.
//
// Policy when full (a slow consumer): the OLDEST queued message is dropped and counted, and the
// consumer's next pop returns one Overflow event (count = messages dropped since the last one)
// before the rest. The reader never blocks: if it did, the server's output buffer for this client
// would grow until `client-output-buffer-limit pubsub` (32 MB hard / 8 MB for 60 s by default)
// disconnects it, and the loss would be larger and reported later. Either way messages are lost;
// this way the reader keeps up with the socket, PINGs stay answered and the loss is reported in
// order. With a handler set, messages go straight to it from the reader fiber and never queue.
//
// Single-threaded (the runtime's thread); push never suspends, pop suspends only its caller.
#pragma once

#include <fibredis/client/pubsub_message.hpp>
#include <fibredis/runtime/deadline.hpp>
#include <fibredis/detail/runtime/parker.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>

namespace fibredis {

class MessageQueue {
 public:
  using Handler = std::function<void(Message&&)>;

  explicit MessageQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  MessageQueue(const MessageQueue&) = delete;
  MessageQueue& operator=(const MessageQueue&) = delete;
  ~MessageQueue() { close(); }

  /// Queues m (dropping the oldest when full), or hands it to the handler. Never suspends.
  void push(Message&& m);

  /// The next message, waiting until `deadline`; std::nullopt on timeout or after close().
  /// Several fibers may wait; each message goes to one of them, first come first served.
  std::optional<Message> pop(Deadline deadline);

  /// Messages go to `handler` (from the reader fiber: it must not suspend long, or it delays
  /// everything behind it) instead of the queue; what is queued already goes first. An empty
  /// handler returns to queueing.
  void set_handler(Handler handler);

  /// Wakes every waiter (they get std::nullopt) and refuses later pops.
  void close() noexcept;

  std::size_t size() const noexcept { return items_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  /// Messages dropped since construction (Overflow events report them as they happen).
  std::uint64_t dropped() const noexcept { return dropped_total_; }

 private:
  std::optional<Message> take();

  std::size_t capacity_;
  std::deque<Message> items_;
  std::deque<Parker*> waiters_;
  Handler handler_;
  std::uint64_t dropped_unreported_ = 0;
  std::uint64_t dropped_total_ = 0;
  bool closed_ = false;
};

}  // namespace fibredis
