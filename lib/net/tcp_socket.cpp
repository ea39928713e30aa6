#include <fibredis/detail/net/tcp_socket.hpp>

#include <fibredis/errors.hpp>
#include <fibredis/detail/runtime/io_call.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <netinet/in.h>
#include <poll.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>
#include <vector>

namespace fibredis {

TcpSocket::~TcpSocket() { close(); }

TcpSocket::TcpSocket(TcpSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      keepalive_idle_(std::exchange(other.keepalive_idle_, 0)),
      keepalive_interval_(other.keepalive_interval_),
      keepalive_count_(other.keepalive_count_) {}

TcpSocket& TcpSocket::operator=(TcpSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    keepalive_idle_ = std::exchange(other.keepalive_idle_, 0);
    keepalive_interval_ = other.keepalive_interval_;
    keepalive_count_ = other.keepalive_count_;
  }
  return *this;
}

void TcpSocket::ensure_keepalive_timing() noexcept {
  if (keepalive_idle_ <= 0 || fd_ < 0) return;
  // Rare (connections that may sit idle), so the values may come from this stack.
  const int idle = keepalive_idle_;
  const int interval = keepalive_interval_;
  const int count = keepalive_count_;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd_, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd_, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  keepalive_idle_ = 0;
}

namespace {
// SO_KEEPALIVE now; its timing once a wait could outlast it (TcpSocket::ensure_keepalive_timing).
constexpr int kOne = 1;

void set_keepalive(int fd, const SocketOptions& o) {
  if (o.keepalive_idle.count() <= 0) return;
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &kOne, sizeof kOne);
}
}  // namespace

namespace {
// One connect attempt to `ep`; on success `fd` holds the socket.
std::error_code connect_to(const Endpoint& ep, Deadline deadline, const SocketOptions& options, int& fd) {
  const int s = ::socket(ep.family(), SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (s < 0) return {errno, std::system_category()};
  // Option values and the address from memory the kernel has read before, not from this fiber's
  // fresh stack page (UringScheduler::SqeSlot says why).
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &kOne, sizeof kOne);
  set_keepalive(s, options);
  IoResult r = io_call(
      [&](io_uring_sqe* sqe) {
        const void* addr = &ep.addr;
        if (ep.len <= sizeof UringScheduler::SqeSlot::addr) {
          unsigned char* slot = UringScheduler::current()->slot_of(sqe).addr;
          std::memcpy(slot, &ep.addr, ep.len);
          addr = slot;
        }
        io_uring_prep_connect(sqe, s, static_cast<const sockaddr*>(addr), ep.len);
      },
      deadline);
  if (r) {
    fd = s;
    return {};
  }
  ::close(s);
  return r.error;
}

// A name: looked up (off-thread, resolver.hpp), then each address in turn. Out of line so that
// the usual numeric connect keeps the lookup's frame off the stack of the fiber that waits.
[[gnu::noinline]] std::error_code connect_by_name(const std::string& host, std::uint16_t port, Deadline deadline,
                                                  const SocketOptions& options, int& fd) {
  std::vector<Endpoint> endpoints;
  if (auto ec = resolve(host, port, deadline, endpoints)) return ec;
  std::error_code last = make_error_code(errc::resolve_failed);
  for (const Endpoint& ep : endpoints) {
    last = connect_to(ep, deadline, options, fd);
    if (!last || last == errc::timeout) break;
  }
  return last;
}
}  // namespace

std::error_code TcpSocket::connect(const std::string& host, std::uint16_t port, Deadline deadline,
                                   const SocketOptions& options) {
  close();
  // An address literal (what a cluster's slot map names) needs no lookup and no allocation.
  Endpoint ep;
  const std::error_code ec = parse_numeric(host, port, ep) ? connect_to(ep, deadline, options, fd_)
                                                           : connect_by_name(host, port, deadline, options, fd_);
  if (!ec && options.keepalive_idle.count() > 0) {
    keepalive_idle_ = static_cast<std::int32_t>(std::min<long long>(options.keepalive_idle.count(), 1 << 30));
    keepalive_interval_ = static_cast<std::uint16_t>(std::clamp<long long>(options.keepalive_interval.count(), 1, 32767));
    keepalive_count_ = static_cast<std::uint16_t>(std::clamp(options.keepalive_count, 1, 127));
  }
  return ec;
}

std::error_code TcpSocket::send_all(std::string_view data, Deadline deadline) {
  if (fd_ < 0) return make_error_code(errc::not_connected);
  // Try the write at once, without the ring. A request fits the socket buffer almost always, so
  // the kernel copies it in this call and no completion has to be waited for; going through the
  // ring instead costs a CQE, a fiber switch and, for a caller that waits for its reply next, a
  // second io_uring_enter per round trip (strace: 2 enters per SET/GET before, 1 sendto + 1 enter
  // after; docs/BENCHMARKS.md). Only what does not fit (EAGAIN) waits in the ring.
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return {errno, std::system_category()};
    break;
  }
  while (!data.empty()) {
    IoResult r = io_call(
        [&](io_uring_sqe* sqe) { io_uring_prep_send(sqe, fd_, data.data(), data.size(), MSG_NOSIGNAL); },
        deadline);
    if (!r) return r.error;
    if (r.value == 0) return make_error_code(errc::connection_closed);
    data.remove_prefix(static_cast<std::size_t>(r.value));
  }
  return {};
}

std::error_code TcpSocket::send_now(const iovec* iov, std::size_t count, std::size_t& n) noexcept {
  n = 0;
  if (fd_ < 0) return make_error_code(errc::not_connected);
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = count;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const ssize_t r = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r >= 0) {
      n = static_cast<std::size_t>(r);
      return {};
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
    return {errno, std::system_category()};
  }
  return {};
}

std::error_code TcpSocket::wait_writable(Deadline deadline) noexcept {
  if (fd_ < 0) return make_error_code(errc::not_connected);
  keepalive_for(deadline);
  IoResult r = io_call([&](io_uring_sqe* sqe) { io_uring_prep_poll_add(sqe, fd_, POLLOUT); }, deadline);
  if (!r) return r.error;
  if (r.value & (POLLERR | POLLHUP)) return make_error_code(errc::connection_closed);
  return {};
}

std::error_code TcpSocket::recv_some(char* buf, std::size_t len, std::size_t& n, Deadline deadline) {
  n = 0;
  if (fd_ < 0) return make_error_code(errc::not_connected);
  keepalive_for(deadline);
  IoResult r = io_call(
      [&](io_uring_sqe* sqe) {
        io_uring_prep_recv(sqe, fd_, buf, len, 0);
        // A reader asks for the next reply right after the last one, before the server can have
        // sent it: arm the poll at once instead of trying a copy that fails with EAGAIN first
        // (kernel 5.19+; older kernels ignore the flag and try the copy).
        sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
      },
      deadline);
  if (!r) return r.error;
  if (r.value == 0) return make_error_code(errc::connection_closed);
  n = static_cast<std::size_t>(r.value);
  return {};
}

std::error_code TcpSocket::recv_now(char* buf, std::size_t len, std::size_t& n) noexcept {
  n = 0;
  if (fd_ < 0) return make_error_code(errc::not_connected);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const ssize_t r = ::recv(fd_, buf, len, MSG_DONTWAIT);
    if (r > 0) {
      n = static_cast<std::size_t>(r);
      return {};
    }
    if (r == 0) return make_error_code(errc::connection_closed);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
    return {errno, std::system_category()};
  }
  return {};
}

std::error_code TcpSocket::wait_readable(Deadline deadline, IoCancel* cancel) noexcept {
  if (fd_ < 0) return make_error_code(errc::not_connected);
  keepalive_for(deadline);
  IoResult r = io_call([&](io_uring_sqe* sqe) { io_uring_prep_poll_add(sqe, fd_, POLLIN); }, deadline, cancel);
  if (!r) return r.error;
  // POLLHUP/POLLERR: the recv that follows reports EOF or the socket's error.
  return {};
}

void TcpSocket::shutdown() noexcept {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void TcpSocket::close() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  keepalive_idle_ = 0;
}

}  // namespace fibredis
