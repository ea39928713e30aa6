// Every typed command of Commands<> against a real redis-server, through Client. Values are
// checked, not just the absence of exceptions. Each test case works under its own key prefix, with
// a hash tag so the same bodies can later run on a cluster, and deletes its keys when done.
#include <catch2/catch.hpp>

#include <fibredis/client/client.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/runtime/runtime.hpp>

#include "support/servers.hpp"

#include <boost/fiber/operations.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using fibredis::Client;
using fibredis::Condition;
using fibredis::ScoreBound;

namespace {

using Strings = std::vector<std::string>;
using Scored = std::vector<std::pair<std::string, double>>;

fibredis::Options server_options(int db = 0) {
  auto server = fibredis::test::single_server();
  fibredis::Options o;
  o.host = server.host;
  o.port = server.port;
  o.db = db;
  return o;
}

// Key names for one test case: "{cmd:<case>:<pid>}:<name>". Deletes them all on destruction.
class Keys {
 public:
  Keys(Client& c, std::string_view test)
      : c_(c), prefix_("{cmd:" + std::string(test) + ":" + std::to_string(::getpid()) + "}:") {
    clear();
  }
  ~Keys() {
    try {
      clear();
    } catch (...) {  // the test's own failure is the one to report
    }
  }
  Keys(const Keys&) = delete;
  Keys& operator=(const Keys&) = delete;

  std::string operator()(std::string_view name) const { return prefix_ + std::string(name); }
  const std::string& prefix() const { return prefix_; }

 private:
  void clear() {
    Strings found = c_.keys(prefix_ + "*");
    if (!found.empty()) c_.del(found);
  }
  Client& c_;
  std::string prefix_;
};

// Runs body(client, keys) in a fiber on a fresh runtime.
template <class Body>
void with_client(std::string_view test, Body&& body) {
  fibredis::Runtime rt;
  rt.run([&] {
    Client c(server_options());
    Keys k(c, test);
    body(c, k);
  });
}

template <class T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("string commands", "[commands][strings]") {
  with_client("strings", [](Client& c, Keys& k) {
    SECTION("GET / SET and their options") {
      CHECK(c.get(k("s")) == std::nullopt);
      CHECK(c.set(k("s"), "v1"));
      CHECK(c.get(k("s")) == "v1");
      CHECK_FALSE(c.set(k("s"), "v2", {.condition = Condition::IfNotExists}));
      CHECK(c.get(k("s")) == "v1");
      CHECK_FALSE(c.set(k("missing"), "x", {.condition = Condition::IfExists}));
      CHECK(c.exists(k("missing")) == 0);
      CHECK(c.set(k("s"), "v2", {.ttl = 100s, .condition = Condition::IfExists}));
      CHECK(c.ttl(k("s")) > 90s);
      CHECK(c.set(k("s"), "v3", {.keep_ttl = true}));
      CHECK(c.ttl(k("s")) > 90s);
      CHECK(c.set(k("s"), "v4", {.ttl = 1500ms}));
      auto left = c.pttl(k("s"));
      CHECK(left > 1000ms);
      CHECK(left <= 1500ms);
      auto at = std::chrono::system_clock::now() + 1h;
      CHECK(c.set(k("s"), "v5", {.expire_at = at}));
      CHECK(c.ttl(k("s")) > 3500s);
      CHECK(c.set_get(k("s"), "v6") == "v5");
      CHECK(c.set_get(k("fresh"), "x", {.condition = Condition::IfNotExists}) == std::nullopt);
      CHECK(c.get(k("fresh")) == "x");
    }
    SECTION("values are binary-safe") {
      std::string bin("a\0b\r\n\xff", 6);
      c.set(k("bin"), bin);
      CHECK(c.get(k("bin")) == bin);
      CHECK(c.strlen(k("bin")) == 6);
    }
    SECTION("SETNX SETEX PSETEX GETSET GETDEL GETEX") {
      CHECK(c.setnx(k("a"), "1"));
      CHECK_FALSE(c.setnx(k("a"), "2"));
      c.setex(k("ex"), 50s, "e");
      CHECK(c.get(k("ex")) == "e");
      CHECK(c.ttl(k("ex")) > 40s);
      c.psetex(k("px"), 5000ms, "p");
      CHECK(c.pttl(k("px")) > 4000ms);
      CHECK(c.getset(k("a"), "3") == "1");
      CHECK(c.get(k("a")) == "3");
      CHECK(c.getdel(k("a")) == "3");
      CHECK(c.get(k("a")) == std::nullopt);
      CHECK(c.getdel(k("a")) == std::nullopt);
      CHECK(c.getex(k("ex"), {.persist = true}) == "e");
      CHECK(c.ttl(k("ex")) == -1s);
      CHECK(c.getex(k("ex"), {.ttl = 30s}) == "e");
      CHECK(c.ttl(k("ex")) > 20s);
      CHECK(c.getex(k("nope")) == std::nullopt);
    }
    SECTION("MGET MSET MSETNX") {
      c.mset({{k("m1"), "1"}, {k("m2"), "2"}});
      CHECK(c.mget({k("m1"), k("none"), k("m2")}) ==
            std::vector<std::optional<std::string>>{"1", std::nullopt, "2"});
      CHECK_FALSE(c.msetnx({{k("m1"), "x"}, {k("m3"), "3"}}));
      CHECK(c.get(k("m3")) == std::nullopt);
      std::map<std::string, std::string> more{{k("m3"), "3"}, {k("m4"), "4"}};
      CHECK(c.msetnx(more));
      CHECK(c.mget(std::vector<std::string>{k("m3"), k("m4")}) ==
            std::vector<std::optional<std::string>>{"3", "4"});
    }
    SECTION("counters") {
      CHECK(c.incr(k("n")) == 1);
      CHECK(c.incrby(k("n"), 10) == 11);
      CHECK(c.decr(k("n")) == 10);
      CHECK(c.decrby(k("n"), 15) == -5);
      CHECK(c.incrbyfloat(k("f"), 10.5) == Approx(10.5));
      CHECK(c.incrbyfloat(k("f"), -0.25) == Approx(10.25));
      c.set(k("s"), "abc");
      CHECK_THROWS_AS(c.incr(k("s")), fibredis::ResponseError);
    }
    SECTION("APPEND STRLEN GETRANGE SETRANGE") {
      CHECK(c.append(k("t"), "Hello") == 5);
      CHECK(c.append(k("t"), " World") == 11);
      CHECK(c.strlen(k("t")) == 11);
      CHECK(c.getrange(k("t"), 0, 4) == "Hello");
      CHECK(c.getrange(k("t"), -5, -1) == "World");
      CHECK(c.setrange(k("t"), 6, "Redis") == 11);
      CHECK(c.get(k("t")) == "Hello Redis");
      CHECK(c.strlen(k("none")) == 0);
    }
  });
}

TEST_CASE("key commands", "[commands][keys]") {
  with_client("keys", [](Client& c, Keys& k) {
    c.mset({{k("a"), "1"}, {k("b"), "2"}, {k("c"), "3"}});
    SECTION("DEL UNLINK EXISTS TOUCH") {
      CHECK(c.exists({k("a"), k("b"), k("zz")}) == 2);
      CHECK(c.touch({k("a"), k("zz")}) == 1);
      CHECK(c.del(k("a")) == 1);
      CHECK(c.del({k("a"), k("b")}) == 1);
      CHECK(c.unlink({k("c"), k("zz")}) == 1);
      CHECK(c.exists({k("a"), k("b"), k("c")}) == 0);
    }
    SECTION("EXPIRE family, TTL, PERSIST") {
      using fibredis::ExpireCondition;
      CHECK(c.ttl(k("a")) == -1s);
      CHECK(c.ttl(k("zz")) == -2s);
      CHECK(c.pttl(k("zz")) == -2ms);
      CHECK(c.expire(k("a"), 100s));
      CHECK(c.ttl(k("a")) > 90s);
      CHECK_FALSE(c.expire(k("a"), 200s, ExpireCondition::IfNoTtl));
      CHECK_FALSE(c.expire(k("a"), 50s, ExpireCondition::IfGreater));
      CHECK(c.expire(k("a"), 50s, ExpireCondition::IfLess));
      CHECK(c.ttl(k("a")) <= 50s);
      CHECK_FALSE(c.expire(k("b"), 10s, ExpireCondition::IfHasTtl));
      CHECK(c.pexpire(k("b"), 20000ms));
      CHECK(c.pttl(k("b")) > 15000ms);
      CHECK_FALSE(c.expire(k("zz"), 10s));
      auto now = std::chrono::system_clock::now();
      CHECK(c.expireat(k("c"), now + 300s));
      CHECK(c.ttl(k("c")) > 250s);
      CHECK(c.pexpireat(k("c"), now + 30s));
      CHECK(c.ttl(k("c")) <= 30s);
      CHECK(c.persist(k("c")));
      CHECK_FALSE(c.persist(k("c")));
      CHECK(c.ttl(k("c")) == -1s);
      CHECK(c.pexpire(k("c"), 1ms));
      boost::this_fiber::sleep_for(20ms);
      CHECK(c.get(k("c")) == std::nullopt);
    }
    SECTION("TYPE RENAME RENAMENX KEYS") {
      c.rpush(k("l"), "x");
      c.hset(k("h"), "f", "v");
      CHECK(c.type(k("a")) == "string");
      CHECK(c.type(k("l")) == "list");
      CHECK(c.type(k("h")) == "hash");
      CHECK(c.type(k("zz")) == "none");
      c.rename(k("a"), k("a2"));
      CHECK(c.get(k("a2")) == "1");
      CHECK_THROWS_AS(c.rename(k("zz"), k("zz2")), fibredis::ResponseError);
      CHECK_FALSE(c.renamenx(k("a2"), k("b")));
      CHECK(c.renamenx(k("a2"), k("a3")));
      CHECK(sorted(c.keys(k("*"))) == sorted(Strings{k("a3"), k("b"), k("c"), k("l"), k("h")}));
    }
    SECTION("DUMP RESTORE") {
      auto blob = c.dump(k("a"));
      REQUIRE(blob);
      CHECK(c.dump(k("zz")) == std::nullopt);
      c.restore(k("copy"), 0ms, *blob);
      CHECK(c.get(k("copy")) == "1");
      CHECK(c.ttl(k("copy")) == -1s);
      CHECK_THROWS_AS(c.restore(k("copy"), 0ms, *blob), fibredis::ResponseError);  // BUSYKEY
      c.set(k("b"), "other");
      c.restore(k("b"), 60000ms, *blob, true);
      CHECK(c.get(k("b")) == "1");
      CHECK(c.ttl(k("b")) > 50s);
    }
  });
}

TEST_CASE("SCAN and RANDOMKEY", "[commands][keys][scan]") {
  with_client("scan", [](Client& c, Keys& k) {
    std::set<std::string> expected;
    for (int i = 0; i < 60; ++i) {
      c.set(k("s" + std::to_string(i)), "v");
      expected.insert(k("s" + std::to_string(i)));
    }
    c.hset(k("hash"), "f", "v");

    SECTION("scan_iter returns every matching key") {
      std::set<std::string> seen;
      for (const std::string& key : c.scan_iter({.match = k("s*"), .count = 7})) seen.insert(key);
      CHECK(seen == expected);
      auto hashes = c.scan_iter(k("*"), 100, "hash").to_vector();
      CHECK(hashes == Strings{k("hash")});
    }
    SECTION("scan pages by hand") {
      std::set<std::string> seen;
      std::uint64_t cursor = 0;
      int pages = 0;
      do {
        auto page = c.scan(cursor, {.match = k("s*"), .count = 10});
        seen.insert(page.items.begin(), page.items.end());
        cursor = page.cursor;
        ++pages;
      } while (cursor != 0);
      CHECK(seen == expected);
      CHECK(pages > 1);
    }
    SECTION("RANDOMKEY") {
      fibredis::Client db9(server_options(9));
      db9.flushdb();
      CHECK(db9.randomkey() == std::nullopt);
      db9.set("only", "1");
      CHECK(db9.randomkey() == "only");
      db9.flushdb();
    }
  });
}

TEST_CASE("list commands", "[commands][lists]") {
  with_client("lists", [](Client& c, Keys& k) {
    using fibredis::InsertPosition;
    using fibredis::ListEnd;
    SECTION("push, pop, range") {
      CHECK(c.rpush(k("l"), {"b", "c"}) == 2);
      CHECK(c.lpush(k("l"), "a") == 3);
      CHECK(c.rpushx(k("l"), "d") == 4);
      CHECK(c.lpushx(k("none"), "x") == 0);
      CHECK(c.rpushx(k("none"), {"x", "y"}) == 0);
      CHECK(c.llen(k("l")) == 4);
      CHECK(c.lrange(k("l"), 0, -1) == Strings{"a", "b", "c", "d"});
      CHECK(c.lpop(k("l")) == "a");
      CHECK(c.rpop(k("l")) == "d");
      c.rpush(k("l"), {"e", "f", "g"});
      CHECK(c.lpop(k("l"), 2) == Strings{"b", "c"});
      CHECK(c.rpop(k("l"), 5) == Strings{"g", "f", "e"});
      CHECK(c.lpop(k("l")) == std::nullopt);
      CHECK(c.lpop(k("l"), 3).empty());
      CHECK(c.rpop(k("l"), 3).empty());
    }
    SECTION("index, set, remove, trim, insert, position") {
      c.rpush(k("l"), {"a", "x", "b", "x", "c", "x"});
      CHECK(c.lindex(k("l"), 1) == "x");
      CHECK(c.lindex(k("l"), -1) == "x");
      CHECK(c.lindex(k("l"), 100) == std::nullopt);
      c.lset(k("l"), 0, "A");
      CHECK(c.lindex(k("l"), 0) == "A");
      CHECK_THROWS_AS(c.lset(k("l"), 100, "z"), fibredis::ResponseError);
      CHECK(c.lpos(k("l"), "x") == 1);
      CHECK(c.lpos(k("l"), "x", {.rank = -1}) == 5);
      CHECK(c.lpos(k("l"), "x", {.rank = 2}) == 3);
      CHECK(c.lpos(k("l"), "nope") == std::nullopt);
      CHECK(c.lpos(k("l"), "x", 0) == std::vector<long long>{1, 3, 5});
      CHECK(c.lpos(k("l"), "x", 2) == std::vector<long long>{1, 3});
      CHECK(c.lpos(k("l"), "x", 0, {.maxlen = 4}) == std::vector<long long>{1, 3});
      CHECK(c.lrem(k("l"), -1, "x") == 1);
      CHECK(c.lrange(k("l"), 0, -1) == Strings{"A", "x", "b", "x", "c"});
      CHECK(c.lrem(k("l"), 0, "x") == 2);
      CHECK(c.linsert(k("l"), InsertPosition::Before, "b", "a2") == 4);
      CHECK(c.linsert(k("l"), InsertPosition::After, "c", "d") == 5);
      CHECK(c.linsert(k("l"), InsertPosition::After, "nope", "d") == -1);
      CHECK(c.lrange(k("l"), 0, -1) == Strings{"A", "a2", "b", "c", "d"});
      c.ltrim(k("l"), 1, 2);
      CHECK(c.lrange(k("l"), 0, -1) == Strings{"a2", "b"});
    }
    SECTION("LMOVE RPOPLPUSH") {
      c.rpush(k("src"), {"1", "2", "3"});
      CHECK(c.lmove(k("src"), k("dst"), ListEnd::Left, ListEnd::Right) == "1");
      CHECK(c.lmove(k("src"), k("dst"), ListEnd::Right, ListEnd::Left) == "3");
      CHECK(c.rpoplpush(k("src"), k("dst")) == "2");
      CHECK(c.lrange(k("dst"), 0, -1) == Strings{"2", "3", "1"});
      CHECK(c.lmove(k("src"), k("dst"), ListEnd::Left, ListEnd::Left) == std::nullopt);
      CHECK(c.rpoplpush(k("src"), k("dst")) == std::nullopt);
    }
    SECTION("wrong type is a ResponseError") {
      c.set(k("str"), "v");
      CHECK_THROWS_AS(c.lpush(k("str"), "x"), fibredis::ResponseError);
      CHECK(c.get(k("str")) == "v");
    }
  });
}

TEST_CASE("blocking commands", "[commands][blocking]") {
  with_client("blocking", [](Client& c, Keys& k) {
    using fibredis::ListEnd;
    SECTION("with data they return at once") {
      c.rpush(k("q2"), {"x", "y"});
      auto t0 = std::chrono::steady_clock::now();
      auto got = c.blpop({k("q1"), k("q2")}, 5s);
      REQUIRE(got);
      CHECK(got->first == k("q2"));
      CHECK(got->second == "x");
      auto got2 = c.brpop(k("q2"), 0s);  // zero = forever, but there is data
      REQUIRE(got2);
      CHECK(got2->second == "y");
      c.rpush(k("src"), {"a", "b"});
      CHECK(c.blmove(k("src"), k("dst"), ListEnd::Left, ListEnd::Right, 1s) == "a");
      CHECK(c.brpoplpush(k("src"), k("dst"), 1s) == "b");
      CHECK(c.lrange(k("dst"), 0, -1) == Strings{"b", "a"});
      c.zadd(k("z"), {{"lo", 1}, {"mid", 2}, {"hi", 3}});
      auto lo = c.bzpopmin(k("z"), 1s);
      REQUIRE(lo);
      CHECK(*lo == fibredis::PoppedMember{k("z"), "lo", 1});
      auto hi = c.bzpopmax({k("none"), k("z")}, 1s);
      REQUIRE(hi);
      CHECK(hi->member == "hi");
      CHECK(hi->score == 3);
      CHECK(ms_since(t0) < 1000);
    }
    SECTION("on empty keys they wait for the timeout, then return nullopt") {
      auto t0 = std::chrono::steady_clock::now();
      CHECK(c.blpop(k("empty"), 100ms) == std::nullopt);
      double waited = ms_since(t0);
      CHECK(waited >= 90);
      CHECK(waited < 3000);

      t0 = std::chrono::steady_clock::now();
      CHECK(c.brpop({k("e1"), k("e2")}, 150ms) == std::nullopt);
      CHECK(ms_since(t0) >= 140);
      CHECK(c.blmove(k("e1"), k("e2"), ListEnd::Left, ListEnd::Left, 50ms) == std::nullopt);
      CHECK(c.brpoplpush(k("e1"), k("e2"), 50ms) == std::nullopt);
      t0 = std::chrono::steady_clock::now();
      CHECK(c.bzpopmin(k("ez"), 100ms) == std::nullopt);
      CHECK(c.bzpopmax(k("ez"), 100ms) == std::nullopt);
      CHECK(ms_since(t0) >= 190);
    }
    SECTION("the generic command() gets the block time too") {
      auto t0 = std::chrono::steady_clock::now();
      fibredis::Reply r = c.command({"BLPOP", k("empty"), "0.1"});
      CHECK(r.is_nil());
      CHECK(ms_since(t0) >= 90);
    }
  });
}

TEST_CASE("hash commands", "[commands][hashes]") {
  with_client("hashes", [](Client& c, Keys& k) {
    SECTION("set, get, delete") {
      CHECK(c.hset(k("h"), "f1", "v1") == 1);
      CHECK(c.hset(k("h"), "f1", "v1b") == 0);
      CHECK(c.hset(k("h"), {{"f2", "v2"}, {"f3", "v3"}}) == 2);
      CHECK(c.hsetnx(k("h"), "f4", "v4"));
      CHECK_FALSE(c.hsetnx(k("h"), "f4", "other"));
      CHECK(c.hget(k("h"), "f1") == "v1b");
      CHECK(c.hget(k("h"), "none") == std::nullopt);
      CHECK(c.hmget(k("h"), {"f2", "none", "f4"}) ==
            std::vector<std::optional<std::string>>{"v2", std::nullopt, "v4"});
      auto all = c.hgetall(k("h"));
      CHECK(all == std::unordered_map<std::string, std::string>{
                       {"f1", "v1b"}, {"f2", "v2"}, {"f3", "v3"}, {"f4", "v4"}});
      CHECK(c.hgetall(k("none")).empty());
      CHECK(c.hexists(k("h"), "f3"));
      CHECK_FALSE(c.hexists(k("h"), "zz"));
      CHECK(c.hlen(k("h")) == 4);
      CHECK(c.hstrlen(k("h"), "f1") == 3);
      CHECK(sorted(c.hkeys(k("h"))) == Strings{"f1", "f2", "f3", "f4"});
      CHECK(sorted(c.hvals(k("h"))) == Strings{"v1b", "v2", "v3", "v4"});
      CHECK(c.hdel(k("h"), {"f1", "f2", "zz"}) == 2);
      CHECK(c.hlen(k("h")) == 2);
    }
    SECTION("counters") {
      CHECK(c.hincrby(k("h"), "n", 5) == 5);
      CHECK(c.hincrby(k("h"), "n", -7) == -2);
      CHECK(c.hincrbyfloat(k("h"), "f", 2.5) == Approx(2.5));
      CHECK(c.hincrbyfloat(k("h"), "f", 0.25) == Approx(2.75));
    }
    SECTION("HRANDFIELD") {
      c.hset(k("h"), {{"a", "1"}, {"b", "2"}, {"c", "3"}});
      auto one = c.hrandfield(k("h"));
      REQUIRE(one);
      CHECK((*one == "a" || *one == "b" || *one == "c"));
      CHECK(c.hrandfield(k("none")) == std::nullopt);
      auto two = c.hrandfield(k("h"), 2);
      CHECK(two.size() == 2);
      CHECK(two[0] != two[1]);
      CHECK(c.hrandfield(k("h"), -5).size() == 5);  // negative: repeats allowed
      auto with_values = c.hrandfield_withvalues(k("h"), 3);
      std::map<std::string, std::string> got(with_values.begin(), with_values.end());
      CHECK(got == std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}, {"c", "3"}});
    }
    SECTION("HSCAN") {
      std::map<std::string, std::string> expected;
      for (int i = 0; i < 300; ++i) expected["f" + std::to_string(i)] = std::to_string(i);
      c.hset(k("big"), expected);
      std::map<std::string, std::string> seen;
      for (auto& [f, v] : c.hscan_iter(k("big"), {.count = 50})) seen[f] = v;
      CHECK(seen == expected);
      auto page = c.hscan(k("big"), 0, {.match = "f1*", .count = 1000});
      CHECK(page.cursor == 0);
      CHECK(page.items.size() == 111);  // f1, f10..f19, f100..f199
      auto matched = c.hscan_iter(k("big"), {.match = "f2?"}).to_vector();
      CHECK(matched.size() == 10);
    }
  });
}

TEST_CASE("set commands", "[commands][sets]") {
  with_client("sets", [](Client& c, Keys& k) {
    using Set = std::unordered_set<std::string>;
    CHECK(c.sadd(k("s"), {"a", "b", "c"}) == 3);
    CHECK(c.sadd(k("s"), {"c", "d"}) == 1);
    SECTION("membership") {
      CHECK(c.smembers(k("s")) == Set{"a", "b", "c", "d"});
      CHECK(c.smembers(k("none")).empty());
      CHECK(c.sismember(k("s"), "a"));
      CHECK_FALSE(c.sismember(k("s"), "z"));
      CHECK(c.smismember(k("s"), {"a", "z", "d"}) == std::vector<bool>{true, false, true});
      CHECK(c.scard(k("s")) == 4);
      CHECK(c.srem(k("s"), {"a", "z"}) == 1);
      CHECK(c.scard(k("s")) == 3);
    }
    SECTION("random members and pops") {
      auto r = c.srandmember(k("s"));
      REQUIRE(r);
      CHECK(c.sismember(k("s"), *r));
      auto distinct = c.srandmember(k("s"), 3);
      CHECK(Set(distinct.begin(), distinct.end()).size() == 3);
      CHECK(c.srandmember(k("s"), -10).size() == 10);
      CHECK(c.srandmember(k("none")) == std::nullopt);
      auto p = c.spop(k("s"));
      REQUIRE(p);
      CHECK_FALSE(c.sismember(k("s"), *p));
      CHECK(c.spop(k("s"), 2).size() == 2);
      CHECK(c.scard(k("s")) == 1);
      CHECK(c.spop(k("none")) == std::nullopt);
      CHECK(c.spop(k("none"), 2).empty());
    }
    SECTION("SMOVE and set algebra") {
      c.sadd(k("t"), {"c", "d", "e"});
      CHECK(c.sdiff({k("s"), k("t")}) == Set{"a", "b"});
      CHECK(c.sinter({k("s"), k("t")}) == Set{"c", "d"});
      CHECK(c.sunion({k("s"), k("t")}) == Set{"a", "b", "c", "d", "e"});
      CHECK(c.sdiffstore(k("d"), {k("s"), k("t")}) == 2);
      CHECK(c.smembers(k("d")) == Set{"a", "b"});
      CHECK(c.sinterstore(k("i"), {k("s"), k("t")}) == 2);
      CHECK(c.smembers(k("i")) == Set{"c", "d"});
      CHECK(c.sunionstore(k("u"), {k("s"), k("t")}) == 5);
      CHECK(c.scard(k("u")) == 5);
      CHECK(c.smove(k("s"), k("t"), "a"));
      CHECK_FALSE(c.smove(k("s"), k("t"), "zz"));
      CHECK(c.sismember(k("t"), "a"));
      CHECK_FALSE(c.sismember(k("s"), "a"));
    }
    SECTION("SSCAN") {
      Strings members;
      for (int i = 0; i < 200; ++i) members.push_back("m" + std::to_string(i));
      c.sadd(k("big"), members);
      auto seen = c.sscan_iter(k("big"), {.count = 20}).to_vector();
      std::sort(seen.begin(), seen.end());
      seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
      CHECK(seen == sorted(members));
      auto page = c.sscan(k("s"), 0);
      CHECK(page.cursor == 0);  // small sets come back in one page
      CHECK(Set(page.items.begin(), page.items.end()) == Set{"a", "b", "c", "d"});
    }
  });
}

TEST_CASE("sorted set commands", "[commands][zsets]") {
  with_client("zsets", [](Client& c, Keys& k) {
    using fibredis::ScoreUpdate;
    CHECK(c.zadd(k("z"), {{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}}) == 4);
    SECTION("ZADD options, scores, ranks") {
      CHECK(c.zadd(k("z"), "a", 10, {.condition = Condition::IfNotExists}) == 0);
      CHECK(c.zscore(k("z"), "a") == 1);
      CHECK(c.zadd(k("z"), "e", 5, {.condition = Condition::IfExists}) == 0);
      CHECK(c.zscore(k("z"), "e") == std::nullopt);
      CHECK(c.zadd(k("z"), "a", 0.5, {.update = ScoreUpdate::IfGreater, .changed = true}) == 0);
      CHECK(c.zadd(k("z"), "a", 1.5, {.update = ScoreUpdate::IfGreater, .changed = true}) == 1);
      CHECK(c.zscore(k("z"), "a") == 1.5);
      CHECK(c.zadd(k("z"), {{"e", 5}, {"a", 1}}, {.changed = true}) == 2);
      CHECK(c.zincrby(k("z"), 2.5, "a") == 3.5);
      CHECK(c.zmscore(k("z"), {"a", "zz", "e"}) ==
            std::vector<std::optional<double>>{3.5, std::nullopt, 5});
      CHECK(c.zrank(k("z"), "b") == 0);
      CHECK(c.zrank(k("z"), "a") == 2);
      CHECK(c.zrevrank(k("z"), "e") == 0);
      CHECK(c.zrank(k("z"), "zz") == std::nullopt);
      CHECK(c.zcard(k("z")) == 5);
      CHECK(c.zrem(k("z"), {"e", "zz"}) == 1);
      CHECK(c.zcard(k("z")) == 4);
    }
    SECTION("ranges") {
      CHECK(c.zrange(k("z"), 0, -1) == Strings{"a", "b", "c", "d"});
      CHECK(c.zrange(k("z"), 1, 2) == Strings{"b", "c"});
      CHECK(c.zrange_withscores(k("z"), 0, 1) == Scored{{"a", 1}, {"b", 2}});
      CHECK(c.zrevrange(k("z"), 0, 1) == Strings{"d", "c"});
      CHECK(c.zrevrange_withscores(k("z"), -1, -1) == Scored{{"a", 1}});
      CHECK(c.zcount(k("z"), 2, 3) == 2);
      CHECK(c.zcount(k("z"), ScoreBound::exclusive(2), "+inf") == 2);
      CHECK(c.zcount(k("z"), ScoreBound::min(), ScoreBound::max()) == 4);
      CHECK(c.zrangebyscore(k("z"), 2, 4) == Strings{"b", "c", "d"});
      CHECK(c.zrangebyscore(k("z"), "-inf", "(3") == Strings{"a", "b"});
      CHECK(c.zrangebyscore(k("z"), "-inf", "+inf", fibredis::Limit{1, 2}) == Strings{"b", "c"});
      CHECK(c.zrangebyscore_withscores(k("z"), 3, 100) == Scored{{"c", 3}, {"d", 4}});
      CHECK(c.zrevrangebyscore(k("z"), 3, 1) == Strings{"c", "b", "a"});
      CHECK(c.zrevrangebyscore(k("z"), "+inf", "-inf", fibredis::Limit{0, 1}) == Strings{"d"});
    }
    SECTION("removal and pops") {
      CHECK(c.zremrangebyrank(k("z"), 0, 0) == 1);
      CHECK(c.zremrangebyscore(k("z"), ScoreBound::exclusive(3), 10) == 1);
      CHECK(c.zrange(k("z"), 0, -1) == Strings{"b", "c"});
      c.zadd(k("z"), {{"x", 10}, {"y", 20}});
      CHECK(c.zpopmin(k("z")) == std::pair<std::string, double>("b", 2));
      CHECK(c.zpopmax(k("z")) == std::pair<std::string, double>("y", 20));
      CHECK(c.zpopmax(k("z"), 5) == Scored{{"x", 10}, {"c", 3}});
      CHECK(c.zpopmin(k("z")) == std::nullopt);
      CHECK(c.zpopmin(k("z"), 2).empty());
      CHECK(c.exists(k("z")) == 0);
    }
    SECTION("ZUNIONSTORE ZINTERSTORE") {
      c.zadd(k("w"), {{"a", 100}, {"c", 300}, {"x", 1}});
      CHECK(c.zunionstore(k("u"), {k("z"), k("w")}) == 5);
      CHECK(c.zscore(k("u"), "a") == 101);
      CHECK(c.zunionstore(k("u"), {k("z"), k("w")}, {.weights = {2, 0.5}}) == 5);
      CHECK(c.zscore(k("u"), "a") == 52);
      CHECK(c.zinterstore(k("i"), {k("z"), k("w")}) == 2);
      CHECK(c.zrange_withscores(k("i"), 0, -1) == Scored{{"a", 101}, {"c", 303}});
      CHECK(c.zinterstore(k("i"), {k("z"), k("w")}, {.aggregate = fibredis::Aggregate::Min}) == 2);
      CHECK(c.zrange_withscores(k("i"), 0, -1) == Scored{{"a", 1}, {"c", 3}});
      CHECK(c.zinterstore(k("i"), {k("z"), k("w")}, {.aggregate = fibredis::Aggregate::Max}) == 2);
      CHECK(c.zrange_withscores(k("i"), 0, -1) == Scored{{"a", 100}, {"c", 300}});
    }
    SECTION("ZSCAN") {
      std::map<std::string, double> expected;
      for (int i = 0; i < 250; ++i) expected["m" + std::to_string(i)] = i * 0.5;
      c.zadd(k("big"), expected);
      std::map<std::string, double> seen;
      for (auto& [m, s] : c.zscan_iter(k("big"), {.count = 40})) seen[m] = s;
      CHECK(seen == expected);
      auto page = c.zscan(k("z"), 0);
      CHECK(page.cursor == 0);
      CHECK(sorted(page.items) == Scored{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}});
    }
  });
}

TEST_CASE("scripting commands", "[commands][scripting]") {
  with_client("scripting", [](Client& c, Keys& k) {
    fibredis::Reply r = c.eval("return {KEYS[1], ARGV[1], ARGV[2]}", {k("a")}, {"x", "y"});
    CHECK(r.as_string_vector() == Strings{k("a"), "x", "y"});
    CHECK(c.eval("return 42").as_integer() == 42);
    CHECK(c.eval("return redis.call('SET', KEYS[1], ARGV[1])", {k("b")}, {"v"}).as_string() ==
          "OK");
    CHECK(c.get(k("b")) == "v");
    CHECK_THROWS_AS(c.eval("return redis.call('NOSUCHCOMMAND')"), fibredis::ResponseError);

    std::string sha = c.script_load("return ARGV[1] .. KEYS[1]");
    CHECK(sha.size() == 40);
    CHECK(c.evalsha(sha, {"k"}, {"v"}).as_string() == "vk");
    CHECK(c.script_exists({sha, std::string(40, '0')}) == std::vector<bool>{true, false});
    c.script_flush();
    CHECK(c.script_exists(sha) == std::vector<bool>{false});
    CHECK_THROWS_AS(c.evalsha(sha, {"k"}, {"v"}), fibredis::ResponseError);  // NOSCRIPT
  });
}

TEST_CASE("server commands", "[commands][server]") {
  with_client("server", [](Client& c, Keys& k) {
    CHECK(c.ping() == "PONG");
    CHECK(c.ping("hi") == "hi");
    CHECK(c.echo("echo me") == "echo me");
    CHECK(c.info("server").find("redis_version:") != std::string::npos);
    CHECK(c.info().find("# Clients") != std::string::npos);

    auto server_now = c.time();
    auto local_now = std::chrono::system_clock::now();
    CHECK(std::chrono::abs(local_now - server_now) < 5s);

    fibredis::Client db9(server_options(9));
    db9.flushdb();
    CHECK(db9.dbsize() == 0);
    db9.mset({{"a", "1"}, {"b", "2"}});
    CHECK(db9.dbsize() == 2);
    db9.flushdb(true);
    CHECK(db9.dbsize() == 0);
    db9.set("a", "1");
    CHECK(c.exists(k("x")) == 0);
    // FLUSHALL empties every database; the tests run one at a time and keep nothing between cases.
    c.flushall();
    CHECK(db9.dbsize() == 0);
    c.flushall(true);
  });
}

TEST_CASE("pub/sub, HyperLogLog, generic command", "[commands][misc]") {
  with_client("misc", [](Client& c, Keys& k) {
    SECTION("PUBLISH with no subscribers") { CHECK(c.publish(k("chan"), "hello") == 0); }
    SECTION("PFADD PFCOUNT PFMERGE") {
      CHECK(c.pfadd(k("h1"), {"a", "b", "c"}));
      CHECK_FALSE(c.pfadd(k("h1"), "a"));
      CHECK(c.pfcount(k("h1")) == 3);
      c.pfadd(k("h2"), {"c", "d"});
      CHECK(c.pfcount({k("h1"), k("h2")}) == 4);
      c.pfmerge(k("h3"), {k("h1"), k("h2")});
      CHECK(c.pfcount(k("h3")) == 4);
    }
    SECTION("command() for anything else") {
      c.set(k("n"), "12345");
      CHECK(c.command({"OBJECT", "ENCODING", k("n")}).as_string() == "int");
      CHECK(c.command(Strings{"STRLEN", k("n")}).as_integer() == 5);
      CHECK(c.command({"GET", k("none")}).is_nil());
      CHECK_THROWS_AS(c.command({"NOSUCHCOMMAND"}), fibredis::ResponseError);
    }
  });
}

TEST_CASE("stream commands", "[commands][streams]") {
  with_client("streams", [](Client& c, Keys& k) {
    std::string id1 = c.xadd(k("s"), {{"f", "1"}, {"g", "x"}}, {.id = "1-1"});
    CHECK(id1 == "1-1");
    std::string id2 = c.xadd(k("s"), {{"f", "2"}});
    CHECK(id2 != id1);
    c.xadd(k("s"), {{"f", "3"}});
    CHECK(c.xlen(k("s")) == 3);
    CHECK_THROWS_AS(c.xadd(k("s"), {{"f", "old"}}, {.id = "1-0"}), fibredis::ResponseError);

    auto all = c.xrange(k("s"));
    REQUIRE(all.size() == 3);
    CHECK(all[0].id == "1-1");
    using Fields = std::vector<std::pair<std::string, std::string>>;
    CHECK(all[0].fields == Fields{{"f", "1"}, {"g", "x"}});
    CHECK(all[1].id == id2);
    CHECK(c.xrange(k("s"), "-", "+", 1).size() == 1);
    auto newest = c.xrevrange(k("s"), "+", "-", 1);
    REQUIRE(newest.size() == 1);
    CHECK(newest[0].fields[0].second == "3");
    CHECK(c.xrange(k("none")).empty());

    CHECK(c.xdel(k("s"), {id2, "9-9"}) == 1);
    CHECK(c.xlen(k("s")) == 2);
    c.xadd(k("s"), {{"f", "4"}});
    c.xadd(k("s"), {{"f", "5"}}, {.maxlen = 3});
    CHECK(c.xlen(k("s")) == 3);
    CHECK(c.xtrim(k("s"), 1) == 2);
    CHECK(c.xrange(k("s"))[0].fields[0].second == "5");
    CHECK(c.xtrim(k("s"), 0, true) <= 1);
  });
}
