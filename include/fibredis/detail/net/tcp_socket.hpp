// TcpSocket: a TCP connection whose connect/send/recv suspend only the calling fiber, on the ring.
//
// Every call takes a Deadline (kNoDeadline for none). Errors come back as std::error_code: the
// kernel's errno (ECONNREFUSED, ECONNRESET, ...), errc::timeout, errc::connection_closed (orderly
// EOF), errc::resolve_failed. Nothing here throws.
#pragma once

#include <fibredis/detail/net/resolver.hpp>
#include <fibredis/net/socket_options.hpp>
#include <fibredis/runtime/deadline.hpp>

#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace fibredis {

class IoCancel;

class TcpSocket {
 public:
  TcpSocket() = default;
  ~TcpSocket();
  TcpSocket(TcpSocket&& other) noexcept;
  TcpSocket& operator=(TcpSocket&& other) noexcept;
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;

  /// Resolves host (off-thread if it is a name) and connects, trying each address in turn, all
  /// within `deadline`. Sets TCP_NODELAY: commands are small and we batch them ourselves.
  std::error_code connect(const std::string& host, std::uint16_t port, Deadline deadline,
                          const SocketOptions& options = {});

  /// Sends all of `data` (looping over short sends). A failure leaves the stream unusable.
  std::error_code send_all(std::string_view data, Deadline deadline);

  /// One non-blocking sendmsg of the iovecs: `n` is what the kernel took (0 when its buffer is
  /// full: wait_writable() then try again). Never suspends.
  std::error_code send_now(const iovec* iov, std::size_t count, std::size_t& n) noexcept;
  /// Suspends the calling fiber until the socket can take more bytes (or has an error).
  std::error_code wait_writable(Deadline deadline) noexcept;

  /// Receives at least one byte into buf; returns the count in `n`. EOF → errc::connection_closed.
  std::error_code recv_some(char* buf, std::size_t len, std::size_t& n, Deadline deadline);

  /// One non-blocking recv: `n` is 0 when nothing is there yet (then wait_readable()).
  /// EOF → errc::connection_closed. Never suspends.
  std::error_code recv_now(char* buf, std::size_t len, std::size_t& n) noexcept;
  /// Suspends the calling fiber until bytes (or EOF, or an error) can be read, holding no buffer
  /// meanwhile. `cancel` may end the wait early (errc::call_cancelled; nothing consumed).
  std::error_code wait_readable(Deadline deadline, IoCancel* cancel = nullptr) noexcept;

  /// Ends both directions: a fiber parked in recv_some wakes with connection_closed. Idempotent.
  void shutdown() noexcept;
  /// Closes the descriptor (call only when no fiber is using the socket).
  void close() noexcept;

  bool is_open() const noexcept { return fd_ >= 0; }
  int native_handle() const noexcept { return fd_; }

  /// Sets keepalive's timing (keepalive_idle, _interval, _count) now if connect() left it for
  /// later. connect() turns SO_KEEPALIVE on but sets the timing only before a wait that keepalive
  /// could cut short (the waits below do it then): one that ends at its own deadline before the
  /// kernel could declare the peer dead (idle + interval x count) gains nothing from probes, so
  /// the three setsockopt calls (~3.5 us each on the development VM, 10,000 connects of a
  /// blocking swarm) are spent only on connections that can sit idle. A pool keeping a
  /// connection idle calls this.
  void ensure_keepalive_timing() noexcept;

 private:
  /// Before a wait until `deadline`: the timing, if keepalive could end this wait first.
  void keepalive_for(Deadline deadline) noexcept {
    if (keepalive_idle_ > 0 &&
        (deadline == kNoDeadline ||
         deadline - Clock::now() >= std::chrono::seconds(keepalive_idle_ + keepalive_interval_ * keepalive_count_)))
      ensure_keepalive_timing();
  }

  int fd_ = -1;
  // Keepalive timing still to set (keepalive_idle_ 0: set, or keepalive off).
  std::int32_t keepalive_idle_ = 0;
  std::uint16_t keepalive_interval_ = 0;
  std::uint16_t keepalive_count_ = 0;
};

}  // namespace fibredis
