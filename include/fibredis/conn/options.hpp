// Options: how to reach and talk to one Redis server, and how many connections to keep.
// One flat struct so C++20 designated initializers work: Client({.host = "db", .port = 6380}).
#pragma once

#include <fibredis/net/socket_options.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fibredis {

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  /// AUTH: with an empty username, `AUTH password` (requirepass); otherwise `AUTH username password`.
  std::string username{};
  std::string password{};
  /// SELECT after connecting (single-node only; a cluster always uses db 0).
  int db = 0;
  /// CLIENT SETNAME after connecting, when non-empty.
  std::string client_name{};
  /// Send READONLY after connecting (reads from cluster replicas).
  bool readonly = false;

  /// Bounds connecting + the handshake.
  std::chrono::milliseconds connect_timeout{2000};
  /// Bounds each call from send to reply (a blocking command adds its own block time on top).
  std::chrono::milliseconds command_timeout{5000};
  /// How long a caller waits for a free pooled connection (all max_connections in use) before
  /// PoolTimeoutError (a TimeoutError). Waiters are served first come, first served.
  std::chrono::milliseconds pool_timeout{5000};
  /// Pooled connections kept idle indefinitely; idle ones beyond this are closed once they have
  /// been idle for idle_timeout (oldest first), by one timer per pool.
  std::size_t max_idle = 64;
  std::chrono::milliseconds idle_timeout{30000};

  /// Exclusive connections (blocking commands, transactions with WATCH, subscriptions) per server.
  /// Each blocked BRPOP needs its own server connection, so this is large by default; callers past
  /// it wait (up to pool_timeout) rather than fail.
  std::size_t max_connections = 16384;
  /// Commands written but not yet answered on the shared (multiplexed) connection; callers past it
  /// park in FIFO order until replies come back.
  std::size_t max_in_flight = 4096;

  /// A shared connection with commands outstanding that reads nothing for command_timeout is
  /// broken (its callers fail, the next call reconnects). Besides, PING an idle shared connection
  /// every health_check_interval (zero: never), so a dead peer is found before a caller needs it.
  std::chrono::milliseconds health_check_interval{0};
  /// TCP keepalive on every socket (net/socket_options.hpp): a vanished peer is noticed even idle.
  SocketOptions socket{};
  /// The largest reply accepted, about its size on the wire (resp/reader.hpp). A bulk string or
  /// an array announced past it, or a reply that grows past it, is a ProtocolError and the
  /// connection is dropped, before its payload is buffered. Default: Redis's proto-max-bulk-len.
  std::size_t max_reply_bytes = std::size_t{512} * 1024 * 1024;

  /// Parses redis://[[user]:password@]host[:port][/db] (also rediss:// is refused with UsageError:
  /// no TLS). Percent-escapes in user and password are decoded. Unknown schemes → UsageError.
  static Options from_url(std::string_view url);

  /// "host:port" for messages.
  std::string address() const;
};

}  // namespace fibredis
