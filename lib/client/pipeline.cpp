// Pipeline (client/pipeline.hpp): a Client's batch, one write and one round trip; MULTI/EXEC
// wrapping for transactions.
#include <fibredis/client/pipeline.hpp>

#include <fibredis/client/client.hpp>
#include <fibredis/client/wait_batch.hpp>
#include <fibredis/detail/conn/call_deadline.hpp>
#include <fibredis/detail/conn/connection.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/errors.hpp>

#include <cstddef>
#include <iterator>
#include <vector>

namespace fibredis {

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
                                        call_deadline(client_->options().command_timeout, cmds.data(), cmds.size()))) {
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
