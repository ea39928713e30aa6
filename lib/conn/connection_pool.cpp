#include <fibredis/detail/conn/connection_pool.hpp>

#include <fibredis/errors.hpp>
#include <fibredis/detail/runtime/uring_scheduler.hpp>

#include <algorithm>
#include <cerrno>

namespace fibredis {

namespace {
thread_local ConnectionPool* t_pools = nullptr;  // this thread's pools (shed_idle_connections)

bool out_of_fds(std::error_code ec) noexcept {
  return (ec.category() == std::system_category() || ec.category() == std::generic_category()) &&
         (ec.value() == EMFILE || ec.value() == ENFILE);
}
}  // namespace

std::size_t shed_idle_connections() noexcept {
  std::size_t n = 0;
  for (ConnectionPool* p = t_pools; p != nullptr; p = p->registry_next_) n += p->clear_idle();
  return n;
}

ConnectionPool::ConnectionPool(Options options, ClientStats* stats)
    : options_(std::move(options)), stats_(stats ? stats : &own_stats_) {
  registry_next_ = t_pools;
  if (t_pools) t_pools->registry_prev_ = this;
  t_pools = this;
}

ConnectionPool::~ConnectionPool() {
  stopping_ = true;
  if (trimmer_parker_) trimmer_parker_->unpark();
  if (trimmer_.joinable()) trimmer_.join();
  stats_->pool_open -= std::min<std::uint64_t>(stats_->pool_open, idle_.size());
  if (registry_prev_) {
    registry_prev_->registry_next_ = registry_next_;
  } else if (t_pools == this) {
    t_pools = registry_next_;
  }
  if (registry_next_) registry_next_->registry_prev_ = registry_prev_;
}

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

void ConnectionPool::close_one(bool idle) noexcept {
  --open_;
  if (stats_->pool_open > 0) --stats_->pool_open;
  if (idle) ++stats_->pool_closed_idle;
}

std::unique_ptr<Connection> ConnectionPool::take_idle() noexcept {
  while (!idle_.empty()) {
    std::unique_ptr<Connection> c = std::move(idle_.back());
    idle_.pop_back();
    if (!c->broken()) return c;
    close_one(false);
  }
  return nullptr;
}

void ConnectionPool::wake_next() noexcept {
  if (!waiters_.empty() && (!idle_.empty() || open_ < options_.max_connections))
    waiters_.front()->parker.unpark();
}

std::error_code ConnectionPool::connect_new(Deadline deadline, std::unique_ptr<Connection>& out,
                                            Connection::FirstBatch* first) {
  const Deadline d = std::min(deadline, deadline_after(options_.connect_timeout));
  // Two tries at most: the second only after an fd shortage and shedding the idle connections.
  for (int attempt = 0;; ++attempt) {
    auto c = std::make_unique<Connection>();
    std::error_code ec = c->connect(options_, d, /*want_client_id=*/true, first);
    if (!ec) {
      out = std::move(c);
      return {};
    }
    last_error_text_ = c->error_text();
    if (!out_of_fds(ec)) return ec;
    if (attempt > 0 || shed_idle_connections() == 0) return make_error_code(errc::too_many_open_files);
  }
}

std::error_code ConnectionPool::acquire(Deadline deadline, Lease& out, Connection::FirstBatch* first,
                                        bool* sent_first) {
  out.release();
  if (sent_first) *sent_first = false;
  const Deadline pool_deadline = std::min(deadline, deadline_after(options_.pool_timeout));
  // FIFO: a newcomer goes behind fibers already waiting; a woken waiter takes its turn first.
  bool my_turn = waiters_.empty();
  for (;;) {
    if (my_turn) {
      if (std::unique_ptr<Connection> c = take_idle()) {
        wake_next();
        ++stats_->pool_reused;
        out = Lease(this, std::move(c));
        return {};
      }
      if (open_ < options_.max_connections) {
        ++open_;  // reserve the place before suspending in connect
        ++stats_->pool_open;
        std::unique_ptr<Connection> c;
        std::error_code ec = connect_new(deadline, c, first);
        if (sent_first && first) *sent_first = first->written;
        if (!c) {
          close_one(false);
          wake_next();
          return ec;
        }
        ++created_;
        ++stats_->pool_created;
        ++stats_->connects;
        out = Lease(this, std::move(c));
        return {};
      }
    }
    Waiter w;
    waiters_.push_back(w);
    const bool woken = w.parker.park(pool_deadline);
    w.unlink();
    if (!woken) {
      wake_next();
      if (expired(deadline)) return make_error_code(errc::timeout);
      ++stats_->pool_timeouts;
      return make_error_code(errc::pool_timeout);
    }
    my_turn = true;
  }
}

void ConnectionPool::give_back(std::unique_ptr<Connection> c) noexcept {
  if (c->broken() || stopping_) {
    close_one(false);
  } else {
    try {
      const Clock::time_point now = Clock::now();
      c->set_idle_since(now);
      // Kept idle, it may sit for longer than keepalive_idle: a vanished server must show. The
      // surplus is closed after idle_timeout and gets the timing only if trim() keeps it.
      if (idle_.size() < options_.max_idle) c->ensure_keepalive_timing();
      idle_.push_back(std::move(c));
      // A waiter takes it at once; otherwise the surplus over max_idle is timed for trimming.
      if (waiters_.empty() && idle_.size() > options_.max_idle) {
        trim(now);
        if (idle_.size() > options_.max_idle) start_trimmer();
      }
    } catch (...) {
      close_one(false);
    }
  }
  wake_next();
}

void ConnectionPool::trim(Clock::time_point now) noexcept {
  while (idle_.size() > options_.max_idle && now - idle_.front()->idle_since() >= options_.idle_timeout) {
    idle_.pop_front();
    close_one(true);
  }
  if (idle_.size() <= options_.max_idle)
    for (const auto& kept : idle_) kept->ensure_keepalive_timing();
}

void ConnectionPool::start_trimmer() {
  if (trimmer_running_ || UringScheduler::current() == nullptr) return;
  if (trimmer_.joinable()) trimmer_.join();  // the last one has ended (trimmer_running_ is false)
  trimmer_running_ = true;
  trimmer_ = Fiber([this] { trimmer_loop(); });
}

void ConnectionPool::trimmer_loop() noexcept {
  // One timer for the whole pool: it sleeps until the oldest surplus connection is due.
  while (!stopping_ && idle_.size() > options_.max_idle) {
    const Clock::time_point now = Clock::now();
    trim(now);
    if (idle_.size() <= options_.max_idle) break;
    Parker p;
    trimmer_parker_ = &p;
    p.park(idle_.front()->idle_since() + options_.idle_timeout);
    trimmer_parker_ = nullptr;
  }
  trimmer_running_ = false;
}

std::size_t ConnectionPool::clear_idle() noexcept {
  const std::size_t n = idle_.size();
  for (std::size_t i = 0; i < n; ++i) close_one(true);
  idle_.clear();
  return n;
}

}  // namespace fibredis
