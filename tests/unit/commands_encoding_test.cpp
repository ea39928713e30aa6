// Commands<Derived> without a server: what each typed command puts on the wire, which commands are
// marked blocking, how replies parse, and the SCAN range's cursor walk.
#include <catch2/catch.hpp>

#include <fibredis/client/commands.hpp>
#include <fibredis/client/parsers.hpp>
#include <fibredis/client/scan_iterator.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/resp/reply.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using fibredis::Command;
using fibredis::Reply;

namespace {

using Args = std::vector<std::string>;

Args args_of(const Command& c) {
  Args out;
  for (std::size_t i = 0; i < c.size(); ++i) out.emplace_back(c[i]);
  return out;
}

// Pipeline-like: records each command and returns itself, as Pipeline::dispatch does.
struct Recorder : fibredis::Commands<Recorder> {
  std::vector<Command> sent;

  template <class Parser>
  Recorder& dispatch(Command&& cmd) {
    sent.push_back(std::move(cmd));
    return *this;
  }
  Args last() const { return args_of(sent.back()); }
  const Command& last_cmd() const { return sent.back(); }
};

// Client-like: records the command and parses the next scripted reply, as Client::dispatch does.
struct Scripted : fibredis::Commands<Scripted> {
  std::vector<Command> sent;
  std::deque<Reply> replies;

  template <class Parser>
  typename Parser::type dispatch(Command&& cmd) {
    sent.push_back(std::move(cmd));
    REQUIRE_FALSE(replies.empty());
    Reply r = std::move(replies.front());
    replies.pop_front();
    return Parser::parse(std::move(r));
  }
};

Reply str(std::string s) { return Reply::string(std::move(s)); }
Reply arr(std::vector<Reply> e) { return Reply::array(std::move(e)); }

}  // namespace

TEST_CASE("clients get values, pipelines get themselves for chaining", "[commands]") {
  Recorder p;
  Scripted c;
  STATIC_REQUIRE(std::is_same_v<decltype(p.get("k")), Recorder&>);
  STATIC_REQUIRE(std::is_same_v<decltype(p.set("k", "v").incr("n")), Recorder&>);
  STATIC_REQUIRE(std::is_same_v<decltype(c.get("k")), std::optional<std::string>>);
  STATIC_REQUIRE(std::is_same_v<decltype(c.set("k", "v")), bool>);
  STATIC_REQUIRE(std::is_same_v<decltype(c.rename("a", "b")), void>);
  STATIC_REQUIRE(std::is_same_v<decltype(c.ttl("k")), std::chrono::seconds>);
  STATIC_REQUIRE(std::is_same_v<decltype(c.hgetall("h")),
                                std::unordered_map<std::string, std::string>>);
  STATIC_REQUIRE(std::is_same_v<decltype(c.blpop({"a"}, 1s)),
                                std::optional<std::pair<std::string, std::string>>>);
  STATIC_REQUIRE(std::is_same_v<decltype(c.eval("return 1")), Reply>);

  p.set("a", "1").incr("b").get("a");
  REQUIRE(p.sent.size() == 3);
  CHECK(args_of(p.sent[0]) == Args{"SET", "a", "1"});
  CHECK(args_of(p.sent[1]) == Args{"INCR", "b"});
  CHECK(args_of(p.sent[2]) == Args{"GET", "a"});
}

TEST_CASE("SET options encode in Redis' order", "[commands]") {
  Recorder p;
  using fibredis::Condition;
  using fibredis::SetOptions;

  SECTION("plain") {
    p.set("k", "v");
    CHECK(p.last() == Args{"SET", "k", "v"});
  }
  SECTION("EX when the ttl is whole seconds, PX otherwise") {
    p.set("k", "v", {.ttl = 10s});
    CHECK(p.last() == Args{"SET", "k", "v", "EX", "10"});
    p.set("k", "v", {.ttl = 1500ms});
    CHECK(p.last() == Args{"SET", "k", "v", "PX", "1500"});
  }
  SECTION("NX / XX") {
    p.set("k", "v", {.ttl = 2s, .condition = Condition::IfNotExists});
    CHECK(p.last() == Args{"SET", "k", "v", "NX", "EX", "2"});
    p.set("k", "v", {.condition = Condition::IfExists});
    CHECK(p.last() == Args{"SET", "k", "v", "XX"});
  }
  SECTION("KEEPTTL and GET") {
    p.set_get("k", "v", {.keep_ttl = true});
    CHECK(p.last() == Args{"SET", "k", "v", "KEEPTTL", "GET"});
    p.set_get("k", "v", {.condition = Condition::IfNotExists});
    CHECK(p.last() == Args{"SET", "k", "v", "NX", "GET"});
  }
  SECTION("EXAT / PXAT from a time point") {
    std::chrono::system_clock::time_point at{std::chrono::seconds(2000000000)};
    p.set("k", "v", {.expire_at = at});
    CHECK(p.last() == Args{"SET", "k", "v", "EXAT", "2000000000"});
    p.set("k", "v", {.expire_at = at + 250ms});
    CHECK(p.last() == Args{"SET", "k", "v", "PXAT", "2000000000250"});
  }
  SECTION("conflicting expiry options are a usage error, not a server round trip") {
    CHECK_THROWS_AS(p.set("k", "v", {.ttl = 1s, .keep_ttl = true}), fibredis::UsageError);
    CHECK_THROWS_AS(p.getex("k", {.ttl = 1s, .persist = true}), fibredis::UsageError);
    CHECK(p.sent.empty());
  }
  SECTION("GETEX") {
    p.getex("k", {.ttl = 3s});
    CHECK(p.last() == Args{"GETEX", "k", "EX", "3"});
    p.getex("k", {.persist = true});
    CHECK(p.last() == Args{"GETEX", "k", "PERSIST"});
  }
}

TEST_CASE("argument lists take one string, a braced list or any range", "[commands]") {
  Recorder p;
  p.del("a");
  CHECK(p.last() == Args{"DEL", "a"});
  p.del({"a", "b"});
  CHECK(p.last() == Args{"DEL", "a", "b"});
  std::string owned = "s";
  p.del(owned);
  CHECK(p.last() == Args{"DEL", "s"});
  p.del(std::vector<std::string>{"x", "y", "z"});
  CHECK(p.last() == Args{"DEL", "x", "y", "z"});
  fibredis::ArgList copy = {"c1", "c2"};
  fibredis::ArgList copied = copy;
  p.exists(copied);
  CHECK(p.last() == Args{"EXISTS", "c1", "c2"});
  Args many;
  for (int i = 0; i < 20; ++i) many.push_back("k" + std::to_string(i));
  fibredis::ArgList big = many;  // past the inline capacity
  fibredis::ArgList big_copy = big;
  p.del(big_copy);
  Args expected = many;
  expected.insert(expected.begin(), "DEL");
  CHECK(p.last() == expected);

  p.mset({{"a", "1"}, {"b", "2"}});
  CHECK(p.last() == Args{"MSET", "a", "1", "b", "2"});
  p.hset("h", std::map<std::string, std::string>{{"f1", "v1"}, {"f2", "v2"}});
  CHECK(p.last() == Args{"HSET", "h", "f1", "v1", "f2", "v2"});
  p.hset("h", "f", "v");
  CHECK(p.last() == Args{"HSET", "h", "f", "v"});
}

TEST_CASE("ZADD flags, score ranges and WITHSCORES", "[commands]") {
  Recorder p;
  using fibredis::Condition;
  using fibredis::ScoreBound;
  using fibredis::ScoreUpdate;

  p.zadd("z", "m", 1.5);
  CHECK(p.last() == Args{"ZADD", "z", "1.5", "m"});
  p.zadd("z", {{"a", 1}, {"b", 2.25}}, {.condition = Condition::IfExists,
                                         .update = ScoreUpdate::IfGreater,
                                         .changed = true});
  CHECK(p.last() == Args{"ZADD", "z", "XX", "GT", "CH", "1", "a", "2.25", "b"});
  p.zadd("z", "m", 3, {.update = ScoreUpdate::IfLess});
  CHECK(p.last() == Args{"ZADD", "z", "LT", "3", "m"});
  CHECK_THROWS_AS(
      p.zadd("z", "m", 1, {.condition = Condition::IfNotExists, .update = ScoreUpdate::IfGreater}),
      fibredis::UsageError);

  p.zrange_withscores("z", 0, -1);
  CHECK(p.last() == Args{"ZRANGE", "z", "0", "-1", "WITHSCORES"});
  p.zrangebyscore("z", ScoreBound::exclusive(1), "+inf", fibredis::Limit{2, 5});
  CHECK(p.last() == Args{"ZRANGEBYSCORE", "z", "(1", "+inf", "LIMIT", "2", "5"});
  p.zcount("z", 0, ScoreBound::max());
  CHECK(p.last() == Args{"ZCOUNT", "z", "0", "+inf"});
  p.zunionstore("d", {"a", "b"}, {.weights = {2, 0.5}, .aggregate = fibredis::Aggregate::Max});
  CHECK(p.last() ==
        Args{"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX"});
  CHECK_THROWS_AS(p.zinterstore("d", {"a", "b"}, {.weights = {1}}), fibredis::UsageError);
}

TEST_CASE("blocking commands send decimal seconds and carry their block time", "[commands]") {
  Recorder p;
  p.blpop({"a", "b"}, 500ms);
  CHECK(p.last() == Args{"BLPOP", "a", "b", "0.5"});
  CHECK(p.last_cmd().blocking == 500ms);

  p.brpop("q", 5s);
  CHECK(p.last() == Args{"BRPOP", "q", "5"});
  CHECK(p.last_cmd().blocking == 5000ms);

  p.brpop("q", 0s);  // zero waits forever
  CHECK(p.last() == Args{"BRPOP", "q", "0"});
  CHECK(p.last_cmd().blocking == 0ms);

  p.blmove("s", "d", fibredis::ListEnd::Right, fibredis::ListEnd::Left, 1250ms);
  CHECK(p.last() == Args{"BLMOVE", "s", "d", "RIGHT", "LEFT", "1.25"});
  CHECK(p.last_cmd().blocking == 1250ms);
  p.brpoplpush("s", "d", 1001ms);
  CHECK(p.last() == Args{"BRPOPLPUSH", "s", "d", "1.001"});
  p.bzpopmin("z", 20ms);
  CHECK(p.last() == Args{"BZPOPMIN", "z", "0.02"});
  CHECK(p.last_cmd().blocking == 20ms);

  CHECK_THROWS_AS(p.blpop("a", -1ms), fibredis::UsageError);

  p.lpop("a");
  CHECK_FALSE(p.last_cmd().blocking.has_value());
}

TEST_CASE("the generic command() recognises blocking commands", "[commands]") {
  Recorder p;
  p.command({"BLPOP", "a", "1.5"});
  CHECK(p.last() == Args{"BLPOP", "a", "1.5"});
  CHECK(p.last_cmd().blocking == 1500ms);
  p.command(std::vector<std::string>{"GET", "a"});
  CHECK(p.last() == Args{"GET", "a"});
  CHECK_FALSE(p.last_cmd().blocking.has_value());
}

TEST_CASE("SCAN family options", "[commands]") {
  Recorder p;
  p.scan(0);
  CHECK(p.last() == Args{"SCAN", "0"});
  p.scan(17, {.match = "user:*", .count = 100, .type = "hash"});
  CHECK(p.last() == Args{"SCAN", "17", "MATCH", "user:*", "COUNT", "100", "TYPE", "hash"});
  p.hscan("h", 0, {.count = 5});
  CHECK(p.last() == Args{"HSCAN", "h", "0", "COUNT", "5"});
  CHECK_THROWS_AS(p.sscan("s", 0, {.type = "set"}), fibredis::UsageError);
}

TEST_CASE("scripts, expiry conditions, lists, streams", "[commands]") {
  Recorder p;
  p.eval("return KEYS[1]", {"k1", "k2"}, {"a"});
  CHECK(p.last() == Args{"EVAL", "return KEYS[1]", "2", "k1", "k2", "a"});
  p.eval("return 1");
  CHECK(p.last() == Args{"EVAL", "return 1", "0"});
  p.evalsha("abc", {}, {"x", "y"});
  CHECK(p.last() == Args{"EVALSHA", "abc", "0", "x", "y"});

  p.expire("k", 10s, fibredis::ExpireCondition::IfGreater);
  CHECK(p.last() == Args{"EXPIRE", "k", "10", "GT"});
  p.pexpire("k", 1500ms);
  CHECK(p.last() == Args{"PEXPIRE", "k", "1500"});

  p.lpos("l", "x", {.rank = -1});
  CHECK(p.last() == Args{"LPOS", "l", "x", "RANK", "-1"});
  p.lpos("l", "x", 0, {.maxlen = 10});
  CHECK(p.last() == Args{"LPOS", "l", "x", "MAXLEN", "10", "COUNT", "0"});
  p.linsert("l", fibredis::InsertPosition::Before, "p", "v");
  CHECK(p.last() == Args{"LINSERT", "l", "BEFORE", "p", "v"});

  p.xadd("s", {{"f", "v"}}, {.maxlen = 100, .approximate = true});
  CHECK(p.last() == Args{"XADD", "s", "MAXLEN", "~", "100", "*", "f", "v"});
  p.xrange("s", "-", "+", 10);
  CHECK(p.last() == Args{"XRANGE", "s", "-", "+", "COUNT", "10"});
  p.flushdb(true);
  CHECK(p.last() == Args{"FLUSHDB", "ASYNC"});
  p.info();
  CHECK(p.last() == Args{"INFO"});
}

TEST_CASE("replies parse into C++ values", "[commands][parse]") {
  Scripted c;

  SECTION("nil becomes nullopt, OK becomes true") {
    c.replies = {Reply::nil(), str("v"), Reply::status("OK"), Reply::nil()};
    CHECK(c.get("k") == std::nullopt);
    CHECK(c.get("k") == "v");
    CHECK(c.set("k", "v"));
    CHECK_FALSE(c.set("k", "v", {.condition = fibredis::Condition::IfNotExists}));
  }
  SECTION("error replies throw ResponseError") {
    c.replies = {Reply::error("WRONGTYPE Operation against a key holding the wrong kind of value")};
    CHECK_THROWS_AS(c.get("k"), fibredis::ResponseError);
    c.replies = {Reply::error("ERR no such key")};
    CHECK_THROWS_AS(c.rename("a", "b"), fibredis::ResponseError);
  }
  SECTION("flat maps and scores") {
    c.replies = {arr({str("f1"), str("v1"), str("f2"), str("v2")}),
                 arr({str("a"), str("1"), str("b"), str("2.5")})};
    auto h = c.hgetall("h");
    CHECK(h.size() == 2);
    CHECK(h.at("f2") == "v2");
    auto z = c.zrange_withscores("z", 0, -1);
    REQUIRE(z.size() == 2);
    CHECK(z[1] == std::pair<std::string, double>("b", 2.5));
  }
  SECTION("odd-sized maps are a protocol error") {
    c.replies = {arr({str("f1")})};
    CHECK_THROWS_AS(c.hgetall("h"), fibredis::ProtocolError);
  }
  SECTION("BLPOP and BZPOPMIN") {
    c.replies = {arr({str("q"), str("job")}), Reply::nil(),
                 arr({str("z"), str("m"), str("-inf")})};
    auto kv = c.blpop("q", 1s);
    REQUIRE(kv);
    CHECK(kv->first == "q");
    CHECK(kv->second == "job");
    CHECK(c.blpop("q", 1s) == std::nullopt);
    auto popped = c.bzpopmin("z", 0s);
    REQUIRE(popped);
    CHECK(popped->member == "m");
    CHECK(popped->score == -std::numeric_limits<double>::infinity());
  }
  SECTION("LPOP count on a missing key is empty; ZPOPMIN on an empty set is nullopt") {
    c.replies = {Reply::nil(), arr({})};
    CHECK(c.lpop("l", 3).empty());
    CHECK(c.zpopmin("z") == std::nullopt);
  }
  SECTION("TIME and TTL") {
    c.replies = {arr({str("1700000000"), str("123456")}), Reply::integer(-2)};
    auto t = c.time();
    CHECK(t.time_since_epoch() == std::chrono::microseconds(1700000000123456));
    CHECK(c.ttl("k") == std::chrono::seconds(-2));
  }
  SECTION("SCAN pages") {
    c.replies = {arr({str("42"), arr({str("k1"), str("k2")})}),
                 arr({str("0"), arr({str("f"), str("v")})})};
    auto page = c.scan(0);
    CHECK(page.cursor == 42);
    CHECK(page.items == std::vector<std::string>{"k1", "k2"});
    auto hpage = c.hscan("h", 42);
    CHECK(hpage.cursor == 0);
    REQUIRE(hpage.items.size() == 1);
    CHECK(hpage.items[0].second == "v");
  }
  SECTION("streams") {
    c.replies = {arr({arr({str("1-1"), arr({str("f"), str("v")})}),
                      arr({str("1-2"), arr({})})})};
    auto entries = c.xrange("s");
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].id == "1-1");
    CHECK(entries[0].fields == std::vector<std::pair<std::string, std::string>>{{"f", "v"}});
    CHECK(entries[1].fields.empty());
  }
}

TEST_CASE("scan_iter walks the cursor until it returns to 0, skipping empty pages", "[scan]") {
  Scripted c;
  c.replies = {arr({str("7"), arr({str("a"), str("b")})}),
               arr({str("9"), arr({})}),  // MATCH filtered everything out of this page
               arr({str("0"), arr({str("c")})})};
  auto range = c.scan_iter({.match = "*", .count = 2});
  STATIC_REQUIRE(std::ranges::input_range<decltype(range)>);
  std::vector<std::string> seen;
  for (std::string& k : range) seen.push_back(std::move(k));
  CHECK(seen == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(c.sent.size() == 3);
  CHECK(args_of(c.sent[0]) == Args{"SCAN", "0", "MATCH", "*", "COUNT", "2"});
  CHECK(args_of(c.sent[1])[1] == "7");
  CHECK(args_of(c.sent[2])[1] == "9");
}

TEST_CASE("ScanRange walks several sources in turn (a cluster scans each primary)", "[scan]") {
  using Page = fibredis::ScanPage<int>;
  std::vector<std::uint64_t> cursors_a, cursors_b;
  std::vector<fibredis::ScanRange<int>::PageFetcher> sources;
  sources.emplace_back([&](std::uint64_t cur) {
    cursors_a.push_back(cur);
    return cur == 0 ? Page{5, {1, 2}} : Page{0, {3}};
  });
  sources.emplace_back([&](std::uint64_t cur) {
    cursors_b.push_back(cur);
    return Page{0, {}};  // an empty node
  });
  sources.emplace_back([](std::uint64_t) { return Page{0, {4}}; });
  fibredis::ScanRange<int> range(std::move(sources));
  CHECK(range.to_vector() == std::vector<int>{1, 2, 3, 4});
  CHECK(cursors_a == std::vector<std::uint64_t>{0, 5});
  CHECK(cursors_b == std::vector<std::uint64_t>{0});

  fibredis::ScanRange<int> empty([](std::uint64_t) { return Page{0, {}}; });
  CHECK(empty.begin() == empty.end());
}
