#include "fibredis/detail/cluster/pipeline_plan.hpp"

#include "fibredis/errors.hpp"
#include "fibredis/detail/resp/error_reply.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

namespace fibredis {

PipelinePlan::PipelinePlan(RetryPolicy policy, AddressMap map) : policy_(policy), map_(std::move(map)) {}

std::size_t PipelinePlan::add(Entry e) {
  if (rounds_ != 0) throw UsageError("PipelinePlan::add after the first round");
  if (!e.slot && !e.node) throw UsageError("PipelinePlan::add: a command needs a slot or a node");
  if (e.slot && *e.slot >= kSlotCount) throw UsageError("PipelinePlan::add: slot out of range");
  cmds_.push_back(Cmd{.entry = std::move(e)});
  ++pending_;
  return cmds_.size() - 1;
}

std::vector<PipelinePlan::NodeBatch> PipelinePlan::next_round(const Topology& topology,
                                                              const ReplicaPicker& pick) {
  if (round_open_) throw std::logic_error("PipelinePlan::next_round: the last round is still open");
  std::vector<NodeBatch> batches;
  if (done()) return batches;
  ++rounds_;
  round_open_ = true;
  moved_.clear();

  std::unordered_map<NodeAddress, std::size_t> batch_of;
  for (std::size_t i = 0; i < cmds_.size(); ++i) {
    Cmd& c = cmds_[i];
    if (c.status != Status::Pending) continue;
    c.outcome = Outcome::None;
    c.via_replica = false;
    c.in_round = false;

    NodeAddress target;
    bool asking = false;
    if (c.redirect) {
      // The server named the node; it knows better than our snapshot. ASKING applies to this
      // one attempt only (the ASKING flag lasts one command on the server side too).
      target = std::move(*c.redirect);
      asking = c.asking;
      c.redirect.reset();
      c.asking = false;
    } else if (c.entry.node) {
      target = *c.entry.node;
    } else {
      const Shard* shard = topology.shard_for_slot(*c.entry.slot);
      if (!shard) {
        c.outcome = Outcome::SlotNotCovered;
        c.reply = Reply();
        c.error = {};
        continue;
      }
      if (c.entry.read_only && !c.primary_only && pick) {
        target = pick(*shard);
        c.via_replica = target != shard->primary;
      } else {
        target = shard->primary;
      }
    }

    auto [it, inserted] = batch_of.try_emplace(target, batches.size());
    if (inserted) batches.push_back(NodeBatch{target, {}, false});
    NodeBatch& b = batches[it->second];
    b.items.push_back(Item{i, asking});
    b.replica_read = b.replica_read || c.via_replica;
    c.sent_to = std::move(target);
    c.in_round = true;
  }
  return batches;
}

PipelinePlan::Cmd& PipelinePlan::reported(std::size_t index) {
  Cmd& c = cmds_.at(index);
  if (!round_open_ || !c.in_round)
    throw std::logic_error("PipelinePlan: command " + std::to_string(index) + " not sent this round");
  if (c.outcome != Outcome::None)
    throw std::logic_error("PipelinePlan: command " + std::to_string(index) + " reported twice");
  return c;
}

void PipelinePlan::set_reply(std::size_t index, Reply reply) {
  Cmd& c = reported(index);
  const Outcome o = classify_outcome(reply);
  c.reply = std::move(reply);
  c.error = {};
  c.outcome = o;
  c.written = true;
  // On a node the caller chose, READONLY and MASTERDOWN are that node's answer (decide() says
  // Done): re-sending to the same node cannot change it.
  const Decision d = decide(policy_, Attempt{.outcome = o, .fixed_node = c.entry.node.has_value()});
  if (d.action == Action::Done) {
    c.status = Status::Done;
    c.in_round = false;
    --pending_;
  } else if (o == Outcome::Moved || o == Outcome::Ask) {
    apply_redirect(c, o == Outcome::Ask);
  }
}

void PipelinePlan::apply_redirect(Cmd& c, bool ask) {
  Redirect r = *parse_redirect(c.reply.str());  // classify_outcome checked it parses
  // "MOVED 3999 :6381": the node does not know its own host; it is the one we asked.
  NodeAddress target{r.host.empty() ? c.sent_to.host : std::move(r.host), r.port};
  if (map_) target = map_(target);
  if (!ask) moved_.push_back(SlotMove{r.slot, target});
  c.redirect = std::move(target);
  c.asking = ask;
}

void PipelinePlan::set_error(std::size_t index, std::error_code ec, bool written) {
  Cmd& c = reported(index);
  if (!ec) ec = make_error_code(errc::connection_closed);
  c.outcome = classify_failure(ec);
  c.error = ec;
  c.written = written;
  c.reply = Reply();
}

void PipelinePlan::fail_node(const NodeAddress& node, std::error_code ec, bool written) {
  if (!round_open_) throw std::logic_error("PipelinePlan::fail_node: no round is open");
  for (std::size_t i = 0; i < cmds_.size(); ++i) {
    const Cmd& c = cmds_[i];
    if (c.in_round && c.outcome == Outcome::None && c.sent_to == node) set_error(i, ec, written);
  }
}

PipelinePlan::RoundSummary PipelinePlan::finish_round() {
  if (!round_open_) throw std::logic_error("PipelinePlan::finish_round: no round is open");
  round_open_ = false;
  RoundSummary s;

  for (Cmd& c : cmds_) {
    if (c.status != Status::Pending) continue;
    if (c.in_round && c.outcome == Outcome::None) {
      c.outcome = Outcome::ConnectionError;
      c.error = make_error_code(errc::connection_closed);
      c.written = true;
      c.reply = Reply();
    }
    if (c.outcome == Outcome::None || c.outcome == Outcome::Final)
      throw std::logic_error("PipelinePlan: pending command without a retry outcome");
    const Decision d = decide(policy_, Attempt{.outcome = c.outcome,
                                               .written = c.written,
                                               .read_only = c.entry.read_only,
                                               .via_replica = c.via_replica,
                                               .fixed_node = c.entry.node.has_value(),
                                               .redirects = c.redirects});
    if (d.suspect_node && c.in_round &&
        std::find(s.suspects.begin(), s.suspects.end(), c.sent_to) == s.suspects.end())
      s.suspects.push_back(c.sent_to);
    c.in_round = false;
    c.via_replica = false;
    if (d.action != Action::Retry) {
      c.status = Status::Exhausted;
      c.redirect.reset();
      --pending_;
      ++s.exhausted;
      continue;
    }
    // A replica that failed a read is not tried again for this command (DESIGN: "fallback to
    // the primary when a replica fails").
    c.primary_only = c.primary_only || d.primary_only;
    if (d.redirect) {
      ++c.redirects;
      ++s.redirects;
    }
    s.refresh_topology = s.refresh_topology || d.refresh == Refresh::Wait;
    s.refresh_background = s.refresh_background || d.refresh == Refresh::Background;
    s.back_off = s.back_off || d.back_off;
    ++s.retries;
  }

  // One entry per slot, the last MOVED seen for it (two replies for one slot can only disagree
  // if the slot moved twice during the round; the later one is newer).
  std::unordered_map<std::uint16_t, std::size_t> pos;
  for (SlotMove& m : moved_) {
    auto [it, inserted] = pos.try_emplace(m.slot, s.moved.size());
    if (inserted) {
      s.moved.push_back(std::move(m));
    } else {
      s.moved[it->second].node = std::move(m.node);
    }
  }
  moved_.clear();
  if (s.retries == 0) s.back_off = false;  // nothing left to wait for; a refresh still helps others
  s.done = done();
  return s;
}

std::size_t PipelinePlan::give_up() {
  if (round_open_) throw std::logic_error("PipelinePlan::give_up: a round is open");
  std::size_t n = 0;
  for (Cmd& c : cmds_) {
    if (c.status != Status::Pending) continue;
    c.status = Status::Exhausted;
    c.redirect.reset();
    ++n;
  }
  pending_ = 0;
  return n;
}

std::vector<Reply> PipelinePlan::take_replies() {
  std::vector<Reply> out;
  out.reserve(cmds_.size());
  for (Cmd& c : cmds_) out.push_back(std::move(c.reply));
  return out;
}

}  // namespace fibredis
