// PipelinePlan: the socket-free core of ClusterPipeline::execute — queued commands → per-node
// batches → per-command outcomes → the retry set and its new routing, round after round.
//
// The idea is go-redis's processPipeline/cmdsMap: group the commands by node, send every group at
// once (one fiber per node, in the caller), collect the commands that came back redirected or
// failed, re-route them and go again, under one TTL. Each queued command owns its reply slot
// (its index), so the caller's order comes for free however the rounds split it.
//
// The plan does no I/O and knows no fibers or clocks; it tells the caller what to send where, and
// what to do between rounds (apply slot moves, refresh the topology, back off).
//
// @code
//   PipelinePlan plan({.max_redirects = 16, .retry_unknown_writes = true}, opts.address_map);
//   for (const Command& c : queued) plan.add({.slot = slot_of(c)});  // or .node for keyless ones
//   while (!plan.done()) {
//     auto batches = plan.next_round(holder.current());
//     // one fiber per batch: for each item, send "ASKING" first if item.asking (drop its +OK),
//     // then queued[item.index]; plan.set_reply(item.index, reply) as replies arrive;
//     // on a broken connection plan.fail_node(batch.node, ec, written) for whatever is unanswered.
//     RoundSummary s = plan.finish_round();
//     for (auto& m : s.moved) holder.apply_moved(m.slot, m.node);
//     for (auto& n : s.suspects) mark_suspect(n);
//     if (s.refresh_topology) holder.refresh();   // single-flight, shared with other fibers
//     if (s.back_off) sleep_for(backoff);
//     if (deadline passed) plan.give_up();
//   }
//   // plan.status(i): Done → plan.reply(i) is the answer (possibly an ordinary error reply);
//   // Exhausted → throw RedirectLimitError/ClusterDownError/... from plan.last_outcome(i).
//
// What is retried, and how often, is decide() of detail/cluster/retry_policy.hpp, the same rule as for
// single commands: MOVED/ASK count toward max_redirects; every other fault is retried until the
// caller's deadline (give_up()), a written write of unknown outcome only when the policy allows.
// @endcode
//
// Ordering. Within a round each node's batch lists its commands in queue order, so commands of
// one slot reach their node in queue order, and commands that are retried together (a whole slot
// MOVED, a whole node's connection lost after some point) keep that order in the next round. A
// command that failed alone (TRYAGAIN on one multi-key command during a migration, an ASK for one
// key) runs after later commands of its slot that already succeeded: the order the server saw is
// then not the queue order, as with every cluster client that retries.
//
// Connection errors. A command whose reply never came may or may not have run; whether it is
// sent again is the RetryPolicy's call (unwritten: always; read-only: always; a written write:
// retry_unknown_writes).
#pragma once

#include <fibredis/cluster/node_address.hpp>
#include <fibredis/detail/cluster/retry_policy.hpp>
#include <fibredis/cluster/topology.hpp>
#include <fibredis/resp/reply.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <system_error>
#include <vector>

namespace fibredis {

class PipelinePlan {
 public:
  /// How one queued command is routed.
  struct Entry {
    /// The command's slot (cluster/slot.hpp key_slot of its first key). Routes by topology.
    std::optional<std::uint16_t> slot{};
    /// A fixed target: keyless commands (the default node) and commands sent to a chosen node.
    /// Takes precedence over `slot` in every round, except that MOVED/ASK redirects are followed.
    std::optional<NodeAddress> node{};
    /// May be served by a replica when next_round() is given a ReplicaPicker. After a failure on
    /// a replica (connection, LOADING, MASTERDOWN) the command falls back to the primary.
    bool read_only = false;
  };

  /// One command of a batch.
  struct Item {
    std::size_t index;  ///< the command's position in the queue (as add() returned it)
    bool asking;        ///< send ASKING immediately before it (and discard ASKING's reply)
  };

  /// The commands one node gets this round, in queue order.
  struct NodeBatch {
    NodeAddress node;
    std::vector<Item> items;
    /// Some item was sent to this node as a replica read: use a READONLY connection.
    bool replica_read = false;
  };

  struct SlotMove {
    std::uint16_t slot;
    NodeAddress node;  ///< already mapped through the AddressMap
    friend bool operator==(const SlotMove&, const SlotMove&) = default;
  };

  /// What the caller does between rounds (the union of decide()'s verdicts for the round).
  struct RoundSummary {
    /// Nothing is left to send: every command is Done or Exhausted.
    bool done = false;
    /// Before the next round: refresh the topology and wait for it (READONLY, MASTERDOWN, a
    /// connection error or timeout). MOVED alone does not set it: the redirect names the new
    /// owner, so the round goes on at once and the holder refreshes lazily (`moved`).
    bool refresh_topology = false;
    /// Ask for a refresh without waiting for it (CLUSTERDOWN, an uncovered slot): rate-limited
    /// per client, so a cluster stuck down does not cost a refresh per caller and round.
    bool refresh_background = false;
    /// Before the next round: sleep a little (TRYAGAIN, LOADING, CLUSTERDOWN, uncovered slot,
    /// a connection error).
    bool back_off = false;
    /// MOVED answers of this round, one per slot (the last seen): apply each with
    /// Topology::with_slot_moved so other callers route right at once; they also count toward
    /// the client's reinitialize_steps.
    std::vector<SlotMove> moved;
    /// Nodes that failed to answer this round (connection error, timeout): suspect.
    std::vector<NodeAddress> suspects;
    /// Commands to be sent again next round (redirected ones included).
    std::size_t retries = 0;
    /// Of those, the ones following a MOVED/ASK.
    std::size_t redirects = 0;
    /// Commands given up this round (they stay Exhausted): past max_redirects, a fatal error,
    /// or a written write of unknown outcome the policy does not resend.
    std::size_t exhausted = 0;
  };

  enum class Status : std::uint8_t {
    Pending,    ///< still to be (re)sent
    Done,       ///< reply() is its answer
    Exhausted,  ///< given up; last_outcome()/reply()/error() hold its last failure
  };

  /// Chooses the node for a read-only command from its shard: the primary or one of
  /// shard.replicas (round-robin, random, nearest: the caller's policy).
  using ReplicaPicker = std::function<NodeAddress(const Shard&)>;

  /// `policy`: what is retried (detail/cluster/retry_policy.hpp). `map` is applied to MOVED/ASK
  /// targets, as to topology addresses.
  explicit PipelinePlan(RetryPolicy policy = {}, AddressMap map = {});

  /// Queues a command; returns its index (0, 1, 2, ...). Throws UsageError when the entry has
  /// neither slot nor node, or a slot >= kSlotCount, or when called after the first round.
  std::size_t add(Entry e);
  /// Room for n commands up front. An entry is a few hundred bytes: a 300-command pipeline grown
  /// one add() at a time reallocates nine times and ends in a block past malloc's mmap threshold,
  /// mapped and unmapped again on every execute().
  void reserve(std::size_t n) { cmds_.reserve(n); }
  std::size_t size() const noexcept { return cmds_.size(); }

  /// True once every command is Done or Exhausted (or none was queued).
  bool done() const noexcept { return pending_ == 0; }
  /// Rounds planned so far.
  std::size_t rounds() const noexcept { return rounds_; }

  /// Plans the next round over the Pending commands: a redirect target if the last round got one
  /// (with asking for ASK, this round only), else the Entry's node, else the slot's shard in
  /// `topology` (a replica chosen by `pick` for read-only commands, when given). A command whose
  /// slot is uncovered is in no batch; it counts as SlotNotCovered for this round. Batches come
  /// in the order their first command was queued. Returns nothing when done(). Throws
  /// std::logic_error when a round is already open.
  std::vector<NodeBatch> next_round(const Topology& topology, const ReplicaPicker& pick = {});

  /// Reports the reply of command `index` sent this round; classify_outcome() and decide() say
  /// what happens to it. Throws std::logic_error for a command not sent this round.
  void set_reply(std::size_t index, Reply reply);
  /// Reports that command `index` got no reply: classify_failure(ec) (a connection error or a
  /// timeout). `written` false: none of its bytes can have reached the server (always resent).
  void set_error(std::size_t index, std::error_code ec, bool written = true);
  /// set_error() for every command of this round's batch for `node` not reported yet.
  void fail_node(const NodeAddress& node, std::error_code ec, bool written = true);

  /// Closes the round: decide() for every command not answered, the retry set, and what to do
  /// before the next round. A command sent this round but never reported counts as a
  /// ConnectionError (errc::connection_closed). Throws std::logic_error when no round is open.
  RoundSummary finish_round();
  /// The caller's deadline passed: every Pending command becomes Exhausted (keeping its last
  /// outcome) and the plan is done. Returns how many. Not while a round is open (logic_error).
  std::size_t give_up();

  Status status(std::size_t index) const { return cmds_.at(index).status; }
  /// The latest outcome: what made an Exhausted command fail (Final for Done ones).
  Outcome last_outcome(std::size_t index) const { return cmds_.at(index).outcome; }
  /// The final reply (Done), or the last error reply (Exhausted after a redirect, TRYAGAIN, ...);
  /// nil when the last attempt ended with a connection error or an uncovered slot.
  const Reply& reply(std::size_t index) const { return cmds_.at(index).reply; }
  /// The connection error of the last attempt, if that is how it ended.
  std::error_code error(std::size_t index) const { return cmds_.at(index).error; }
  /// Where the last attempt was sent (empty for a never-routed command).
  const NodeAddress& last_node(std::size_t index) const { return cmds_.at(index).sent_to; }
  /// Moves every reply out, in queue order. Call once, when done().
  std::vector<Reply> take_replies();

 private:
  struct Cmd {
    Entry entry;
    Status status = Status::Pending;
    Outcome outcome = Outcome::None;
    bool in_round = false;       // sent in the open round
    bool via_replica = false;    // the open round sends it to a replica
    bool primary_only = false;   // a replica failed it: read from the primary from now on
    bool asking = false;         // with `redirect`: ASK rather than MOVED
    bool written = true;         // with a ConnectionError/Timeout: bytes may have reached it
    int redirects = 0;           // MOVED/ASK followed so far
    std::optional<NodeAddress> redirect{};  // where the next round must send it
    NodeAddress sent_to{};
    Reply reply{};
    std::error_code error{};
  };

  Cmd& reported(std::size_t index);
  void apply_redirect(Cmd& c, bool ask);

  std::vector<Cmd> cmds_;
  RetryPolicy policy_;
  AddressMap map_;
  std::size_t pending_ = 0;
  std::size_t rounds_ = 0;
  bool round_open_ = false;
  std::vector<SlotMove> moved_;  // this round's MOVED answers, in arrival order
};

}  // namespace fibredis
