// Relay: one route of fibredis-proxy (a listening port -> a target address) and the connections
// it forwards, on the fibredis runtime (every socket call is an io_uring operation of the calling
// fiber; nothing blocks the thread).
//
// Each accepted connection gets an upstream TcpSocket and four fibers: a reader and a writer per
// direction. Readers queue what they receive with its arrival time; writers deliver each chunk at
// arrival + that direction's delay (a fixed one-way delay keeps the byte order) and apply the
// route's fault (fault_board.hpp). A queue holds at most kMaxQueued bytes, so a stalled or slow
// direction pushes back on its sender through TCP, as a real slow link does.
#pragma once

#include "fault_board.hpp"

#include <fibredis/detail/net/tcp_socket.hpp>
#include <fibredis/runtime/deadline.hpp>

#include <boost/fiber/condition_variable.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <string_view>
#include <system_error>

namespace fibredis::proxy {

/// A lock for condition_variable_any that does nothing: every fiber of a route runs on the one
/// runtime thread, and a fiber only yields inside wait(), so no other fiber can slip in between a
/// check and the wait.
struct NoLock {
  void lock() noexcept {}
  void unlock() noexcept {}
};

class Route;

/// A listening TCP socket on host:port (SO_REUSEADDR, non-blocking accept through the ring), or
/// -1 with the reason in `why`.
int listen_socket(const std::string& host, std::uint16_t port, std::string& why);
/// Accepts one connection on a listening socket, suspending only the calling fiber: the new
/// descriptor, or -1 (errno-style code in `error`).
/// `peer`, when given, receives the client's IPv4 address as text.
int accept_one(int listen_fd, std::error_code& error, std::string* peer = nullptr);
/// Writes all of data to fd (non-blocking sends, waiting in the ring when the socket is full).
/// `*stop` is looked at between waits, so a caller that is told to end does not hang on a full
/// socket. False on error or when *stop became true.
bool send_fully(int fd, std::string_view data, bool bytewise, const bool* stop);

/// One direction of a forwarded connection.
struct Pipe {
  struct Chunk {
    Deadline arrived;
    std::string bytes;
  };
  std::deque<Chunk> chunks;
  std::size_t queued = 0;  ///< bytes in chunks
  bool eof = false;        ///< the source sent FIN; forward it once the queue is empty
  bool down = false;       ///< server -> client (the direction truncate and split act on)
};

/// One accepted connection and its upstream.
class Link {
 public:
  Link(Route& route, int client_fd, std::string peer);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  /// Connects upstream and forwards until both directions end or the link is reset.
  void serve();
  /// Ends the link with a TCP RST on both sides (SO_LINGER 0), waking every fiber of it.
  void reset() noexcept;
  /// Wakes the link's fibers to look at the route's faults again.
  void wake() noexcept { cv_.notify_all(); }
  bool holed() const noexcept { return holed_; }
  /// The route's fault as it applies to this connection (FAULT ... FROM picks by source).
  Fault fault() const noexcept;

 private:
  void read_loop(int from, Pipe& pipe);
  void write_loop(int to, Pipe& pipe);
  /// One wait on the link's condition: until a wake-up (data, a fault change, reset) or `d`.
  void wait(Deadline d = kNoDeadline);

  Route& route_;
  int client_fd_;
  std::string peer_;  ///< the client's IPv4 address
  TcpSocket upstream_;
  Pipe up_;
  Pipe down_;
  bool closing_ = false;
  bool aborted_ = false;
  bool holed_ = false;  ///< a blackhole discarded bytes: the streams have holes
  int running_ = 0;     ///< pump fibers still running
  boost::fibers::condition_variable_any cv_;
  NoLock lock_;
};

class Route {
 public:
  Route(FaultBoard& board, std::size_t index, std::string bind_host, std::uint16_t listen_port,
        std::string target_host, std::uint16_t target_port);
  ~Route();
  Route(const Route&) = delete;
  Route& operator=(const Route&) = delete;

  /// Binds the listening socket now (so a start-up script can wait for it). Throws on failure.
  void listen();
  /// Accepts forever, one fiber per connection (closing the listener while the fault is refuse).
  void accept_loop();

  /// The control socket changed this route's faults: wake every relay (and the accept loop).
  void faults_changed() noexcept;
  /// RESET: every open connection gets an RST.
  void reset_all() noexcept;
  /// The route left blackhole: connections whose bytes were discarded cannot continue in sync.
  void reset_holed() noexcept;

  const RouteFaults& faults() const { return board_.faults(index_); }
  const std::string& name() const { return board_.name(index_); }
  std::size_t connections() const noexcept { return links_.size(); }
  std::uint64_t accepted() const noexcept { return accepted_; }
  std::uint16_t listen_port() const noexcept { return listen_port_; }
  const std::string& target_host() const noexcept { return target_host_; }
  std::uint16_t target_port() const noexcept { return target_port_; }

 private:
  friend class Link;
  bool open_listener(std::string& why);
  void close_listener() noexcept;

  FaultBoard& board_;
  std::size_t index_;
  std::string bind_host_;
  std::uint16_t listen_port_;
  std::string target_host_;
  std::uint16_t target_port_;
  int listen_fd_ = -1;
  std::uint64_t accepted_ = 0;
  std::set<Link*> links_;
  boost::fibers::condition_variable_any changed_;
  NoLock lock_;
};

}  // namespace fibredis::proxy
