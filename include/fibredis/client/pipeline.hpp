// Pipeline: commands queued locally and sent in one batch; replies come back in queue order.
//
// @code
//   auto p = client.pipeline();
//   p.set("a", "1").incr("b").get("a");
//   std::vector<fibredis::Reply> replies = p.execute();   // one write, one round trip
// @endcode
// execute() waits for all replies within one command_timeout. With raise_on_error (the default) the
// first error reply is thrown as ResponseError after all replies are in; otherwise error replies stay
// in the vector. A transaction pipeline wraps the batch in MULTI/EXEC (atomic) and throws WatchError
// when a WATCHed key changed. The pipeline is emptied by execute(), ready for reuse.
#pragma once

#include <fibredis/client/command_queue.hpp>
#include <fibredis/client/commands.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>

#include <cstddef>
#include <vector>

namespace fibredis {

class Client;
class Connection;

class Pipeline : public Commands<Pipeline>, public CommandQueue<Pipeline> {
 public:
  std::vector<Reply> execute(bool raise_on_error = true);

  bool is_transaction() const noexcept { return transaction_; }

 private:
  friend class Client;
  friend class Watch;
  Pipeline(Client& client, bool transaction, Connection* exclusive = nullptr)
      : client_(&client), exclusive_(exclusive), transaction_(transaction) {}

  Client* client_;
  Connection* exclusive_;  // set for a WATCH transaction: it must run on the watching connection
  bool transaction_;
};

/// Replies of a MULTI/EXEC batch: unwraps EXEC's array; throws WatchError on a nil EXEC and
/// ResponseError when the server refused to queue a command (EXECABORT).
std::vector<Reply> unwrap_transaction(std::vector<Reply>&& replies);

/// Throws the first error reply among `replies` (raise_on_error).
void raise_first_error(const std::vector<Reply>& replies);

}  // namespace fibredis
