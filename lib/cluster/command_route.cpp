#include <fibredis/cluster/command_route.hpp>

#include <fibredis/client/wait_batch.hpp>

#include <algorithm>
#include <iterator>

namespace fibredis {
namespace {

// Why a command is refused in cluster mode; the text goes into the UsageError.
constexpr std::string_view kDbZero = "cluster mode only supports db 0";
constexpr std::string_view kUseTransaction =
    "MULTI/EXEC/WATCH need one connection to one node: use rc.pipeline(/*transaction=*/true) "
    "or rc.watch(keys) (cluster/cluster_watch.hpp), keys in one slot";
constexpr std::string_view kReplicaOf =
    "replication is managed by the cluster; send CLUSTER REPLICATE to the node itself";
constexpr std::string_view kReplicationProtocol =
    "part of the replication protocol, not a client command";
constexpr std::string_view kShutdown =
    "would stop one cluster node; send SHUTDOWN to that node with a single-node Client";
constexpr std::string_view kSentinel = "Sentinel commands do not exist in cluster mode";
constexpr std::string_view kMonitor = "MONITOR takes over its connection; use a single-node Client";
constexpr std::string_view kFailover =
    "the server refuses FAILOVER in cluster mode; send CLUSTER FAILOVER to a replica";
constexpr std::string_view kAuth =
    "credentials belong in the client options: the handshake authenticates every connection";
constexpr std::string_view kHello =
    "the client's connections speak RESP2 and authenticate in their handshake; HELLO would "
    "change a shared connection under the other callers";
constexpr std::string_view kQuitReset =
    "would close or reset a connection the client shares; destroy the client instead";
constexpr std::string_view kReadOnlyMode =
    "replica reads are rc.readonly()/rc.readwrite() (or the read_from_replicas option); the "
    "client sends READONLY on its replica connections itself";
constexpr std::string_view kAsking = "sent by the client itself when it follows an ASK redirect";
constexpr std::string_view kClientReply =
    "CLIENT REPLY OFF/SKIP would desynchronise the replies of a shared connection";
constexpr std::string_view kScriptDebug =
    "the Lua debugger takes over its connection; use a single-node Client";

using enum RoutePolicy;
using enum MergePolicy;

// The rows below are the commands whose routing is not the default rule ("ByKey if the command
// has keys, else DefaultNode", command_route()). Keep them sorted by byte value of the name
// (checked at compile time): lookup is a binary search.
//
// - AllNodes, per-node replies: PING ECHO INFO TIME LASTSAVE SAVE BGSAVE BGREWRITEAOF, CONFIG
//   GET/SET/RESETSTAT/REWRITE, CLIENT LIST/GETNAME/SETNAME/KILL/ID/INFO, SLOWLOG GET/LEN/RESET,
//   MEMORY STATS/DOCTOR/MALLOC-STATS/PURGE, LATENCY * (redis-py-cluster's all-nodes set; each
//   node has its own config, clients, logs). Also MODULE LOAD/LOADEX/UNLOAD and ACL SETUSER/
//   DELUSER/LOAD/SAVE: modules and users are per node, the cluster does not spread them.
// - DBSIZE: primaries, summed (redis-py; replicas would count every key twice). KEYS: primaries,
//   concatenated (a replica's copy would duplicate them). FLUSHALL/FLUSHDB: primaries, all OK.
//   SCAN: primaries, per node - the client keeps one cursor per node.
// - SCRIPT LOAD and SCRIPT FLUSH go to all nodes, not just primaries as redis-py does: since
//   Redis 7.0 the script cache is not replicated (the server's own tip for both is all_nodes),
//   and read_from_replicas sends EVALSHA_RO to replicas. SCRIPT EXISTS: primaries, AND-ed per
//   script. SCRIPT KILL: primaries, per node (only the busy one succeeds).
// - FUNCTION LOAD/DELETE/FLUSH/RESTORE/LIST/KILL/STATS: primaries (functions are replicated,
//   unlike scripts). FUNCTION DUMP: any node (redis-py's RANDOM).
// - WAIT/WAITAOF: Blocked as plain calls, for the single-node client too (kLoneWaitReason,
//   client/wait_batch.hpp). The answer is about the writes of the connection that carries it: a
//   pooled connection that wrote nothing reports every replica as caught up, and on the shared
//   one it would stall every fiber for its timeout. Pipelines ending in WAIT run on one exclusive
//   connection instead, in a cluster on the primary of their keys' shard. RANDOMKEY: a random
//   primary.
// - PUBSUB CHANNELS: all nodes, concatenated without duplicates. NUMSUB: all nodes, per node -
//   the counts must be summed per channel, which is the typed command's job. NUMPAT: summed.
//   SHARDCHANNELS: primaries, concatenated. SHARDNUMSUB: primaries, per node.
// - CLUSTER COUNTKEYSINSLOT/GETKEYSINSLOT: the node serving the slot in argument 2. Every other
//   CLUSTER subcommand goes to the default node, as current redis-py does: INFO/NODES/SLOTS/
//   SHARDS/KEYSLOT give the same answer anywhere, and the node-specific admin ones (SETSLOT,
//   DELSLOTS, MEET, FORGET, REPLICATE, RESET, FAILOVER, ...) need a target the caller picks -
//   SETSLOT IMPORTING, for one, goes to a node that does not own the slot yet.
// - CLIENT PAUSE/UNPAUSE/UNBLOCK/TRACKING/CACHING/NO-EVICT: the default node; client ids and
//   tracking belong to one node and connection (CLIENT UNBLOCK of a cancelled blocking call is
//   the connection layer's, on the node that holds it).
constexpr CommandRoute kRoutes[] = {
    {"ACL|DELUSER",              AllNodes,      PerNode},
    {"ACL|LOAD",                 AllNodes,      PerNode},
    {"ACL|SAVE",                 AllNodes,      PerNode},
    {"ACL|SETUSER",              AllNodes,      PerNode},
    {"ASKING",                   Blocked,       PerNode, kAsking},
    {"AUTH",                     Blocked,       PerNode, kAuth},
    {"BGREWRITEAOF",             AllNodes,      PerNode},
    {"BGSAVE",                   AllNodes,      PerNode},
    {"CLIENT|GETNAME",           AllNodes,      PerNode},
    {"CLIENT|ID",                AllNodes,      PerNode},
    {"CLIENT|INFO",              AllNodes,      PerNode},
    {"CLIENT|KILL",              AllNodes,      PerNode},
    {"CLIENT|LIST",              AllNodes,      PerNode},
    {"CLIENT|REPLY",             Blocked,       PerNode, kClientReply},
    {"CLIENT|SETNAME",           AllNodes,      PerNode},
    {"CLUSTER|COUNTKEYSINSLOT",  BySlotArg,     PerNode},
    {"CLUSTER|GETKEYSINSLOT",    BySlotArg,     PerNode},
    {"CONFIG|GET",               AllNodes,      PerNode},
    {"CONFIG|RESETSTAT",         AllNodes,      PerNode},
    {"CONFIG|REWRITE",           AllNodes,      PerNode},
    {"CONFIG|SET",               AllNodes,      PerNode},
    {"DBSIZE",                   AllPrimaries,  Sum},
    {"DISCARD",                  Blocked,       PerNode, kUseTransaction},
    {"ECHO",                     AllNodes,      PerNode},
    {"EXEC",                     Blocked,       PerNode, kUseTransaction},
    {"FAILOVER",                 Blocked,       PerNode, kFailover},
    {"FLUSHALL",                 AllPrimaries,  AllOk},
    {"FLUSHDB",                  AllPrimaries,  AllOk},
    {"FUNCTION|DELETE",          AllPrimaries,  AllOk},
    {"FUNCTION|DUMP",            RandomNode,    PerNode},
    {"FUNCTION|FLUSH",           AllPrimaries,  AllOk},
    {"FUNCTION|KILL",            AllPrimaries,  PerNode},
    {"FUNCTION|LIST",            AllPrimaries,  PerNode},
    {"FUNCTION|LOAD",            AllPrimaries,  First},
    {"FUNCTION|RESTORE",         AllPrimaries,  AllOk},
    {"FUNCTION|STATS",           AllPrimaries,  PerNode},
    {"HELLO",                    Blocked,       PerNode, kHello},
    {"INFO",                     AllNodes,      PerNode},
    {"KEYS",                     AllPrimaries,  Concat},
    {"LASTSAVE",                 AllNodes,      PerNode},
    {"LATENCY|DOCTOR",           AllNodes,      PerNode},
    {"LATENCY|GRAPH",            AllNodes,      PerNode},
    {"LATENCY|HISTOGRAM",        AllNodes,      PerNode},
    {"LATENCY|HISTORY",          AllNodes,      PerNode},
    {"LATENCY|LATEST",           AllNodes,      PerNode},
    {"LATENCY|RESET",            AllNodes,      PerNode},
    {"MEMORY|DOCTOR",            AllNodes,      PerNode},
    {"MEMORY|MALLOC-STATS",      AllNodes,      PerNode},
    {"MEMORY|PURGE",             AllNodes,      PerNode},
    {"MEMORY|STATS",             AllNodes,      PerNode},
    {"MODULE|LOAD",              AllNodes,      PerNode},
    {"MODULE|LOADEX",            AllNodes,      PerNode},
    {"MODULE|UNLOAD",            AllNodes,      PerNode},
    {"MONITOR",                  Blocked,       PerNode, kMonitor},
    {"MOVE",                     Blocked,       PerNode, kDbZero},
    {"MULTI",                    Blocked,       PerNode, kUseTransaction},
    {"PING",                     AllNodes,      PerNode},
    {"PSUBSCRIBE",               ByChannel,     PerNode},
    {"PSYNC",                    Blocked,       PerNode, kReplicationProtocol},
    {"PUBLISH",                  ByChannel,     PerNode},
    {"PUBSUB|CHANNELS",          AllNodes,      ConcatUnique},
    {"PUBSUB|NUMPAT",            AllNodes,      Sum},
    {"PUBSUB|NUMSUB",            AllNodes,      PerNode},
    {"PUBSUB|SHARDCHANNELS",     AllPrimaries,  Concat},
    {"PUBSUB|SHARDNUMSUB",       AllPrimaries,  PerNode},
    {"PUNSUBSCRIBE",             ByChannel,     PerNode},
    {"QUIT",                     Blocked,       PerNode, kQuitReset},
    {"RANDOMKEY",                RandomPrimary, PerNode},
    {"READONLY",                 Blocked,       PerNode, kReadOnlyMode},
    {"READWRITE",                Blocked,       PerNode, kReadOnlyMode},
    {"REPLCONF",                 Blocked,       PerNode, kReplicationProtocol},
    {"REPLICAOF",                Blocked,       PerNode, kReplicaOf},
    {"RESET",                    Blocked,       PerNode, kQuitReset},
    {"SAVE",                     AllNodes,      PerNode},
    {"SCAN",                     AllPrimaries,  PerNode},
    {"SCRIPT|DEBUG",             Blocked,       PerNode, kScriptDebug},
    {"SCRIPT|EXISTS",            AllPrimaries,  AllTrue},
    {"SCRIPT|FLUSH",             AllNodes,      AllOk},
    {"SCRIPT|KILL",              AllPrimaries,  PerNode},
    {"SCRIPT|LOAD",              AllNodes,      First},
    {"SELECT",                   Blocked,       PerNode, kDbZero},
    {"SENTINEL",                 Blocked,       PerNode, kSentinel},
    {"SHUTDOWN",                 Blocked,       PerNode, kShutdown},
    {"SLAVEOF",                  Blocked,       PerNode, kReplicaOf},
    {"SLOWLOG|GET",              AllNodes,      PerNode},
    {"SLOWLOG|LEN",              AllNodes,      PerNode},
    {"SLOWLOG|RESET",            AllNodes,      PerNode},
    {"SPUBLISH",                 ByChannel,     PerNode},
    {"SSUBSCRIBE",               ByChannel,     PerNode},
    {"SUBSCRIBE",                ByChannel,     PerNode},
    {"SUNSUBSCRIBE",             ByChannel,     PerNode},
    {"SWAPDB",                   Blocked,       PerNode, kDbZero},
    {"SYNC",                     Blocked,       PerNode, kReplicationProtocol},
    {"TIME",                     AllNodes,      PerNode},
    {"UNSUBSCRIBE",              ByChannel,     PerNode},
    {"UNWATCH",                  Blocked,       PerNode, kUseTransaction},
    {"WAIT",                     Blocked,       PerNode, kLoneWaitReason},
    {"WAITAOF",                  Blocked,       PerNode, kLoneWaitReason},
    {"WATCH",                    Blocked,       PerNode, kUseTransaction},
};

constexpr bool routes_are_sound() {
  for (std::size_t i = 0; i < std::size(kRoutes); ++i) {
    const CommandRoute& r = kRoutes[i];
    if (i > 0 && !(kRoutes[i - 1].name < r.name)) return false;  // sorted, no duplicates
    if ((r.policy == Blocked) == r.blocked_reason.empty()) return false;
  }
  return true;
}
static_assert(routes_are_sound(), "kRoutes: unsorted, or a Blocked row without its reason");

}  // namespace

CommandRoute command_route(const CommandInfo* info) noexcept {
  if (info == nullptr) return {};
  const auto* it = std::lower_bound(std::begin(kRoutes), std::end(kRoutes), info->name,
                                    [](const CommandRoute& r, std::string_view name) { return r.name < name; });
  if (it != std::end(kRoutes) && it->name == info->name) return *it;
  const bool keyed = info->first_key != 0 || info->has(kMovableKeys);
  return CommandRoute{info->name, keyed ? ByKey : DefaultNode, PerNode, {}};
}

std::span<const CommandRoute> routing_table() noexcept { return kRoutes; }

}  // namespace fibredis
