#include <fibredis/detail/conn/connection_pool.hpp>

#include <fibredis/errors.hpp>

#include <algorithm>

namespace fibredis {

ConnectionPool::ConnectionPool(Options options, ClientStats* stats)
    : options_(std::move(options)), stats_(stats ? stats : &own_stats_) {}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::exchange(other.pool_, nullptr);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

ConnectionPool::Lease::~Lease() { release(); }

void ConnectionPool::Lease::release() noexcept {
  if (pool_ && conn_) pool_->give_back(std::move(conn_));
  pool_ = nullptr;
  conn_.reset();
}

std::unique_ptr<Connection> ConnectionPool::take_idle() noexcept {
  while (!idle_.empty()) {
    std::unique_ptr<Connection> c = std::move(idle_.back());
    idle_.pop_back();
    if (!c->broken()) return c;
    --open_;
  }
  return nullptr;
}

void ConnectionPool::wake_next() noexcept {
  if (!waiters_.empty() && (!idle_.empty() || open_ < options_.max_connections))
    waiters_.front()->unpark();
}

std::error_code ConnectionPool::acquire(Deadline deadline, Lease& out) {
  out.release();
  // FIFO: a newcomer goes behind fibers already waiting; a woken waiter takes its turn first.
  bool my_turn = waiters_.empty();
  for (;;) {
    if (my_turn) {
      if (std::unique_ptr<Connection> c = take_idle()) {
        wake_next();
        out = Lease(this, std::move(c));
        return {};
      }
      if (open_ < options_.max_connections) {
        ++open_;  // reserve the place before suspending in connect
        auto c = std::make_unique<Connection>();
        const Deadline d = std::min(deadline, deadline_after(options_.connect_timeout));
        if (auto ec = c->connect(options_, d)) {
          last_error_text_ = c->error_text();
          --open_;
          wake_next();
          return ec;
        }
        ++created_;
        ++stats_->connects;
        out = Lease(this, std::move(c));
        return {};
      }
    }
    Parker p;
    waiters_.push_back(&p);
    const bool woken = p.park(deadline);
    auto it = std::find(waiters_.begin(), waiters_.end(), &p);
    if (it != waiters_.end()) waiters_.erase(it);
    if (!woken) {
      wake_next();
      return make_error_code(errc::timeout);
    }
    my_turn = true;
  }
}

void ConnectionPool::give_back(std::unique_ptr<Connection> c) noexcept {
  if (c->broken()) {
    --open_;
  } else {
    try {
      idle_.push_back(std::move(c));
    } catch (...) {
      --open_;
    }
  }
  wake_next();
}

void ConnectionPool::clear_idle() noexcept {
  open_ -= idle_.size();
  idle_.clear();
}

}  // namespace fibredis
