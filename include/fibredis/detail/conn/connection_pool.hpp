// ConnectionPool: exclusive connections to one server, for calls that must own a connection for a
// while (blocking commands, WATCH transactions, subscriptions).
//
// Bounded by Options::max_connections. acquire() waits cooperatively (FIFO, with a deadline) when
// all are in use, rather than failing — the peers' "pool exhausted" exception is not ours to throw.
// A connection that broke, or whose call missed its deadline, is dropped on return, never reused.
#pragma once

#include <fibredis/conn/client_stats.hpp>
#include <fibredis/detail/conn/connection.hpp>
#include <fibredis/conn/options.hpp>
#include <fibredis/detail/runtime/parker.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace fibredis {

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
  /// Waits on: connecting and the pool, both within `deadline`. Errors: connect/handshake errors,
  /// errc::timeout. Never throws (except std::bad_alloc).
  std::error_code acquire(Deadline deadline, Lease& out);

  std::size_t open() const noexcept { return open_; }          // idle + in use
  std::size_t idle() const noexcept { return idle_.size(); }
  std::size_t in_use() const noexcept { return open_ - idle_.size(); }
  std::uint64_t created() const noexcept { return created_; }
  const Options& options() const noexcept { return options_; }
  /// The server's words when the last connect failed in the handshake (wrong password...).
  const std::string& last_error_text() const noexcept { return last_error_text_; }
  /// Drops every idle connection (after a failover, say).
  void clear_idle() noexcept;

 private:
  void give_back(std::unique_ptr<Connection> c) noexcept;
  std::unique_ptr<Connection> take_idle() noexcept;
  void wake_next() noexcept;

  Options options_;
  ClientStats own_stats_;
  ClientStats* stats_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::deque<Parker*> waiters_;
  std::size_t open_ = 0;
  std::uint64_t created_ = 0;
  std::string last_error_text_;
};

}  // namespace fibredis
