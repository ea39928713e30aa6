// ClusterClient transactions (rc.pipeline(true)) and WATCH (rc.watch(keys), ClusterWatch): MULTI/EXEC
// on the primary of one slot, re-sent whole when the cluster refused it before EXEC ran.
//
// Why a refusal before EXEC is safe to re-send: in cluster mode the server checks every queued
// command's keys when it is queued, and all of them again at EXEC. A command for a slot the node
// does not serve (or is migrating away, key absent) is answered MOVED/ASK/TRYAGAIN instead of
// QUEUED and flags the transaction, so EXEC answers EXECABORT; an EXEC whose keys moved after
// queueing is itself redirected and the transaction discarded (Redis 7 processCommand). Either
// way nothing of it ran. After an ASK the batch goes to the importing node as ASKING, MULTI, ...,
// EXEC: the ASKING flag survives until EXEC once the connection is inside MULTI.
#include <fibredis/cluster/cluster_client.hpp>

#include <fibredis/client/pipeline.hpp>
#include <fibredis/client/wait_batch.hpp>
#include <fibredis/cluster/command_route.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/detail/cluster/node_registry.hpp>
#include <fibredis/detail/cluster/retry_loop.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/detail/cluster/router.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>
#include <fibredis/detail/cluster/transaction_check.hpp>
#include <fibredis/detail/conn/call_deadline.hpp>
#include <fibredis/detail/conn/connection_pool.hpp>
#include <fibredis/detail/conn/node_connections.hpp>
#include <fibredis/detail/resp/error_reply.hpp>
#include <fibredis/errors.hpp>

#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace fibredis {
namespace {

// EXEC's replies (WatchError on nil, ResponseError on EXECABORT or a queue-time error), then the
// trailing WAITs'.
std::vector<Reply> finish_transaction(std::vector<Reply>&& replies, std::size_t multi, std::size_t trailing,
                                      bool raise_on_error) {
  const auto end = replies.end() - static_cast<std::ptrdiff_t>(trailing);
  std::vector<Reply> tx(std::make_move_iterator(replies.begin() + static_cast<std::ptrdiff_t>(multi)),
                        std::make_move_iterator(end));
  std::vector<Reply> out = unwrap_transaction(std::move(tx));
  for (auto it = end; it != replies.end(); ++it) out.push_back(std::move(*it));
  if (raise_on_error) raise_first_error(out);
  return out;
}

constexpr std::string_view kTxWhere = "a cluster transaction";

}  // namespace

std::vector<Reply> ClusterClient::run_transaction(std::vector<Command>&& cmds, bool raise_on_error) {
  const TransactionShape shape = check_transaction(cmds, kTxWhere);
  const std::size_t trailing = shape.waits.trailing;
  // batch[0] is ASKING, sent only right after an ASK.
  std::vector<Command> batch = wrap_transaction(std::move(cmds), trailing);
  batch.insert(batch.begin(), Command{"ASKING"});
  const Deadline deadline = call_deadline(options_.command_timeout, batch.data(), batch.size());
  const RetryPolicy policy = retry_->policy();
  const Command what{"transaction"};
  RetryState s;
  for (long pass = 0; pass < 1'000'000; ++pass) {  // the deadline ends it; the count guards "never"
    const std::uint64_t version = holder_->version();
    Attempt a{.read_only = shape.read_only, .fixed_node = !shape.slot, .redirects = s.redirects};
    NodeAddress target;
    std::error_code ec;
    std::vector<Reply> replies;
    std::size_t skip = 1;  // leading commands of batch not sent (ASKING)
    std::size_t fault = 0;
    if (!shape.slot) {
      target = router_->default_node();  // keyless only: where keyless commands go
    } else if (s.ask_target) {
      target = *s.ask_target;
      skip = 0;
    } else if (const Shard* shard = holder_->current()->shard_for_slot(*shape.slot)) {
      target = shard->primary;
    } else {
      a.outcome = Outcome::SlotNotCovered;
      s.last_problem = "slot " + std::to_string(*shape.slot) + " not covered";
    }
    s.ask_target.reset();
    if (a.outcome == Outcome::None) {
      const std::size_t n = batch.size() - skip;
      replies.resize(n);
      const Command* first = batch.data() + skip;
      // A batch ending in WAIT must own its connection (client/wait_batch.hpp); any other batch is
      // written contiguously on the shared one, MULTI to EXEC.
      ec = shape.waits.any ? nodes_->node(target).run_exclusive(first, n, replies.data(), deadline, &a.written)
                           : run_on(target, first, n, replies.data(), deadline, &a.written);
      if (ec) {
        a.outcome = classify_failure(ec);
        s.last_problem = target.to_string() + ": " + ec.message();
      } else {
        std::tie(a.outcome, fault) = cluster_refusal(replies, 1 - skip, n - 1 - trailing);
        if (a.outcome != Outcome::Final) s.last_problem = std::string(replies[fault].str());
      }
    }
    const Decision d = decide(policy, a);
    if (d.action == Action::Done) return finish_transaction(std::move(replies), 1 - skip, trailing, raise_on_error);
    retry_->retry_after(d, a, what, ec, target, replies.empty() ? nullptr : &replies[fault], version, deadline, s);
  }
  retry_->give_up(what, Outcome::Timeout, make_error_code(errc::timeout), NodeAddress{}, s.last_problem);
}

// ---- WATCH ----------------------------------------------------------------------------------

ClusterWatch ClusterClient::watch(const ArgList& keys) {
  if (keys.size() == 0) throw UsageError("watch() needs at least one key");
  Command cmd{"WATCH"};
  cmd.args(keys);
  const std::uint16_t slot = key_slot(cmd[1]);
  for (std::size_t i = 2; i < cmd.size(); ++i)
    if (key_slot(cmd[i]) != slot)
      throw CrossSlotError("CROSSSLOT watch(): " + std::string(cmd[1]) + " is in slot " + std::to_string(slot) + ", " +
                           std::string(cmd[i]) + " in slot " + std::to_string(key_slot(cmd[i])) +
                           "; a watch is one connection to one node: use keys with a common {hash tag}");
  const Deadline deadline = deadline_after(options_.command_timeout);
  const RetryPolicy policy = retry_->policy();
  RetryState s;
  for (long pass = 0; pass < 1'000'000; ++pass) {
    const std::uint64_t version = holder_->version();
    // WATCH changes nothing but its own connection: as safe to repeat as a read.
    Attempt a{.read_only = true, .redirects = s.redirects};
    NodeAddress target;
    bool asking = false;
    std::error_code ec;
    Reply replies[2];
    ConnectionPool::Lease lease;
    if (s.ask_target) {
      target = *s.ask_target;
      asking = true;
    } else if (const Shard* shard = holder_->current()->shard_for_slot(slot)) {
      target = shard->primary;
    } else {
      a.outcome = Outcome::SlotNotCovered;
      s.last_problem = "slot " + std::to_string(slot) + " not covered";
    }
    s.ask_target.reset();
    if (a.outcome == Outcome::None) {
      if ((ec = nodes_->node(target).pool().acquire(deadline, lease))) {
        a.written = false;
      } else {
        const Command batch[2] = {Command{"ASKING"}, cmd};
        const std::size_t skip = asking ? 0 : 1;
        if ((ec = lease->roundtrip(batch + skip, 2 - skip, replies + skip, deadline))) lease->mark_broken();
      }
      if (ec) {
        a.outcome = classify_failure(ec);
        s.last_problem = target.to_string() + ": " + ec.message();
      } else {
        a.outcome = classify_outcome(replies[1]);
        if (a.outcome != Outcome::Final) s.last_problem = std::string(replies[1].str());
      }
    }
    const Decision d = decide(policy, a);
    if (d.action == Action::Done) {
      replies[1].value();  // an ordinary error reply: thrown
      return ClusterWatch(*this, target, slot, asking, std::make_unique<ClusterWatch::Lease>(std::move(lease)));
    }
    lease.release();  // the next attempt may go elsewhere
    retry_->retry_after(d, a, cmd, ec, target, &replies[1], version, deadline, s);
  }
  retry_->give_up(cmd, Outcome::Timeout, make_error_code(errc::timeout), NodeAddress{}, s.last_problem);
}

struct ClusterWatch::Lease {
  ConnectionPool::Lease lease;
};

ClusterWatch::ClusterWatch(ClusterClient& client, NodeAddress node, std::uint16_t slot, bool asking,
                           std::unique_ptr<Lease> lease) noexcept
    : client_(&client), node_(std::move(node)), slot_(slot), asking_(asking), lease_(std::move(lease)) {}
ClusterWatch::ClusterWatch(ClusterWatch&&) noexcept = default;

ClusterWatch::~ClusterWatch() {
  if (!lease_ || !lease_->lease || lease_->lease->broken()) return;
  // Leave the connection as the pool expects it: nothing watched.
  Command cmd{"UNWATCH"};
  Reply reply;
  if (lease_->lease->roundtrip(&cmd, 1, &reply, deadline_after(client_->options().command_timeout))) lease_->lease->mark_broken();
}

std::vector<Reply> ClusterWatch::roundtrip(const std::vector<Command>& cmds) {
  std::vector<Command> batch;
  const std::vector<Command>* send = &cmds;
  if (asking_) {
    // The importing node serves the slot only to a connection that said ASKING just before
    // (inside MULTI: until EXEC).
    batch.reserve(cmds.size() + 1);
    batch.push_back(Command{"ASKING"});
    batch.insert(batch.end(), cmds.begin(), cmds.end());
    send = &batch;
  }
  std::vector<Reply> replies(send->size());
  const Deadline deadline = call_deadline(client_->options().command_timeout, send->data(), send->size());
  if (std::error_code ec = lease_->lease->roundtrip(send->data(), send->size(), replies.data(), deadline)) {
    lease_->lease->mark_broken();
    client_->retry_->fail(ec, node_, cmds.size() == 1 ? cmds.front().name() : std::string_view("transaction"));
  }
  if (asking_) replies.erase(replies.begin());
  return replies;
}

namespace {

// A cluster fault on the pinned connection: the node no longer serves the watched slot, so the
// optimistic-lock pattern must start over (elsewhere). MOVED patches the client's map first.
[[noreturn]] void watched_slot_lost(const Reply& reply, std::uint16_t slot, const NodeAddress& node,
                                    TopologyHolder& holder, const AddressMap& remap) {
  if (classify_outcome(reply) == Outcome::Moved) {
    if (auto r = parse_redirect(reply.str())) {
      NodeAddress to{r->host.empty() ? node.host : r->host, r->port};
      if (remap) to = remap(to);
      holder.move_slot(r->slot, to);
    }
  }
  throw WatchError("transaction aborted: " + node.to_string() + " no longer serves the watched slot " +
                   std::to_string(slot) + " (" + std::string(reply.str()) + "); nothing ran, watch again");
}

}  // namespace

Reply ClusterWatch::execute(const Command& cmd) {
  if (cmd.empty()) throw UsageError("empty command");
  const CommandInfo* info = lookup_command(cmd);
  if (counts_own_writes(cmd)) refuse_lone_wait(cmd);
  if (const CommandRoute route = command_route(info); route.policy == RoutePolicy::Blocked)
    throw UsageError(ascii_upper(cmd.name()) + " is not allowed on a cluster watch: " + std::string(route.blocked_reason));
  if (const std::optional<std::uint16_t> s = ClusterClient::command_slot(cmd)) {
    if (*s != slot_)
      throw CrossSlotError("CROSSSLOT " + ascii_upper(cmd.name()) + " on a cluster watch: its keys are in slot " +
                           std::to_string(*s) + ", the watch is on slot " + std::to_string(slot_));
  } else {
    refuse_on_one_node(cmd, info, "a cluster watch");
  }
  std::vector<Reply> replies = roundtrip({cmd});
  if (classify_outcome(replies.back()) != Outcome::Final)
    watched_slot_lost(replies.back(), slot_, node_, *client_->holder_, client_->options_.address_remap);
  return std::move(replies.back());
}

void ClusterWatch::unwatch() { roundtrip({Command{"UNWATCH"}}).back().value(); }

std::vector<Reply> ClusterWatch::run_transaction(std::vector<Command>&& cmds, bool raise_on_error) {
  const TransactionShape shape = check_transaction(cmds, kTxWhere);
  if (shape.slot && *shape.slot != slot_)
    throw CrossSlotError("CROSSSLOT a watched transaction: its keys are in slot " + std::to_string(*shape.slot) +
                         ", the watch is on slot " + std::to_string(slot_));
  const std::size_t trailing = shape.waits.trailing;
  std::vector<Reply> replies = roundtrip(wrap_transaction(std::move(cmds), trailing));
  auto [outcome, at] = cluster_refusal(replies, 0, replies.size() - 1 - trailing);
  if (outcome != Outcome::Final) watched_slot_lost(replies[at], slot_, node_, *client_->holder_, client_->options_.address_remap);
  return finish_transaction(std::move(replies), 0, trailing, raise_on_error);
}

}  // namespace fibredis
