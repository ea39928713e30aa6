// SocketOptions: what fibredis sets on every TCP connection it opens. Its own header so that
// conn/options.hpp (public) does not pull in the socket itself (detail/net/tcp_socket.hpp is internal).
#pragma once

#include <chrono>

namespace fibredis {

/// Socket options set on every connection.
struct SocketOptions {
  /// TCP keepalive: the kernel probes an idle connection after `keepalive_idle`, every
  /// `keepalive_interval`, and resets it after `keepalive_count` unanswered probes, so a peer that
  /// vanished without a RST (a lost host, a partition) is noticed even when nothing is sent.
  /// keepalive_idle of zero turns keepalive off.
  std::chrono::seconds keepalive_idle{30};
  std::chrono::seconds keepalive_interval{5};
  int keepalive_count = 3;
};

}  // namespace fibredis
