// The routing table: lookup, key extraction, blocking timeouts, and the routing rules the
// cluster client relies on.
#include <catch2/catch.hpp>

#include <fibredis/resp/command.hpp>
#include <fibredis/resp/command_info.hpp>

#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;
using fibredis::Command;
using fibredis::CommandInfo;
using fibredis::lookup_command;
using V = std::vector<std::size_t>;

namespace {

V keys(std::initializer_list<std::string_view> args) {
  V out{99, 98};  // stale contents must go
  fibredis::key_positions(Command(args), out);
  return out;
}

std::optional<long long> timeout_ms(std::initializer_list<std::string_view> args) {
  const auto t = fibredis::blocking_timeout(Command(args));
  if (!t) return std::nullopt;
  return t->count();
}

const CommandInfo& info(std::string_view name, std::string_view sub = {}) {
  const CommandInfo* i = lookup_command(name, sub);
  REQUIRE(i != nullptr);
  return *i;
}

}  // namespace

TEST_CASE("lookup is case-insensitive and exact", "[command_info]") {
  const CommandInfo* get = lookup_command("GET");
  REQUIRE(get != nullptr);
  CHECK(get->name == "GET");
  CHECK(lookup_command("get") == get);
  CHECK(lookup_command("gEt") == get);
  CHECK(lookup_command(Command{"Get", "k"}) == get);
  CHECK(get->arity == 2);
  CHECK(get->first_key == 1);
  CHECK(get->last_key == 1);
  CHECK(get->step == 1);

  CHECK(lookup_command("GE") == nullptr);
  CHECK(lookup_command("GETX") == nullptr);
  CHECK(lookup_command("NOSUCHCOMMAND") == nullptr);
  CHECK(lookup_command("") == nullptr);
  CHECK(lookup_command(Command{}) == nullptr);
  CHECK(lookup_command(std::string_view("G\0T", 3)) == nullptr);
  CHECK(lookup_command("get ") == nullptr);
  CHECK(lookup_command("a-very-long-name-that-no-command-has-at-all") == nullptr);

  // Names with '_' and '-' sort around the letters; each must still be found.
  CHECK(info("eval_ro").name == "EVAL_RO");
  CHECK(info("evalsha_ro").name == "EVALSHA_RO");
  CHECK(info("EVALSHA").name == "EVALSHA");
  CHECK(info("restore-asking").name == "RESTORE-ASKING");
  CHECK(info("georadius_ro").name == "GEORADIUS_RO");
  CHECK(info("zunionstore").name == "ZUNIONSTORE");
  CHECK(info("waitaof").name == "WAITAOF");
  // A plain command ignores what follows it.
  CHECK(lookup_command("get", "config") == get);
}

TEST_CASE("lookup descends into container commands", "[command_info]") {
  struct Case {
    std::string_view cmd, sub, expect;
  };
  const Case cases[] = {
      {"config", "get", "CONFIG|GET"},          {"CLIENT", "setname", "CLIENT|SETNAME"},
      {"cluster", "SLOTS", "CLUSTER|SLOTS"},    {"script", "load", "SCRIPT|LOAD"},
      {"slowlog", "get", "SLOWLOG|GET"},        {"object", "encoding", "OBJECT|ENCODING"},
      {"memory", "usage", "MEMORY|USAGE"},      {"xinfo", "stream", "XINFO|STREAM"},
      {"xgroup", "create", "XGROUP|CREATE"},    {"function", "load", "FUNCTION|LOAD"},
      {"command", "docs", "COMMAND|DOCS"},      {"pubsub", "numsub", "PUBSUB|NUMSUB"},
      {"acl", "setuser", "ACL|SETUSER"},        {"module", "list", "MODULE|LIST"},
      {"latency", "latest", "LATENCY|LATEST"},  {"memory", "malloc-stats", "MEMORY|MALLOC-STATS"},
      {"cluster", "count-failure-reports", "CLUSTER|COUNT-FAILURE-REPORTS"},
  };
  for (const Case& c : cases) {
    INFO(c.cmd << ' ' << c.sub);
    CHECK(info(c.cmd, c.sub).name == c.expect);
    CHECK(lookup_command(Command{c.cmd, c.sub, "x"})->name == c.expect);
  }
  // The container itself, alone or with a subcommand the table does not know.
  CHECK(info("config").name == "CONFIG");
  CHECK(info("config").has(fibredis::kHasSubcommands));
  CHECK(info("CONFIG", "nosuch").name == "CONFIG");
  CHECK(info("CONFIG", "ge").name == "CONFIG");
  CHECK(info("CONFIG", "").name == "CONFIG");
  CHECK(info("COMMAND").name == "COMMAND");
  // DEBUG has no subcommand table in Redis 7.0.
  CHECK(info("debug", "sleep").name == "DEBUG");
  CHECK(lookup_command(Command{"DEBUG", "OBJECT", "k"})->name == "DEBUG");
}

TEST_CASE("key positions of fixed-range commands", "[command_info]") {
  CHECK(keys({"GET", "k"}) == V{1});
  CHECK(keys({"GET"}).empty());
  CHECK(keys({"set", "k", "v", "EX", "10"}) == V{1});
  CHECK(keys({"DEL", "a", "b", "c"}) == V{1, 2, 3});
  CHECK(keys({"MSET", "a", "1", "b", "2"}) == V{1, 3});
  CHECK(keys({"MGET", "a", "b"}) == V{1, 2});
  CHECK(keys({"BLPOP", "a", "b", "0"}) == V{1, 2});
  CHECK(keys({"BRPOPLPUSH", "src", "dst", "0"}) == V{1, 2});
  CHECK(keys({"BITOP", "AND", "dst", "a", "b"}) == V{2, 3, 4});
  CHECK(keys({"PING"}).empty());
  CHECK(keys({"LOLWUT", "VERSION", "5"}).empty());
  // Subcommands with their key at argument 2.
  CHECK(keys({"OBJECT", "ENCODING", "k"}) == V{2});
  CHECK(keys({"object", "freq", "k"}) == V{2});
  CHECK(keys({"MEMORY", "USAGE", "k", "SAMPLES", "5"}) == V{2});
  CHECK(keys({"XINFO", "STREAM", "s", "FULL"}) == V{2});
  CHECK(keys({"XGROUP", "CREATE", "s", "g", "$"}) == V{2});
  CHECK(keys({"CONFIG", "GET", "maxmemory"}).empty());
  CHECK(keys({"CONFIG", "NOSUCH", "x"}).empty());
  // Pub/sub: classic channels are not keys; shard channels are, to the server.
  CHECK(keys({"PUBLISH", "ch", "msg"}).empty());
  CHECK(keys({"SPUBLISH", "ch", "msg"}) == V{1});
  CHECK(keys({"SSUBSCRIBE", "a", "b"}) == V{1, 2});
  // Unknown commands: argument 1, documented.
  CHECK(keys({"JSON.GET", "doc", "$"}) == V{1});
  CHECK(keys({"NOSUCH"}).empty());
}

TEST_CASE("key positions: numkeys forms", "[command_info]") {
  for (std::string_view c : {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"}) {
    INFO(c);
    CHECK(keys({c, "body", "2", "k1", "k2", "arg"}) == V{3, 4});
    CHECK(keys({c, "body", "0", "arg"}).empty());
    CHECK(keys({c, "body", "3", "k1", "k2"}).empty());  // more keys than arguments
    CHECK(keys({c, "body", "x", "k1"}).empty());
    CHECK(keys({c, "body", "-1", "k1"}).empty());
    CHECK(keys({c, "body"}).empty());
  }
  for (std::string_view c : {"ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"}) {
    INFO(c);
    CHECK(keys({c, "dst", "2", "a", "b", "WEIGHTS", "1", "2"}) == V{1, 3, 4});
    CHECK(keys({c, "dst", "9", "a"}) == V{1});
  }
  for (std::string_view c : {"ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD", "SINTERCARD"}) {
    INFO(c);
    CHECK(keys({c, "2", "a", "b", "WITHSCORES"}) == V{2, 3});
    CHECK(keys({c, "1", "a"}) == V{2});
  }
  CHECK(keys({"LMPOP", "2", "a", "b", "LEFT", "COUNT", "3"}) == V{2, 3});
  CHECK(keys({"ZMPOP", "1", "z", "MIN"}) == V{2});
  CHECK(keys({"BLMPOP", "0.5", "2", "a", "b", "RIGHT"}) == V{3, 4});
  CHECK(keys({"BZMPOP", "1", "1", "z", "MAX", "COUNT", "2"}) == V{3});
}

TEST_CASE("key positions: streams", "[command_info]") {
  CHECK(keys({"XREAD", "STREAMS", "a", "b", "0", "0"}) == V{2, 3});
  CHECK(keys({"xread", "count", "10", "block", "0", "streams", "a", "$"}) == V{6});
  CHECK(keys({"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "BLOCK", "100", "NOACK", "STREAMS",
              "s1", "s2", ">", ">"}) == V{10, 11});
  // A group or consumer called STREAMS is not the STREAMS keyword.
  CHECK(keys({"XREADGROUP", "GROUP", "STREAMS", "STREAMS", "STREAMS", "s", ">"}) == V{5});
  // Malformed: keys and ids unbalanced, no STREAMS, unknown option.
  CHECK(keys({"XREAD", "STREAMS", "a", "b", "0"}).empty());
  CHECK(keys({"XREAD", "STREAMS"}).empty());
  CHECK(keys({"XREAD", "COUNT", "1", "a", "0"}).empty());
}

TEST_CASE("key positions: MIGRATE, SORT, GEORADIUS", "[command_info]") {
  CHECK(keys({"MIGRATE", "h", "6379", "k", "0", "5000"}) == V{3});
  CHECK(keys({"MIGRATE", "h", "6379", "k", "0", "5000", "COPY", "REPLACE"}) == V{3});
  CHECK(keys({"MIGRATE", "h", "6379", "", "0", "5000", "KEYS", "a", "b"}) == V{7, 8});
  CHECK(keys({"MIGRATE", "h", "6379", "", "0", "5000", "COPY", "AUTH", "KEYS", "keys", "a"}) ==
        V{10});
  CHECK(keys({"MIGRATE", "h", "6379", "", "0", "5000", "AUTH2", "keys", "KEYS", "KEYS", "a"}) ==
        V{10});
  CHECK(keys({"MIGRATE", "h", "6379", "", "0", "5000"}).empty());

  CHECK(keys({"SORT", "k"}) == V{1});
  CHECK(keys({"SORT", "k", "BY", "w_*", "GET", "#", "GET", "o_*", "LIMIT", "0", "10", "ALPHA"}) ==
        V{1});
  CHECK(keys({"SORT", "k", "DESC", "STORE", "dst"}) == V{1, 4});
  CHECK(keys({"sort", "k", "by", "store", "get", "store", "store", "dst"}) == V{1, 7});
  CHECK(keys({"SORT", "k", "STORE", "d1", "STORE", "d2"}) == V{1, 5});  // the last one wins
  CHECK(keys({"SORT", "k", "STORE"}) == V{1});
  CHECK(keys({"SORT_RO", "k", "BY", "w_*", "GET", "o_*"}) == V{1});

  CHECK(keys({"GEORADIUS", "g", "15", "37", "200", "km"}) == V{1});
  CHECK(keys({"GEORADIUS", "g", "15", "37", "200", "km", "WITHDIST", "STORE", "dst"}) == V{1, 8});
  CHECK(keys({"GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "5", "STOREDIST", "d"}) ==
        V{1, 9});
  CHECK(keys({"GEORADIUSBYMEMBER", "g", "m", "100", "km", "STORE", "dst"}) == V{1, 6});
  CHECK(keys({"georadiusbymember", "g", "store", "100", "km", "storedist", "d"}) == V{1, 6});
  CHECK(keys({"GEORADIUS_RO", "g", "15", "37", "200", "km", "WITHDIST"}) == V{1});
}

TEST_CASE("blocking timeouts", "[command_info]") {
  CHECK(timeout_ms({"BLPOP", "a", "b", "0"}) == 0);
  CHECK(timeout_ms({"BLPOP", "a", "1.5"}) == 1500);
  CHECK(timeout_ms({"BRPOP", "a", "2"}) == 2000);
  CHECK(timeout_ms({"BRPOPLPUSH", "s", "d", "0.25"}) == 250);
  CHECK(timeout_ms({"BLMOVE", "s", "d", "LEFT", "RIGHT", "3"}) == 3000);
  CHECK(timeout_ms({"BZPOPMIN", "z", "0.001"}) == 1);
  CHECK(timeout_ms({"BZPOPMAX", "z1", "z2", "10"}) == 10000);
  CHECK(timeout_ms({"BLMPOP", "0.1", "1", "l", "LEFT"}) == 100);
  CHECK(timeout_ms({"BZMPOP", "7", "2", "a", "b", "MIN", "COUNT", "1"}) == 7000);
  CHECK(timeout_ms({"XREAD", "BLOCK", "500", "STREAMS", "s", "$"}) == 500);
  CHECK(timeout_ms({"xread", "count", "1", "block", "0", "streams", "s", "$"}) == 0);
  CHECK(timeout_ms({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "250", "STREAMS", "s", ">"}) == 250);
  CHECK(timeout_ms({"WAIT", "1", "250"}) == 250);
  CHECK(timeout_ms({"WAITAOF", "1", "0", "100"}) == 100);
  CHECK(timeout_ms({"blpop", "a", "+2.5"}) == 2500);
  CHECK(timeout_ms({"BLPOP", "a", "1e1"}) == 10000);
  // The server truncates seconds to ms, so a sub-millisecond timeout means "forever" to it.
  CHECK(timeout_ms({"BLPOP", "a", "0.0004"}) == 0);

  // Not blocking at all.
  CHECK_FALSE(timeout_ms({"XREAD", "STREAMS", "s", "0"}));
  CHECK_FALSE(timeout_ms({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"}));
  CHECK_FALSE(timeout_ms({"GET", "k"}));
  CHECK_FALSE(timeout_ms({"LPOP", "k"}));
  CHECK_FALSE(timeout_ms({"NOSUCH", "k", "5"}));
  CHECK_FALSE(timeout_ms({}));
  // Timeouts the server would refuse.
  CHECK_FALSE(timeout_ms({"BLPOP", "a", "soon"}));
  CHECK_FALSE(timeout_ms({"BLPOP", "a", "-1"}));
  CHECK_FALSE(timeout_ms({"BLPOP", "a", ""}));
  CHECK_FALSE(timeout_ms({"BLPOP", "a", "1.5s"}));
  CHECK_FALSE(timeout_ms({"BLPOP", "a", "inf"}));
  CHECK_FALSE(timeout_ms({"BLPOP", "a", "nan"}));
  CHECK_FALSE(timeout_ms({"BLPOP", "a", "1e300"}));
  CHECK_FALSE(timeout_ms({"BLPOP", "a"}));  // arity: the key is not a timeout
  CHECK_FALSE(timeout_ms({"BLMOVE", "s", "d", "LEFT", "RIGHT"}));
  CHECK_FALSE(timeout_ms({"WAIT", "1", "1.5"}));  // milliseconds are integers
  CHECK_FALSE(timeout_ms({"WAIT", "1", "-5"}));
  CHECK_FALSE(timeout_ms({"WAIT", "1", "+5"}));
  CHECK_FALSE(timeout_ms({"XREAD", "BLOCK", "x", "STREAMS", "s", "0"}));
  CHECK_FALSE(timeout_ms({"XREAD", "BLOCK", "10", "COUNT"}));  // no STREAMS
}

TEST_CASE("flags", "[command_info]") {
  using namespace fibredis;
  CHECK(info("GET").has(kReadOnly));
  CHECK_FALSE(info("GET").has(kWrite));
  CHECK(info("SET").has(kWrite));
  CHECK(info("EVAL_RO").has(kReadOnly));
  CHECK(info("FCALL_RO").has(kReadOnly));
  CHECK_FALSE(info("EVAL").has(kReadOnly));
  CHECK(info("XINFO", "STREAM").has(kReadOnly));
  CHECK(info("EVAL").has(kMovableKeys));
  for (std::string_view c : {"BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN",
                             "BZPOPMAX", "BZMPOP", "XREAD", "XREADGROUP", "WAIT", "WAITAOF"}) {
    INFO(c);
    CHECK(info(c).has(kBlocking));
  }
  CHECK_FALSE(info("LPOP").has(kBlocking));
  // WAIT/WAITAOF answer about their own connection's writes; nothing else does.
  CHECK(info("WAIT").has(kOwnWrites));
  CHECK(info("WAITAOF").has(kOwnWrites));
  CHECK_FALSE(info("BLPOP").has(kOwnWrites));
  CHECK_FALSE(info("SET").has(kOwnWrites));
  for (std::string_view c : {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE",
                             "PUNSUBSCRIBE", "SUNSUBSCRIBE", "PUBLISH", "SPUBLISH"}) {
    INFO(c);
    CHECK(info(c).has(kPubSub));
  }
  for (std::string_view c : {"MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH"}) {
    INFO(c);
    CHECK(info(c).has(kTransaction));
  }
  CHECK(info("CONFIG", "SET").has(kAdmin));
  CHECK(info("CLIENT", "TRACKING").has(kConnectionState));
  CHECK(info("SELECT").has(kConnectionState));
}

TEST_CASE("a blocked command still reports its keys", "[command_info]") {
  // A blocked command still reports its keys (WATCH's keys, MOVE's key) for diagnostics.
  CHECK(keys({"WATCH", "a", "b"}) == V{1, 2});
  CHECK(keys({"MOVE", "k", "1"}) == V{1});
}
