// The cluster routing table (cluster/command_route.hpp): where each command goes, how fan-out
// replies merge, and which commands a cluster refuses.
#include <catch2/catch.hpp>

#include <fibredis/cluster/command_route.hpp>
#include <fibredis/resp/command_info.hpp>

#include <string_view>

using fibredis::CommandRoute;
using fibredis::lookup_command;
using fibredis::MergePolicy;
using fibredis::RoutePolicy;

namespace {

CommandRoute route(std::string_view name, std::string_view sub = {}) {
  const fibredis::CommandInfo* i = lookup_command(name, sub);
  REQUIRE(i != nullptr);
  return fibredis::command_route(i);
}

}  // namespace

TEST_CASE("routing rules", "[command_route]") {
  using P = RoutePolicy;
  using M = MergePolicy;
  struct Rule {
    std::string_view cmd, sub;
    P policy;
    M merge;
  };
  const Rule rules[] = {
      {"PING", {}, P::AllNodes, M::PerNode},
      {"ECHO", {}, P::AllNodes, M::PerNode},
      {"INFO", {}, P::AllNodes, M::PerNode},
      {"TIME", {}, P::AllNodes, M::PerNode},
      {"LASTSAVE", {}, P::AllNodes, M::PerNode},
      {"SAVE", {}, P::AllNodes, M::PerNode},
      {"BGSAVE", {}, P::AllNodes, M::PerNode},
      {"BGREWRITEAOF", {}, P::AllNodes, M::PerNode},
      {"CONFIG", "GET", P::AllNodes, M::PerNode},
      {"CONFIG", "SET", P::AllNodes, M::PerNode},
      {"CONFIG", "RESETSTAT", P::AllNodes, M::PerNode},
      {"CONFIG", "REWRITE", P::AllNodes, M::PerNode},
      {"CLIENT", "LIST", P::AllNodes, M::PerNode},
      {"CLIENT", "GETNAME", P::AllNodes, M::PerNode},
      {"CLIENT", "SETNAME", P::AllNodes, M::PerNode},
      {"CLIENT", "KILL", P::AllNodes, M::PerNode},
      {"CLIENT", "ID", P::AllNodes, M::PerNode},
      {"CLIENT", "INFO", P::AllNodes, M::PerNode},
      {"SLOWLOG", "GET", P::AllNodes, M::PerNode},
      {"SLOWLOG", "LEN", P::AllNodes, M::PerNode},
      {"SLOWLOG", "RESET", P::AllNodes, M::PerNode},
      {"MEMORY", "STATS", P::AllNodes, M::PerNode},
      {"MEMORY", "DOCTOR", P::AllNodes, M::PerNode},
      {"MEMORY", "MALLOC-STATS", P::AllNodes, M::PerNode},
      {"MEMORY", "PURGE", P::AllNodes, M::PerNode},
      {"LATENCY", "DOCTOR", P::AllNodes, M::PerNode},
      {"LATENCY", "GRAPH", P::AllNodes, M::PerNode},
      {"LATENCY", "HISTOGRAM", P::AllNodes, M::PerNode},
      {"LATENCY", "HISTORY", P::AllNodes, M::PerNode},
      {"LATENCY", "LATEST", P::AllNodes, M::PerNode},
      {"LATENCY", "RESET", P::AllNodes, M::PerNode},
      {"DBSIZE", {}, P::AllPrimaries, M::Sum},
      {"KEYS", {}, P::AllPrimaries, M::Concat},
      {"FLUSHALL", {}, P::AllPrimaries, M::AllOk},
      {"FLUSHDB", {}, P::AllPrimaries, M::AllOk},
      {"SCAN", {}, P::AllPrimaries, M::PerNode},
      {"RANDOMKEY", {}, P::RandomPrimary, M::PerNode},
      {"PUBLISH", {}, P::ByChannel, M::PerNode},
      {"SPUBLISH", {}, P::ByChannel, M::PerNode},
      {"SUBSCRIBE", {}, P::ByChannel, M::PerNode},
      {"SSUBSCRIBE", {}, P::ByChannel, M::PerNode},
      {"PUBSUB", "CHANNELS", P::AllNodes, M::ConcatUnique},
      {"PUBSUB", "NUMSUB", P::AllNodes, M::PerNode},
      {"PUBSUB", "NUMPAT", P::AllNodes, M::Sum},
      {"PUBSUB", "SHARDCHANNELS", P::AllPrimaries, M::Concat},
      {"PUBSUB", "SHARDNUMSUB", P::AllPrimaries, M::PerNode},
      {"EVAL", {}, P::ByKey, M::PerNode},
      {"EVALSHA", {}, P::ByKey, M::PerNode},
      {"FCALL", {}, P::ByKey, M::PerNode},
      // Deliberately all nodes (redis-py: primaries): Redis 7 does not replicate the script
      // cache, and EVALSHA_RO may run on a replica.
      {"SCRIPT", "LOAD", P::AllNodes, M::First},
      {"SCRIPT", "FLUSH", P::AllNodes, M::AllOk},
      {"SCRIPT", "EXISTS", P::AllPrimaries, M::AllTrue},
      {"SCRIPT", "KILL", P::AllPrimaries, M::PerNode},
      {"FUNCTION", "LOAD", P::AllPrimaries, M::First},
      {"FUNCTION", "DELETE", P::AllPrimaries, M::AllOk},
      {"FUNCTION", "FLUSH", P::AllPrimaries, M::AllOk},
      {"FUNCTION", "RESTORE", P::AllPrimaries, M::AllOk},
      {"FUNCTION", "DUMP", P::RandomNode, M::PerNode},
      {"CLUSTER", "COUNTKEYSINSLOT", P::BySlotArg, M::PerNode},
      {"CLUSTER", "GETKEYSINSLOT", P::BySlotArg, M::PerNode},
      {"CLUSTER", "SETSLOT", P::DefaultNode, M::PerNode},
      {"CLUSTER", "KEYSLOT", P::DefaultNode, M::PerNode},
      {"CLUSTER", "INFO", P::DefaultNode, M::PerNode},
      {"CLUSTER", "NODES", P::DefaultNode, M::PerNode},
      {"CLUSTER", "SLOTS", P::DefaultNode, M::PerNode},
      {"CLUSTER", "SHARDS", P::DefaultNode, M::PerNode},
      {"CLUSTER", "MYID", P::DefaultNode, M::PerNode},
      // Everything else with keys goes by key, keyless to the default node.
      {"GET", {}, P::ByKey, M::PerNode},
      {"HSET", {}, P::ByKey, M::PerNode},
      {"XREAD", {}, P::ByKey, M::PerNode},
      {"BLPOP", {}, P::ByKey, M::PerNode},
      {"OBJECT", "ENCODING", P::ByKey, M::PerNode},
      {"MEMORY", "USAGE", P::ByKey, M::PerNode},
      {"LOLWUT", {}, P::DefaultNode, M::PerNode},
      {"ROLE", {}, P::DefaultNode, M::PerNode},
      {"COMMAND", "DOCS", P::DefaultNode, M::PerNode},
      {"DEBUG", {}, P::DefaultNode, M::PerNode},
      {"COMMAND", {}, P::DefaultNode, M::PerNode},
  };
  for (const Rule& r : rules) {
    INFO(r.cmd << ' ' << r.sub);
    const CommandRoute i = route(r.cmd, r.sub);
    CHECK(i.policy == r.policy);
    CHECK(i.merge == r.merge);
    CHECK(i.blocked_reason.empty());
  }
}

TEST_CASE("commands refused in cluster mode say why", "[command_route]") {
  struct Block {
    std::string_view cmd, sub, reason_part;
  };
  const Block blocks[] = {
      {"MOVE", {}, "db 0"},
      {"SELECT", {}, "cluster mode only supports db 0"},
      {"SWAPDB", {}, "db 0"},
      {"REPLICAOF", {}, "CLUSTER REPLICATE"},
      {"SLAVEOF", {}, "CLUSTER REPLICATE"},
      {"SHUTDOWN", {}, "single-node Client"},
      {"SENTINEL", {}, "Sentinel"},
      {"MONITOR", {}, "single-node Client"},
      {"WATCH", {}, "rc.pipeline(/*transaction=*/true)"},
      {"MULTI", {}, "rc.pipeline(/*transaction=*/true)"},
      {"EXEC", {}, "rc.pipeline(/*transaction=*/true)"},
      {"DISCARD", {}, "rc.pipeline(/*transaction=*/true)"},
      {"UNWATCH", {}, "rc.pipeline(/*transaction=*/true)"},
      {"READONLY", {}, "read_from_replicas"},
      {"READWRITE", {}, "read_from_replicas"},
      {"ASKING", {}, "ASK"},
      {"AUTH", {}, "options"},
      {"HELLO", {}, "RESP2"},
      {"QUIT", {}, "shares"},
      {"RESET", {}, "shares"},
      {"FAILOVER", {}, "CLUSTER FAILOVER"},
      {"PSYNC", {}, "replication protocol"},
      {"SYNC", {}, "replication protocol"},
      {"CLIENT", "REPLY", "desynchronise"},
      {"SCRIPT", "DEBUG", "debugger"},
      // Refused as lone calls by both clients (client/wait_batch.hpp): pipelines carry them.
      {"WAIT", {}, "end of a pipeline"},
      {"WAITAOF", {}, "end of a pipeline"},
  };
  for (const Block& b : blocks) {
    INFO(b.cmd << ' ' << b.sub);
    const CommandRoute i = route(b.cmd, b.sub);
    CHECK(i.policy == RoutePolicy::Blocked);
    CHECK(i.blocked_reason.find(b.reason_part) != std::string_view::npos);
  }
}

TEST_CASE("every routing row names a command of the command table", "[command_route]") {
  for (const CommandRoute& r : fibredis::routing_table()) {
    INFO(r.name);
    const std::size_t bar = r.name.find('|');
    const fibredis::CommandInfo* i =
        bar == std::string_view::npos ? lookup_command(r.name) : lookup_command(r.name.substr(0, bar), r.name.substr(bar + 1));
    REQUIRE(i != nullptr);
    CHECK(i->name == r.name);
    CHECK(fibredis::command_route(i).policy == r.policy);
  }
  CHECK(fibredis::routing_table().size() > 90);
}

TEST_CASE("an unknown command is routed by key", "[command_route]") {
  const CommandRoute r = fibredis::command_route(nullptr);
  CHECK(r.policy == RoutePolicy::ByKey);
  CHECK(r.merge == MergePolicy::PerNode);
  CHECK(r.blocked_reason.empty());
}
