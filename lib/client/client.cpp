#include <fibredis/client/client.hpp>

#include <fibredis/client/wait_batch.hpp>
#include <fibredis/detail/conn/connection_pool.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/detail/runtime/uring_scheduler.hpp>

#include <algorithm>
#include <cstddef>
#include <iterator>
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
SharedConnection& Client::shared_connection() noexcept { return node_->shared(); }
ConnectionPool& Client::pool() noexcept { return node_->pool(); }

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
  const Deadline deadline = node_->deadline_for(cmds, n);
  if (auto ec = exclusive ? node_->run_exclusive(cmds, n, out, deadline) : node_->run(cmds, n, out, deadline))
    fail(ec, n == 1 ? cmds[0].name() : std::string_view("pipeline"));
}

void Client::flush() {
  if (auto ec = node_->shared().flush()) fail(ec, "flush");
}

Watch Client::watch(ArgList keys) {
  const Deadline deadline = deadline_after(options().command_timeout);
  ConnectionPool::Lease lease;
  if (auto ec = node_->pool().acquire(deadline, lease)) fail(ec, "WATCH");
  Command cmd{"WATCH"};
  cmd.args(keys);
  Reply reply;
  if (auto ec = lease->roundtrip(&cmd, 1, &reply, deadline)) {
    lease->mark_broken();
    fail(ec, "WATCH");
  }
  reply.value();
  return Watch(*this, std::make_unique<Watch::Lease>(std::move(lease)));
}

// ---- Watch ------------------------------------------------------------------------------

struct Watch::Lease {
  ConnectionPool::Lease lease;
};

Watch::Watch(Client& client, std::unique_ptr<Lease> lease) noexcept : client_(&client), lease_(std::move(lease)) {}
Watch::Watch(Watch&&) noexcept = default;

Pipeline Watch::multi() { return Pipeline(*client_, true, &*lease_->lease); }

Watch::~Watch() {
  if (!lease_ || !lease_->lease || lease_->lease->broken()) return;
  // Leave the connection as the pool expects it: nothing watched.
  Command cmd{"UNWATCH"};
  Reply reply;
  if (lease_->lease->roundtrip(&cmd, 1, &reply, deadline_after(client_->options().command_timeout)))
    lease_->lease->mark_broken();
}

Reply Watch::execute(const Command& cmd) {
  // Same rule as Client::execute: the pooled connection may carry another lease's writes.
  if (counts_own_writes(cmd)) refuse_lone_wait(cmd);
  Reply reply;
  const Deadline deadline = client_->node_->deadline_for(&cmd, 1);
  if (auto ec = lease_->lease->roundtrip(&cmd, 1, &reply, deadline)) {
    lease_->lease->mark_broken();
    client_->fail(ec, cmd.name());
  }
  return reply;
}

void Watch::unwatch() { execute(Command{"UNWATCH"}).value(); }

// ---- Pipeline -----------------------------------------------------------------------------

std::vector<Reply> unwrap_transaction(std::vector<Reply>&& replies) {
  // replies: MULTI's OK, one QUEUED (or a queue-time error) per command, then EXEC's answer.
  for (std::size_t i = 1; i + 1 < replies.size(); ++i)
    if (replies[i].is_error()) throw_reply_error(replies[i].str());
  Reply& exec = replies.back();
  if (exec.is_error()) throw_reply_error(exec.str());
  if (exec.is_nil()) throw WatchError("transaction aborted: a WATCHed key was modified");
  if (!exec.is_array()) throw ProtocolError("EXEC answered with " + exec.to_string());
  return std::move(exec.elements());
}

void raise_first_error(const std::vector<Reply>& replies) {
  for (const Reply& r : replies)
    if (r.is_error()) throw_reply_error(r.str());
}

std::vector<Reply> Pipeline::execute(bool raise_on_error) {
  std::vector<Command> cmds = take();
  if (cmds.empty()) return {};
  // A WAIT counts the writes of its own connection: the whole batch goes on one exclusive
  // connection, and in a transaction the trailing WAITs go after EXEC (client/wait_batch.hpp).
  const WaitBatch waits = check_wait_batch(cmds.data(), cmds.size(), transaction_);
  if (transaction_) {
    cmds.insert(cmds.begin(), Command{"MULTI"});
    cmds.insert(cmds.end() - static_cast<std::ptrdiff_t>(waits.trailing), Command{"EXEC"});
  }
  std::vector<Reply> replies(cmds.size());
  if (exclusive_ != nullptr) {
    if (auto ec = exclusive_->roundtrip(cmds.data(), cmds.size(), replies.data(),
                                        client_->node_->deadline_for(cmds.data(), cmds.size()))) {
      exclusive_->mark_broken();
      client_->fail(ec, "transaction");
    }
  } else {
    client_->run_batch(cmds.data(), cmds.size(), replies.data(), waits.any);
  }
  if (transaction_) {
    std::vector<Reply> after_exec(std::make_move_iterator(replies.end() - static_cast<std::ptrdiff_t>(waits.trailing)),
                                  std::make_move_iterator(replies.end()));
    replies.resize(replies.size() - waits.trailing);
    replies = unwrap_transaction(std::move(replies));
    for (Reply& r : after_exec) replies.push_back(std::move(r));
  }
  if (raise_on_error) raise_first_error(replies);
  return replies;
}

}  // namespace fibredis
