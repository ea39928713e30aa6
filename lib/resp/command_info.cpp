#include <fibredis/resp/command_info.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace fibredis {
namespace {

// Flag columns of the table.
constexpr std::uint32_t RO = kReadOnly, WR = kWrite, BL = kBlocking, PS = kPubSub,
                        MK = kMovableKeys, AD = kAdmin, NS = kNoScript, DO = kDenyOom, FA = kFast,
                        TX = kTransaction, CS = kConnectionState, SC = kHasSubcommands,
                        OW = kOwnWrites;

using enum KeyRule;
using enum TimeoutRule;

// Generated once from `redis-cli --json COMMAND` of redis-server 7.0.15 by a throwaway script:
// name (subcommands as "PARENT|SUB"), arity and the first/last/step key triple exactly as the
// server reports them; flag columns RO readonly, WR write, DO denyoom, AD admin, PS pubsub,
// NS noscript, BL blocking, FA fast, MK movablekeys from COMMAND's flags, plus our own TX
// (transaction), CS (per-connection state), SC (has subcommands) and BL for WAIT/WAITAOF.
// WAITAOF (Redis 7.2) and SENTINEL (sentinel mode only) were added by hand. Keep the rows sorted
// by byte value of the name (checked at compile time below): lookup is a binary search.
// Where a cluster client sends each command is the cluster layer's table
// (lib/cluster/command_route.cpp), keyed by these names.
constexpr CommandInfo kCommands[] = {
    {"ACL",                 -2, 0,  0, 0, SC},
    {"ACL|CAT",             -2, 0,  0, 0, NS},
    {"ACL|DELUSER",         -3, 0,  0, 0, AD|NS},
    {"ACL|DRYRUN",          -4, 0,  0, 0, AD|NS},
    {"ACL|GENPASS",         -2, 0,  0, 0, NS},
    {"ACL|GETUSER",          3, 0,  0, 0, AD|NS},
    {"ACL|HELP",             2, 0,  0, 0, 0},
    {"ACL|LIST",             2, 0,  0, 0, AD|NS},
    {"ACL|LOAD",             2, 0,  0, 0, AD|NS},
    {"ACL|LOG",             -2, 0,  0, 0, AD|NS},
    {"ACL|SAVE",             2, 0,  0, 0, AD|NS},
    {"ACL|SETUSER",         -3, 0,  0, 0, AD|NS},
    {"ACL|USERS",            2, 0,  0, 0, AD|NS},
    {"ACL|WHOAMI",           2, 0,  0, 0, NS},
    {"APPEND",               3, 1,  1, 1, WR|DO|FA},
    {"ASKING",               1, 0,  0, 0, FA|CS},
    {"AUTH",                -2, 0,  0, 0, NS|FA|CS},
    {"BGREWRITEAOF",         1, 0,  0, 0, AD|NS},
    {"BGSAVE",              -1, 0,  0, 0, AD|NS},
    {"BITCOUNT",            -2, 1,  1, 1, RO},
    {"BITFIELD",            -2, 1,  1, 1, WR|DO},
    {"BITFIELD_RO",         -2, 1,  1, 1, RO|FA},
    {"BITOP",               -4, 2, -1, 1, WR|DO},
    {"BITPOS",              -3, 1,  1, 1, RO},
    {"BLMOVE",               6, 1,  2, 1, WR|DO|NS|BL, Range, LastArgSeconds},
    {"BLMPOP",              -5, 0,  0, 0, WR|BL|MK, NumKeysAt2, Arg1Seconds},
    {"BLPOP",               -3, 1, -2, 1, WR|NS|BL, Range, LastArgSeconds},
    {"BRPOP",               -3, 1, -2, 1, WR|NS|BL, Range, LastArgSeconds},
    {"BRPOPLPUSH",           4, 1,  2, 1, WR|DO|NS|BL, Range, LastArgSeconds},
    {"BZMPOP",              -5, 0,  0, 0, WR|BL|MK, NumKeysAt2, Arg1Seconds},
    {"BZPOPMAX",            -3, 1, -2, 1, WR|NS|BL|FA, Range, LastArgSeconds},
    {"BZPOPMIN",            -3, 1, -2, 1, WR|NS|BL|FA, Range, LastArgSeconds},
    {"CLIENT",              -2, 0,  0, 0, SC},
    {"CLIENT|CACHING",       3, 0,  0, 0, NS|CS},
    {"CLIENT|GETNAME",       2, 0,  0, 0, NS|CS},
    {"CLIENT|GETREDIR",      2, 0,  0, 0, NS|CS},
    {"CLIENT|HELP",          2, 0,  0, 0, 0},
    {"CLIENT|ID",            2, 0,  0, 0, NS|CS},
    {"CLIENT|INFO",          2, 0,  0, 0, NS|CS},
    {"CLIENT|KILL",         -3, 0,  0, 0, AD|NS},
    {"CLIENT|LIST",         -2, 0,  0, 0, AD|NS},
    {"CLIENT|NO-EVICT",      3, 0,  0, 0, AD|NS|CS},
    {"CLIENT|PAUSE",        -3, 0,  0, 0, AD|NS},
    {"CLIENT|REPLY",         3, 0,  0, 0, NS|CS},
    {"CLIENT|SETNAME",       3, 0,  0, 0, NS|CS},
    {"CLIENT|TRACKING",     -3, 0,  0, 0, NS|CS},
    {"CLIENT|TRACKINGINFO",  2, 0,  0, 0, NS|CS},
    {"CLIENT|UNBLOCK",      -3, 0,  0, 0, AD|NS},
    {"CLIENT|UNPAUSE",       2, 0,  0, 0, AD|NS},
    {"CLUSTER",             -2, 0,  0, 0, SC},
    {"CLUSTER|ADDSLOTS",    -3, 0,  0, 0, AD},
    {"CLUSTER|ADDSLOTSRANGE", -4, 0,  0, 0, AD},
    {"CLUSTER|BUMPEPOCH",    2, 0,  0, 0, AD},
    {"CLUSTER|COUNT-FAILURE-REPORTS",  3, 0,  0, 0, AD},
    {"CLUSTER|COUNTKEYSINSLOT",  3, 0,  0, 0, 0},
    {"CLUSTER|DELSLOTS",    -3, 0,  0, 0, AD},
    {"CLUSTER|DELSLOTSRANGE", -4, 0,  0, 0, AD},
    {"CLUSTER|FAILOVER",    -2, 0,  0, 0, AD},
    {"CLUSTER|FLUSHSLOTS",   2, 0,  0, 0, AD},
    {"CLUSTER|FORGET",       3, 0,  0, 0, AD},
    {"CLUSTER|GETKEYSINSLOT",  4, 0,  0, 0, 0},
    {"CLUSTER|HELP",         2, 0,  0, 0, 0},
    {"CLUSTER|INFO",         2, 0,  0, 0, 0},
    {"CLUSTER|KEYSLOT",      3, 0,  0, 0, 0},
    {"CLUSTER|LINKS",        2, 0,  0, 0, 0},
    {"CLUSTER|MEET",        -4, 0,  0, 0, AD},
    {"CLUSTER|MYID",         2, 0,  0, 0, 0},
    {"CLUSTER|NODES",        2, 0,  0, 0, 0},
    {"CLUSTER|REPLICAS",     3, 0,  0, 0, AD},
    {"CLUSTER|REPLICATE",    3, 0,  0, 0, AD},
    {"CLUSTER|RESET",       -2, 0,  0, 0, AD|NS},
    {"CLUSTER|SAVECONFIG",   2, 0,  0, 0, AD},
    {"CLUSTER|SET-CONFIG-EPOCH",  3, 0,  0, 0, AD},
    {"CLUSTER|SETSLOT",     -4, 0,  0, 0, AD},
    {"CLUSTER|SHARDS",       2, 0,  0, 0, 0},
    {"CLUSTER|SLAVES",       3, 0,  0, 0, AD},
    {"CLUSTER|SLOTS",        2, 0,  0, 0, 0},
    {"COMMAND",             -1, 0,  0, 0, SC},
    {"COMMAND|COUNT",        2, 0,  0, 0, 0},
    {"COMMAND|DOCS",        -2, 0,  0, 0, 0},
    {"COMMAND|GETKEYS",     -4, 0,  0, 0, 0},
    {"COMMAND|GETKEYSANDFLAGS", -4, 0,  0, 0, 0},
    {"COMMAND|HELP",         2, 0,  0, 0, 0},
    {"COMMAND|INFO",        -2, 0,  0, 0, 0},
    {"COMMAND|LIST",        -2, 0,  0, 0, 0},
    {"CONFIG",              -2, 0,  0, 0, SC},
    {"CONFIG|GET",          -3, 0,  0, 0, AD|NS},
    {"CONFIG|HELP",          2, 0,  0, 0, 0},
    {"CONFIG|RESETSTAT",     2, 0,  0, 0, AD|NS},
    {"CONFIG|REWRITE",       2, 0,  0, 0, AD|NS},
    {"CONFIG|SET",          -4, 0,  0, 0, AD|NS},
    {"COPY",                -3, 1,  2, 1, WR|DO},
    {"DBSIZE",               1, 0,  0, 0, RO|FA},
    {"DEBUG",               -2, 0,  0, 0, AD|NS},
    {"DECR",                 2, 1,  1, 1, WR|DO|FA},
    {"DECRBY",               3, 1,  1, 1, WR|DO|FA},
    {"DEL",                 -2, 1, -1, 1, WR},
    {"DISCARD",              1, 0,  0, 0, NS|FA|TX},
    {"DUMP",                 2, 1,  1, 1, RO},
    {"ECHO",                 2, 0,  0, 0, FA},
    {"EVAL",                -3, 0,  0, 0, NS|MK, NumKeysAt2},
    {"EVALSHA",             -3, 0,  0, 0, NS|MK, NumKeysAt2},
    {"EVALSHA_RO",          -3, 0,  0, 0, RO|NS|MK, NumKeysAt2},
    {"EVAL_RO",             -3, 0,  0, 0, RO|NS|MK, NumKeysAt2},
    {"EXEC",                 1, 0,  0, 0, NS|TX},
    {"EXISTS",              -2, 1, -1, 1, RO|FA},
    {"EXPIRE",              -3, 1,  1, 1, WR|FA},
    {"EXPIREAT",            -3, 1,  1, 1, WR|FA},
    {"EXPIRETIME",           2, 1,  1, 1, RO|FA},
    {"FAILOVER",            -1, 0,  0, 0, AD|NS},
    {"FCALL",               -3, 0,  0, 0, NS|MK, NumKeysAt2},
    {"FCALL_RO",            -3, 0,  0, 0, RO|NS|MK, NumKeysAt2},
    {"FLUSHALL",            -1, 0,  0, 0, WR},
    {"FLUSHDB",             -1, 0,  0, 0, WR},
    {"FUNCTION",            -2, 0,  0, 0, SC},
    {"FUNCTION|DELETE",      3, 0,  0, 0, WR|NS},
    {"FUNCTION|DUMP",        2, 0,  0, 0, NS},
    {"FUNCTION|FLUSH",      -2, 0,  0, 0, WR|NS},
    {"FUNCTION|HELP",        2, 0,  0, 0, 0},
    {"FUNCTION|KILL",        2, 0,  0, 0, NS},
    {"FUNCTION|LIST",       -2, 0,  0, 0, NS},
    {"FUNCTION|LOAD",       -3, 0,  0, 0, WR|DO|NS},
    {"FUNCTION|RESTORE",    -3, 0,  0, 0, WR|DO|NS},
    {"FUNCTION|STATS",       2, 0,  0, 0, NS},
    {"GEOADD",              -5, 1,  1, 1, WR|DO},
    {"GEODIST",             -4, 1,  1, 1, RO},
    {"GEOHASH",             -2, 1,  1, 1, RO},
    {"GEOPOS",              -2, 1,  1, 1, RO},
    {"GEORADIUS",           -6, 1,  1, 1, WR|DO|MK, GeoStore},
    {"GEORADIUSBYMEMBER",   -5, 1,  1, 1, WR|DO|MK, GeoStore},
    {"GEORADIUSBYMEMBER_RO", -5, 1,  1, 1, RO},
    {"GEORADIUS_RO",        -6, 1,  1, 1, RO},
    {"GEOSEARCH",           -7, 1,  1, 1, RO},
    {"GEOSEARCHSTORE",      -8, 1,  2, 1, WR|DO},
    {"GET",                  2, 1,  1, 1, RO|FA},
    {"GETBIT",               3, 1,  1, 1, RO|FA},
    {"GETDEL",               2, 1,  1, 1, WR|FA},
    {"GETEX",               -2, 1,  1, 1, WR|FA},
    {"GETRANGE",             4, 1,  1, 1, RO},
    {"GETSET",               3, 1,  1, 1, WR|DO|FA},
    {"HDEL",                -3, 1,  1, 1, WR|FA},
    {"HELLO",               -1, 0,  0, 0, NS|FA|CS},
    {"HEXISTS",              3, 1,  1, 1, RO|FA},
    {"HGET",                 3, 1,  1, 1, RO|FA},
    {"HGETALL",              2, 1,  1, 1, RO},
    {"HINCRBY",              4, 1,  1, 1, WR|DO|FA},
    {"HINCRBYFLOAT",         4, 1,  1, 1, WR|DO|FA},
    {"HKEYS",                2, 1,  1, 1, RO},
    {"HLEN",                 2, 1,  1, 1, RO|FA},
    {"HMGET",               -3, 1,  1, 1, RO|FA},
    {"HMSET",               -4, 1,  1, 1, WR|DO|FA},
    {"HRANDFIELD",          -2, 1,  1, 1, RO},
    {"HSCAN",               -3, 1,  1, 1, RO},
    {"HSET",                -4, 1,  1, 1, WR|DO|FA},
    {"HSETNX",               4, 1,  1, 1, WR|DO|FA},
    {"HSTRLEN",              3, 1,  1, 1, RO|FA},
    {"HVALS",                2, 1,  1, 1, RO},
    {"INCR",                 2, 1,  1, 1, WR|DO|FA},
    {"INCRBY",               3, 1,  1, 1, WR|DO|FA},
    {"INCRBYFLOAT",          3, 1,  1, 1, WR|DO|FA},
    {"INFO",                -1, 0,  0, 0, 0},
    {"KEYS",                 2, 0,  0, 0, RO},
    {"LASTSAVE",             1, 0,  0, 0, FA},
    {"LATENCY",             -2, 0,  0, 0, SC},
    {"LATENCY|DOCTOR",       2, 0,  0, 0, AD|NS},
    {"LATENCY|GRAPH",        3, 0,  0, 0, AD|NS},
    {"LATENCY|HELP",         2, 0,  0, 0, 0},
    {"LATENCY|HISTOGRAM",   -2, 0,  0, 0, AD|NS},
    {"LATENCY|HISTORY",      3, 0,  0, 0, AD|NS},
    {"LATENCY|LATEST",       2, 0,  0, 0, AD|NS},
    {"LATENCY|RESET",       -2, 0,  0, 0, AD|NS},
    {"LCS",                 -3, 1,  2, 1, RO},
    {"LINDEX",               3, 1,  1, 1, RO},
    {"LINSERT",              5, 1,  1, 1, WR|DO},
    {"LLEN",                 2, 1,  1, 1, RO|FA},
    {"LMOVE",                5, 1,  2, 1, WR|DO},
    {"LMPOP",               -4, 0,  0, 0, WR|MK, NumKeysAt1},
    {"LOLWUT",              -1, 0,  0, 0, RO|FA},
    {"LPOP",                -2, 1,  1, 1, WR|FA},
    {"LPOS",                -3, 1,  1, 1, RO},
    {"LPUSH",               -3, 1,  1, 1, WR|DO|FA},
    {"LPUSHX",              -3, 1,  1, 1, WR|DO|FA},
    {"LRANGE",               4, 1,  1, 1, RO},
    {"LREM",                 4, 1,  1, 1, WR},
    {"LSET",                 4, 1,  1, 1, WR|DO},
    {"LTRIM",                4, 1,  1, 1, WR},
    {"MEMORY",              -2, 0,  0, 0, SC},
    {"MEMORY|DOCTOR",        2, 0,  0, 0, 0},
    {"MEMORY|HELP",          2, 0,  0, 0, 0},
    {"MEMORY|MALLOC-STATS",  2, 0,  0, 0, 0},
    {"MEMORY|PURGE",         2, 0,  0, 0, 0},
    {"MEMORY|STATS",         2, 0,  0, 0, 0},
    {"MEMORY|USAGE",        -3, 2,  2, 1, RO},
    {"MGET",                -2, 1, -1, 1, RO|FA},
    {"MIGRATE",             -6, 3,  3, 1, WR|MK, Migrate},
    {"MODULE",              -2, 0,  0, 0, SC},
    {"MODULE|HELP",          2, 0,  0, 0, 0},
    {"MODULE|LIST",          2, 0,  0, 0, AD|NS},
    {"MODULE|LOAD",         -3, 0,  0, 0, AD|NS},
    {"MODULE|LOADEX",       -3, 0,  0, 0, AD|NS},
    {"MODULE|UNLOAD",        3, 0,  0, 0, AD|NS},
    {"MONITOR",              1, 0,  0, 0, AD|NS|CS},
    {"MOVE",                 3, 1,  1, 1, WR|FA},
    {"MSET",                -3, 1, -1, 2, WR|DO},
    {"MSETNX",              -3, 1, -1, 2, WR|DO},
    {"MULTI",                1, 0,  0, 0, NS|FA|TX},
    {"OBJECT",              -2, 0,  0, 0, SC},
    {"OBJECT|ENCODING",      3, 2,  2, 1, RO},
    {"OBJECT|FREQ",          3, 2,  2, 1, RO},
    {"OBJECT|HELP",          2, 0,  0, 0, 0},
    {"OBJECT|IDLETIME",      3, 2,  2, 1, RO},
    {"OBJECT|REFCOUNT",      3, 2,  2, 1, RO},
    {"PERSIST",              2, 1,  1, 1, WR|FA},
    {"PEXPIRE",             -3, 1,  1, 1, WR|FA},
    {"PEXPIREAT",           -3, 1,  1, 1, WR|FA},
    {"PEXPIRETIME",          2, 1,  1, 1, RO|FA},
    {"PFADD",               -2, 1,  1, 1, WR|DO|FA},
    {"PFCOUNT",             -2, 1, -1, 1, RO},
    {"PFDEBUG",              3, 2,  2, 1, WR|DO|AD},
    {"PFMERGE",             -2, 1, -1, 1, WR|DO},
    {"PFSELFTEST",           1, 0,  0, 0, AD},
    {"PING",                -1, 0,  0, 0, FA},
    {"PSETEX",               4, 1,  1, 1, WR|DO},
    {"PSUBSCRIBE",          -2, 0,  0, 0, PS|NS},
    {"PSYNC",               -3, 0,  0, 0, AD|NS},
    {"PTTL",                 2, 1,  1, 1, RO|FA},
    {"PUBLISH",              3, 0,  0, 0, PS|FA},
    {"PUBSUB",              -2, 0,  0, 0, SC},
    {"PUBSUB|CHANNELS",     -2, 0,  0, 0, PS},
    {"PUBSUB|HELP",          2, 0,  0, 0, 0},
    {"PUBSUB|NUMPAT",        2, 0,  0, 0, PS},
    {"PUBSUB|NUMSUB",       -2, 0,  0, 0, PS},
    {"PUBSUB|SHARDCHANNELS", -2, 0,  0, 0, PS},
    {"PUBSUB|SHARDNUMSUB",  -2, 0,  0, 0, PS},
    {"PUNSUBSCRIBE",        -1, 0,  0, 0, PS|NS},
    {"QUIT",                -1, 0,  0, 0, NS|FA|CS},
    {"RANDOMKEY",            1, 0,  0, 0, RO},
    {"READONLY",             1, 0,  0, 0, FA|CS},
    {"READWRITE",            1, 0,  0, 0, FA|CS},
    {"RENAME",               3, 1,  2, 1, WR},
    {"RENAMENX",             3, 1,  2, 1, WR|FA},
    {"REPLCONF",            -1, 0,  0, 0, AD|NS},
    {"REPLICAOF",            3, 0,  0, 0, AD|NS},
    {"RESET",                1, 0,  0, 0, NS|FA|CS},
    {"RESTORE",             -4, 1,  1, 1, WR|DO},
    {"RESTORE-ASKING",      -4, 1,  1, 1, WR|DO},
    {"ROLE",                 1, 0,  0, 0, NS|FA},
    {"RPOP",                -2, 1,  1, 1, WR|FA},
    {"RPOPLPUSH",            3, 1,  2, 1, WR|DO},
    {"RPUSH",               -3, 1,  1, 1, WR|DO|FA},
    {"RPUSHX",              -3, 1,  1, 1, WR|DO|FA},
    {"SADD",                -3, 1,  1, 1, WR|DO|FA},
    {"SAVE",                 1, 0,  0, 0, AD|NS},
    {"SCAN",                -2, 0,  0, 0, RO},
    {"SCARD",                2, 1,  1, 1, RO|FA},
    {"SCRIPT",              -2, 0,  0, 0, SC},
    {"SCRIPT|DEBUG",         3, 0,  0, 0, NS|CS},
    {"SCRIPT|EXISTS",       -3, 0,  0, 0, NS},
    {"SCRIPT|FLUSH",        -2, 0,  0, 0, NS},
    {"SCRIPT|HELP",          2, 0,  0, 0, 0},
    {"SCRIPT|KILL",          2, 0,  0, 0, NS},
    {"SCRIPT|LOAD",          3, 0,  0, 0, NS},
    {"SDIFF",               -2, 1, -1, 1, RO},
    {"SDIFFSTORE",          -3, 1, -1, 1, WR|DO},
    {"SELECT",               2, 0,  0, 0, FA|CS},
    {"SENTINEL",            -2, 0,  0, 0, AD|NS},
    {"SET",                 -3, 1,  1, 1, WR|DO},
    {"SETBIT",               4, 1,  1, 1, WR|DO},
    {"SETEX",                4, 1,  1, 1, WR|DO},
    {"SETNX",                3, 1,  1, 1, WR|DO|FA},
    {"SETRANGE",             4, 1,  1, 1, WR|DO},
    {"SHUTDOWN",            -1, 0,  0, 0, AD|NS},
    {"SINTER",              -2, 1, -1, 1, RO},
    {"SINTERCARD",          -3, 0,  0, 0, RO|MK, NumKeysAt1},
    {"SINTERSTORE",         -3, 1, -1, 1, WR|DO},
    {"SISMEMBER",            3, 1,  1, 1, RO|FA},
    {"SLAVEOF",              3, 0,  0, 0, AD|NS},
    {"SLOWLOG",             -2, 0,  0, 0, SC},
    {"SLOWLOG|GET",         -2, 0,  0, 0, AD},
    {"SLOWLOG|HELP",         2, 0,  0, 0, 0},
    {"SLOWLOG|LEN",          2, 0,  0, 0, AD},
    {"SLOWLOG|RESET",        2, 0,  0, 0, AD},
    {"SMEMBERS",             2, 1,  1, 1, RO},
    {"SMISMEMBER",          -3, 1,  1, 1, RO|FA},
    {"SMOVE",                4, 1,  2, 1, WR|FA},
    {"SORT",                -2, 1,  1, 1, WR|DO|MK, SortStore},
    {"SORT_RO",             -2, 1,  1, 1, RO|MK},
    {"SPOP",                -2, 1,  1, 1, WR|FA},
    {"SPUBLISH",             3, 1,  1, 1, PS|FA},
    {"SRANDMEMBER",         -2, 1,  1, 1, RO},
    {"SREM",                -3, 1,  1, 1, WR|FA},
    {"SSCAN",               -3, 1,  1, 1, RO},
    {"SSUBSCRIBE",          -2, 1, -1, 1, PS|NS},
    {"STRLEN",               2, 1,  1, 1, RO|FA},
    {"SUBSCRIBE",           -2, 0,  0, 0, PS|NS},
    {"SUBSTR",               4, 1,  1, 1, RO},
    {"SUNION",              -2, 1, -1, 1, RO},
    {"SUNIONSTORE",         -3, 1, -1, 1, WR|DO},
    {"SUNSUBSCRIBE",        -1, 1, -1, 1, PS|NS},
    {"SWAPDB",               3, 0,  0, 0, WR|FA},
    {"SYNC",                 1, 0,  0, 0, AD|NS},
    {"TIME",                 1, 0,  0, 0, FA},
    {"TOUCH",               -2, 1, -1, 1, RO|FA},
    {"TTL",                  2, 1,  1, 1, RO|FA},
    {"TYPE",                 2, 1,  1, 1, RO|FA},
    {"UNLINK",              -2, 1, -1, 1, WR|FA},
    {"UNSUBSCRIBE",         -1, 0,  0, 0, PS|NS},
    {"UNWATCH",              1, 0,  0, 0, NS|FA|TX},
    {"WAIT",                 3, 0,  0, 0, NS|BL|OW, Range, LastArgMs},
    {"WAITAOF",              4, 0,  0, 0, NS|BL|OW, Range, LastArgMs},
    {"WATCH",               -2, 1, -1, 1, NS|FA|TX},
    {"XACK",                -4, 1,  1, 1, WR|FA},
    {"XADD",                -5, 1,  1, 1, WR|DO|FA},
    {"XAUTOCLAIM",          -6, 1,  1, 1, WR|FA},
    {"XCLAIM",              -6, 1,  1, 1, WR|FA},
    {"XDEL",                -3, 1,  1, 1, WR|FA},
    {"XGROUP",              -2, 0,  0, 0, SC},
    {"XGROUP|CREATE",       -5, 2,  2, 1, WR|DO},
    {"XGROUP|CREATECONSUMER",  5, 2,  2, 1, WR|DO},
    {"XGROUP|DELCONSUMER",   5, 2,  2, 1, WR},
    {"XGROUP|DESTROY",       4, 2,  2, 1, WR},
    {"XGROUP|HELP",          2, 0,  0, 0, 0},
    {"XGROUP|SETID",        -5, 2,  2, 1, WR},
    {"XINFO",               -2, 0,  0, 0, SC},
    {"XINFO|CONSUMERS",      4, 2,  2, 1, RO},
    {"XINFO|GROUPS",         3, 2,  2, 1, RO},
    {"XINFO|HELP",           2, 0,  0, 0, 0},
    {"XINFO|STREAM",        -3, 2,  2, 1, RO},
    {"XLEN",                 2, 1,  1, 1, RO|FA},
    {"XPENDING",            -3, 1,  1, 1, RO},
    {"XRANGE",              -4, 1,  1, 1, RO},
    {"XREAD",               -4, 0,  0, 0, RO|BL|MK, Streams, BlockOption},
    {"XREADGROUP",          -7, 0,  0, 0, WR|BL|MK, Streams, BlockOption},
    {"XREVRANGE",           -4, 1,  1, 1, RO},
    {"XSETID",              -3, 1,  1, 1, WR|DO|FA},
    {"XTRIM",               -4, 1,  1, 1, WR},
    {"ZADD",                -4, 1,  1, 1, WR|DO|FA},
    {"ZCARD",                2, 1,  1, 1, RO|FA},
    {"ZCOUNT",               4, 1,  1, 1, RO|FA},
    {"ZDIFF",               -3, 0,  0, 0, RO|MK, NumKeysAt1},
    {"ZDIFFSTORE",          -4, 1,  1, 1, WR|DO|MK, DestNumKeys},
    {"ZINCRBY",              4, 1,  1, 1, WR|DO|FA},
    {"ZINTER",              -3, 0,  0, 0, RO|MK, NumKeysAt1},
    {"ZINTERCARD",          -3, 0,  0, 0, RO|MK, NumKeysAt1},
    {"ZINTERSTORE",         -4, 1,  1, 1, WR|DO|MK, DestNumKeys},
    {"ZLEXCOUNT",            4, 1,  1, 1, RO|FA},
    {"ZMPOP",               -4, 0,  0, 0, WR|MK, NumKeysAt1},
    {"ZMSCORE",             -3, 1,  1, 1, RO|FA},
    {"ZPOPMAX",             -2, 1,  1, 1, WR|FA},
    {"ZPOPMIN",             -2, 1,  1, 1, WR|FA},
    {"ZRANDMEMBER",         -2, 1,  1, 1, RO},
    {"ZRANGE",              -4, 1,  1, 1, RO},
    {"ZRANGEBYLEX",         -4, 1,  1, 1, RO},
    {"ZRANGEBYSCORE",       -4, 1,  1, 1, RO},
    {"ZRANGESTORE",         -5, 1,  2, 1, WR|DO},
    {"ZRANK",                3, 1,  1, 1, RO|FA},
    {"ZREM",                -3, 1,  1, 1, WR|FA},
    {"ZREMRANGEBYLEX",       4, 1,  1, 1, WR},
    {"ZREMRANGEBYRANK",      4, 1,  1, 1, WR},
    {"ZREMRANGEBYSCORE",     4, 1,  1, 1, WR},
    {"ZREVRANGE",           -4, 1,  1, 1, RO},
    {"ZREVRANGEBYLEX",      -4, 1,  1, 1, RO},
    {"ZREVRANGEBYSCORE",    -4, 1,  1, 1, RO},
    {"ZREVRANK",             3, 1,  1, 1, RO|FA},
    {"ZSCAN",               -3, 1,  1, 1, RO},
    {"ZSCORE",               3, 1,  1, 1, RO|FA},
    {"ZUNION",              -3, 0,  0, 0, RO|MK, NumKeysAt1},
    {"ZUNIONSTORE",         -4, 1,  1, 1, WR|DO|MK, DestNumKeys},
};

constexpr bool table_is_sound() {
  for (std::size_t i = 0; i < std::size(kCommands); ++i) {
    const CommandInfo& c = kCommands[i];
    if (i > 0 && !(kCommands[i - 1].name < c.name)) return false;  // sorted, no duplicates
    for (const char ch : c.name)
      if (ch >= 'a' && ch <= 'z') return false;  // lookup folds the query to upper case only
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
