// Cluster routing: where a ClusterClient sends a command when the caller names no node, and how
// the replies of a fanned-out command become one. The cluster layer's half of the command table:
// resp/command_info.hpp knows a command's keys and flags, this knows what a cluster does with it.
//
// The rules follow redis-py's RedisCluster (itself descended from redis-py-cluster) and, where
// those are silent or disagree, the request/response policy tips Redis 7 publishes in COMMAND.
// Each choice that is not obvious is explained next to the table in lib/cluster/command_route.cpp.
#pragma once

#include <fibredis/resp/command_info.hpp>

#include <cstdint>
#include <span>
#include <string_view>

namespace fibredis {

/// Where a cluster client sends a command when the caller names no target node.
enum class RoutePolicy : std::uint8_t {
  /// The slot of the first key (key_positions()); all keys must share that slot or the server
  /// answers CROSSSLOT. A ByKey command that carries no key at all (EVAL with numkeys 0, FCALL
  /// with no keys) goes to a random primary.
  ByKey,
  AllNodes,       ///< fan out to every node, primaries and replicas
  AllPrimaries,   ///< fan out to every primary
  RandomNode,     ///< any one node
  RandomPrimary,  ///< any one primary (RANDOMKEY: a replica could answer with a stale key)
  DefaultNode,    ///< the client's default node: keyless commands without a fan-out rule
  /// The slot of the channel name, argument 1 (PUBLISH, SPUBLISH, the SUBSCRIBE family). Shard
  /// channels must go to their slot's shard; classic channels may go anywhere but redis-py
  /// routes them the same way so one channel's traffic stays on one node. Without a channel
  /// argument (UNSUBSCRIBE from all): the default node.
  ByChannel,
  /// Refused in cluster mode; CommandInfo::blocked_reason says why. WAIT/WAITAOF (kOwnWrites)
  /// are refused as lone calls by the single-node client too, and accepted inside pipelines.
  Blocked,
  /// Argument 2 is a slot number (CLUSTER COUNTKEYSINSLOT/GETKEYSINSLOT): the node serving that
  /// slot. A malformed number is the server's to reject: send it to the default node.
  BySlotArg,
};

/// How the replies of a fanned-out command (AllNodes, AllPrimaries) become one reply.
/// Meaningless for the single-target policies, whose rows all say PerNode.
enum class MergePolicy : std::uint8_t {
  PerNode,       ///< no merge: the caller gets each node's reply, keyed by node
  Sum,           ///< integer replies added (DBSIZE, PUBSUB NUMPAT)
  Concat,        ///< array replies joined in node order (KEYS)
  ConcatUnique,  ///< arrays joined, duplicates dropped (PUBSUB CHANNELS: a channel may have
                 ///< subscribers on several nodes)
  AllTrue,       ///< 0/1 arrays AND-ed element by element (SCRIPT EXISTS)
  AllOk,         ///< +OK when every node says OK, else the first error (FLUSHALL)
  First,         ///< any one reply: every node answers the same (SCRIPT LOAD's SHA1)
};

/// A command's cluster routing.
struct CommandRoute {
  std::string_view name;  ///< as CommandInfo::name: "DBSIZE", "CONFIG|GET"
  RoutePolicy policy = RoutePolicy::ByKey;
  MergePolicy merge = MergePolicy::PerNode;
  std::string_view blocked_reason = {};  ///< non-empty when policy == Blocked: for the UsageError
};

/// The routing of a command the command table knows (lookup_command()): its row of the routing
/// table, else the default rule: ByKey when it has keys (a key position or movable keys),
/// DefaultNode otherwise. An unknown command (nullptr) is ByKey: key_positions() assumes its key
/// at argument 1. Never allocates.
CommandRoute command_route(const CommandInfo* info) noexcept;

/// The rows that differ from the default rule, sorted by name (for tests and tools).
std::span<const CommandRoute> routing_table() noexcept;

}  // namespace fibredis
