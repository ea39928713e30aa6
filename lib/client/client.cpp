#include <fibredis/client/client.hpp>

#include <fibredis/errors.hpp>
#include <fibredis/resp/command_info.hpp>

#include <algorithm>
#include <string>

namespace fibredis {

Client::Client(Options options) : options_(std::move(options)), shared_(options_), pool_(options_) {}

Client::Client(std::string_view url) : Client(Options::from_url(url)) {}

Deadline Client::call_deadline(const Command* cmds, std::size_t n) const {
  auto budget = std::chrono::duration_cast<Clock::duration>(options_.command_timeout);
  for (std::size_t i = 0; i < n; ++i) {
    if (!cmds[i].blocking) continue;
    if (cmds[i].blocking->count() == 0) return kNoDeadline;  // the caller asked to wait forever
    budget += *cmds[i].blocking;
  }
  return deadline_after(budget);
}

void Client::fail(std::error_code ec, std::string_view what) const {
  std::string context = std::string(what) + " on " + options_.address();
  throw_error(ec, context);
}

Reply Client::execute(const Command& cmd) {
  Reply reply;
  run_batch(&cmd, 1, &reply);
  return reply;
}

void Client::run_batch(const Command* cmds, std::size_t n, Reply* out) {
  const Deadline deadline = call_deadline(cmds, n);
  const bool blocking = std::any_of(cmds, cmds + n, [](const Command& c) { return c.blocking.has_value(); });
  const std::string_view what = n == 1 ? cmds[0].name() : std::string_view("pipeline");
  if (!blocking) {
    if (auto ec = shared_.execute(cmds, n, out, deadline)) {
      if (ec == errc::auth_failed) throw AuthenticationError(shared_.last_error_text() + " (" + options_.address() + ")", ec);
      fail(ec, what);
    }
    return;
  }
  // A command the server may hold gets a connection of its own: the shared one must keep flowing.
  ConnectionPool::Lease lease;
  if (auto ec = pool_.acquire(deadline, lease)) {
    if (ec == errc::auth_failed) throw AuthenticationError(lease ? lease->error_text() : "authentication failed on " + options_.address(), ec);
    fail(ec, what);
  }
  if (auto ec = lease->roundtrip(cmds, n, out, deadline)) {
    lease->mark_broken();  // a late reply would arrive on a reused connection: never reuse it
    fail(ec, what);
  }
}

void Client::flush() {
  if (auto ec = shared_.flush()) fail(ec, "flush");
}

Watch Client::watch(ArgList keys) {
  const Deadline deadline = deadline_after(options_.command_timeout);
  ConnectionPool::Lease lease;
  if (auto ec = pool_.acquire(deadline, lease)) fail(ec, "WATCH");
  Command cmd{"WATCH"};
  cmd.args(keys);
  Reply reply;
  if (auto ec = lease->roundtrip(&cmd, 1, &reply, deadline)) {
    lease->mark_broken();
    fail(ec, "WATCH");
  }
  reply.value();
  return Watch(*this, std::move(lease));
}

// ---- Watch ------------------------------------------------------------------------------

Watch::~Watch() {
  if (!lease_ || lease_->broken()) return;
  // Leave the connection as the pool expects it: nothing watched.
  Command cmd{"UNWATCH"};
  Reply reply;
  if (lease_->roundtrip(&cmd, 1, &reply, deadline_after(client_->options().command_timeout)))
    lease_->mark_broken();
}

Reply Watch::execute(const Command& cmd) {
  Reply reply;
  const Deadline deadline = client_->call_deadline(&cmd, 1);
  if (auto ec = lease_->roundtrip(&cmd, 1, &reply, deadline)) {
    lease_->mark_broken();
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
  std::vector<Command> cmds = std::move(commands_);
  commands_.clear();
  if (cmds.empty()) return {};
  if (transaction_) {
    cmds.insert(cmds.begin(), Command{"MULTI"});
    cmds.push_back(Command{"EXEC"});
  }
  std::vector<Reply> replies(cmds.size());
  if (exclusive_ != nullptr) {
    if (auto ec = exclusive_->roundtrip(cmds.data(), cmds.size(), replies.data(),
                                        client_->call_deadline(cmds.data(), cmds.size()))) {
      exclusive_->mark_broken();
      client_->fail(ec, "transaction");
    }
  } else {
    client_->run_batch(cmds.data(), cmds.size(), replies.data());
  }
  if (transaction_) replies = unwrap_transaction(std::move(replies));
  if (raise_on_error) raise_first_error(replies);
  return replies;
}

}  // namespace fibredis
