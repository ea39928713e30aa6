#include <fibredis/cluster/cluster_pipeline.hpp>

#include <fibredis/client/pipeline.hpp>
#include <fibredis/client/wait_batch.hpp>
#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/detail/cluster/pipeline_plan.hpp>
#include <fibredis/errors.hpp>

#include <algorithm>

namespace fibredis {

std::vector<Reply> ClusterPipeline::execute(bool raise_on_error) {
  std::vector<Command> cmds = take();
  if (cmds.empty()) return {};
  return client_->run_pipeline(cmds, raise_on_error);
}

std::vector<Reply> ClusterClient::run_pipeline(const std::vector<Command>& cmds, bool raise_on_error) {
  if (std::any_of(cmds.begin(), cmds.end(), counts_own_writes)) return run_wait_pipeline(cmds, raise_on_error);
  PipelinePlan plan(retry_policy(), options_.address_remap);
  auto budget = std::chrono::duration_cast<Clock::duration>(options_.command_timeout);
  bool forever = false;
  for (const Command& cmd : cmds) {
    const CommandInfo* info = lookup_command(cmd);
    if (info != nullptr && info->policy == RoutePolicy::Blocked)
      throw UsageError(std::string(cmd.name()) + " is not allowed in a cluster pipeline: " +
                       std::string(info->blocked_reason));
    PipelinePlan::Entry e;
    e.slot = command_slot(cmd);  // CrossSlotError before anything is sent
    if (!e.slot) e.node = default_node_;
    e.read_only = info != nullptr && info->has(kReadOnly);
    plan.add(std::move(e));
    if (cmd.blocking) {
      if (cmd.blocking->count() == 0) forever = true;
      budget += *cmd.blocking;
    }
  }
  const Deadline deadline = forever ? kNoDeadline : deadline_after(budget);
  const PipelinePlan::ReplicaPicker pick = [this](const Shard& s) { return pick_for_read(s); };

  for (int round = 0; !plan.done(); ++round) {
    const std::uint64_t version = holder_->version();
    std::vector<PipelinePlan::NodeBatch> batches = plan.next_round(*holder_->current(), pick);
    {
      // One fiber per node, all at once; each sends its whole batch in one write.
      std::vector<Fiber> fibers;
      fibers.reserve(batches.size());
      for (const PipelinePlan::NodeBatch& batch : batches) {
        fibers.emplace_back([&, b = &batch] {
          std::vector<Command> out;
          std::vector<std::size_t> owner;  // index into cmds, or SIZE_MAX for an ASKING
          out.reserve(b->items.size());
          for (const PipelinePlan::Item& item : b->items) {
            if (item.asking) {
              out.push_back(Command{"ASKING"});
              owner.push_back(SIZE_MAX);
            }
            out.push_back(cmds[item.index]);
            owner.push_back(item.index);
          }
          std::vector<Reply> replies(out.size());
          bool written = true;
          if (std::error_code ec = run_on(b->node, out.data(), out.size(), replies.data(), deadline, &written)) {
            plan.fail_node(b->node, ec, written);
            return;
          }
          for (std::size_t i = 0; i < out.size(); ++i)
            if (owner[i] != SIZE_MAX) plan.set_reply(owner[i], std::move(replies[i]));
        });
      }
    }
    const PipelinePlan::RoundSummary summary = plan.finish_round();
    stats_.redirects += summary.redirects;
    stats_.retries += summary.retries - summary.redirects;
    for (const PipelinePlan::SlotMove& m : summary.moved) holder_->move_slot(m.slot, m.node);
    for (const NodeAddress& n : summary.suspects) mark_suspect(n);
    if (summary.refresh_topology) refresh_after_fault(version, deadline);
    if (summary.refresh_background) request_background_refresh();
    if (summary.back_off && !plan.done()) backoff(round, deadline);
    if (!plan.done() && expired(deadline)) plan.give_up();
  }

  // The first command given up decides the error (the same mapping as for single commands).
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    if (plan.status(i) != PipelinePlan::Status::Exhausted) continue;
    const Outcome o = plan.last_outcome(i);
    std::error_code ec = plan.error(i);
    if (!ec && (o == Outcome::ConnectionError || o == Outcome::Timeout)) ec = make_error_code(errc::timeout);
    const std::string last =
        plan.reply(i).is_error() ? std::string(plan.reply(i).str()) : plan.last_node(i).to_string();
    give_up(cmds[i], o, ec, plan.last_node(i), "in a cluster pipeline: " + last);
  }
  std::vector<Reply> replies = plan.take_replies();
  if (raise_on_error) raise_first_error(replies);
  return replies;
}

}  // namespace fibredis
