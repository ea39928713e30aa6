#include "relay.hpp"

#include <fibredis/errors.hpp>
#include <fibredis/detail/runtime/io_call.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <boost/fiber/operations.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace fibredis::proxy {

namespace {

using namespace std::chrono_literals;

/// Bytes one direction may hold before its reader stops reading (TCP then pushes back).
constexpr std::size_t kMaxQueued = 4 * 1024 * 1024;
constexpr std::size_t kReadSize = 16 * 1024;
/// A writer waiting for a full socket looks at its stop flag this often.
constexpr auto kSendPoll = 200ms;
constexpr auto kConnectTimeout = 2s;

/// SO_LINGER {on, 0}: close() then sends RST instead of FIN, which is what a reset fault means.
void abortive(int fd) noexcept {
  if (fd < 0) return;
  const linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

}  // namespace

int listen_socket(const std::string& host, std::uint16_t port, std::string& why) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    why = "not an IPv4 address: " + host;
    return -1;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    why = std::strerror(errno);
    return -1;
  }
  const int one = 1;
  // Reopening after a refuse fault must not wait for TIME_WAIT of the connections it had.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 1024) != 0) {
    why = "cannot listen on " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

int accept_one(int listen_fd, std::error_code& error, std::string* peer) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  IoResult r = io_call([&](io_uring_sqe* sqe) {
    io_uring_prep_accept(sqe, listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
  });
  error = r.error;
  if (r && peer != nullptr) {
    char text[INET_ADDRSTRLEN] = {};
    if (::inet_ntop(AF_INET, &addr.sin_addr, text, sizeof text) != nullptr) *peer = text;
  }
  return r ? r.value : -1;
}

bool send_fully(int fd, std::string_view data, bool bytewise, const bool* stop) {
  while (!data.empty()) {
    if (stop != nullptr && *stop) return false;
    const ssize_t n = ::send(fd, data.data(), bytewise ? 1 : data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      IoResult r = io_call([&](io_uring_sqe* sqe) { io_uring_prep_poll_add(sqe, fd, POLLOUT); },
                           deadline_after(kSendPoll));
      if (!r && r.error != errc::timeout) return false;
      continue;
    }
    return false;
  }
  return true;
}

// ---- Link ------------------------------------------------------------------------------

Link::Link(Route& route, int client_fd, std::string peer)
    : route_(route), client_fd_(client_fd), peer_(std::move(peer)) {
  down_.down = true;
  route_.links_.insert(this);
}

Link::~Link() {
  route_.links_.erase(this);
  if (client_fd_ >= 0) ::close(client_fd_);
  upstream_.close();
}

Fault Link::fault() const noexcept {
  const RouteFaults& f = route_.faults();
  return f.from.empty() || f.from == peer_ ? f.fault : Fault::none;
}

void Link::wait(Deadline d) {
  if (d == kNoDeadline) cv_.wait(lock_);
  else cv_.wait_until(lock_, d);
}

void Link::reset() noexcept {
  if (aborted_) return;
  closing_ = aborted_ = true;
  abortive(client_fd_);
  abortive(upstream_.native_handle());
  // SHUT_RD sends nothing to the peers (the RST comes with close()) but wakes a fiber parked in
  // recv on that socket: it returns 0 and sees closing_.
  if (client_fd_ >= 0) ::shutdown(client_fd_, SHUT_RD);
  if (upstream_.is_open()) ::shutdown(upstream_.native_handle(), SHUT_RD);
  cv_.notify_all();
}

void Link::serve() {
  const std::error_code ec = upstream_.connect(route_.target_host_, route_.target_port_,
                                               deadline_after(kConnectTimeout));
  if (ec || closing_) {
    // The target is down: the client learns it the way it would from the node itself.
    abortive(client_fd_);
    return;
  }
  const int server_fd = upstream_.native_handle();
  Fiber a([&] { read_loop(client_fd_, up_); });
  Fiber b([&] { write_loop(server_fd, up_); });
  Fiber c([&] { read_loop(server_fd, down_); });
  Fiber d([&] { write_loop(client_fd_, down_); });
  a.join();
  b.join();
  c.join();
  d.join();
}

void Link::read_loop(int from, Pipe& pipe) {
  std::string buf(kReadSize, '\0');
  for (;;) {
    while (!closing_ && pipe.queued >= kMaxQueued) wait();
    if (closing_) return;
    IoResult r = io_call([&](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, from, buf.data(), buf.size(), 0); });
    if (closing_) return;
    if (!r) {
      reset();  // the peer reset: pass that on to the other side
      return;
    }
    if (r.value == 0) {
      pipe.eof = true;
      cv_.notify_all();
      return;
    }
    if (fault() == Fault::blackhole) {
      holed_ = true;
      continue;
    }
    pipe.chunks.push_back({Clock::now(), std::string(buf.data(), static_cast<std::size_t>(r.value))});
    pipe.queued += static_cast<std::size_t>(r.value);
    cv_.notify_all();
  }
}

void Link::write_loop(int to, Pipe& pipe) {
  for (;;) {
    while (!closing_ && pipe.chunks.empty() && !pipe.eof) wait();
    if (closing_) return;
    if (pipe.chunks.empty()) {
      ::shutdown(to, SHUT_WR);  // pass the half-close on once everything before it is delivered
      return;
    }
    // The delay is looked up again after every wake-up: a DELAY command applies to queued bytes.
    for (;;) {
      const RouteFaults& f = route_.faults();
      const Deadline due = pipe.chunks.front().arrived + (pipe.down ? f.down_delay : f.up_delay);
      if (closing_ || Clock::now() >= due) break;
      wait(due);
    }
    while (!closing_ && fault() == Fault::stall) wait();
    if (closing_) return;
    const Fault now = fault();
    Pipe::Chunk chunk = std::move(pipe.chunks.front());
    pipe.chunks.pop_front();
    pipe.queued -= chunk.bytes.size();
    cv_.notify_all();  // room for the reader again
    if (now == Fault::blackhole) {
      holed_ = true;
      continue;
    }
    if (pipe.down && now == Fault::truncate) {
      // Half of what the server sent, then RST: a reply that ends mid-frame.
      send_fully(to, std::string_view(chunk.bytes).substr(0, chunk.bytes.size() / 2), false, &closing_);
      reset();
      return;
    }
    if (!send_fully(to, chunk.bytes, pipe.down && now == Fault::split, &closing_)) {
      reset();
      return;
    }
  }
}

// ---- Route -----------------------------------------------------------------------------

Route::Route(FaultBoard& board, std::size_t index, std::string bind_host, std::uint16_t listen_port,
             std::string target_host, std::uint16_t target_port)
    : board_(board),
      index_(index),
      bind_host_(std::move(bind_host)),
      listen_port_(listen_port),
      target_host_(std::move(target_host)),
      target_port_(target_port) {}

Route::~Route() { close_listener(); }

bool Route::open_listener(std::string& why) {
  listen_fd_ = listen_socket(bind_host_, listen_port_, why);
  return listen_fd_ >= 0;
}

void Route::close_listener() noexcept {
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void Route::listen() {
  std::string why;
  if (!open_listener(why)) throw std::runtime_error(why);
}

void Route::accept_loop() {
  for (;;) {
    if (faults().fault == Fault::refuse) {
      close_listener();
      while (faults().fault == Fault::refuse) changed_.wait(lock_);
      continue;
    }
    if (listen_fd_ < 0) {
      std::string why;
      if (!open_listener(why)) {
        boost::this_fiber::sleep_for(100ms);  // the port is briefly taken: try again
        continue;
      }
    }
    std::error_code ec;
    std::string peer;
    const int fd = accept_one(listen_fd_, ec, &peer);
    if (fd < 0) {
      // EINVAL after faults_changed() shut the listener down for refuse; EMFILE and the like
      // pass with time.
      if (faults().fault != Fault::refuse) boost::this_fiber::sleep_for(10ms);
      continue;
    }
    if (faults().fault == Fault::refuse) {
      abortive(fd);
      ::close(fd);
      continue;
    }
    ++accepted_;
    const int one = 1;
    // Split writes must leave as separate segments, and no reply should wait for Nagle.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    spawn([this, fd, peer = std::move(peer)]() mutable {
      Link link(*this, fd, std::move(peer));
      link.serve();
    });
  }
}

void Route::faults_changed() noexcept {
  // A listening socket shut down stops taking connections at once (new SYNs get RST, so
  // connect() fails with ECONNREFUSED) and wakes the accept loop, which then closes it.
  if (faults().fault == Fault::refuse && listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  changed_.notify_all();
  for (Link* l : links_) l->wake();
}

void Route::reset_all() noexcept {
  // reset() does not remove the link from links_ (its fibers do, later), so iterating is safe.
  for (Link* l : links_) l->reset();
}

void Route::reset_holed() noexcept {
  for (Link* l : links_)
    if (l->holed()) l->reset();
}

}  // namespace fibredis::proxy
