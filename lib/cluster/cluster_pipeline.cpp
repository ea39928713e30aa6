#include <fibredis/cluster/cluster_pipeline.hpp>

#include <fibredis/client/pipeline.hpp>
#include <fibredis/client/wait_batch.hpp>
#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/cluster/command_route.hpp>
#include <fibredis/detail/cluster/pipeline_plan.hpp>
#include <fibredis/detail/cluster/retry_loop.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/detail/cluster/router.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/conn/call_deadline.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/runtime/concurrently.hpp>

#include <algorithm>
#include <optional>
#include <utility>

namespace fibredis {

namespace {

// A queued command is one plan entry, or one per node for a fan-out (a keyless command with a
// merge rule, or one queued through on(target)); source[] maps plan entries back to it.
struct Queued {
  std::size_t first = 0;  // its first plan entry
  std::size_t count = 1;
  std::optional<MergePolicy> merge;  // set for a fan-out
};

struct PlannedPipeline {
  PipelinePlan plan;
  std::vector<Queued> queued;
  std::vector<std::size_t> source;
};

// The queued commands as plan entries, routed as ClusterClient::execute routes them. Throws
// UsageError / CrossSlotError before anything is sent.
PlannedPipeline plan_pipeline(Router& router, RetryPolicy policy, const AddressMap& remap,
                              const std::vector<Command>& cmds,
                              const std::vector<std::pair<std::size_t, Target>>& targets) {
  PlannedPipeline p{PipelinePlan(policy, remap), std::vector<Queued>(cmds.size()), {}};
  p.plan.reserve(cmds.size());
  p.source.reserve(cmds.size());
  std::size_t next_target = 0;  // targets are in queue order
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    const Command& cmd = cmds[i];
    const CommandInfo* info = lookup_command(cmd);
    if (const CommandRoute route = command_route(info); route.policy == RoutePolicy::Blocked)
      throw UsageError(std::string(cmd.name()) + " is not allowed in a cluster pipeline: " +
                       std::string(route.blocked_reason));
    Queued& q = p.queued[i];
    q.first = p.plan.size();
    PipelinePlan::Entry e;
    e.read_only = info != nullptr && info->has(kReadOnly);
    std::vector<NodeAddress> fan_out;
    if (next_target < targets.size() && targets[next_target].first == i) {
      fan_out = router.resolve_target(targets[next_target++].second);
      if (fan_out.empty()) throw UsageError("on(target) in a cluster pipeline: the target names no node");
      q.merge = MergePolicy::PerNode;
    } else {
      e.slot = Router::command_slot(cmd);  // CrossSlotError before anything is sent
      if (!e.slot) {
        // Keyless: the same rule as ClusterClient::execute (route_keyless).
        Router::KeylessRoute route = router.route_keyless(cmd, info);
        e.slot = route.slot;
        if (route.slot) e.read_only = false;  // as execute(): a channel's or slot argument's primary
        if (route.merge) {
          fan_out = std::move(route.nodes);
          q.merge = route.merge;
        } else if (!route.slot) {
          e.node = route.nodes.front();
        }
      }
    }
    if (!q.merge) {
      p.plan.add(std::move(e));
      p.source.push_back(i);
      continue;
    }
    q.count = fan_out.size();
    for (NodeAddress& n : fan_out) {
      // A fixed node: read_only only tells the retry policy it is safe to resend.
      PipelinePlan::Entry one;
      one.node = std::move(n);
      one.read_only = e.read_only;
      p.plan.add(std::move(one));
      p.source.push_back(i);
    }
  }
  return p;
}

// The replies in queue order, fan-outs merged; the first command given up decides the error
// (the same mapping as for single commands).
std::vector<Reply> collect_replies(PlannedPipeline& p, const std::vector<Command>& cmds, RetryLoop& retry) {
  PipelinePlan& plan = p.plan;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (plan.status(i) != PipelinePlan::Status::Exhausted) continue;
    const Outcome o = plan.last_outcome(i);
    std::error_code ec = plan.error(i);
    if (!ec && (o == Outcome::ConnectionError || o == Outcome::Timeout)) ec = make_error_code(errc::timeout);
    const std::string last =
        plan.reply(i).is_error() ? std::string(plan.reply(i).str()) : plan.last_node(i).to_string();
    retry.give_up(cmds[p.source[i]], o, ec, plan.last_node(i), "in a cluster pipeline: " + last);
  }
  std::vector<Reply> answers = plan.take_replies();
  std::vector<Reply> replies;
  replies.reserve(cmds.size());
  for (const Queued& q : p.queued) {
    if (!q.merge) {
      replies.push_back(std::move(answers[q.first]));
      continue;
    }
    NodeReplies parts;
    parts.reserve(q.count);
    for (std::size_t k = q.first; k < q.first + q.count; ++k) parts.emplace_back(plan.last_node(k), std::move(answers[k]));
    replies.push_back(merge_replies(*q.merge, std::move(parts)));
  }
  return replies;
}

}  // namespace

std::vector<Reply> ClusterPipeline::execute(bool raise_on_error) {
  std::vector<Command> cmds = take();
  std::vector<std::pair<std::size_t, Target>> targets = std::move(targets_);
  targets_.clear();
  if (cmds.empty()) return {};
  if (transaction_) {
    if (!targets.empty())
      throw UsageError("on(target) commands cannot be part of a cluster transaction: MULTI/EXEC runs on one node");
    if (watch_ != nullptr) return watch_->run_transaction(std::move(cmds), raise_on_error);
    return client_->run_transaction(std::move(cmds), raise_on_error);
  }
  return client_->run_pipeline(cmds, targets, raise_on_error);
}

std::vector<Reply> ClusterClient::run_pipeline(std::vector<Command>& cmds,
                                               const std::vector<std::pair<std::size_t, Target>>& targets,
                                               bool raise_on_error) {
  if (std::any_of(cmds.begin(), cmds.end(), counts_own_writes)) {
    if (!targets.empty())
      throw UsageError("on(target) commands cannot share a cluster pipeline with WAIT: it runs on one primary");
    return run_wait_pipeline(cmds, raise_on_error);
  }
  PlannedPipeline planned = plan_pipeline(*router_, retry_->policy(), options_.address_remap, cmds, targets);
  PipelinePlan& plan = planned.plan;
  const Deadline deadline = call_deadline(options_.command_timeout, cmds.data(), cmds.size());
  const PipelinePlan::ReplicaPicker pick = [this](const Shard& s) { return router_->pick_for_read(s); };

  for (int round = 0; !plan.done(); ++round) {
    const std::uint64_t version = holder_->version();
    std::vector<PipelinePlan::NodeBatch> batches = plan.next_round(*holder_->current(), pick);
    // One fiber per node, all at once; each sends its whole batch in one write.
    detail::for_each_concurrently(batches.size(), [&](std::size_t b) {
      const PipelinePlan::NodeBatch& batch = batches[b];
      std::vector<Command> out;
      std::vector<std::size_t> owner;  // plan entry, or SIZE_MAX for an ASKING
      out.reserve(batch.items.size());
      owner.reserve(batch.items.size());
      // A command that goes to this node only is moved into the batch and back after it (a copy
      // costs two allocations and two frees per command); a fan-out's command is in several
      // batches of the round at once and is copied.
      const auto lent = [&](std::size_t entry) { return !planned.queued[planned.source[entry]].merge; };
      for (const PipelinePlan::Item& item : batch.items) {
        if (item.asking) {
          out.push_back(Command{"ASKING"});
          owner.push_back(SIZE_MAX);
        }
        Command& cmd = cmds[planned.source[item.index]];
        if (lent(item.index)) out.push_back(std::move(cmd));
        else out.push_back(cmd);
        owner.push_back(item.index);
      }
      std::vector<Reply> replies(out.size());
      bool written = true;
      const std::error_code ec = run_on(batch.node, out.data(), out.size(), replies.data(), deadline, &written,
                                        false, batch.replica_read);
      for (std::size_t i = 0; i < out.size(); ++i)
        if (owner[i] != SIZE_MAX && lent(owner[i])) cmds[planned.source[owner[i]]] = std::move(out[i]);
      if (ec) {
        plan.fail_node(batch.node, ec, written);
        return;
      }
      for (std::size_t i = 0; i < out.size(); ++i)
        if (owner[i] != SIZE_MAX) plan.set_reply(owner[i], std::move(replies[i]));
    });
    const PipelinePlan::RoundSummary summary = plan.finish_round();
    stats_.redirects += summary.redirects;
    stats_.retries += summary.retries - summary.redirects;
    bool refresh_due = summary.refresh_topology;
    for (const PipelinePlan::SlotMove& m : summary.moved) refresh_due = holder_->moved(m.slot, m.node) || refresh_due;
    for (const NodeAddress& n : summary.suspects) mark_suspect(n);
    if (refresh_due) retry_->refresh_after_fault(version, deadline);
    if (summary.refresh_background) request_background_refresh();
    if (summary.back_off && !plan.done()) retry_->backoff(round, deadline);
    if (!plan.done() && expired(deadline)) plan.give_up();
  }
  std::vector<Reply> replies = collect_replies(planned, cmds, *retry_);
  if (raise_on_error) raise_first_error(replies);
  return replies;
}

}  // namespace fibredis
