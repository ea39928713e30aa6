// ClusterClient: a Redis Cluster used from many fibers at once, with the same typed commands as
// Client (the Commands<> mixin).
//
// @code
//   fibredis::ClusterClient rc({.startup_nodes = {{"127.0.0.1", 7000}}});
//   rc.set("foo", "bar");                                  // routed by CRC16 slot of "foo"
//   std::optional<std::string> v = rc.get("foo");
//   auto sizes = rc.on(fibredis::Target::Primaries).dbsize();   // per node
//   long long n = rc.dbsize();                             // merged: summed over primaries
//   auto vals = rc.mget_nonatomic({"a", "b", "c"});        // split by slot, sent to all at once
// @endcode
//
// Every call: route (slot of its keys, or the command's fan-out rule) → send → on MOVED patch the
// slot and retry at the named node (a full refresh after reinitialize_steps MOVEDs, backing off
// while they keep coming: TopologyHolder::moved), on ASK send
// ASKING + the command to the target once, on TRYAGAIN/LOADING back off, on CLUSTERDOWN or an
// uncovered slot back off (the map is re-read in the background, once per client), on
// MASTERDOWN/READONLY refresh the map (single-flight) and retry; on a connection error or a
// timeout the node is suspect, the map is refreshed (asking other nodes first) and the command
// retried if that is safe (detail/cluster/retry_policy.hpp; docs/CLUSTER.md "Retry semantics"). One
// deadline, command_timeout (+ block time), bounds all of it: redirects, back-off, waiting for a
// refresh, waiting for a pooled connection. Past max_redirects MOVED/ASK → RedirectLimitError;
// past the deadline → the last fault's error: TimeoutError or ConnectionError for an unreachable
// node, ClusterDownError, TryAgainError, SlotNotCoveredError when no node serves the key's slot.
// A written write whose answer was lost is retried only with retry_unknown_writes (default on);
// otherwise its TimeoutError/ConnectionError reaches the caller. Keys
// of one command in different slots → CrossSlotError before anything is sent
// (DEL, UNLINK, EXISTS and TOUCH are split per slot and their counts summed instead). Commands that
// make no sense on a cluster (MOVE, SELECT n, SWAPDB, REPLICAOF, SHUTDOWN, raw WATCH/MULTI...) →
// UsageError saying why; transactions are pipeline(true) and watch(keys), below.
//
// Keyless commands follow redis-py's rules: fan-out with a merge (DBSIZE summed, KEYS concatenated,
// FLUSHALL on every primary, SCRIPT LOAD everywhere...), a random primary (RANDOMKEY), or the default
// node. Commands whose answer is per node (INFO, TIME, CLIENT LIST, CONFIG GET, SLOWLOG...) go to
// the default node when called plainly; on(Target) gives every node's answer.
//
// A ClusterClient belongs to the thread (Runtime) that made it.
#pragma once

#include <fibredis/client/async_commands.hpp>
#include <fibredis/client/commands.hpp>
#include <fibredis/client/pubsub_options.hpp>
#include <fibredis/cluster/cluster_pipeline.hpp>
#include <fibredis/cluster/cluster_watch.hpp>
#include <fibredis/cluster/cluster_options.hpp>
#include <fibredis/cluster/node_address.hpp>
#include <fibredis/cluster/node_client.hpp>
#include <fibredis/cluster/node_stats.hpp>
#include <fibredis/cluster/nonatomic_commands.hpp>
#include <fibredis/cluster/reply_merge.hpp>
#include <fibredis/cluster/target.hpp>
#include <fibredis/conn/client_stats.hpp>
#include <fibredis/cluster/topology.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/cluster/command_route.hpp>
#include <fibredis/resp/reply.hpp>
#include <fibredis/runtime/runtime.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fibredis {

class TargetedCommands;
// Internal types, held by pointer (their headers are under fibredis/detail/, not installed).
class NodeConnections;
class TopologyHolder;
class NodeWatch;
class Parker;
// The parts of a ClusterClient, one job each (detail/cluster/):
class NodeRegistry;  // address -> connections (node_registry.hpp)
class Router;        // command -> slot / nodes / merge rule (router.hpp)
class RetryLoop;     // send, classify, follow redirects, refresh, back off (retry_loop.hpp)
class FanOut;        // many nodes or slots at once, replies merged (fan_out.hpp)
namespace detail {
struct ClusterClientAccess;  // detail/cluster/cluster_access.hpp
}
class ClusterPubSub;
class ShardedPubSub;
class KeyspaceEvents;
struct KeyspaceOptions;

class ClusterClient : public Commands<ClusterClient>,
                      public NonAtomicCommands<ClusterClient>,
                      public AsyncCommands<ClusterClient> {  // async(), async_command(): include client/async.hpp
 public:
  /// Discovers the cluster from the startup nodes (CLUSTER SHARDS, or CLUSTER SLOTS on old
  /// servers). Throws ConnectionError when no startup node answers, SlotNotCoveredError when slots
  /// are unserved and neither skip_full_coverage_check nor the servers' own
  /// cluster-require-full-coverage=no allows it, AuthenticationError on bad credentials.
  explicit ClusterClient(ClusterOptions options);
  ClusterClient(std::string host, std::uint16_t port);
  explicit ClusterClient(std::string_view url);
  ~ClusterClient();
  ClusterClient(const ClusterClient&) = delete;
  ClusterClient& operator=(const ClusterClient&) = delete;

  /// Routes and sends one command (see above); error replies are returned, not thrown.
  Reply execute(const Command& cmd);
  /// Sends to the target's nodes at once (one fiber per node) and returns each node's reply, by
  /// node (the same shape as on(target)). Throws the first failed node's transport error once all
  /// have answered; error replies are returned.
  PerNode<Reply> execute_on(const Target& target, const Command& cmd);

  template <class Parser>
  typename Parser::type dispatch(Command&& cmd) {
    return Parser::parse(execute(cmd));
  }

  /// Commands queued, grouped per node and sent to all nodes at once (cluster/cluster_pipeline.hpp).
  /// With transaction = true: MULTI, the commands, EXEC, on the primary of the one slot all their
  /// keys map to (CrossSlotError before anything is sent otherwise). See "Transactions" below.
  ClusterPipeline pipeline(bool transaction = false) { return ClusterPipeline(*this, transaction); }

  /// The typed commands, sent to `target` (redis-py's target_nodes): each returns
  /// PerNode<T> (std::map<NodeAddress, T>) of every node's answer.
  TargetedCommands on(Target target);

  // ---- cross-slot helpers (not atomic: each slot's part runs on its own; documented so) -----
  /// MGET split per slot, all slots at once; values in the order of `keys`.
  std::vector<std::optional<std::string>> mget_nonatomic(const ArgList& keys);
  /// MSET split per slot, all slots at once.
  void mset_nonatomic(const PairList<std::string_view>& kvs);

  /// SCAN over every primary in turn (one cursor per node).
  ScanRange<std::string> scan_iter(ScanOptions o = {});
  ScanRange<std::string> scan_iter(std::string_view match, std::size_t count = 0, std::string_view type = {}) {
    return scan_iter(ScanOptions{std::string(match), count, std::string(type)});
  }
  using Commands<ClusterClient>::hscan_iter;
  using Commands<ClusterClient>::sscan_iter;
  using Commands<ClusterClient>::zscan_iter;

  // ---- nodes (redis-py names) -----------------------------------------------------------
  NodeAddress get_default_node() const;
  void set_default_node(const NodeAddress& node);
  std::optional<NodeAddress> get_node(const std::string& host, std::uint16_t port) const;
  std::vector<NodeAddress> get_primaries() const;
  std::vector<NodeAddress> get_replicas() const;
  std::vector<NodeAddress> get_nodes() const;
  /// The node serving `key`'s slot in the current map: its primary, or with replica = true one of
  /// its online replicas (the first in address order, the same answer every call). Changes
  /// nothing (routing, round-robin). Throws SlotNotCoveredError when no shard serves the slot,
  /// ClusterError when replica = true and the shard has no online replica.
  NodeAddress get_node_from_key(std::string_view key, bool replica = false) const;
  /// The typed commands on `node` alone, on this client's connections to it (redis-py's
  /// get_redis_connection): no routing, no redirects followed, no retry (cluster/node_client.hpp).
  NodeClient get_node_client(const NodeAddress& node) { return NodeClient(*this, node); }
  /// What this client holds open to `node` (cluster/node_stats.hpp); nullopt when it never
  /// opened anything there. Changes nothing: no entry is made for a node it does not know.
  std::optional<NodeStats> node_stats(const NodeAddress& node) const;

  // ---- topology -------------------------------------------------------------------------
  std::shared_ptr<const Topology> topology() const noexcept;
  /// Re-reads the slot map now (single-flight: joins a refresh in progress).
  void refresh_topology();
  /// Full slot-map refreshes so far (a MOVED storm from many fibers must cost one).
  std::uint64_t topology_refreshes() const noexcept;
  /// Redirections (MOVED + ASK) and retries seen so far (stats().redirects + stats().retries).
  std::uint64_t redirects() const noexcept { return stats_.redirects + stats_.retries; }
  /// What this client did on the wire, all nodes together (conn/client_stats.hpp).
  ClientStats stats() const noexcept;

  // ---- manual flushing (Lettuce's setAutoFlushCommands), for bulk loads ----------------
  /// Turns auto-flush off or on for every node's shared connection, now and for nodes met later.
  /// With it off, commands queue until flush(); turning it on flushes. Callers still wait for
  /// their replies as usual (in their own fibers), so a bulk load spawns the fibers, then flushes.
  void set_auto_flush(bool on);
  bool auto_flush() const noexcept;
  /// Makes everything queued on every node writable (each node's connection in one write, more as
  /// replies free room under max_in_flight). Does not wait for replies.
  void flush();
  /// The same for one node only.
  void flush(const NodeAddress& node);

  // ---- pub/sub (cluster/cluster_pubsub.hpp, sharded_pubsub.hpp, keyspace_events.hpp) ------
  /// Classic SUBSCRIBE/PSUBSCRIBE on the node of the first subscribed name's keyslot (a replica
  /// of it with read_from_replicas), or always on `node`.
  ClusterPubSub pubsub(PubSubOptions options = {});
  ClusterPubSub pubsub(const NodeAddress& node, PubSubOptions options = {});
  /// SSUBSCRIBE per owning shard, following reshards and failovers.
  ShardedPubSub sharded_pubsub(PubSubOptions options = {});
  /// PSUBSCRIBE `pattern` on every primary, and on primaries that appear later.
  KeyspaceEvents keyspace_events(std::string pattern, KeyspaceOptions options);
  KeyspaceEvents keyspace_events(std::string pattern);

  // ---- transactions, WATCH, read mode at run time (cluster_transaction.cpp, cluster_read_mode.cpp)
  //
  // Transactions: rc.pipeline(true) sends MULTI, the commands, EXEC to the primary of their slot
  // (one pooled exclusive connection when the batch ends with WAIT, else the shared one, where a
  // batch is written contiguously). Every keyed command must map to one slot: CrossSlotError
  // before anything is sent. Keyless commands run with the keyed ones, on their node (PING, TIME,
  // INFO, EVAL with no keys, PUBLISH); fan-out commands that need every node (DBSIZE, KEYS,
  // FLUSHALL, SCRIPT LOAD...) and slot-argument ones are refused (UsageError), as are on(target)
  // commands. A transaction with no key at all runs on the default node. A refusal before EXEC
  // (MOVED, ASK, TRYAGAIN, CLUSTERDOWN... as a QUEUED reply's error, EXEC then EXECABORT; or EXEC
  // itself redirected) means nothing ran, so the whole transaction is re-sent under the one retry
  // policy (cluster/retry_policy.hpp): to the MOVED target, with ASKING before MULTI after an ASK,
  // after back-off for the transient ones, bounded by max_redirects and command_timeout. A lost
  // connection after the write leaves the outcome unknown: re-sent only as the policy allows
  // (read-only transactions, or retry_unknown_writes). The replies are EXEC's (one per queued
  // command, then those of trailing WAITs); an error reply at queue time (wrong arity...) throws
  // ResponseError, EXEC's nil WatchError.

  /// WATCHes keys of one slot on a connection pinned to its primary (cluster/cluster_watch.hpp).
  /// Waits for a pooled connection and WATCH's reply within command_timeout, following MOVED/ASK.
  /// Throws CrossSlotError (keys in several slots), UsageError (no key), and as execute().
  ClusterWatch watch(const ArgList& keys);

  /// Switches replica reads on at run time (redis-py's readonly()): read-only commands go
  /// round-robin over a shard's primary and the replicas enabled here, on connections that sent
  /// READONLY (opened on first use). Target::Replicas or Target::AllNodes (the default): every
  /// online replica, including replicas that appear later; named nodes: those only (adding to
  /// the ones enabled before; primaries among them are ignored). Sends nothing; takes effect
  /// for commands routed after the call. ClusterOptions::read_from_replicas is the initial mode.
  void readonly(const Target& target = Target::Replicas);
  /// Switches replica reads off (redis-py's readwrite()): every read goes to the primary again.
  /// With named nodes: only those stop serving reads (when all replicas were on, the others of
  /// the current map stay on). READONLY connections already open stay open, unused.
  void readwrite(const Target& target = Target::Replicas);
  /// Whether some replica serves reads now.
  bool read_from_replicas() const noexcept;

  const ClusterOptions& options() const noexcept { return options_; }

  /// The slot the command's keys hash to; nullopt when it has no key. Throws CrossSlotError when
  /// its keys span slots.
  static std::optional<std::uint16_t> command_slot(const Command& cmd);

 private:
  friend class TargetedCommands;
  friend class ClusterPipeline;
  friend class ClusterWatch;
  friend class RetryLoop;
  friend class FanOut;
  friend class NodeClient;
  friend struct detail::ClusterClientAccess;  // tests and tools reach the internals through it

  struct TopologyAnswer;

  // ---- pipelines and transactions (cluster_pipeline.cpp, cluster_wait.cpp, cluster_transaction.cpp)
  /// `targets`: the commands queued through ClusterPipeline::on(), by queue position. `cmds` is
  /// lent: each round moves a command into its node's batch and back (it holds them on return).
  std::vector<Reply> run_pipeline(std::vector<Command>& cmds,
                                  const std::vector<std::pair<std::size_t, Target>>& targets, bool raise_on_error);
  /// A pipeline holding WAIT/WAITAOF: on one exclusive connection of its keys' primary.
  std::vector<Reply> run_wait_pipeline(const std::vector<Command>& cmds, bool raise_on_error);
  std::vector<Reply> run_transaction(std::vector<Command>&& cmds, bool raise_on_error);

  // ---- the slot map and dead-node detection (cluster_client_topology.cpp) -------------------
  std::error_code fetch_topology(Deadline deadline, Topology& out);
  TopologyAnswer query_topology(const NodeAddress& addr, Deadline deadline);
  void on_topology_swap(const Topology& before, const Topology& after);
  void check_coverage(const Topology& t);
  /// NodeConnections::run, with the call reported to watch_ (silence and fault detection).
  /// `own_query`: the client's own (topology) query. While auto-flush is off it goes on a pooled
  /// connection: on the shared one it would wait for the user's flush(), or flush their queue.
  /// `replica_read`: a read sent to a replica, on its READONLY connections (replica_node()).
  std::error_code run_on(const NodeAddress& addr, const Command* cmds, std::size_t n, Reply* out,
                         Deadline deadline, bool* written = nullptr, bool own_query = false,
                         bool replica_read = false);
  void mark_suspect(const NodeAddress& addr);
  /// CLUSTERDOWN / uncovered slot: have the watchdog refresh soon; nobody waits for it.
  void request_background_refresh();
  /// The background fiber: periodic refresh, silence detection, refreshes while a node is
  /// suspect or the cluster is down (each at most once per fault_refresh_interval).
  void watchdog_loop();
  void wake_watchdog();

  ClusterOptions options_;
  ClientStats stats_;  // before nodes_: their connections count into it
  std::unique_ptr<NodeRegistry> nodes_;
  std::unique_ptr<TopologyHolder> holder_;
  std::unique_ptr<NodeWatch> watch_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<RetryLoop> retry_;
  std::unique_ptr<FanOut> fan_out_;
  /// Why the last failed slot-map query failed, in the server's or parser's words with the node
  /// ("127.0.0.1:7000: ERR This instance has cluster support disabled"), for the error message.
  std::string topology_problem_;
  bool stopping_ = false;
  bool background_refresh_wanted_ = false;
  bool watchdog_idle_ = false;        // parked with no timer soon: wake it when work appears
  Parker* watchdog_sleeper_ = nullptr;

  Fiber watchdog_;
};

/// ClusterClient::on(target): the typed commands, answered by every node of the target.
class TargetedCommands : public Commands<TargetedCommands> {
 public:
  template <class Parser>
  PerNode<typename Parser::type> dispatch(Command&& cmd) {
    PerNode<typename Parser::type> out;
    for (auto& [node, reply] : client_->execute_on(target_, cmd)) out.emplace(node, Parser::parse(std::move(reply)));
    return out;
  }

 private:
  friend class ClusterClient;
  TargetedCommands(ClusterClient& c, Target t) : client_(&c), target_(std::move(t)) {}
  ClusterClient* client_;
  Target target_;
};

inline TargetedCommands ClusterClient::on(Target target) { return TargetedCommands(*this, std::move(target)); }

}  // namespace fibredis

#include <fibredis/cluster/cluster_pubsub.hpp>
#include <fibredis/cluster/keyspace_events.hpp>
#include <fibredis/cluster/sharded_pubsub.hpp>
