#include <fibredis/detail/conn/shared_connection.hpp>

#include <fibredis/detail/conn/connection.hpp>
#include <fibredis/detail/conn/connection_pool.hpp>
#include <fibredis/detail/conn/multiplexer.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/detail/runtime/parker.hpp>
#include <fibredis/runtime/runtime.hpp>
#include <fibredis/detail/runtime/uring_scheduler.hpp>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace fibredis {

namespace {

// The health-check PING: owned by the link, nobody waits on it.
struct HealthPing final : Multiplexer::Request {
  HealthPing() noexcept : Multiplexer::Request(&reply, 1) {}
  Reply reply;
};

}  // namespace

// A caller's batch: the multiplexer's request plus the parker its fiber waits on.
struct SharedConnection::Waiter final : Multiplexer::Request, WaitHook {
  Waiter(Reply* out, std::size_t n, Deadline d) noexcept : Multiplexer::Request(out, n), deadline(d) {}
  Parker parker;
  Deadline deadline;
  bool in_watch = false;   // in SharedConnection::watched_: the writer enforces the deadline
  bool expired = false;    // the writer gave up on it at its deadline
  bool never_sent = false; // ... and no byte of it had been written

 protected:
  void on_done() noexcept override { parker.unpark(); }
};

// One TCP connection's lifetime; replaced as a whole on reconnect. Its writer fiber is woken at
// the end of a round (RoundHook) and writes what the round queued; its reader fiber routes replies.
struct SharedConnection::Link final : RoundHook {
  Link(SharedConnection* c, const Options& o, ClientStats* s) : owner(c), options(o), stats(s), mux(o.max_in_flight) {}

  SharedConnection* owner;
  const Options& options;
  ClientStats* stats;
  Connection conn{Connection::ReadBuffer::Owned};
  Multiplexer mux;
  std::vector<iovec> iov;
  Parker* writer_idle = nullptr;  // the writer's parker while it waits for work
  bool failed = false;
  Clock::time_point last_progress = Clock::now();  // last reply, or when replies became due
  HealthPing ping;
  Fiber reader;
  Fiber writer;

  void on_round_end() noexcept override { wake_writer(); }
  void wake_writer() noexcept {
    if (writer_idle) writer_idle->unpark();
  }

  void fail(std::error_code ec) noexcept {
    if (failed) return;
    failed = true;
    conn.shutdown();  // the reader's recv and a writer's poll end at once
    mux.fail_all(ec);
    wake_writer();
  }

  // The last reply, or bytes of one (a 100 MB reply takes a while and is not silence).
  Clock::time_point progress() const noexcept { return std::max(last_progress, conn.last_read()); }

  void write_pending() noexcept;
  void writer_loop() noexcept;
  void reader_loop() noexcept;
  Deadline next_check() const noexcept;
  void check_health() noexcept;
};

void SharedConnection::Link::write_pending() noexcept {
  // Rules: never suspend between prepare_write and commit_written (the iovecs point into the
  // queue); when the kernel's buffer is full, wait in the ring for room, bounded by command_timeout
  // (a server that stopped reading is dead for every caller alike).
  while (!failed && mux.has_pending_write()) {
    const std::size_t total = mux.prepare_write(iov);
    if (total == 0) return;
    const bool was_idle = mux.in_flight() == 0;
    std::size_t n = 0;
    std::error_code ec = conn.send_now(iov.data(), iov.size(), n);
    ++stats->writes;
    if (ec) {
      fail(ec);
      return;
    }
    mux.commit_written(n);
    if (was_idle && mux.in_flight() > 0) last_progress = Clock::now();
    if (n < total) {
      if (std::error_code wec = conn.wait_writable(deadline_after(options.command_timeout))) {
        fail(wec);
        return;
      }
    }
  }
}

Deadline SharedConnection::Link::next_check() const noexcept {
  Deadline d = owner->first_watched_deadline();
  if (mux.in_flight() > 0) d = std::min(d, progress() + options.command_timeout);
  // Also while replies are due: they may all arrive before that check, and the PING is then late.
  if (options.health_check_interval.count() > 0) d = std::min(d, last_progress + options.health_check_interval);
  return d;
}

void SharedConnection::Link::check_health() noexcept {
  const Clock::time_point now = Clock::now();
  if (mux.in_flight() > 0) {
    // Commands outstanding and not one reply for command_timeout: the server is stopped, gone or
    // cut off without a RST. Fail everyone now rather than each at its own deadline.
    if (now - progress() >= options.command_timeout) fail(make_error_code(errc::timeout));
    return;
  }
  if (options.health_check_interval.count() > 0 && now - last_progress >= options.health_check_interval &&
      mux.idle()) {
    static const Command kPing{"PING"};
    mux.enqueue(&kPing, 1, ping);
    mux.request_flush();
    ++stats->commands;
  }
}

void SharedConnection::Link::writer_loop() noexcept {
  while (!failed) {
    write_pending();
    if (failed) return;
    Parker idle;
    writer_idle = &idle;
    const Deadline check = next_check();
    const bool woken = idle.park(check);
    writer_idle = nullptr;
    if (!woken || (check != kNoDeadline && Clock::now() >= check)) {
      const Clock::time_point now = Clock::now();
      owner->expire_watched(now);
      check_health();
    }
  }
}

void SharedConnection::Link::reader_loop() noexcept {
  Reply reply;
  for (;;) {
    std::error_code ec = conn.read_reply(reply, kNoDeadline);
    if (!ec) ec = mux.on_reply(std::move(reply));  // a reply nobody asked for: out of step
    if (ec) {
      // The callers see only the code; the parser's words go where NodeConnections looks.
      if (ec == errc::protocol_error) owner->last_error_text_ = conn.error_text();
      fail(ec);
      return;
    }
    ++stats->replies;
    // The time of the read that completed this reply: exact enough for the health rules, and a
    // clock read per reply costs ~3% of a 300-reply pipeline's CPU on a VM clock (kvm-clock).
    last_progress = conn.last_read();
    // Replies freed room under max_in_flight: what waited for it goes out this round.
    if (mux.has_pending_write()) arm();
  }
}

// ---- SharedConnection ------------------------------------------------------------------------

SharedConnection::SharedConnection(Options options, ClientStats* stats)
    : options_(std::move(options)), stats_(stats ? stats : &own_stats_) {}

SharedConnection::~SharedConnection() {
  if (link_) retire(std::move(link_));
}

void SharedConnection::retire(std::unique_ptr<Link> link) {
  // Both fibers point into the link: they end promptly once it failed (shutdown wakes the
  // reader's recv and the writer's poll, fail() wakes an idle writer); wait for both.
  link->fail(make_error_code(errc::cancelled));
  link->reader.join();
  link->writer.join();
}

bool SharedConnection::connected() const noexcept { return link_ && !link_->failed; }

std::size_t SharedConnection::in_flight() const noexcept { return link_ ? link_->mux.unanswered() : 0; }

void SharedConnection::break_connection(std::error_code ec) {
  if (link_ && !link_->failed) link_->fail(ec);
}

std::error_code SharedConnection::ensure_connected(Deadline deadline) {
  if (link_ && !link_->failed) return {};
  if (connecting_) {
    // Single-flight: one fiber connects, the others wait for its outcome.
    ConnectWaiter w;
    connect_waiters_.push_back(w);
    if (!w.parker.park(deadline)) {
      w.unlink();
      ++stats_->timeouts;
      return make_error_code(errc::timeout);
    }
    if (link_ && !link_->failed) return {};
    return last_connect_error_ ? last_connect_error_ : make_error_code(errc::not_connected);
  }
  connecting_ = true;
  if (link_) {
    ++stats_->reconnects;
    retire(std::move(link_));
  }
  auto link = std::make_unique<Link>(this, options_, stats_);
  const Deadline connect_deadline = std::min(deadline, deadline_after(options_.connect_timeout));
  std::error_code ec = link->conn.connect(options_, connect_deadline);
  if ((ec.value() == EMFILE || ec.value() == ENFILE) && ec.category() == std::system_category()) {
    // Out of descriptors: idle pooled connections are the ones we can spare. Then once more.
    ec = shed_idle_connections() > 0 ? link->conn.connect(options_, connect_deadline)
                                     : make_error_code(errc::too_many_open_files);
    if (ec.value() == EMFILE || ec.value() == ENFILE) ec = make_error_code(errc::too_many_open_files);
  }
  if (!ec) {
    ++connects_;
    ++stats_->connects;
    Link* l = link.get();
    l->reader = Fiber([l] { l->reader_loop(); });
    l->writer = Fiber([l] { l->writer_loop(); });
    link_ = std::move(link);
  }
  last_connect_error_ = ec;
  last_error_text_ = ec ? link->conn.error_text() : std::string();
  connecting_ = false;
  while (ConnectWaiter* w = connect_waiters_.pop_front()) w->parker.unpark();
  return ec;
}

// Deadlines. A timed park costs an entry in Boost.Fiber's sleep queue per caller (a tree insert and
// erase: ~11% of the CPU with 1,000 callers). Nearly every caller's deadline is "now +
// command_timeout", so in queue order they never decrease: such callers park untimed and the
// writer, which sleeps until the first of them anyway, expires them from the front. A caller whose
// deadline is earlier than the last watched one (a retry loop's remainder) parks timed itself.
std::error_code SharedConnection::execute(const Command* cmds, std::size_t n, Reply* out,
                                          Deadline deadline, bool* written) {
  if (written) *written = false;
  if (n == 0) return {};
  std::error_code ec;
  // A batch that failed with its connection before any byte of it was written is queued again on
  // a fresh connection (always safe); bounded, and within the caller's deadline.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if ((ec = ensure_connected(deadline))) return ec;
    Link& link = *link_;
    Waiter waiter(out, n, deadline);
    link.mux.enqueue(cmds, n, waiter);
    stats_->commands += n;
    if (auto_flush_) {
      link.mux.request_flush();
      link.arm();  // written when this round's fibers have queued theirs too
    }
    if (deadline != kNoDeadline && (watched_.empty() || deadline >= last_watched_)) {
      watched_.push_back(waiter);
      waiter.in_watch = true;
      last_watched_ = deadline;
      if (watched_.size() == 1) link.wake_writer();  // its sleep may end later than this deadline
      waiter.parker.park(kNoDeadline);  // woken by the reply, a failure, or the writer's expiry
      if (waiter.in_watch) unwatch(waiter);
    } else {
      while (!waiter.done()) {
        if (!waiter.parker.park(deadline) && !waiter.done()) {
          // Not done means the link is still the live one (a failed link completes every request).
          waiter.never_sent = link.mux.cancel(waiter);
          waiter.expired = true;
          break;
        }
      }
    }
    if (waiter.expired) {
      if (written) *written = !waiter.never_sent;
      ++stats_->timeouts;
      return make_error_code(errc::timeout);
    }
    ec = waiter.error();
    if (!ec || waiter.sent()) {
      if (written) *written = waiter.sent();
      return ec;
    }
    if (expired(deadline)) break;
  }
  if (ec == errc::timeout) ++stats_->timeouts;
  return ec;
}

void SharedConnection::unwatch(Waiter& w) noexcept {
  w.in_watch = false;
  w.unlink();
}

Deadline SharedConnection::first_watched_deadline() noexcept {
  while (!watched_.empty() && (watched_.front()->done() || watched_.front()->expired)) {
    watched_.front()->in_watch = false;
    watched_.pop_front();
  }
  return watched_.empty() ? kNoDeadline : watched_.front()->deadline;
}

void SharedConnection::expire_watched(Clock::time_point now) noexcept {
  while (!watched_.empty()) {
    Waiter* w = watched_.front();
    if (!w->done() && !w->expired) {
      if (w->deadline > now) return;
      // Not done: its link is the live one (a failed link completes all its requests).
      w->never_sent = link_ && link_->mux.cancel(*w);
      w->expired = true;
      w->parker.unpark();
    }
    w->in_watch = false;
    watched_.pop_front();
  }
}

void SharedConnection::set_auto_flush(bool on) {
  auto_flush_ = on;
  if (on) flush();
}

std::error_code SharedConnection::flush() {
  if (!link_ || link_->failed) return make_error_code(errc::not_connected);
  link_->mux.request_flush();
  link_->wake_writer();
  return {};
}

}  // namespace fibredis
