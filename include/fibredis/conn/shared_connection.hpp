// SharedConnection: one connection multiplexed by many fibers (the Lettuce model).
//
// Callers append their encoded commands to one output buffer and park; whichever caller finds no
// write in progress becomes the writer and sends everything queued in one send, so one syscall
// carries many fibers' commands. A reader fiber hands replies back in FIFO order. A caller whose
// deadline passes leaves: its replies are read and dropped, the connection stays usable.
//
// Blocking commands (BRPOP...) must not come here: they would stall every fiber behind them. The
// client sends them on exclusive pooled connections instead.
#pragma once

#include <fibredis/conn/client_stats.hpp>
#include <fibredis/conn/connection.hpp>
#include <fibredis/conn/options.hpp>
#include <fibredis/runtime/parker.hpp>
#include <fibredis/runtime/runtime.hpp>

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
  /// Waits on: connecting (single-flight), in-flight capacity, the write, the replies — all bounded
  /// by `deadline`. Errors: connection errors (every caller with unanswered commands on a broken
  /// connection gets one), errc::timeout. Never throws.
  /// `written` (when given): false when no byte of the batch can have reached the server.
  std::error_code execute(const Command* cmds, std::size_t n, Reply* out, Deadline deadline,
                          bool* written = nullptr);

  /// Breaks the current connection on purpose (the node failed over, say): every caller with
  /// unanswered commands gets `ec` at once; the next call connects again.
  void break_connection(std::error_code ec);

  /// With auto-flush off, commands wait in the buffer until flush() (bulk loads: many fibers queue,
  /// one write sends them all). Turning it back on flushes.
  void set_auto_flush(bool on);
  bool auto_flush() const noexcept { return auto_flush_; }
  /// Writes everything queued now. Errors fail the queued callers, as in execute().
  std::error_code flush();

  /// Commands written or queued whose replies have not arrived.
  std::size_t in_flight() const noexcept { return in_flight_; }
  /// Times a connection was established (1 + reconnects).
  std::uint64_t connects() const noexcept { return connects_; }
  bool connected() const noexcept { return link_ && !link_->conn.broken(); }
  const Options& options() const noexcept { return options_; }
  /// The server's words when the last connect failed in the handshake (wrong password...).
  const std::string& last_error_text() const noexcept { return last_connect_text_; }

 private:
  struct Sink {
    Reply* out = nullptr;
    std::size_t received = 0;
    std::error_code error;
    bool done = false;
    Parker parker;
  };
  struct Pending {
    Sink* sink;           // nullptr once the caller gave up (deadline): replies are dropped
    std::uint32_t count;  // replies still to come for this batch
  };
  // One TCP connection's lifetime; replaced as a whole on reconnect.
  struct Link {
    Connection conn;
    std::deque<Pending> pending;
    std::string out;   // encoded, not yet written
    std::string sending;
    bool writing = false;
    Fiber reader;
  };

  std::error_code ensure_connected(Deadline deadline);
  std::error_code wait_for_capacity(std::size_t n, Deadline deadline);
  std::error_code write_queued(Link& link);
  void read_loop(Link* link);
  void fail_link(Link& link, std::error_code ec);
  void wake_capacity_waiters();

  Options options_;
  ClientStats own_stats_;
  ClientStats* stats_;
  std::unique_ptr<Link> link_;
  std::unique_ptr<Link> retired_;  // a broken link whose reader fiber may still be finishing
  bool connecting_ = false;
  std::error_code last_connect_error_;
  std::string last_connect_text_;
  std::deque<Parker*> connect_waiters_;
  std::deque<Parker*> capacity_waiters_;
  std::size_t in_flight_ = 0;
  bool auto_flush_ = true;
  std::uint64_t connects_ = 0;
};

}  // namespace fibredis
