// The routing table: everything fibredis knows about a command by its name, in one place.
//
// Per command (and per subcommand of the container commands: CONFIG GET, CLUSTER SLOTS, ...):
// arity and key positions as the server's COMMAND reply states them, the flags the client acts
// on (read-only → may go to a replica, blocking → exclusive connection and a longer deadline,
// pub/sub, transaction). Where a cluster client sends a command and how fanned-out replies merge
// is the cluster layer's (cluster/command_route.hpp), so that resp/ knows nothing of clusters.
// Lookup is case-insensitive, allocation-free and a binary search over a sorted static table,
// because it runs on every cluster call.
//
#pragma once

#include <fibredis/resp/command.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace fibredis {

/// CommandInfo::flags bits. The first nine mirror the flags of COMMAND's reply.
enum CommandFlag : std::uint32_t {
  kReadOnly = 1U << 0,     ///< COMMAND "readonly": may be served by a replica (READONLY conn)
  kWrite = 1U << 1,        ///< COMMAND "write"
  kBlocking = 1U << 2,     ///< may hold its connection: see blocking_timeout() (COMMAND's
                           ///< "blocking", plus WAIT and WAITAOF, which the server also holds)
  kPubSub = 1U << 3,       ///< COMMAND "pubsub": publishing or (un)subscribing
  kMovableKeys = 1U << 4,  ///< COMMAND "movablekeys": keys found by parsing the arguments
  kAdmin = 1U << 5,        ///< COMMAND "admin"
  kNoScript = 1U << 6,     ///< COMMAND "noscript": not allowed inside Lua
  kDenyOom = 1U << 7,      ///< COMMAND "denyoom": refused when the server is out of memory
  kFast = 1U << 8,         ///< COMMAND "fast": O(1) or O(log N)
  kTransaction = 1U << 9,  ///< MULTI, EXEC, DISCARD, WATCH, UNWATCH
  /// Reads or changes per-connection state (AUTH, SELECT, CLIENT SETNAME/ID/TRACKING, MONITOR,
  /// ...): the answer or the effect belongs to whichever connection carried it.
  kConnectionState = 1U << 10,
  kHasSubcommands = 1U << 11,  ///< a container (CONFIG, CLIENT, ...): look up arg 1 as well
  /// Answers about the writes its own connection carried before it (WAIT, WAITAOF): true only
  /// after those writes on the same connection, so the client accepts it only inside a batch
  /// (client/wait_batch.hpp) and refuses it as a lone call.
  kOwnWrites = 1U << 12,
};

/// How key_positions() finds the keys of a command whose keys are not a fixed range.
enum class KeyRule : std::uint8_t {
  Range,        ///< first_key..last_key by step (the COMMAND triple)
  NumKeysAt1,   ///< numkeys at arg 1, keys follow (ZUNION, ZINTER, ZDIFF, *INTERCARD, LMPOP, ZMPOP)
  NumKeysAt2,   ///< numkeys at arg 2, keys follow (EVAL*, FCALL*, BLMPOP, BZMPOP)
  DestNumKeys,  ///< destination at arg 1, numkeys at arg 2, keys follow (Z*STORE)
  Streams,      ///< the first half of the arguments after STREAMS (XREAD, XREADGROUP)
  Migrate,      ///< arg 3, or when it is "" the arguments after KEYS
  SortStore,    ///< arg 1 and the STORE destination (BY/GET patterns are not routed keys)
  GeoStore,     ///< arg 1 and the STORE/STOREDIST destination (GEORADIUS[BYMEMBER])
};

/// How blocking_timeout() finds how long the server may hold a command.
enum class TimeoutRule : std::uint8_t {
  NoTimeout,       ///< not a blocking command
  LastArgSeconds,  ///< last argument, seconds, may be fractional (BLPOP, BRPOP, BLMOVE, ...)
  Arg1Seconds,     ///< argument 1, seconds, may be fractional (BLMPOP, BZMPOP)
  BlockOption,     ///< the BLOCK option in ms; not blocking without it (XREAD, XREADGROUP)
  LastArgMs,       ///< last argument, integer ms (WAIT, WAITAOF)
};

struct CommandInfo {
  std::string_view name;  ///< upper case: "GET", or "CONFIG|GET" for a subcommand
  int arity;              ///< as COMMAND reports: exact argument count, negative = at least -arity
  int first_key;          ///< as COMMAND: 0 = no key at a fixed position
  int last_key;           ///< as COMMAND: -1 = last argument, -2 = second to last
  int step;               ///< as COMMAND: distance between keys (2 for MSET)
  std::uint32_t flags;    ///< CommandFlag bits
  KeyRule key_rule = KeyRule::Range;
  TimeoutRule timeout_rule = TimeoutRule::NoTimeout;

  constexpr bool has(CommandFlag f) const noexcept { return (flags & f) != 0; }
};

/// Case-insensitive lookup of cmd[0], descending into container commands (CONFIG, CLIENT,
/// CLUSTER, SCRIPT, SLOWLOG, OBJECT, MEMORY, XINFO, XGROUP, FUNCTION, COMMAND, PUBSUB, ACL,
/// MODULE, LATENCY) by cmd[1]. A container without a subcommand, or with one the table does not
/// know, resolves to the container's own row (keyless, default node), so "CONFIG FOO" reaches a
/// server that explains the mistake. DEBUG has no subcommand table in Redis 7.0: any DEBUG
/// resolves to DEBUG. nullptr when the command name is unknown (a module command, a newer
/// server's command). Never allocates.
const CommandInfo* lookup_command(const Command& cmd) noexcept;
const CommandInfo* lookup_command(std::string_view name, std::string_view subcommand = {}) noexcept;

/// Replaces `out` with the indices (into cmd) of the key arguments, in argument order: the
/// COMMAND range for most commands, and for movable keys the parse each KeyRule describes
/// (agrees with the server's COMMAND GETKEYS). Keys behind a malformed count or option list (a
/// numkeys that is not a number or exceeds the arguments, XREAD keys and ids unbalanced) are
/// left out: the server rejects such a command wherever it goes. An unknown command is assumed
/// to take its key at argument 1 when there is one (true of nearly all module data commands).
/// Classic pub/sub channels are not keys; shard channels (SPUBLISH, SSUBSCRIBE, SUNSUBSCRIBE)
/// are listed, as COMMAND's key range lists them and the server checks their slots like keys'.
/// Reuses out's capacity; allocates only when it must grow.
void key_positions(const Command& cmd, std::vector<std::size_t>& out);

/// For commands the server may hold: how long, rounded up to whole milliseconds; zero means
/// forever. BLPOP/BRPOP/BRPOPLPUSH/BLMOVE/BZPOPMIN/BZPOPMAX (last argument, seconds, may be
/// fractional), BLMPOP/BZMPOP (argument 1, seconds), XREAD/XREADGROUP with BLOCK (ms), WAIT and
/// WAITAOF (last argument, ms). std::nullopt for everything else, for XREAD without BLOCK, and
/// for a timeout the server would refuse (not a number, negative, out of range).
std::optional<std::chrono::milliseconds> blocking_timeout(const Command& cmd) noexcept;

}  // namespace fibredis
