// Multiplexer: the pipeline core of a shared connection as a pure object — no sockets, no fibers,
// no clocks (the idea of Boost.Redis detail/multiplexer.hpp; our own code).
//
// Requests of n contiguous commands are queued (encoded once, into one buffer); prepare_write()
// hands out everything that may be written now as iovecs into that buffer (no copy, so a pipeline
// of a thousand commands is not copied again), commit_written(bytes) takes what the kernel took,
// short writes included; each reply is routed to the request and slot it belongs to (FIFO: RESP2
// answers in order); cancel() removes a request that has not been written at all (its bytes are
// skipped: it never reaches the server) and turns one that has been written, even partly, into an
// abandoned one (its replies are read and dropped, so the stream stays in step).
//
// Flow control: at most `max_in_flight` commands are written and unanswered; later requests stay
// queued and are handed out as replies free room. Only requests queued before the last
// request_flush() are handed out, which is how manual flushing works (the driver calls
// request_flush() after every enqueue when auto-flush is on).
//
// The driver (SharedConnection) calls these from one thread and never suspends between
// prepare_write() and commit_written(): the iovecs point into the queue's buffer.
#pragma once

#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <system_error>
#include <vector>

namespace fibredis {

class Multiplexer {
 public:
  /// Linux's IOV_MAX: one prepare_write() hands out at most this many iovecs.
  static constexpr std::size_t kMaxIov = 1024;

  /// One caller's batch. Owned by the caller; it must stay alive until done() or until cancel()
  /// returned (after which the multiplexer never touches it again).
  class Request {
   public:
    Request(Reply* out, std::size_t count) noexcept : out_(out), count_(static_cast<std::uint32_t>(count)) {}
    virtual ~Request() = default;
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;

    bool done() const noexcept { return done_; }
    /// Set when it failed (fail_all): the connection's error.
    std::error_code error() const noexcept { return error_; }
    /// Some byte of it was committed as written: the server may have run it.
    bool sent() const noexcept { return sent_; }
    std::size_t received() const noexcept { return received_; }
    std::size_t count() const noexcept { return count_; }

   protected:
    /// Called once, when the last reply arrived or the request failed. Must not call back into
    /// the multiplexer.
    virtual void on_done() noexcept {}

   private:
    friend class Multiplexer;
    Reply* out_;
    std::uint32_t count_;
    std::uint32_t received_ = 0;
    std::uint64_t seq_ = 0;
    std::error_code error_;
    bool done_ = false;
    bool sent_ = false;
  };

  explicit Multiplexer(std::size_t max_in_flight) noexcept : max_in_flight_(max_in_flight ? max_in_flight : 1) {}

  /// Queues cmds[0..n) as one contiguous request (n > 0). Nothing is written until prepare_write().
  void enqueue(const Command* cmds, std::size_t n, Request& req);
  /// Makes every request queued so far writable.
  void request_flush() noexcept { flush_end_seq_ = next_seq_; }

  /// The bytes to write now, as iovecs into the queue (replaces `iov`'s contents); returns their
  /// total size, 0 when nothing may be written (empty, not flushed, or the in-flight bound reached).
  std::size_t prepare_write(std::vector<iovec>& iov);
  /// The kernel took `bytes` of what prepare_write() handed out (bytes <= that total).
  void commit_written(std::size_t bytes) noexcept;

  /// Routes one reply to the oldest written request still waiting. A reply when no written
  /// request waits is a protocol error (errc::protocol_error): the stream is out of step.
  std::error_code on_reply(Reply&& reply);

  /// The caller gives up on `req`. True when no byte of it was written (it never will be); false
  /// when it was (its replies will be dropped). Either way `req` is forgotten. No-op when done.
  bool cancel(Request& req) noexcept;

  /// Fails every live request with `ec` and forgets everything queued (the connection is gone).
  void fail_all(std::error_code ec) noexcept;

  /// A flushed request is queued and not written yet (the driver should write when room allows).
  bool has_pending_write() const noexcept;
  /// Commands written, even partly, and not answered (the in-flight bound counts these).
  std::size_t in_flight() const noexcept { return in_flight_; }
  /// Commands queued or written whose replies have not arrived (abandoned ones included).
  std::size_t unanswered() const noexcept { return unanswered_; }
  /// Requests queued or waiting for replies (abandoned ones included).
  std::size_t requests() const noexcept { return entries_.size(); }
  /// Encoded bytes not yet written.
  std::size_t buffered_bytes() const noexcept { return buf_.size() - partial_; }
  bool idle() const noexcept { return entries_.empty(); }
  std::size_t max_in_flight() const noexcept { return max_in_flight_; }
  /// Replies that arrived for abandoned (cancelled after writing) requests and were dropped.
  std::uint64_t dropped_replies() const noexcept { return dropped_; }

 private:
  struct Entry {
    Request* req;          // nullptr once cancelled or abandoned
    std::uint32_t replies; // still to come (0 for a cancelled, never-written entry)
    std::uint32_t len;     // encoded bytes
    bool sent = false;     // some byte committed
    bool cancelled = false;// never written and never will be: its bytes are skipped
  };

  std::uint64_t seq_of(std::size_t index) const noexcept { return base_seq_ + index; }
  void skip_leading_holes() noexcept;
  void pop_answered_front() noexcept;

  std::size_t max_in_flight_;
  std::deque<Entry> entries_;       // answered ones leave at the front, new ones join at the back
  std::uint64_t base_seq_ = 0;      // seq of entries_[0]
  std::uint64_t next_seq_ = 0;      // seq of the next request queued
  std::uint64_t flush_end_seq_ = 0; // requests with seq below it may be written
  std::size_t first_unwritten_ = 0; // index of the first entry not completely written
  std::size_t partial_ = 0;         // bytes of that entry already written
  std::size_t planned_end_ = 0;     // index after the last entry prepare_write() covered
  std::string buf_;                 // bytes of entries_[first_unwritten_..], holes included
  std::size_t in_flight_ = 0;
  std::size_t unanswered_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace fibredis
