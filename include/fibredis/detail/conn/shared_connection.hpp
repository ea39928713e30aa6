// SharedConnection: one connection multiplexed by many fibers (the Lettuce model).
//
// A thin fiber-and-socket driver around the socket-free Multiplexer (detail/conn/multiplexer.hpp):
// callers queue their encoded commands and park; the connection's writer fiber is woken at the end
// of the scheduler round (runtime rule 6), so everything the round's fibers queued leaves in ONE
// send (ClientStats::writes counts them); a reader fiber hands replies back in FIFO order. A lone
// caller pays one fiber switch for this, not a round trip.
//
// Health: with commands outstanding and nothing read for command_timeout the connection is taken
// for dead (a stopped or partitioned server sends no RST): its callers fail with errc::timeout at
// once and the next call connects again. health_check_interval PINGs an idle connection; every
// socket has TCP keepalive.
//
// Cancellation: a caller whose deadline passes leaves. If none of its bytes were written they
// never will be; if they were, its replies are read and dropped and the connection stays usable.
//
// Blocking commands (BRPOP...) must not come here: they would stall every fiber behind them. The
// client sends them on exclusive pooled connections instead.
#pragma once

#include <fibredis/conn/client_stats.hpp>
#include <fibredis/conn/options.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>
#include <fibredis/runtime/deadline.hpp>
#include <fibredis/detail/runtime/parker.hpp>
#include <fibredis/detail/runtime/wait_list.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <system_error>

namespace fibredis {

class SharedConnection {
 public:
  explicit SharedConnection(Options options, ClientStats* stats = nullptr);
  ~SharedConnection();
  SharedConnection(const SharedConnection&) = delete;
  SharedConnection& operator=(const SharedConnection&) = delete;

  /// Sends cmds[0..n) contiguously (no other fiber's command lands between them: MULTI/EXEC
  /// batches are safe) and waits until their n replies are in out[0..n).
  /// Waits on: connecting (single-flight), the in-flight bound, the write, the replies — all
  /// bounded by `deadline`. Errors: connection errors (every caller with unanswered commands on a
  /// broken connection gets one), errc::timeout. Never throws (but std::bad_alloc).
  /// `written` (when given): false when no byte of the batch can have reached the server.
  std::error_code execute(const Command* cmds, std::size_t n, Reply* out, Deadline deadline,
                          bool* written = nullptr);

  /// Breaks the current connection on purpose (the node failed over, say): every caller with
  /// unanswered commands gets `ec` at once; the next call connects again.
  void break_connection(std::error_code ec);

  /// With auto-flush off, commands wait in the queue until flush() (bulk loads: many fibers queue,
  /// one write sends them all). Turning it back on flushes.
  void set_auto_flush(bool on);
  bool auto_flush() const noexcept { return auto_flush_; }
  /// Makes everything queued now writable and wakes the writer; commands past max_in_flight follow
  /// as replies free room, so every one of them is sent. Does not wait. Errors: not_connected.
  std::error_code flush();

  /// Commands queued or written whose replies have not arrived.
  std::size_t in_flight() const noexcept;
  /// Times a connection was established (1 + reconnects).
  std::uint64_t connects() const noexcept { return connects_; }
  bool connected() const noexcept;
  const Options& options() const noexcept { return options_; }
  /// The server's words when the last connect failed in the handshake (wrong password...).
  const std::string& last_error_text() const noexcept { return last_error_text_; }

 private:
  struct Link;    // one TCP connection's lifetime (lib/conn/shared_connection.cpp)
  struct Waiter;  // one caller's batch and the parker its fiber waits on

  /// Callers whose deadlines the writer enforces (see execute()): in queue order, deadlines never
  /// decreasing, so the front one expires first. Here, not in the Link: a caller removes itself
  /// when it returns, and its link may be gone by then.
  WaitList<Waiter> watched_;
  Deadline last_watched_ = Deadline::min();
  void unwatch(Waiter& w) noexcept;
  Deadline first_watched_deadline() noexcept;
  void expire_watched(Clock::time_point now) noexcept;

  std::error_code ensure_connected(Deadline deadline);
  void retire(std::unique_ptr<Link> link);

  Options options_;
  ClientStats own_stats_;
  ClientStats* stats_;
  std::unique_ptr<Link> link_;
  bool connecting_ = false;
  std::error_code last_connect_error_;
  std::string last_error_text_;
  struct ConnectWaiter final : WaitHook {
    Parker parker;
  };
  WaitList<ConnectWaiter> connect_waiters_;
  bool auto_flush_ = true;
  std::uint64_t connects_ = 0;
};

}  // namespace fibredis
