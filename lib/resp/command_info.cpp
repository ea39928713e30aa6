#include <fibredis/resp/command_info.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

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
constexpr std::string_view kWaitAlone =
    "it counts the replicas that acknowledged the writes of the connection it runs on, which a "
    "lone call does not own; queue it at the end of a pipeline (or transaction) after the writes "
    "it must cover: p.set(k, v).wait(1, 100ms); p.execute() runs the batch on one exclusive "
    "connection";

// Flag columns of the table.
constexpr std::uint32_t RO = kReadOnly, WR = kWrite, BL = kBlocking, PS = kPubSub,
                        MK = kMovableKeys, AD = kAdmin, NS = kNoScript, DO = kDenyOom, FA = kFast,
                        TX = kTransaction, CS = kConnectionState, SC = kHasSubcommands,
                        OW = kOwnWrites;

using enum RoutePolicy;
using enum MergePolicy;
using enum KeyRule;
using enum TimeoutRule;

// Generated once from `redis-cli --json COMMAND` of redis-server 7.0.15 by a throwaway script:
// name (subcommands as "PARENT|SUB"), arity and the first/last/step key triple exactly as the
// server reports them; flag columns RO readonly, WR write, DO denyoom, AD admin, PS pubsub,
// NS noscript, BL blocking, FA fast, MK movablekeys from COMMAND's flags, plus our own TX
// (transaction), CS (per-connection state), SC (has subcommands) and BL for WAIT/WAITAOF.
// WAITAOF (Redis 7.2) and SENTINEL (sentinel mode only) were added by hand. Keep the rows sorted
// by byte value of the name (checked at compile time below): lookup is a binary search.
//
// Routing, where it is not "ByKey if the command has keys, else DefaultNode":
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
// - WAIT/WAITAOF: Blocked as plain calls, for the single-node client too (OW, kWaitAlone). The
//   answer is about the writes of the connection that carries it: a pooled connection that wrote
//   nothing reports every replica as caught up, and on the shared one it would stall every fiber
//   for its timeout. Pipelines ending in WAIT run on one exclusive connection instead, in a
//   cluster on the primary of their keys' shard (client/wait_batch.hpp). RANDOMKEY: a random
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
constexpr CommandInfo kCommands[] = {
    {"ACL",                 -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"ACL|CAT",             -2, 0,  0, 0, NS,          DefaultNode,   PerNode},
    {"ACL|DELUSER",         -3, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"ACL|DRYRUN",          -4, 0,  0, 0, AD|NS,       DefaultNode,   PerNode},
    {"ACL|GENPASS",         -2, 0,  0, 0, NS,          DefaultNode,   PerNode},
    {"ACL|GETUSER",          3, 0,  0, 0, AD|NS,       DefaultNode,   PerNode},
    {"ACL|HELP",             2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"ACL|LIST",             2, 0,  0, 0, AD|NS,       DefaultNode,   PerNode},
    {"ACL|LOAD",             2, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"ACL|LOG",             -2, 0,  0, 0, AD|NS,       DefaultNode,   PerNode},
    {"ACL|SAVE",             2, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"ACL|SETUSER",         -3, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"ACL|USERS",            2, 0,  0, 0, AD|NS,       DefaultNode,   PerNode},
    {"ACL|WHOAMI",           2, 0,  0, 0, NS,          DefaultNode,   PerNode},
    {"APPEND",               3, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"ASKING",               1, 0,  0, 0, FA|CS,       Blocked,       PerNode, kAsking},
    {"AUTH",                -2, 0,  0, 0, NS|FA|CS,    Blocked,       PerNode, kAuth},
    {"BGREWRITEAOF",         1, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"BGSAVE",              -1, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"BITCOUNT",            -2, 1,  1, 1, RO,          ByKey,         PerNode},
    {"BITFIELD",            -2, 1,  1, 1, WR|DO,       ByKey,         PerNode},
    {"BITFIELD_RO",         -2, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"BITOP",               -4, 2, -1, 1, WR|DO,       ByKey,         PerNode},
    {"BITPOS",              -3, 1,  1, 1, RO,          ByKey,         PerNode},
    {"BLMOVE",               6, 1,  2, 1, WR|DO|NS|BL, ByKey,         PerNode,
        {}, Range, LastArgSeconds},
    {"BLMPOP",              -5, 0,  0, 0, WR|BL|MK,    ByKey,         PerNode,
        {}, NumKeysAt2, Arg1Seconds},
    {"BLPOP",               -3, 1, -2, 1, WR|NS|BL,    ByKey,         PerNode,
        {}, Range, LastArgSeconds},
    {"BRPOP",               -3, 1, -2, 1, WR|NS|BL,    ByKey,         PerNode,
        {}, Range, LastArgSeconds},
    {"BRPOPLPUSH",           4, 1,  2, 1, WR|DO|NS|BL, ByKey,         PerNode,
        {}, Range, LastArgSeconds},
    {"BZMPOP",              -5, 0,  0, 0, WR|BL|MK,    ByKey,         PerNode,
        {}, NumKeysAt2, Arg1Seconds},
    {"BZPOPMAX",            -3, 1, -2, 1, WR|NS|BL|FA, ByKey,         PerNode,
        {}, Range, LastArgSeconds},
    {"BZPOPMIN",            -3, 1, -2, 1, WR|NS|BL|FA, ByKey,         PerNode,
        {}, Range, LastArgSeconds},
    {"CLIENT",              -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"CLIENT|CACHING",       3, 0,  0, 0, NS|CS,       DefaultNode,   PerNode},
    {"CLIENT|GETNAME",       2, 0,  0, 0, NS|CS,       AllNodes,      PerNode},
    {"CLIENT|GETREDIR",      2, 0,  0, 0, NS|CS,       DefaultNode,   PerNode},
    {"CLIENT|HELP",          2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"CLIENT|ID",            2, 0,  0, 0, NS|CS,       AllNodes,      PerNode},
    {"CLIENT|INFO",          2, 0,  0, 0, NS|CS,       AllNodes,      PerNode},
    {"CLIENT|KILL",         -3, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"CLIENT|LIST",         -2, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"CLIENT|NO-EVICT",      3, 0,  0, 0, AD|NS|CS,    DefaultNode,   PerNode},
    {"CLIENT|PAUSE",        -3, 0,  0, 0, AD|NS,       DefaultNode,   PerNode},
    {"CLIENT|REPLY",         3, 0,  0, 0, NS|CS,       Blocked,       PerNode, kClientReply},
    {"CLIENT|SETNAME",       3, 0,  0, 0, NS|CS,       AllNodes,      PerNode},
    {"CLIENT|TRACKING",     -3, 0,  0, 0, NS|CS,       DefaultNode,   PerNode},
    {"CLIENT|TRACKINGINFO",  2, 0,  0, 0, NS|CS,       DefaultNode,   PerNode},
    {"CLIENT|UNBLOCK",      -3, 0,  0, 0, AD|NS,       DefaultNode,   PerNode},
    {"CLIENT|UNPAUSE",       2, 0,  0, 0, AD|NS,       DefaultNode,   PerNode},
    {"CLUSTER",             -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"CLUSTER|ADDSLOTS",    -3, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|ADDSLOTSRANGE", -4, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|BUMPEPOCH",    2, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|COUNT-FAILURE-REPORTS",  3, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|COUNTKEYSINSLOT",  3, 0,  0, 0, 0,           BySlotArg,     PerNode},
    {"CLUSTER|DELSLOTS",    -3, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|DELSLOTSRANGE", -4, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|FAILOVER",    -2, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|FLUSHSLOTS",   2, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|FORGET",       3, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|GETKEYSINSLOT",  4, 0,  0, 0, 0,           BySlotArg,     PerNode},
    {"CLUSTER|HELP",         2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"CLUSTER|INFO",         2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"CLUSTER|KEYSLOT",      3, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"CLUSTER|LINKS",        2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"CLUSTER|MEET",        -4, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|MYID",         2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"CLUSTER|NODES",        2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"CLUSTER|REPLICAS",     3, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|REPLICATE",    3, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|RESET",       -2, 0,  0, 0, AD|NS,       DefaultNode,   PerNode},
    {"CLUSTER|SAVECONFIG",   2, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|SET-CONFIG-EPOCH",  3, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|SETSLOT",     -4, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|SHARDS",       2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"CLUSTER|SLAVES",       3, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"CLUSTER|SLOTS",        2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"COMMAND",             -1, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"COMMAND|COUNT",        2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"COMMAND|DOCS",        -2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"COMMAND|GETKEYS",     -4, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"COMMAND|GETKEYSANDFLAGS", -4, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"COMMAND|HELP",         2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"COMMAND|INFO",        -2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"COMMAND|LIST",        -2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"CONFIG",              -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"CONFIG|GET",          -3, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"CONFIG|HELP",          2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"CONFIG|RESETSTAT",     2, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"CONFIG|REWRITE",       2, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"CONFIG|SET",          -4, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"COPY",                -3, 1,  2, 1, WR|DO,       ByKey,         PerNode},
    {"DBSIZE",               1, 0,  0, 0, RO|FA,       AllPrimaries,  Sum},
    {"DEBUG",               -2, 0,  0, 0, AD|NS,       DefaultNode,   PerNode},
    {"DECR",                 2, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"DECRBY",               3, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"DEL",                 -2, 1, -1, 1, WR,          ByKey,         PerNode},
    {"DISCARD",              1, 0,  0, 0, NS|FA|TX,    Blocked,       PerNode, kUseTransaction},
    {"DUMP",                 2, 1,  1, 1, RO,          ByKey,         PerNode},
    {"ECHO",                 2, 0,  0, 0, FA,          AllNodes,      PerNode},
    {"EVAL",                -3, 0,  0, 0, NS|MK,       ByKey,         PerNode, {}, NumKeysAt2},
    {"EVALSHA",             -3, 0,  0, 0, NS|MK,       ByKey,         PerNode, {}, NumKeysAt2},
    {"EVALSHA_RO",          -3, 0,  0, 0, RO|NS|MK,    ByKey,         PerNode, {}, NumKeysAt2},
    {"EVAL_RO",             -3, 0,  0, 0, RO|NS|MK,    ByKey,         PerNode, {}, NumKeysAt2},
    {"EXEC",                 1, 0,  0, 0, NS|TX,       Blocked,       PerNode, kUseTransaction},
    {"EXISTS",              -2, 1, -1, 1, RO|FA,       ByKey,         PerNode},
    {"EXPIRE",              -3, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"EXPIREAT",            -3, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"EXPIRETIME",           2, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"FAILOVER",            -1, 0,  0, 0, AD|NS,       Blocked,       PerNode, kFailover},
    {"FCALL",               -3, 0,  0, 0, NS|MK,       ByKey,         PerNode, {}, NumKeysAt2},
    {"FCALL_RO",            -3, 0,  0, 0, RO|NS|MK,    ByKey,         PerNode, {}, NumKeysAt2},
    {"FLUSHALL",            -1, 0,  0, 0, WR,          AllPrimaries,  AllOk},
    {"FLUSHDB",             -1, 0,  0, 0, WR,          AllPrimaries,  AllOk},
    {"FUNCTION",            -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"FUNCTION|DELETE",      3, 0,  0, 0, WR|NS,       AllPrimaries,  AllOk},
    {"FUNCTION|DUMP",        2, 0,  0, 0, NS,          RandomNode,    PerNode},
    {"FUNCTION|FLUSH",      -2, 0,  0, 0, WR|NS,       AllPrimaries,  AllOk},
    {"FUNCTION|HELP",        2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"FUNCTION|KILL",        2, 0,  0, 0, NS,          AllPrimaries,  PerNode},
    {"FUNCTION|LIST",       -2, 0,  0, 0, NS,          AllPrimaries,  PerNode},
    {"FUNCTION|LOAD",       -3, 0,  0, 0, WR|DO|NS,    AllPrimaries,  First},
    {"FUNCTION|RESTORE",    -3, 0,  0, 0, WR|DO|NS,    AllPrimaries,  AllOk},
    {"FUNCTION|STATS",       2, 0,  0, 0, NS,          AllPrimaries,  PerNode},
    {"GEOADD",              -5, 1,  1, 1, WR|DO,       ByKey,         PerNode},
    {"GEODIST",             -4, 1,  1, 1, RO,          ByKey,         PerNode},
    {"GEOHASH",             -2, 1,  1, 1, RO,          ByKey,         PerNode},
    {"GEOPOS",              -2, 1,  1, 1, RO,          ByKey,         PerNode},
    {"GEORADIUS",           -6, 1,  1, 1, WR|DO|MK,    ByKey,         PerNode, {}, GeoStore},
    {"GEORADIUSBYMEMBER",   -5, 1,  1, 1, WR|DO|MK,    ByKey,         PerNode, {}, GeoStore},
    {"GEORADIUSBYMEMBER_RO", -5, 1,  1, 1, RO,          ByKey,         PerNode},
    {"GEORADIUS_RO",        -6, 1,  1, 1, RO,          ByKey,         PerNode},
    {"GEOSEARCH",           -7, 1,  1, 1, RO,          ByKey,         PerNode},
    {"GEOSEARCHSTORE",      -8, 1,  2, 1, WR|DO,       ByKey,         PerNode},
    {"GET",                  2, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"GETBIT",               3, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"GETDEL",               2, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"GETEX",               -2, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"GETRANGE",             4, 1,  1, 1, RO,          ByKey,         PerNode},
    {"GETSET",               3, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"HDEL",                -3, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"HELLO",               -1, 0,  0, 0, NS|FA|CS,    Blocked,       PerNode, kHello},
    {"HEXISTS",              3, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"HGET",                 3, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"HGETALL",              2, 1,  1, 1, RO,          ByKey,         PerNode},
    {"HINCRBY",              4, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"HINCRBYFLOAT",         4, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"HKEYS",                2, 1,  1, 1, RO,          ByKey,         PerNode},
    {"HLEN",                 2, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"HMGET",               -3, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"HMSET",               -4, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"HRANDFIELD",          -2, 1,  1, 1, RO,          ByKey,         PerNode},
    {"HSCAN",               -3, 1,  1, 1, RO,          ByKey,         PerNode},
    {"HSET",                -4, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"HSETNX",               4, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"HSTRLEN",              3, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"HVALS",                2, 1,  1, 1, RO,          ByKey,         PerNode},
    {"INCR",                 2, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"INCRBY",               3, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"INCRBYFLOAT",          3, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"INFO",                -1, 0,  0, 0, 0,           AllNodes,      PerNode},
    {"KEYS",                 2, 0,  0, 0, RO,          AllPrimaries,  Concat},
    {"LASTSAVE",             1, 0,  0, 0, FA,          AllNodes,      PerNode},
    {"LATENCY",             -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"LATENCY|DOCTOR",       2, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"LATENCY|GRAPH",        3, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"LATENCY|HELP",         2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"LATENCY|HISTOGRAM",   -2, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"LATENCY|HISTORY",      3, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"LATENCY|LATEST",       2, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"LATENCY|RESET",       -2, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"LCS",                 -3, 1,  2, 1, RO,          ByKey,         PerNode},
    {"LINDEX",               3, 1,  1, 1, RO,          ByKey,         PerNode},
    {"LINSERT",              5, 1,  1, 1, WR|DO,       ByKey,         PerNode},
    {"LLEN",                 2, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"LMOVE",                5, 1,  2, 1, WR|DO,       ByKey,         PerNode},
    {"LMPOP",               -4, 0,  0, 0, WR|MK,       ByKey,         PerNode, {}, NumKeysAt1},
    {"LOLWUT",              -1, 0,  0, 0, RO|FA,       DefaultNode,   PerNode},
    {"LPOP",                -2, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"LPOS",                -3, 1,  1, 1, RO,          ByKey,         PerNode},
    {"LPUSH",               -3, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"LPUSHX",              -3, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"LRANGE",               4, 1,  1, 1, RO,          ByKey,         PerNode},
    {"LREM",                 4, 1,  1, 1, WR,          ByKey,         PerNode},
    {"LSET",                 4, 1,  1, 1, WR|DO,       ByKey,         PerNode},
    {"LTRIM",                4, 1,  1, 1, WR,          ByKey,         PerNode},
    {"MEMORY",              -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"MEMORY|DOCTOR",        2, 0,  0, 0, 0,           AllNodes,      PerNode},
    {"MEMORY|HELP",          2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"MEMORY|MALLOC-STATS",  2, 0,  0, 0, 0,           AllNodes,      PerNode},
    {"MEMORY|PURGE",         2, 0,  0, 0, 0,           AllNodes,      PerNode},
    {"MEMORY|STATS",         2, 0,  0, 0, 0,           AllNodes,      PerNode},
    {"MEMORY|USAGE",        -3, 2,  2, 1, RO,          ByKey,         PerNode},
    {"MGET",                -2, 1, -1, 1, RO|FA,       ByKey,         PerNode},
    {"MIGRATE",             -6, 3,  3, 1, WR|MK,       ByKey,         PerNode, {}, Migrate},
    {"MODULE",              -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"MODULE|HELP",          2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"MODULE|LIST",          2, 0,  0, 0, AD|NS,       DefaultNode,   PerNode},
    {"MODULE|LOAD",         -3, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"MODULE|LOADEX",       -3, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"MODULE|UNLOAD",        3, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"MONITOR",              1, 0,  0, 0, AD|NS|CS,    Blocked,       PerNode, kMonitor},
    {"MOVE",                 3, 1,  1, 1, WR|FA,       Blocked,       PerNode, kDbZero},
    {"MSET",                -3, 1, -1, 2, WR|DO,       ByKey,         PerNode},
    {"MSETNX",              -3, 1, -1, 2, WR|DO,       ByKey,         PerNode},
    {"MULTI",                1, 0,  0, 0, NS|FA|TX,    Blocked,       PerNode, kUseTransaction},
    {"OBJECT",              -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"OBJECT|ENCODING",      3, 2,  2, 1, RO,          ByKey,         PerNode},
    {"OBJECT|FREQ",          3, 2,  2, 1, RO,          ByKey,         PerNode},
    {"OBJECT|HELP",          2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"OBJECT|IDLETIME",      3, 2,  2, 1, RO,          ByKey,         PerNode},
    {"OBJECT|REFCOUNT",      3, 2,  2, 1, RO,          ByKey,         PerNode},
    {"PERSIST",              2, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"PEXPIRE",             -3, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"PEXPIREAT",           -3, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"PEXPIRETIME",          2, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"PFADD",               -2, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"PFCOUNT",             -2, 1, -1, 1, RO,          ByKey,         PerNode},
    {"PFDEBUG",              3, 2,  2, 1, WR|DO|AD,    ByKey,         PerNode},
    {"PFMERGE",             -2, 1, -1, 1, WR|DO,       ByKey,         PerNode},
    {"PFSELFTEST",           1, 0,  0, 0, AD,          DefaultNode,   PerNode},
    {"PING",                -1, 0,  0, 0, FA,          AllNodes,      PerNode},
    {"PSETEX",               4, 1,  1, 1, WR|DO,       ByKey,         PerNode},
    {"PSUBSCRIBE",          -2, 0,  0, 0, PS|NS,       ByChannel,     PerNode},
    {"PSYNC",               -3, 0,  0, 0, AD|NS,       Blocked,       PerNode,
        kReplicationProtocol},
    {"PTTL",                 2, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"PUBLISH",              3, 0,  0, 0, PS|FA,       ByChannel,     PerNode},
    {"PUBSUB",              -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"PUBSUB|CHANNELS",     -2, 0,  0, 0, PS,          AllNodes,      ConcatUnique},
    {"PUBSUB|HELP",          2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"PUBSUB|NUMPAT",        2, 0,  0, 0, PS,          AllNodes,      Sum},
    {"PUBSUB|NUMSUB",       -2, 0,  0, 0, PS,          AllNodes,      PerNode},
    {"PUBSUB|SHARDCHANNELS", -2, 0,  0, 0, PS,          AllPrimaries,  Concat},
    {"PUBSUB|SHARDNUMSUB",  -2, 0,  0, 0, PS,          AllPrimaries,  PerNode},
    {"PUNSUBSCRIBE",        -1, 0,  0, 0, PS|NS,       ByChannel,     PerNode},
    {"QUIT",                -1, 0,  0, 0, NS|FA|CS,    Blocked,       PerNode, kQuitReset},
    {"RANDOMKEY",            1, 0,  0, 0, RO,          RandomPrimary, PerNode},
    {"READONLY",             1, 0,  0, 0, FA|CS,       Blocked,       PerNode, kReadOnlyMode},
    {"READWRITE",            1, 0,  0, 0, FA|CS,       Blocked,       PerNode, kReadOnlyMode},
    {"RENAME",               3, 1,  2, 1, WR,          ByKey,         PerNode},
    {"RENAMENX",             3, 1,  2, 1, WR|FA,       ByKey,         PerNode},
    {"REPLCONF",            -1, 0,  0, 0, AD|NS,       Blocked,       PerNode,
        kReplicationProtocol},
    {"REPLICAOF",            3, 0,  0, 0, AD|NS,       Blocked,       PerNode, kReplicaOf},
    {"RESET",                1, 0,  0, 0, NS|FA|CS,    Blocked,       PerNode, kQuitReset},
    {"RESTORE",             -4, 1,  1, 1, WR|DO,       ByKey,         PerNode},
    {"RESTORE-ASKING",      -4, 1,  1, 1, WR|DO,       ByKey,         PerNode},
    {"ROLE",                 1, 0,  0, 0, NS|FA,       DefaultNode,   PerNode},
    {"RPOP",                -2, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"RPOPLPUSH",            3, 1,  2, 1, WR|DO,       ByKey,         PerNode},
    {"RPUSH",               -3, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"RPUSHX",              -3, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"SADD",                -3, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"SAVE",                 1, 0,  0, 0, AD|NS,       AllNodes,      PerNode},
    {"SCAN",                -2, 0,  0, 0, RO,          AllPrimaries,  PerNode},
    {"SCARD",                2, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"SCRIPT",              -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"SCRIPT|DEBUG",         3, 0,  0, 0, NS|CS,       Blocked,       PerNode, kScriptDebug},
    {"SCRIPT|EXISTS",       -3, 0,  0, 0, NS,          AllPrimaries,  AllTrue},
    {"SCRIPT|FLUSH",        -2, 0,  0, 0, NS,          AllNodes,      AllOk},
    {"SCRIPT|HELP",          2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"SCRIPT|KILL",          2, 0,  0, 0, NS,          AllPrimaries,  PerNode},
    {"SCRIPT|LOAD",          3, 0,  0, 0, NS,          AllNodes,      First},
    {"SDIFF",               -2, 1, -1, 1, RO,          ByKey,         PerNode},
    {"SDIFFSTORE",          -3, 1, -1, 1, WR|DO,       ByKey,         PerNode},
    {"SELECT",               2, 0,  0, 0, FA|CS,       Blocked,       PerNode, kDbZero},
    {"SENTINEL",            -2, 0,  0, 0, AD|NS,       Blocked,       PerNode, kSentinel},
    {"SET",                 -3, 1,  1, 1, WR|DO,       ByKey,         PerNode},
    {"SETBIT",               4, 1,  1, 1, WR|DO,       ByKey,         PerNode},
    {"SETEX",                4, 1,  1, 1, WR|DO,       ByKey,         PerNode},
    {"SETNX",                3, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"SETRANGE",             4, 1,  1, 1, WR|DO,       ByKey,         PerNode},
    {"SHUTDOWN",            -1, 0,  0, 0, AD|NS,       Blocked,       PerNode, kShutdown},
    {"SINTER",              -2, 1, -1, 1, RO,          ByKey,         PerNode},
    {"SINTERCARD",          -3, 0,  0, 0, RO|MK,       ByKey,         PerNode, {}, NumKeysAt1},
    {"SINTERSTORE",         -3, 1, -1, 1, WR|DO,       ByKey,         PerNode},
    {"SISMEMBER",            3, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"SLAVEOF",              3, 0,  0, 0, AD|NS,       Blocked,       PerNode, kReplicaOf},
    {"SLOWLOG",             -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"SLOWLOG|GET",         -2, 0,  0, 0, AD,          AllNodes,      PerNode},
    {"SLOWLOG|HELP",         2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"SLOWLOG|LEN",          2, 0,  0, 0, AD,          AllNodes,      PerNode},
    {"SLOWLOG|RESET",        2, 0,  0, 0, AD,          AllNodes,      PerNode},
    {"SMEMBERS",             2, 1,  1, 1, RO,          ByKey,         PerNode},
    {"SMISMEMBER",          -3, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"SMOVE",                4, 1,  2, 1, WR|FA,       ByKey,         PerNode},
    {"SORT",                -2, 1,  1, 1, WR|DO|MK,    ByKey,         PerNode, {}, SortStore},
    {"SORT_RO",             -2, 1,  1, 1, RO|MK,       ByKey,         PerNode},
    {"SPOP",                -2, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"SPUBLISH",             3, 1,  1, 1, PS|FA,       ByChannel,     PerNode},
    {"SRANDMEMBER",         -2, 1,  1, 1, RO,          ByKey,         PerNode},
    {"SREM",                -3, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"SSCAN",               -3, 1,  1, 1, RO,          ByKey,         PerNode},
    {"SSUBSCRIBE",          -2, 1, -1, 1, PS|NS,       ByChannel,     PerNode},
    {"STRLEN",               2, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"SUBSCRIBE",           -2, 0,  0, 0, PS|NS,       ByChannel,     PerNode},
    {"SUBSTR",               4, 1,  1, 1, RO,          ByKey,         PerNode},
    {"SUNION",              -2, 1, -1, 1, RO,          ByKey,         PerNode},
    {"SUNIONSTORE",         -3, 1, -1, 1, WR|DO,       ByKey,         PerNode},
    {"SUNSUBSCRIBE",        -1, 1, -1, 1, PS|NS,       ByChannel,     PerNode},
    {"SWAPDB",               3, 0,  0, 0, WR|FA,       Blocked,       PerNode, kDbZero},
    {"SYNC",                 1, 0,  0, 0, AD|NS,       Blocked,       PerNode,
        kReplicationProtocol},
    {"TIME",                 1, 0,  0, 0, FA,          AllNodes,      PerNode},
    {"TOUCH",               -2, 1, -1, 1, RO|FA,       ByKey,         PerNode},
    {"TTL",                  2, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"TYPE",                 2, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"UNLINK",              -2, 1, -1, 1, WR|FA,       ByKey,         PerNode},
    {"UNSUBSCRIBE",         -1, 0,  0, 0, PS|NS,       ByChannel,     PerNode},
    {"UNWATCH",              1, 0,  0, 0, NS|FA|TX,    Blocked,       PerNode, kUseTransaction},
    {"WAIT",                 3, 0,  0, 0, NS|BL|OW,    Blocked,       PerNode,
        kWaitAlone, Range, LastArgMs},
    {"WAITAOF",              4, 0,  0, 0, NS|BL|OW,    Blocked,       PerNode,
        kWaitAlone, Range, LastArgMs},
    {"WATCH",               -2, 1, -1, 1, NS|FA|TX,    Blocked,       PerNode, kUseTransaction},
    {"XACK",                -4, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"XADD",                -5, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"XAUTOCLAIM",          -6, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"XCLAIM",              -6, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"XDEL",                -3, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"XGROUP",              -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"XGROUP|CREATE",       -5, 2,  2, 1, WR|DO,       ByKey,         PerNode},
    {"XGROUP|CREATECONSUMER",  5, 2,  2, 1, WR|DO,       ByKey,         PerNode},
    {"XGROUP|DELCONSUMER",   5, 2,  2, 1, WR,          ByKey,         PerNode},
    {"XGROUP|DESTROY",       4, 2,  2, 1, WR,          ByKey,         PerNode},
    {"XGROUP|HELP",          2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"XGROUP|SETID",        -5, 2,  2, 1, WR,          ByKey,         PerNode},
    {"XINFO",               -2, 0,  0, 0, SC,          DefaultNode,   PerNode},
    {"XINFO|CONSUMERS",      4, 2,  2, 1, RO,          ByKey,         PerNode},
    {"XINFO|GROUPS",         3, 2,  2, 1, RO,          ByKey,         PerNode},
    {"XINFO|HELP",           2, 0,  0, 0, 0,           DefaultNode,   PerNode},
    {"XINFO|STREAM",        -3, 2,  2, 1, RO,          ByKey,         PerNode},
    {"XLEN",                 2, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"XPENDING",            -3, 1,  1, 1, RO,          ByKey,         PerNode},
    {"XRANGE",              -4, 1,  1, 1, RO,          ByKey,         PerNode},
    {"XREAD",               -4, 0,  0, 0, RO|BL|MK,    ByKey,         PerNode,
        {}, Streams, BlockOption},
    {"XREADGROUP",          -7, 0,  0, 0, WR|BL|MK,    ByKey,         PerNode,
        {}, Streams, BlockOption},
    {"XREVRANGE",           -4, 1,  1, 1, RO,          ByKey,         PerNode},
    {"XSETID",              -3, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"XTRIM",               -4, 1,  1, 1, WR,          ByKey,         PerNode},
    {"ZADD",                -4, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"ZCARD",                2, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"ZCOUNT",               4, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"ZDIFF",               -3, 0,  0, 0, RO|MK,       ByKey,         PerNode, {}, NumKeysAt1},
    {"ZDIFFSTORE",          -4, 1,  1, 1, WR|DO|MK,    ByKey,         PerNode, {}, DestNumKeys},
    {"ZINCRBY",              4, 1,  1, 1, WR|DO|FA,    ByKey,         PerNode},
    {"ZINTER",              -3, 0,  0, 0, RO|MK,       ByKey,         PerNode, {}, NumKeysAt1},
    {"ZINTERCARD",          -3, 0,  0, 0, RO|MK,       ByKey,         PerNode, {}, NumKeysAt1},
    {"ZINTERSTORE",         -4, 1,  1, 1, WR|DO|MK,    ByKey,         PerNode, {}, DestNumKeys},
    {"ZLEXCOUNT",            4, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"ZMPOP",               -4, 0,  0, 0, WR|MK,       ByKey,         PerNode, {}, NumKeysAt1},
    {"ZMSCORE",             -3, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"ZPOPMAX",             -2, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"ZPOPMIN",             -2, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"ZRANDMEMBER",         -2, 1,  1, 1, RO,          ByKey,         PerNode},
    {"ZRANGE",              -4, 1,  1, 1, RO,          ByKey,         PerNode},
    {"ZRANGEBYLEX",         -4, 1,  1, 1, RO,          ByKey,         PerNode},
    {"ZRANGEBYSCORE",       -4, 1,  1, 1, RO,          ByKey,         PerNode},
    {"ZRANGESTORE",         -5, 1,  2, 1, WR|DO,       ByKey,         PerNode},
    {"ZRANK",                3, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"ZREM",                -3, 1,  1, 1, WR|FA,       ByKey,         PerNode},
    {"ZREMRANGEBYLEX",       4, 1,  1, 1, WR,          ByKey,         PerNode},
    {"ZREMRANGEBYRANK",      4, 1,  1, 1, WR,          ByKey,         PerNode},
    {"ZREMRANGEBYSCORE",     4, 1,  1, 1, WR,          ByKey,         PerNode},
    {"ZREVRANGE",           -4, 1,  1, 1, RO,          ByKey,         PerNode},
    {"ZREVRANGEBYLEX",      -4, 1,  1, 1, RO,          ByKey,         PerNode},
    {"ZREVRANGEBYSCORE",    -4, 1,  1, 1, RO,          ByKey,         PerNode},
    {"ZREVRANK",             3, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"ZSCAN",               -3, 1,  1, 1, RO,          ByKey,         PerNode},
    {"ZSCORE",               3, 1,  1, 1, RO|FA,       ByKey,         PerNode},
    {"ZUNION",              -3, 0,  0, 0, RO|MK,       ByKey,         PerNode, {}, NumKeysAt1},
    {"ZUNIONSTORE",         -4, 1,  1, 1, WR|DO|MK,    ByKey,         PerNode, {}, DestNumKeys},
};

constexpr bool table_is_sound() {
  for (std::size_t i = 0; i < std::size(kCommands); ++i) {
    const CommandInfo& c = kCommands[i];
    if (i > 0 && !(kCommands[i - 1].name < c.name)) return false;  // sorted, no duplicates
    for (const char ch : c.name)
      if (ch >= 'a' && ch <= 'z') return false;  // lookup folds the query to upper case only
    if ((c.policy == Blocked) == c.blocked_reason.empty()) return false;
    if (c.has(kMovableKeys) && c.key_rule == Range && c.name != "SORT_RO") return false;
    if (c.has(kBlocking) != (c.timeout_rule != NoTimeout)) return false;
  }
  return true;
}
static_assert(table_is_sound(), "kCommands: unsorted, lower case, or a rule is missing");

constexpr std::size_t kLongestName = [] {
  std::size_t n = 0;
  for (const CommandInfo& c : kCommands) n = std::max(n, c.name.size());
  return n;
}();

constexpr unsigned char upper(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') ? static_cast<unsigned char>(u - ('a' - 'A')) : u;
}

// Three-way compare of a table name with the query `head` + "|" + `tail` (just `head` when tail
// is empty), the query folded to upper case on the fly: no copy is built.
int compare_name(std::string_view entry, std::string_view head, std::string_view tail) noexcept {
  const std::size_t query_size = head.size() + (tail.empty() ? 0 : tail.size() + 1);
  const std::size_t n = std::min(entry.size(), query_size);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char q = i < head.size()    ? upper(head[i])
                            : i == head.size() ? static_cast<unsigned char>('|')
                                               : upper(tail[i - head.size() - 1]);
    const auto e = static_cast<unsigned char>(entry[i]);
    if (e != q) return e < q ? -1 : 1;
  }
  return entry.size() < query_size ? -1 : (entry.size() > query_size ? 1 : 0);
}

const CommandInfo* find(std::string_view head, std::string_view tail) noexcept {
  if (head.empty() || head.size() + (tail.empty() ? 0 : tail.size() + 1) > kLongestName)
    return nullptr;
  std::size_t lo = 0, hi = std::size(kCommands);
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const int c = compare_name(kCommands[mid].name, head, tail);
    if (c == 0) return &kCommands[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return nullptr;
}

// True when `arg` is the option `word` (given in upper case), in any case.
bool is_word(std::string_view arg, std::string_view word) noexcept {
  if (arg.size() != word.size()) return false;
  for (std::size_t i = 0; i < arg.size(); ++i)
    if (upper(arg[i]) != static_cast<unsigned char>(word[i])) return false;
  return true;
}

// A non-negative decimal integer as the server's string2ll reads it (no sign, no spaces).
std::optional<long long> parse_count(std::string_view s) noexcept {
  long long v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || s[0] == '-')
    return std::nullopt;
  return v;
}

void push_range(const CommandInfo& info, std::size_t argc, std::vector<std::size_t>& out) {
  if (info.first_key <= 0) return;
  const auto first = static_cast<long long>(info.first_key);
  const auto args = static_cast<long long>(argc);
  long long last = info.last_key >= 0 ? info.last_key : args + info.last_key;
  last = std::min(last, args - 1);
  const long long step = std::max(info.step, 1);
  for (long long i = first; i <= last; i += step) out.push_back(static_cast<std::size_t>(i));
}

// "numkeys key [key ...]" with numkeys at `at`. A count the arguments cannot hold adds nothing.
void push_numkeys(const Command& cmd, std::size_t at, std::vector<std::size_t>& out) {
  if (cmd.size() <= at) return;
  const auto n = parse_count(cmd[at]);
  if (!n || static_cast<unsigned long long>(*n) > cmd.size() - at - 1) return;
  for (std::size_t i = 0; i < static_cast<std::size_t>(*n); ++i) out.push_back(at + 1 + i);
}

// XREAD [COUNT n] [BLOCK ms] STREAMS k.. id..; XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK]
// STREAMS k.. id... Returns the index of STREAMS (0 if the options are malformed or it is
// missing) and the BLOCK argument's index in *block (0 without BLOCK).
std::size_t scan_stream_options(const Command& cmd, std::size_t* block) noexcept {
  *block = 0;
  std::size_t i = 1;
  while (i < cmd.size()) {
    const std::string_view a = cmd[i];
    if (is_word(a, "STREAMS")) return i;
    if (is_word(a, "BLOCK") && i + 1 < cmd.size()) {
      *block = i + 1;
      i += 2;
    } else if (is_word(a, "COUNT")) {
      i += 2;
    } else if (is_word(a, "GROUP")) {
      i += 3;
    } else if (is_word(a, "NOACK")) {
      i += 1;
    } else {
      return 0;
    }
  }
  return 0;
}

void push_streams(const Command& cmd, std::vector<std::size_t>& out) {
  std::size_t block = 0;
  const std::size_t streams = scan_stream_options(cmd, &block);
  if (streams == 0) return;
  const std::size_t rest = cmd.size() - streams - 1;  // keys, then as many ids
  if (rest == 0 || rest % 2 != 0) return;
  for (std::size_t i = 0; i < rest / 2; ++i) out.push_back(streams + 1 + i);
}

// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS k...]
void push_migrate(const Command& cmd, std::vector<std::size_t>& out) {
  if (cmd.size() <= 3) return;
  if (!cmd[3].empty()) {
    out.push_back(3);
    return;
  }
  for (std::size_t i = 6; i < cmd.size(); ++i) {
    const std::string_view a = cmd[i];
    if (is_word(a, "AUTH")) {
      i += 1;  // the password may itself read "KEYS"
    } else if (is_word(a, "AUTH2")) {
      i += 2;
    } else if (is_word(a, "KEYS")) {
      for (std::size_t k = i + 1; k < cmd.size(); ++k) out.push_back(k);
      return;
    }
  }
}

// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dest];
// GEORADIUS... key ... [COUNT n [ANY]] [STORE key] [STOREDIST key]. The source key and the
// destination; the server takes the last STORE when there are several.
void push_key_and_store(const Command& cmd, std::size_t options_from, bool geo,
                        std::vector<std::size_t>& out) {
  if (cmd.size() <= 1) return;
  out.push_back(1);
  std::size_t dest = 0;
  for (std::size_t i = options_from; i < cmd.size(); ++i) {
    const std::string_view a = cmd[i];
    if (is_word(a, "STORE") || (geo && is_word(a, "STOREDIST"))) {
      if (i + 1 < cmd.size()) dest = i + 1;
      i += 1;
    } else if (!geo && is_word(a, "LIMIT")) {
      i += 2;
    } else if ((!geo && (is_word(a, "BY") || is_word(a, "GET"))) || (geo && is_word(a, "COUNT"))) {
      i += 1;  // a pattern or a count, never a routed key
    }
  }
  if (dest != 0) out.push_back(dest);
}

bool arity_ok(const CommandInfo& info, std::size_t argc) noexcept {
  return info.arity >= 0 ? argc == static_cast<std::size_t>(info.arity)
                         : argc >= static_cast<std::size_t>(-info.arity);
}

// The server's timeout parse (getTimeoutFromObjectOrReply): seconds are a long double scaled to
// ms and truncated toward zero, so "0.0001" means 0 = forever to the server, and so here.
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view s) noexcept {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);  // strtold accepts a plus sign
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  const double ms = std::trunc(v * 1000.0);
  // NaN and infinities fail the first test; the bound keeps now()+timeout from overflowing.
  if (!(ms >= 0.0) || ms >= 9.0e18) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

std::optional<std::chrono::milliseconds> parse_millis(std::string_view s) noexcept {
  const auto v = parse_count(s);
  if (!v || *v >= 9'000'000'000'000'000'000LL) return std::nullopt;
  return std::chrono::milliseconds(*v);
}

}  // namespace

const CommandInfo* lookup_command(std::string_view name, std::string_view subcommand) noexcept {
  const CommandInfo* info = find(name, {});
  if (info == nullptr || subcommand.empty() || !info->has(kHasSubcommands)) return info;
  const CommandInfo* sub = find(info->name, subcommand);
  return sub != nullptr ? sub : info;
}

const CommandInfo* lookup_command(const Command& cmd) noexcept {
  if (cmd.empty()) return nullptr;
  return lookup_command(cmd[0], cmd.size() > 1 ? cmd[1] : std::string_view());
}

void key_positions(const Command& cmd, std::vector<std::size_t>& out) {
  out.clear();
  const CommandInfo* info = lookup_command(cmd);
  if (info == nullptr) {
    if (cmd.size() > 1) out.push_back(1);
    return;
  }
  switch (info->key_rule) {
    case Range: push_range(*info, cmd.size(), out); break;
    case NumKeysAt1: push_numkeys(cmd, 1, out); break;
    case NumKeysAt2: push_numkeys(cmd, 2, out); break;
    case DestNumKeys:
      if (cmd.size() > 1) out.push_back(1);
      push_numkeys(cmd, 2, out);
      break;
    case Streams: push_streams(cmd, out); break;
    case Migrate: push_migrate(cmd, out); break;
    case SortStore: push_key_and_store(cmd, 2, false, out); break;
    // GEORADIUS's options start at 6 and GEORADIUSBYMEMBER's at 5; argument 5 of GEORADIUS is
    // its unit, which never reads STORE in a command the server accepts.
    case GeoStore: push_key_and_store(cmd, 5, true, out); break;
  }
}

std::optional<std::chrono::milliseconds> blocking_timeout(const Command& cmd) noexcept {
  const CommandInfo* info = lookup_command(cmd);
  if (info == nullptr || info->timeout_rule == NoTimeout || !arity_ok(*info, cmd.size()))
    return std::nullopt;
  switch (info->timeout_rule) {
    case NoTimeout: break;
    case LastArgSeconds: return parse_seconds(cmd[cmd.size() - 1]);
    case Arg1Seconds: return parse_seconds(cmd[1]);
    case LastArgMs: return parse_millis(cmd[cmd.size() - 1]);
    case BlockOption: {
      std::size_t block = 0;
      if (scan_stream_options(cmd, &block) == 0 || block == 0) return std::nullopt;
      return parse_millis(cmd[block]);
    }
  }
  return std::nullopt;
}

}  // namespace fibredis
