#include <fibredis/conn/shared_connection.hpp>

#include <fibredis/errors.hpp>

#include <boost/fiber/operations.hpp>

#include <algorithm>

namespace fibredis {

namespace {
void erase_waiter(std::deque<Parker*>& q, Parker* p) {
  auto it = std::find(q.begin(), q.end(), p);
  if (it != q.end()) q.erase(it);
}
}  // namespace

SharedConnection::SharedConnection(Options options, ClientStats* stats)
    : options_(std::move(options)), stats_(stats ? stats : &own_stats_) {}

SharedConnection::~SharedConnection() {
  if (link_) {
    fail_link(*link_, make_error_code(errc::cancelled));
    link_->reader.join();
  }
}

std::error_code SharedConnection::ensure_connected(Deadline deadline) {
  if (link_ && !link_->conn.broken()) return {};
  if (connecting_) {
    // Single-flight: one fiber connects, the others wait for its outcome.
    Parker p;
    connect_waiters_.push_back(&p);
    if (!p.park(deadline)) {
      erase_waiter(connect_waiters_, &p);
      return make_error_code(errc::timeout);
    }
    if (link_ && !link_->conn.broken()) return {};
    return last_connect_error_ ? last_connect_error_ : make_error_code(errc::not_connected);
  }
  connecting_ = true;
  if (link_) {
    // The broken link's reader exits once shut down; a writer still inside send() gets EPIPE at
    // once. Wait for both (bounded) so nothing points into the link when it is freed.
    link_->conn.shutdown();
    for (int i = 0; i < 10000 && link_->writing; ++i) boost::this_fiber::yield();
    link_->reader.join();
    link_.reset();
  }
  auto link = std::make_unique<Link>();
  const Deadline connect_deadline = std::min(deadline, deadline_after(options_.connect_timeout));
  std::error_code ec = link->conn.connect(options_, connect_deadline);
  if (!ec) {
    ++connects_;
    link_ = std::move(link);
    Link* l = link_.get();
    link_->reader = Fiber([this, l] { read_loop(l); });
  }
  last_connect_error_ = ec;
  last_connect_text_ = ec ? link->conn.error_text() : std::string();
  connecting_ = false;
  std::deque<Parker*> waiters;
  waiters.swap(connect_waiters_);
  for (Parker* p : waiters) p->unpark();
  return ec;
}

std::error_code SharedConnection::wait_for_capacity(std::size_t n, Deadline deadline) {
  // FIFO: a newcomer queues behind fibers already waiting, so nobody starves.
  while ((in_flight_ > 0 && in_flight_ + n > options_.max_in_flight) || !capacity_waiters_.empty()) {
    Parker p;
    capacity_waiters_.push_back(&p);
    const bool woken = p.park(deadline);
    erase_waiter(capacity_waiters_, &p);
    if (!woken) {
      wake_capacity_waiters();
      return make_error_code(errc::timeout);
    }
    if (in_flight_ == 0 || in_flight_ + n <= options_.max_in_flight) {
      wake_capacity_waiters();  // room may remain for the next in line
      return {};
    }
  }
  return {};
}

void SharedConnection::wake_capacity_waiters() {
  if (!capacity_waiters_.empty() && in_flight_ < options_.max_in_flight)
    capacity_waiters_.front()->unpark();
}

void SharedConnection::break_connection(std::error_code ec) {
  if (link_ && !link_->conn.broken()) fail_link(*link_, ec);
}

std::error_code SharedConnection::execute(const Command* cmds, std::size_t n, Reply* out,
                                          Deadline deadline, bool* written) {
  if (written) *written = false;
  if (n == 0) return {};
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (auto ec = ensure_connected(deadline)) return ec;
    if (auto ec = wait_for_capacity(n, deadline)) return ec;
    if (link_ && !link_->conn.broken()) break;  // the link broke while we waited: connect again
  }
  if (!link_ || link_->conn.broken()) return make_error_code(errc::not_connected);
  Link& link = *link_;
  Sink sink;
  sink.out = out;
  for (std::size_t i = 0; i < n; ++i) cmds[i].encode_to(link.out);
  link.pending.push_back(Pending{&sink, static_cast<std::uint32_t>(n)});
  Pending* entry = &link.pending.back();  // deque: stable while other entries come and go
  in_flight_ += n;
  if (written) *written = true;
  if (auto_flush_ && !link.writing) write_queued(link);
  while (!sink.done) {
    if (!sink.parker.park(deadline) && !sink.done) {
      entry->sink = nullptr;  // replies will be read and dropped
      return make_error_code(errc::timeout);
    }
  }
  return sink.error;
}

std::error_code SharedConnection::write_queued(Link& link) {
  link.writing = true;
  std::error_code ec;
  while (!link.out.empty() && !link.conn.broken()) {
    link.sending.clear();
    link.sending.swap(link.out);
    ec = link.conn.write(link.sending, deadline_after(options_.command_timeout));
    if (ec) {
      fail_link(link, ec);
      break;
    }
  }
  link.writing = false;
  return ec;
}

void SharedConnection::set_auto_flush(bool on) {
  auto_flush_ = on;
  if (on) flush();
}

std::error_code SharedConnection::flush() {
  if (!link_ || link_->writing) return {};
  return write_queued(*link_);
}

void SharedConnection::read_loop(Link* link) {
  Reply reply;
  for (;;) {
    std::error_code ec = link->conn.read_reply(reply, kNoDeadline);
    if (!ec && link->pending.empty()) ec = make_error_code(errc::protocol_error);  // unsolicited
    if (ec) {
      fail_link(*link, ec);
      return;
    }
    Pending& p = link->pending.front();
    if (p.sink) p.sink->out[p.sink->received++] = std::move(reply);
    --in_flight_;
    if (--p.count == 0) {
      Sink* s = p.sink;
      link->pending.pop_front();
      if (s) {
        s->done = true;
        s->parker.unpark();
      }
      wake_capacity_waiters();
    }
  }
}

void SharedConnection::fail_link(Link& link, std::error_code ec) {
  link.conn.shutdown();
  for (Pending& p : link.pending) {
    in_flight_ -= p.count;
    if (p.sink) {
      p.sink->error = ec;
      p.sink->done = true;
      p.sink->parker.unpark();
    }
  }
  link.pending.clear();
  link.out.clear();
  wake_capacity_waiters();
}

}  // namespace fibredis
