#include <fibredis/client/client.hpp>

#include <fibredis/client/wait_batch.hpp>
#include <fibredis/detail/conn/call_deadline.hpp>
#include <fibredis/detail/conn/connection_pool.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/detail/runtime/uring_scheduler.hpp>

#include <cstddef>
#include <string>

namespace fibredis {

Client::Client(Options options) : node_(std::make_unique<NodeConnections>(options, &stats_)) {}

// First, while the connections the async commands run on are still alive.
Client::~Client() { drain_async(); }

ClientStats Client::stats() const noexcept {
  ClientStats s = stats_;
  if (UringScheduler* sched = UringScheduler::current()) s.ring_enters = sched->enters();
  return s;
}

Client::Client(std::string_view url) : Client(Options::from_url(url)) {}

void Client::set_auto_flush(bool on) { node_->shared().set_auto_flush(on); }
const Options& Client::options() const noexcept { return node_->options(); }

void Client::fail(std::error_code ec, std::string_view what) const {
  if (ec == errc::auth_failed)
    throw AuthenticationError(node_->error_text() + " (" + options().address() + ")", ec);
  // A protocol error keeps the parser's words ("Protocol error, got "H" as reply type byte").
  const std::string& words = node_->error_text();
  if (ec == errc::protocol_error && !words.empty())
    throw_error(ec, std::string(what) + " on " + options().address() + ": " + words);
  throw_error(ec, std::string(what) + " on " + options().address());
}

Reply Client::execute(const Command& cmd) {
  if (counts_own_writes(cmd)) refuse_lone_wait(cmd);
  Reply reply;
  run_batch(&cmd, 1, &reply);
  return reply;
}

void Client::run_batch(const Command* cmds, std::size_t n, Reply* out, bool exclusive) {
  const Deadline deadline = call_deadline(options().command_timeout, cmds, n);
  if (auto ec = exclusive ? node_->run_exclusive(cmds, n, out, deadline) : node_->run(cmds, n, out, deadline))
    fail(ec, n == 1 ? cmds[0].name() : std::string_view("pipeline"));
}

void Client::flush() {
  if (auto ec = node_->shared().flush()) fail(ec, "flush");
}

}  // namespace fibredis
