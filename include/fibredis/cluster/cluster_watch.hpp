// ClusterWatch: optimistic locking (WATCH ... MULTI ... EXEC) on a cluster, for keys of one slot.
//
// @code
//   for (int attempt = 0; attempt < 10; ++attempt) {          // the optimistic-lock loop
//     auto w = rc.watch({"{acct:7}:balance"});                 // WATCH on the slot's primary
//     long long bal = std::stoll(w.get("{acct:7}:balance").value_or("0"));
//     auto tx = w.multi();                                     // MULTI/EXEC on the same connection
//     tx.set("{acct:7}:balance", std::to_string(bal - 10)).incr("{acct:7}:ops");
//     try {
//       tx.execute();
//       break;                                                 // applied atomically
//     } catch (const fibredis::WatchError&) {
//       // a watched key changed (or the slot moved) before EXEC: nothing ran; read again
//     }
//   }
// @endcode
//
// rc.watch(keys) pins one exclusive connection (from the node's pool) to the primary that serves
// the keys' slot, following MOVED (and ASK, with ASKING before every command of the watch, during
// a migration) to find it; WATCH state is per connection, so everything of the pattern (the reads,
// MULTI, EXEC) runs on that one connection, at once, with no retry elsewhere. Commands on a
// ClusterWatch wait for their reply within command_timeout and throw as ClusterClient's do; keys
// outside the watched slot throw CrossSlotError before anything is sent.
//
// WatchError means "the transaction did not run, start over": EXEC answered nil (a watched key was
// modified, by any client), or the watched slot stopped being served by the pinned node (MOVED,
// ASK, TRYAGAIN, CLUSTERDOWN... on a read or on the transaction). The client's slot map is patched
// on MOVED, so the next rc.watch() goes to the new owner. A lost connection throws
// ConnectionError/TimeoutError: whether EXEC ran is then unknown, and the watch is gone.
//
// The connection goes back to the pool on destruction, after UNWATCH. A ClusterWatch must not
// outlive its ClusterClient; a pipeline from multi() must not outlive its ClusterWatch.
#pragma once

#include <fibredis/client/commands.hpp>
#include <fibredis/cluster/cluster_pipeline.hpp>
#include <fibredis/cluster/node_address.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace fibredis {

class ClusterClient;

class ClusterWatch : public Commands<ClusterWatch> {
 public:
  ClusterWatch(ClusterWatch&&) noexcept;
  ClusterWatch& operator=(ClusterWatch&&) = delete;
  ~ClusterWatch();

  /// Runs one command now on the watching connection and returns its reply (an ordinary error
  /// reply is returned). Throws CrossSlotError for keys outside the watched slot, UsageError for
  /// commands a cluster refuses and for fan-out ones (DBSIZE, KEYS...: one node cannot answer
  /// them), WatchError when the node no longer serves the slot, ConnectionError/TimeoutError.
  Reply execute(const Command& cmd);
  template <class Parser>
  typename Parser::type dispatch(Command&& cmd) {
    return Parser::parse(execute(cmd));
  }

  /// A transaction pipeline bound to this connection: execute() sends MULTI, the queued
  /// commands and EXEC, and throws WatchError when EXEC aborts (see above).
  ClusterPipeline multi() { return ClusterPipeline(*client_, true, this); }
  /// Forgets the watched keys (the connection stays pinned).
  void unwatch();

  /// The node the watch is pinned to, and the watched slot.
  const NodeAddress& node() const noexcept { return node_; }
  std::uint16_t slot() const noexcept { return slot_; }

 private:
  friend class ClusterClient;
  friend class ClusterPipeline;
  /// The pooled connection's lease (a ConnectionPool::Lease; its header is internal).
  struct Lease;
  ClusterWatch(ClusterClient& client, NodeAddress node, std::uint16_t slot, bool asking,
               std::unique_ptr<Lease> lease) noexcept;
  std::vector<Reply> run_transaction(std::vector<Command>&& cmds, bool raise_on_error);
  /// Sends cmds on the lease, preceded by ASKING when pinned to an importing node; throws
  /// transport errors (the connection is then dropped).
  std::vector<Reply> roundtrip(const std::vector<Command>& cmds);

  ClusterClient* client_;
  NodeAddress node_;
  std::uint16_t slot_;
  bool asking_;  // pinned through an ASK: the slot is being imported by node_
  std::unique_ptr<Lease> lease_;
};

}  // namespace fibredis
