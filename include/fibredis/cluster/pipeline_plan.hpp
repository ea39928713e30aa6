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
//   PipelinePlan plan(opts.max_redirects, opts.address_map);
//   for (const Command& c : queued) plan.add({.slot = slot_of(c)});  // or .node for keyless ones
//   while (!plan.done()) {
//     auto batches = plan.next_round(holder.current());
//     // one fiber per batch: for each item, send "ASKING" first if item.asking (drop its +OK),
//     // then queued[item.index]; plan.set_reply(item.index, reply) as replies arrive;
//     // on a broken connection plan.fail_node(batch.node, ec) for whatever is unanswered.
//     RoundSummary s = plan.finish_round();
//     for (auto& m : s.moved) holder.apply_moved(m.slot, m.node);
//     if (s.refresh_topology) holder.refresh();   // single-flight, shared with other fibers
//     if (s.back_off) sleep_for(backoff);
//   }
//   // plan.status(i): Done → plan.reply(i) is the answer (possibly an ordinary error reply);
//   // Exhausted → throw RedirectLimitError/ClusterDownError/... from plan.last_outcome(i).
// @endcode
//
// Ordering. Within a round each node's batch lists its commands in queue order, so commands of
// one slot reach their node in queue order, and commands that are retried together (a whole slot
// MOVED, a whole node's connection lost after some point) keep that order in the next round. A
// command that failed alone (TRYAGAIN on one multi-key command during a migration, an ASK for one
// key) runs after later commands of its slot that already succeeded: the order the server saw is
// then not the queue order, as with every cluster client that retries.
//
// Connection errors. A command whose reply never came may or may not have run; the plan retries
// it (as go-redis and redis-py do). A caller that must not re-run a non-idempotent command
// reports it with set_reply() carrying a final error instead of set_error().
#pragma once

#include <fibredis/cluster/node_address.hpp>
#include <fibredis/cluster/topology.hpp>
#include <fibredis/resp/reply.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <system_error>
#include <vector>

namespace fibredis {

/// What a command's latest attempt came back with, as the retry logic sees it.
enum class Outcome : std::uint8_t {
  /// Not sent yet, or sent this round and not reported.
  None,
  /// The answer: a reply or an ordinary error reply (ERR, WRONGTYPE, CROSSSLOT, ...). Done.
  Final,
  /// "MOVED slot host:port": resend at once to that node; the slot's owner changed for good.
  Moved,
  /// "ASK slot host:port": resend once to that node, preceded by ASKING.
  Ask,
  /// "TRYAGAIN": a multi-key command met a slot mid-migration. Back off, resend.
  TryAgain,
  /// "CLUSTERDOWN": the cluster cannot serve the slot now. Refresh, back off, resend.
  ClusterDown,
  /// "LOADING": the node is loading its dataset. Back off, resend (to the primary if a replica).
  Loading,
  /// "MASTERDOWN": a replica lost its primary. Refresh, resend to the primary.
  MasterDown,
  /// "READONLY": a write reached a node that is now a replica (after a failover). Refresh, resend.
  ReadOnly,
  /// The connection to the node failed before the reply came. Refresh, resend.
  ConnectionError,
  /// The topology has no shard for the command's slot. Refresh, back off, resend.
  SlotNotCovered,
};

/// Maps a reply to its Outcome: Final for anything but the cluster faults listed above (by
/// classify_error()). A MOVED/ASK whose text does not parse is Final: it is passed to the user.
Outcome classify_outcome(const Reply& reply) noexcept;

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

  /// What the caller does between rounds.
  struct RoundSummary {
    /// Nothing is left to send: every command is Done or Exhausted.
    bool done = false;
    /// Before the next round: refresh the topology (CLUSTERDOWN, READONLY, MASTERDOWN, a
    /// connection error, an uncovered slot). MOVED alone does not set it: the redirect names
    /// the new owner, so the round goes on at once and the holder refreshes lazily (`moved`).
    bool refresh_topology = false;
    /// Before the next round: sleep a little (TRYAGAIN, LOADING, CLUSTERDOWN, uncovered slot).
    bool back_off = false;
    /// MOVED answers of this round, one per slot (the last seen): apply each with
    /// Topology::with_slot_moved so other callers route right at once; they also count toward
    /// the client's reinitialize_steps.
    std::vector<SlotMove> moved;
    /// Commands to be sent again next round.
    std::size_t retries = 0;
    /// Commands given up this round because the TTL ran out (they stay Exhausted).
    std::size_t exhausted = 0;
  };

  enum class Status : std::uint8_t {
    Pending,    ///< still to be (re)sent
    Done,       ///< reply() is its answer
    Exhausted,  ///< the TTL ran out; reply()/error() hold its last failure
  };

  /// Chooses the node for a read-only command from its shard: the primary or one of
  /// shard.replicas (round-robin, random, nearest: the caller's policy).
  using ReplicaPicker = std::function<NodeAddress(const Shard&)>;

  /// `max_redirects`: rounds after the first one (so a command is sent at most max_redirects + 1
  /// times). `map` is applied to MOVED/ASK targets, as to topology addresses.
  explicit PipelinePlan(std::size_t max_redirects = 5, AddressMap map = {});

  /// Queues a command; returns its index (0, 1, 2, ...). Throws UsageError when the entry has
  /// neither slot nor node, or a slot >= kSlotCount, or when called after the first round.
  std::size_t add(Entry e);
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

  /// Reports the reply of command `index` sent this round; classify_outcome() decides what
  /// happens to it. Throws std::logic_error for a command not sent this round.
  void set_reply(std::size_t index, Reply reply);
  /// Reports that command `index` got no reply: its connection failed (Outcome::ConnectionError).
  void set_error(std::size_t index, std::error_code ec);
  /// set_error() for every command of this round's batch for `node` not reported yet.
  void fail_node(const NodeAddress& node, std::error_code ec);

  /// Closes the round: collects the retry set and tells the caller what to do before the next
  /// one. A command sent this round but never reported counts as a ConnectionError
  /// (errc::connection_closed). When commands remain and the TTL is used up they become
  /// Exhausted and the plan is done. Throws std::logic_error when no round is open.
  RoundSummary finish_round();

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
    std::optional<NodeAddress> redirect{};  // where the next round must send it
    NodeAddress sent_to{};
    Reply reply{};
    std::error_code error{};
  };

  Cmd& reported(std::size_t index);
  void apply_redirect(Cmd& c, bool ask);

  std::vector<Cmd> cmds_;
  std::size_t max_redirects_;
  AddressMap map_;
  std::size_t pending_ = 0;
  std::size_t rounds_ = 0;
  bool round_open_ = false;
  std::vector<SlotMove> moved_;  // this round's MOVED answers, in arrival order
};

}  // namespace fibredis
