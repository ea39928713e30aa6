// ClusterPipeline: commands queued locally, grouped per node, sent to all nodes at once (one fiber
// per node), answers back in the caller's order; redirected or failed commands are re-routed and
// re-sent, round after round, under the client's TTL (max_redirects) and one deadline.
//
// @code
//   auto p = rc.pipeline();
//   p.set("a", "1").incr("b").get("a");           // keys in any slots: no CROSSSLOT refusal
//   std::vector<fibredis::Reply> r = p.execute();  // r[0] OK, r[1] 1, r[2] "1"
// @endcode
// execute() waits for every node's batch, and for topology refreshes and back-off between rounds,
// all within command_timeout (+ block time). With raise_on_error (default) the first error reply is
// thrown after all replies are in. A command whose TTL ran out throws RedirectLimitError; a node that
// stayed unreachable throws ConnectionError. Each command is atomic on its own, the pipeline is not.
// Multi-key commands must keep their keys in one slot (CrossSlotError before anything is sent).
#pragma once

#include <fibredis/client/command_queue.hpp>
#include <fibredis/client/commands.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>

#include <cstddef>
#include <vector>

namespace fibredis {

class ClusterClient;

class ClusterPipeline : public Commands<ClusterPipeline>, public CommandQueue<ClusterPipeline> {
 public:
  std::vector<Reply> execute(bool raise_on_error = true);

 private:
  friend class ClusterClient;
  explicit ClusterPipeline(ClusterClient& client) : client_(&client) {}
  ClusterClient* client_;
};

}  // namespace fibredis
