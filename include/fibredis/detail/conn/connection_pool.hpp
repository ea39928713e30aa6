// ConnectionPool: exclusive connections to one server, for calls that must own a connection for a
// while (blocking commands, WATCH transactions, subscriptions).
//
// Lifecycle:
//  - Bounded by Options::max_connections. acquire() waits cooperatively, first come first served,
//    when all are in use; past Options::pool_timeout it fails with errc::pool_timeout
//    (PoolTimeoutError at the surface). Waiters sit in an intrusive list: leaving is O(1).
//  - A new connection is made by the fiber that needs it, in parallel with every other (no lock,
//    no serial step), and the caller's first batch can travel in the handshake's write.
//  - Idle connections are reused newest first; those beyond Options::max_idle are closed once
//    idle for Options::idle_timeout, oldest first, by one timer fiber per pool that runs only
//    while there is something to trim.
//  - A connect that fails with EMFILE/ENFILE sheds the idle connections of every pool on this
//    thread and tries once more; then errc::too_many_open_files (ResourceError), which the
//    cluster client never takes for a node failure.
//  - A connection that broke, or whose call missed its deadline, is dropped on return.
#pragma once

#include <fibredis/conn/client_stats.hpp>
#include <fibredis/detail/conn/connection.hpp>
#include <fibredis/conn/options.hpp>
#include <fibredis/detail/runtime/parker.hpp>
#include <fibredis/runtime/runtime.hpp>
#include <fibredis/detail/runtime/wait_list.hpp>
#include <fibredis/runtime/runtime.hpp>
#include <fibredis/detail/runtime/wait_list.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <system_error>

namespace fibredis {

/// Closes the idle connections of every pool of this thread (EMFILE relief); returns how many.
std::size_t shed_idle_connections() noexcept;

class ConnectionPool {
 public:
  explicit ConnectionPool(Options options, ClientStats* stats = nullptr);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// RAII loan of one connection; returns it to the pool when destroyed (dropped if broken).
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();
    Connection* operator->() const noexcept { return conn_.get(); }
    Connection& operator*() const noexcept { return *conn_; }
    explicit operator bool() const noexcept { return conn_ != nullptr; }
    /// Return now (same as destruction).
    void release() noexcept;

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> c) : pool_(pool), conn_(std::move(c)) {}
    ConnectionPool* pool_ = nullptr;
    std::unique_ptr<Connection> conn_;
  };

  /// An idle healthy connection, a new one if under the bound, else waits for a release.
  /// Waits on: connecting and the pool, within `deadline` (and pool_timeout for the pool).
  /// With `first`, a new connection carries the batch in its handshake write and `*sent_first`
  /// is set: its replies are the next to read on the lease (or, on error, first->written says
  /// whether it may have reached the server); a reused connection does not send it. Errors: connect/handshake errors, errc::timeout,
  /// errc::pool_timeout, errc::too_many_open_files. Never throws (except std::bad_alloc).
  std::error_code acquire(Deadline deadline, Lease& out, Connection::FirstBatch* first = nullptr,
                          bool* sent_first = nullptr);

  std::size_t open() const noexcept { return open_; }          // idle + in use
  std::size_t idle() const noexcept { return idle_.size(); }
  std::size_t in_use() const noexcept { return open_ - idle_.size(); }
  std::size_t waiting() const noexcept { return waiters_.size(); }
  std::uint64_t created() const noexcept { return created_; }
  const Options& options() const noexcept { return options_; }
  /// The server's words when the last connect failed in the handshake (wrong password...).
  const std::string& last_error_text() const noexcept { return last_error_text_; }
  /// Drops every idle connection (after a failover, say); returns how many.
  std::size_t clear_idle() noexcept;

 private:
  struct Waiter final : WaitHook {
    Parker parker;
  };
  void give_back(std::unique_ptr<Connection> c) noexcept;
  std::unique_ptr<Connection> take_idle() noexcept;
  void wake_next() noexcept;
  void close_one(bool idle) noexcept;
  void trim(Clock::time_point now) noexcept;
  void start_trimmer();
  void trimmer_loop() noexcept;
  std::error_code connect_new(Deadline deadline, std::unique_ptr<Connection>& out,
                              Connection::FirstBatch* first);

  Options options_;
  ClientStats own_stats_;
  ClientStats* stats_;
  std::deque<std::unique_ptr<Connection>> idle_;  // back: most recently returned
  WaitList<Waiter> waiters_;
  std::size_t open_ = 0;
  std::uint64_t created_ = 0;
  std::string last_error_text_;
  Fiber trimmer_;
  Parker* trimmer_parker_ = nullptr;
  bool trimmer_running_ = false;
  bool stopping_ = false;

 public:
  // Registry of this thread's pools (shed_idle_connections); intrusive, O(1) in and out.
  ConnectionPool* registry_prev_ = nullptr;
  ConnectionPool* registry_next_ = nullptr;
};

}  // namespace fibredis
