// NodeConnections: everything fibredis keeps open to one server.
//
// One multiplexed SharedConnection carries ordinary commands from every fiber; a ConnectionPool of
// exclusive connections serves commands the server may hold (BLPOP, XREAD BLOCK, WAIT...), so a
// parked BRPOP never stalls the shared connection and never costs a thread. The choice is made
// here, once, for the single-node client, the cluster client and pipelines alike.
#pragma once

#include <fibredis/conn/client_stats.hpp>
#include <fibredis/detail/conn/connection_pool.hpp>
#include <fibredis/conn/options.hpp>
#include <fibredis/detail/conn/shared_connection.hpp>

#include <cstddef>
#include <string>
#include <system_error>

namespace fibredis {

struct CallCancel;

class NodeConnections {
 public:
  /// `stats` (the owning client's counters) must outlive this; nullptr keeps private ones.
  explicit NodeConnections(const Options& options, ClientStats* stats = nullptr)
      : options_(options), stats_(stats ? stats : &own_stats_), shared_(options, stats), pool_(options, stats) {}

  /// Runs cmds[0..n) as one batch and fills out[0..n): on the shared connection, or on a pooled
  /// exclusive one when any command may block. Waits on connecting, capacity, the pool and the
  /// replies, all within `deadline`. An exclusive connection whose call failed is dropped.
  /// Errors: connection errors, errc::timeout, errc::auth_failed (error_text() has the server's
  /// words). Never throws (but std::bad_alloc).
  /// `written` (when given) is set to false when no byte of the batch can have reached the server
  /// (it failed while connecting, waiting for capacity or a pooled connection, or was cancelled
  /// before its write): such a batch is always safe to retry. True means the outcome is unknown.
  std::error_code run(const Command* cmds, std::size_t n, Reply* out, Deadline deadline,
                      bool* written = nullptr);

  /// Runs the batch on one pooled exclusive connection even when no command blocks: for a batch
  /// whose meaning depends on owning the connection (a pipeline ending in WAIT, whose count must
  /// cover exactly the writes before it). Same waits and errors as run().
  ///
  /// Cancellation (runtime/cancel.hpp): under a CancelScope the batch also ends at the scope's
  /// deadline (errc::call_timeout) or when its source is cancelled (errc::call_cancelled). A
  /// single blocking command (BRPOP...) then returns at once and keeps its connection: CLIENT
  /// UNBLOCK goes out on the shared (control) connection, the blocked connection reads the
  /// server's answer (bounded, 200 ms) and returns to the pool clean; if that answer is an
  /// element the server popped in the race, the call succeeds with it. Any other batch loses its
  /// connection when interrupted.
  std::error_code run_exclusive(const Command* cmds, std::size_t n, Reply* out, Deadline deadline,
                                bool* written = nullptr);

  /// The server's text for the last handshake failure (wrong password...).
  const std::string& error_text() const noexcept { return error_text_; }

  const Options& options() const noexcept { return options_; }
  SharedConnection& shared() noexcept { return shared_; }
  ConnectionPool& pool() noexcept { return pool_; }

 private:
  std::error_code read_cancellable(Connection& conn, Reply& out, Deadline d, Deadline own_deadline,
                                   const CallCancel& scope);

  Options options_;
  ClientStats own_stats_;
  ClientStats* stats_;
  SharedConnection shared_;
  ConnectionPool pool_;
  std::string error_text_;
};

}  // namespace fibredis
