// Watch: optimistic locking (WATCH ... MULTI ... EXEC) on one exclusive connection.
//
// @code
//   auto w = client.watch({"balance"});               // WATCH on a pooled exclusive connection
//   long long bal = std::stoll(w.get("balance").value_or("0"));   // immediate reads
//   auto tx = w.multi();                               // queued, atomic
//   tx.set("balance", std::to_string(bal - 10));
//   tx.execute();                                      // throws WatchError if "balance" changed
// @endcode
// Commands on a Watch run at once on the watching connection (same waits and errors as Client).
// The connection goes back to the pool on destruction, after UNWATCH if the transaction never ran.
#pragma once

#include <fibredis/client/commands.hpp>
#include <fibredis/client/pipeline.hpp>

#include <memory>

namespace fibredis {

class Client;

class Watch : public Commands<Watch> {
 public:
  Watch(Watch&&) noexcept;
  ~Watch();

  Reply execute(const Command& cmd);
  template <class Parser>
  typename Parser::type dispatch(Command&& cmd) {
    return Parser::parse(execute(cmd));
  }

  /// A transaction pipeline bound to this connection.
  Pipeline multi();
  void unwatch();

 private:
  friend class Client;
  /// The pooled connection's lease (a ConnectionPool::Lease; its header is internal).
  struct Lease;
  Watch(Client& client, std::unique_ptr<Lease> lease) noexcept;
  Client* client_;
  std::unique_ptr<Lease> lease_;
};

}  // namespace fibredis
