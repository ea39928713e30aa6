// ClusterPipeline: commands queued locally, grouped per node, sent to all nodes at once (one fiber
// per node), answers back in the caller's order; redirected or failed commands are re-routed and
// re-sent, round after round, under the client's TTL (max_redirects) and one deadline.
//
// @code
//   auto p = rc.pipeline();
//   p.set("a", "1").incr("b").get("a");           // keys in any slots: no CROSSSLOT refusal
//   p.dbsize().keys("user:*");                     // keyless: the same rules as rc.dbsize(), rc.keys()
//   p.on(fibredis::Target::Primaries).info("memory");   // one reply: [[node, reply], ...]
//   std::vector<fibredis::Reply> r = p.execute();  // r[0] OK, r[1] 1, r[2] "1", r[3] the sum ...
//   fibredis::PerNode<fibredis::Reply> info = fibredis::per_node_replies(std::move(r[5]));  // as rc.on()
// @endcode
// execute() waits for every node's batch, and for topology refreshes and back-off between rounds,
// all within command_timeout (+ block time). With raise_on_error (default) the first error reply is
// thrown after all replies are in. A command whose TTL ran out throws RedirectLimitError; a node that
// stayed unreachable throws ConnectionError. Each command is atomic on its own, the pipeline is not.
// Multi-key commands must keep their keys in one slot (CrossSlotError before anything is sent).
//
// Keyless commands are routed as ClusterClient::execute routes them (the routing table,
// cluster/command_route.hpp), never silently to one node: fan-out commands with a merge rule go to
// every node of their rule and their replies are merged into one (DBSIZE summed over primaries,
// KEYS concatenated, FLUSHALL all-OK, SCRIPT EXISTS AND-ed...), per-node commands (INFO, TIME,
// CONFIG GET...) go to the default node, RANDOMKEY to a random primary, PUBLISH by its channel's
// slot. on(target) sends the next command to the target's nodes and answers, as one reply, an
// array of [ "host:port", reply ] pairs (reply_merge.hpp, MergePolicy::PerNode);
// per_node_replies() reads it back as the PerNode<Reply> map that rc.on(target) and
// rc.execute_on() return.
//
// A transaction pipeline (rc.pipeline(true), or ClusterWatch::multi()) is MULTI/EXEC on one node:
// see ClusterClient::pipeline(bool) and cluster/cluster_watch.hpp.
#pragma once

#include <fibredis/client/command_queue.hpp>
#include <fibredis/client/commands.hpp>
#include <fibredis/cluster/reply_merge.hpp>  // per_node_replies(), to read an on(target) entry
#include <fibredis/cluster/target.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>

#include <cstddef>
#include <utility>
#include <vector>

namespace fibredis {

class ClusterClient;
class ClusterWatch;
class TargetedPipeline;

class ClusterPipeline : public Commands<ClusterPipeline>, public CommandQueue<ClusterPipeline> {
 public:
  std::vector<Reply> execute(bool raise_on_error = true);

  /// Queue the next command for every node of `target` (not in a transaction: UsageError from
  /// execute()). Its reply is an array of [ "host:port", reply ] pairs, in the target's order;
  /// per_node_replies() (cluster/reply_merge.hpp) turns it into PerNode<Reply>.
  TargetedPipeline on(Target target);

  bool is_transaction() const noexcept { return transaction_; }
  /// Drops every queued command.
  void reset() noexcept {
    CommandQueue<ClusterPipeline>::reset();
    targets_.clear();
  }

 private:
  friend class ClusterClient;
  friend class ClusterWatch;
  friend class TargetedPipeline;
  ClusterPipeline(ClusterClient& client, bool transaction, ClusterWatch* watch = nullptr)
      : client_(&client), watch_(watch), transaction_(transaction) {}

  ClusterClient* client_;
  ClusterWatch* watch_;  // set for ClusterWatch::multi(): the transaction runs on its connection
  bool transaction_;
  /// Commands queued through on(): (queue position, target).
  std::vector<std::pair<std::size_t, Target>> targets_;
};

/// ClusterPipeline::on(target): the typed commands, queued for the target's nodes; each returns
/// the pipeline, so chaining goes on with untargeted commands.
class TargetedPipeline : public Commands<TargetedPipeline> {
 public:
  template <class Parser>
  ClusterPipeline& dispatch(Command&& cmd) {
    pipeline_->targets_.emplace_back(pipeline_->size(), target_);
    return pipeline_->dispatch<Parser>(std::move(cmd));
  }

 private:
  friend class ClusterPipeline;
  TargetedPipeline(ClusterPipeline& p, Target t) : pipeline_(&p), target_(std::move(t)) {}
  ClusterPipeline* pipeline_;
  Target target_;
};

inline TargetedPipeline ClusterPipeline::on(Target target) { return TargetedPipeline(*this, std::move(target)); }

}  // namespace fibredis
