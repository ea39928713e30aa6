// ClusterClient against a real 3 primaries + 3 replicas cluster (tests/support): slots agree with
// the server, stale maps heal through MOVED, migrations are served through ASK, the TTL is
// enforced, every fan-out and merge rule returns the right values, blocked and cross-slot
// commands fail before anything is sent, the _nonatomic helpers compute what the native commands
// would, scan_iter covers every primary, and a MOVED storm costs a handful of refreshes.
//
// The shared cluster is left as found: slots moved by a test are moved back, keys carry a
// per-process prefix. Tests that flush use their own fresh_cluster().
#include <catch2/catch.hpp>

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/detail/cluster/cluster_access.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/runtime/runtime.hpp>
#include <fibredis/detail/cluster/topology_holder.hpp>

#include "support/helpers.hpp"
#include "support/servers.hpp"

#include <boost/fiber/operations.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

using namespace std::chrono_literals;
using fibredis::ClusterClient;
using fibredis::ClusterOptions;
using fibredis::NodeAddress;
using fibredis::Runtime;
using fibredis::Target;
namespace test = fibredis::test;

namespace {

// ---- helpers --------------------------------------------------------------------------------

using test::options_for;

ClusterOptions shared_options() { return options_for(test::cluster()); }

// Keys of this process: the shared cluster outlives one test binary run only, but two tests
// must never see each other's keys.
std::string prefix(std::string_view what) {
  static const std::string run = "fbct" + std::to_string(::getpid());
  return run + ":" + std::string(what) + ":";
}

// One key per wanted slot, named prefix + counter (about 16384 tries per slot at worst).
std::map<std::uint16_t, std::string> keys_for_slots(const std::string& pre, const std::set<std::uint16_t>& slots) {
  std::map<std::uint16_t, std::string> out;
  for (unsigned i = 0; i < 50'000'000 && out.size() < slots.size(); ++i) {
    std::string k = pre + std::to_string(i);
    const std::uint16_t s = fibredis::key_slot(k);
    if (slots.count(s) != 0 && out.count(s) == 0) out.emplace(s, std::move(k));
  }
  REQUIRE(out.size() == slots.size());
  return out;
}

// n keys in n different slots, and (when asked) in at least two different shards.
std::vector<std::string> spread_keys(const std::string& pre, std::size_t n) {
  std::vector<std::string> out;
  std::set<std::uint16_t> used;
  for (unsigned i = 0; i < 100'000 && out.size() < n; ++i) {
    std::string k = pre + "{" + std::to_string(i) + "}";
    if (used.insert(fibredis::key_slot(k)).second) out.push_back(std::move(k));
  }
  return out;
}

std::string node_id(std::uint16_t port) { return test::redis_cli(port, "CLUSTER MYID"); }

NodeAddress owner_of(ClusterClient& rc, std::uint16_t slot) {
  auto t = rc.topology();
  const fibredis::Shard* s = t->shard_for_slot(slot);
  REQUIRE(s != nullptr);
  return s->primary;
}

NodeAddress another_primary(ClusterClient& rc, const NodeAddress& not_this) {
  for (const NodeAddress& p : rc.get_primaries())
    if (!(p == not_this)) return p;
  FAIL("only one primary");
  return {};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// `INFO commandstats` of one node: calls + rejected + failed calls of `cmd` ("mget", "eval").
// A line reads "cmdstat_eval:calls=1,usec=5,usec_per_call=5.00,rejected_calls=0,failed_calls=0".
long long command_calls(std::uint16_t port, const std::string& cmd) {
  const std::string tag = "cmdstat_" + cmd + ":";
  long long total = 0;
  for (const std::string& line : lines(test::redis_cli(port, "INFO commandstats"))) {
    if (line.rfind(tag, 0) != 0) continue;
    std::istringstream fields(line.substr(tag.size()));
    for (std::string f; std::getline(fields, f, ',');) {
      const auto eq = f.find('=');
      const std::string name = f.substr(0, eq);
      if (name == "calls" || name == "rejected_calls" || name == "failed_calls") total += std::stoll(f.substr(eq + 1));
    }
  }
  return total;
}

long long calls_everywhere(const std::string& cmd) {
  long long n = 0;
  for (std::uint16_t p : test::cluster().ports) n += command_calls(p, cmd);
  return n;
}

// Redis Cluster spec, "Cluster live reconfiguration": IMPORTING on the target, MIGRATING on the
// source, MIGRATE the keys, then SETSLOT NODE on the target, the source and the other primaries.
// Done with redis-cli, behind the client's back. `keys_to_move` empty = all keys of the slot.
void begin_migration(std::uint16_t slot, std::uint16_t from, std::uint16_t to) {
  const std::string s = std::to_string(slot);
  REQUIRE(test::redis_cli(to, "CLUSTER SETSLOT " + s + " IMPORTING " + node_id(from)) == "OK");
  REQUIRE(test::redis_cli(from, "CLUSTER SETSLOT " + s + " MIGRATING " + node_id(to)) == "OK");
}

void migrate_keys(std::uint16_t from, std::uint16_t to, const std::vector<std::string>& keys) {
  if (keys.empty()) return;
  std::string args = "MIGRATE 127.0.0.1 " + std::to_string(to) + " \"\" 0 5000 REPLACE KEYS";
  for (const std::string& k : keys) args += " '" + k + "'";
  REQUIRE(test::redis_cli(from, args) == "OK");
}

void finish_migration(std::uint16_t slot, std::uint16_t from, std::uint16_t to, const std::vector<std::uint16_t>& primaries) {
  const std::string s = std::to_string(slot);
  for (int round = 0; round < 100; ++round) {  // bounded: 100 × 1000 keys
    std::vector<std::string> left = lines(test::redis_cli(from, "CLUSTER GETKEYSINSLOT " + s + " 1000"));
    if (left.empty()) break;
    migrate_keys(from, to, left);
  }
  const std::string id = node_id(to);
  REQUIRE(test::redis_cli(to, "CLUSTER SETSLOT " + s + " NODE " + id) == "OK");
  REQUIRE(test::redis_cli(from, "CLUSTER SETSLOT " + s + " NODE " + id) == "OK");
  for (std::uint16_t p : primaries)
    if (p != from && p != to) REQUIRE(test::redis_cli(p, "CLUSTER SETSLOT " + s + " NODE " + id) == "OK");
}

void move_slot_for_real(std::uint16_t slot, std::uint16_t from, std::uint16_t to, const std::vector<std::uint16_t>& primaries) {
  begin_migration(slot, from, to);
  finish_migration(slot, from, to, primaries);
}

// The primaries as the servers themselves say (INFO replication), not as the client believes.
std::vector<std::uint16_t> server_primaries(const test::ClusterInfo& c) {
  std::vector<std::uint16_t> out;
  for (std::uint16_t p : c.ports)
    if (test::redis_cli(p, "INFO replication").find("role:master") != std::string::npos) out.push_back(p);
  return out;
}

std::vector<std::uint16_t> ports_of(const std::vector<NodeAddress>& nodes) {
  std::vector<std::uint16_t> out;
  for (const NodeAddress& n : nodes) out.push_back(n.port);
  return out;
}

// A plain blocking socket subscribed to one channel on one node (the client under test has no
// part in it).
struct RawSubscriber {
  int fd = -1;
  RawSubscriber(std::uint16_t port, const std::string& channel) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    const std::string cmd = "*2\r\n$9\r\nSUBSCRIBE\r\n$" + std::to_string(channel.size()) + "\r\n" + channel + "\r\n";
    REQUIRE(::send(fd, cmd.data(), cmd.size(), 0) == static_cast<ssize_t>(cmd.size()));
    REQUIRE(read_until(":1\r\n").find("subscribe") != std::string::npos);
  }
  ~RawSubscriber() { ::close(fd); }
  std::string read_until(const std::string& end) {
    std::string got;
    char buf[512];
    for (int i = 0; i < 100 && got.find(end) == std::string::npos; ++i) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }
};

template <class T>
std::set<T> as_set(const std::vector<T>& v) {
  return std::set<T>(v.begin(), v.end());
}

std::set<std::string> as_set(const std::unordered_set<std::string>& v) { return std::set<std::string>(v.begin(), v.end()); }

}  // namespace

// ---- slots --------------------------------------------------------------------------------

TEST_CASE("client slots equal CLUSTER KEYSLOT for 10,000 random keys", "[cluster]") {
  std::mt19937 rng(20240601);
  std::vector<std::string> keys;
  keys.reserve(10'000);
  for (int i = 0; i < 10'000; ++i) {
    std::string k;
    const int len = static_cast<int>(rng() % 40);
    const int kind = i % 5;  // 0 printable, 1 binary, 2 hash tag, 3 odd braces, 4 binary tag
    for (int j = 0; j < len; ++j) {
      if (kind == 1 || kind == 4)
        k.push_back(static_cast<char>(rng() % 256));
      else if (kind == 3)
        k.push_back("{}ab"[rng() % 4]);
      else
        k.push_back(static_cast<char>('a' + rng() % 26));
    }
    if (kind == 2) k = k.substr(0, len / 2) + "{user" + std::to_string(rng() % 1000) + "}" + k.substr(len / 2);
    if (kind == 4) k = "x{" + k + "}y";
    keys.push_back(std::move(k));
  }
  keys[0] = "";
  keys[1] = "123456789";  // 0x31C3 & 16383 = 12739
  keys[2] = "foo{}{bar}";
  keys[3] = "foo{{bar}}zap";
  keys[4] = "foo{bar}{zap}";
  keys[5] = std::string("a\0b{\0}c", 7);

  Runtime rt;
  std::vector<long long> server(keys.size(), -1);
  rt.run([&] {
    ClusterClient rc(shared_options());
    std::vector<fibredis::Fiber> fibers;
    for (std::size_t f = 0; f < 100; ++f)
      fibers.emplace_back([&, f] {
        for (std::size_t i = f * 100; i < f * 100 + 100; ++i)
          server[i] = rc.command({"CLUSTER", "KEYSLOT", keys[i]}).as_integer();
      });
  });
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (server[i] != fibredis::key_slot(keys[i])) {
      if (++mismatches <= 5) WARN("key #" << i << " server " << server[i] << " client " << fibredis::key_slot(keys[i]));
    }
  CHECK(mismatches == 0);
  CHECK(server[1] == 12739);
  CHECK(server[2] == fibredis::key_slot("foo{}{bar}"));
  CHECK(server[4] == fibredis::key_slot("bar"));
}

// ---- redirects ----------------------------------------------------------------------------

TEST_CASE("a planted stale slot map is healed by MOVED", "[cluster][redirect]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const std::string key = prefix("moved") + "k";
    const std::uint16_t slot = fibredis::key_slot(key);
    const NodeAddress owner = owner_of(rc, slot);
    const NodeAddress wrong = another_primary(rc, owner);

    fibredis::detail::topology_holder(rc).move_slot(slot, wrong);
    REQUIRE(owner_of(rc, slot) == wrong);
    const auto redirects0 = rc.redirects();

    CHECK(rc.set(key, "v1"));
    CHECK(owner_of(rc, slot) == owner);  // corrected by the MOVED
    CHECK(rc.redirects() > redirects0);
    CHECK(test::redis_cli(owner.port, "GET " + key) == "v1");  // written where it belongs

    fibredis::detail::topology_holder(rc).move_slot(slot, wrong);
    CHECK(rc.get(key) == "v1");
    CHECK(owner_of(rc, slot) == owner);
    rc.del(key);
  });
}

TEST_CASE("a slot moved behind the client's back is followed", "[cluster][redirect]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const std::string pre = prefix("resharded") + "{x}";
    const std::uint16_t slot = fibredis::key_slot(pre);
    const NodeAddress from = owner_of(rc, slot);
    const NodeAddress to = another_primary(rc, from);
    const auto primaries = ports_of(rc.get_primaries());
    for (int i = 0; i < 20; ++i) rc.set(pre + std::to_string(i), "v" + std::to_string(i));

    move_slot_for_real(slot, from.port, to.port, primaries);
    REQUIRE(owner_of(rc, slot) == from);  // the client has not noticed yet
    const auto redirects0 = rc.redirects();
    for (int i = 0; i < 20; ++i) CHECK(rc.get(pre + std::to_string(i)) == "v" + std::to_string(i));
    CHECK(owner_of(rc, slot) == to);
    CHECK(rc.redirects() > redirects0);
    CHECK(rc.redirects() - redirects0 <= 2);  // the first MOVED fixes the map for the others
    CHECK(test::redis_cli(to.port, "GET '" + pre + "7'") == "v7");
    CHECK(rc.set(pre + "new", "after-move"));
    CHECK(test::redis_cli(to.port, "GET '" + pre + "new'") == "after-move");

    // And back, so the shared cluster keeps its layout.
    move_slot_for_real(slot, to.port, from.port, primaries);
    for (int i = 0; i < 20; ++i) CHECK(rc.get(pre + std::to_string(i)) == "v" + std::to_string(i));
    CHECK(owner_of(rc, slot) == from);
    std::vector<std::string> all;
    for (int i = 0; i < 20; ++i) all.push_back(pre + std::to_string(i));
    all.push_back(pre + "new");
    CHECK(rc.del(all) == 21);
  });
}

TEST_CASE("a slot caught mid-migration is served through ASK without changing the map", "[cluster][redirect]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const std::string pre = prefix("ask") + "{y}";
    const std::uint16_t slot = fibredis::key_slot(pre);
    const NodeAddress from = owner_of(rc, slot);
    const NodeAddress to = another_primary(rc, from);
    const auto primaries = ports_of(rc.get_primaries());
    std::vector<std::string> keys;
    for (int i = 0; i < 10; ++i) {
      keys.push_back(pre + std::to_string(i));
      rc.set(keys.back(), "v" + std::to_string(i));
    }

    begin_migration(slot, from.port, to.port);
    // Whatever fails below, the shared cluster must not be left with a half-migrated slot.
    struct Restore {
      std::uint16_t slot, from, to;
      std::vector<std::uint16_t> primaries;
      bool done = false;
      ~Restore() {
        if (done) return;
        try {
          finish_migration(slot, from, to, primaries);
          move_slot_for_real(slot, to, from, primaries);
        } catch (...) {
        }
      }
    } restore{slot, from.port, to.port, primaries};

    migrate_keys(from.port, to.port, std::vector<std::string>(keys.begin(), keys.begin() + 5));
    // Really moved: the source keeps 5 (asked for a moved key it answers ASK), the target has 5.
    REQUIRE(test::redis_cli(from.port, "CLUSTER COUNTKEYSINSLOT " + std::to_string(slot)) == "5");
    REQUIRE(test::redis_cli(from.port, "GET '" + keys[0] + "'").rfind("ASK " + std::to_string(slot), 0) == 0);
    REQUIRE(test::redis_cli(to.port, "CLUSTER COUNTKEYSINSLOT " + std::to_string(slot)) == "5");

    const auto redirects0 = rc.redirects();
    const auto refreshes0 = rc.topology_refreshes();
    for (int i = 0; i < 10; ++i) CHECK(rc.get(keys[i]) == "v" + std::to_string(i));
    CHECK(rc.redirects() - redirects0 == 5);  // one ASK per migrated key, none for the others
    // A new key of a migrating slot is created at the target (the source answers ASK).
    CHECK(rc.set(pre + "fresh", "new"));
    CHECK(rc.get(pre + "fresh") == "new");
    CHECK(test::redis_cli(to.port, "CLUSTER COUNTKEYSINSLOT " + std::to_string(slot)) == "6");
    CHECK(owner_of(rc, slot) == from);  // ASK is one-shot: the map is unchanged
    CHECK(rc.topology_refreshes() == refreshes0);

    finish_migration(slot, from.port, to.port, primaries);
    for (int i = 0; i < 10; ++i) CHECK(rc.get(keys[i]) == "v" + std::to_string(i));
    CHECK(owner_of(rc, slot) == to);
    move_slot_for_real(slot, to.port, from.port, primaries);
    restore.done = true;
    CHECK(rc.get(pre + "fresh") == "new");
    keys.push_back(pre + "fresh");
    CHECK(rc.del(keys) == 11);
  });
}

TEST_CASE("redirects past max_redirects raise RedirectLimitError", "[cluster][redirect]") {
  Runtime rt;
  rt.run([&] {
    ClusterOptions o = shared_options();
    o.max_redirects = 1;
    ClusterClient rc(o);
    const std::string key = prefix("ttl") + "k";
    const std::uint16_t slot = fibredis::key_slot(key);
    const NodeAddress owner = owner_of(rc, slot);
    fibredis::detail::topology_holder(rc).move_slot(slot, another_primary(rc, owner));
    CHECK_THROWS_AS(rc.get(key), fibredis::RedirectLimitError);
    try {
      fibredis::detail::topology_holder(rc).move_slot(slot, another_primary(rc, owner));
      rc.set(key, "x");
      FAIL("no RedirectLimitError");
    } catch (const fibredis::RedirectLimitError& e) {
      CHECK(std::string(e.what()).find("MOVED") != std::string::npos);
    }
    // With room for one redirect the same call succeeds.
    ClusterOptions o2 = shared_options();
    o2.max_redirects = 2;
    ClusterClient rc2(o2);
    fibredis::detail::topology_holder(rc2).move_slot(slot, another_primary(rc2, owner));
    CHECK(rc2.set(key, "y"));
    CHECK(rc2.get(key) == "y");
    rc2.del(key);
  });
}

// ---- fan-out and merge rules ----------------------------------------------------------------

TEST_CASE("DBSIZE sums the primaries and KEYS concatenates them", "[cluster][fanout]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const auto keys = spread_keys(prefix("dbsize"), 30);
    for (const auto& k : keys) rc.set(k, "1");
    long long expected = 0;
    const auto truth = server_primaries(test::cluster());
    REQUIRE(truth.size() == 3);
    for (std::uint16_t p : truth) expected += std::stoll(test::redis_cli(p, "DBSIZE"));
    CHECK(rc.dbsize() == expected);
    CHECK(rc.dbsize() >= 30);
    auto per_node = rc.on(Target::Primaries).dbsize();
    CHECK(per_node.size() == 3);
    long long sum = 0;
    for (auto& [n, v] : per_node) sum += v;
    CHECK(sum == expected);

    auto found = rc.keys(prefix("dbsize") + "*");
    CHECK(found.size() == 30);  // no duplicates from replicas
    CHECK(as_set(found) == as_set(keys));
    CHECK(rc.del(keys) == 30);
    CHECK(rc.keys(prefix("dbsize") + "*").empty());
  });
}

TEST_CASE("FLUSHDB / FLUSHALL reach every primary, RANDOMKEY a primary", "[cluster][fanout]") {
  const test::ClusterInfo c = test::fresh_cluster();
  struct Stop {
    const test::ClusterInfo& c;
    ~Stop() { test::stop_cluster(c); }
  } stop{c};
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(options_for(c));
    CHECK(rc.randomkey() == std::nullopt);
    rc.set("only-key", "1");
    // One key on one of three primaries: a random primary answers it or nil, nothing else.
    int hits = 0;
    for (int i = 0; i < 40; ++i) {
      auto k = rc.randomkey();
      if (k) CHECK(*k == "only-key");
      hits += k ? 1 : 0;
    }
    CHECK(hits > 0);
    CHECK(hits < 40);
    const auto keys = spread_keys("flush", 60);
    for (const auto& k : keys) rc.set(k, "1");
    for (int i = 0; i < 20; ++i) {
      auto k = rc.randomkey();
      REQUIRE(k);
      CHECK(rc.exists(*k) == 1);
    }
    if (rc.get_primaries().size() != 3) {  // see the CHECK below: say what the client believes
      std::cout << "[topology] the client's primaries:";
      for (auto& n : rc.get_primaries()) std::cout << " " << n.to_string();
      std::cout << "; the servers' primaries:";
      for (std::uint16_t p : server_primaries(c)) std::cout << " " << p;
      std::cout << "\n";
    }
    CHECK(rc.get_primaries().size() == 3);  // a fan-out to a replica would count its keys twice
    CHECK(rc.dbsize() == 61);
    rc.flushdb();
    CHECK(rc.dbsize() == 0);
    for (const NodeAddress& p : rc.get_primaries()) CHECK(test::redis_cli(p.port, "DBSIZE") == "0");
    for (const auto& k : keys) rc.set(k, "2");
    CHECK(rc.dbsize() == 60);
    rc.flushall(true);
    CHECK(rc.dbsize() == 0);
    for (const NodeAddress& p : rc.get_primaries()) CHECK(test::redis_cli(p.port, "DBSIZE") == "0");
    CHECK(rc.randomkey() == std::nullopt);
  });
}

TEST_CASE("PUBLISH goes to the channel's slot owner", "[cluster][fanout]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const std::string channel = prefix("chan") + "news";
    const NodeAddress owner = owner_of(rc, fibredis::key_slot(channel));
    const NodeAddress other = another_primary(rc, owner);
    {
      RawSubscriber sub(owner.port, channel);
      // PUBLISH counts the receivers on the node that took it: 1 only if it reached the owner.
      CHECK(rc.publish(channel, "hello") == 1);
      CHECK(sub.read_until("hello").find("hello") != std::string::npos);
    }
    // Closing the socket does not unsubscribe at once: the owner forgets the subscriber only when
    // it reads the EOF. Until then a PUBLISH there still counts it, so wait for the owner to agree
    // there is nobody left (bounded: 100 x 20 ms).
    std::string numsub;
    for (int i = 0; i < 100; ++i) {
      numsub = test::redis_cli(owner.port, "PUBSUB NUMSUB '" + channel + "'");
      if (numsub.size() >= 2 && numsub.substr(numsub.size() - 2) == "\n0") break;
      boost::this_fiber::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(numsub == channel + "\n0");
    {
      RawSubscriber sub(other.port, channel);
      CHECK(rc.publish(channel, "again") == 0);  // the cluster bus still delivers it...
      CHECK(sub.read_until("again").find("again") != std::string::npos);  // ...to other nodes
    }
  });
}

TEST_CASE("EVAL and EVALSHA go to the first key's node; SCRIPT LOAD/EXISTS/FLUSH merge", "[cluster][fanout]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const std::string key = prefix("eval") + "k";
    rc.set(key, "val");
    const NodeAddress owner = owner_of(rc, fibredis::key_slot(key));
    const std::string script = "return redis.call('GET', KEYS[1]) .. ARGV[1]";

    const long long evals0 = command_calls(owner.port, "eval");
    const auto redirects0 = rc.redirects();
    CHECK(rc.eval(script, {key}, {"!"}).str() == "val!");
    CHECK(command_calls(owner.port, "eval") == evals0 + 1);
    CHECK(rc.redirects() == redirects0);  // sent straight to the owner

    const std::string sha = rc.script_load(script);
    CHECK(sha.size() == 40);
    for (std::uint16_t p : test::cluster().ports) CHECK(test::redis_cli(p, "SCRIPT EXISTS " + sha) == "1");
    CHECK(rc.script_exists({sha, std::string(40, '0')}) == std::vector<bool>{true, false});
    const long long evalshas0 = command_calls(owner.port, "evalsha");
    CHECK(rc.evalsha(sha, {key}, {"?"}).str() == "val?");
    CHECK(command_calls(owner.port, "evalsha") == evalshas0 + 1);
    CHECK(rc.redirects() == redirects0);
    // A script on one node only: EXISTS is AND-ed over the primaries.
    test::redis_cli(owner.port, "SCRIPT FLUSH");
    CHECK(rc.script_exists({sha}) == std::vector<bool>{false});
    rc.script_load(script);
    rc.script_flush();
    for (std::uint16_t p : test::cluster().ports) CHECK(test::redis_cli(p, "SCRIPT EXISTS " + sha) == "0");
    CHECK(rc.script_exists({sha}) == std::vector<bool>{false});
    CHECK_THROWS_AS(rc.evalsha(sha, {key}), fibredis::ResponseError);  // NOSCRIPT
    rc.del(key);
  });
}

TEST_CASE("get_node_client: one node, no redirects; node_stats reads without creating", "[cluster][node-client]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const std::string key = prefix("nodeclient") + "k";
    const std::string queue = prefix("nodeclient") + "q";
    const NodeAddress owner = rc.get_node_from_key(key);
    const NodeAddress other = another_primary(rc, owner);
    rc.set(key, "v");

    fibredis::NodeClient n = rc.get_node_client(owner);
    CHECK(n.address() == owner);
    CHECK(n.get(key) == "v");
    CHECK(n.info("server").find("tcp_port:" + std::to_string(owner.port) + "\r\n") != std::string::npos);
    // Another node answers MOVED, and the node client does not follow it.
    fibredis::NodeClient m = rc.get_node_client(other);
    const fibredis::Reply moved = m.execute(fibredis::Command{"GET", key});
    REQUIRE(moved.is_error());
    CHECK(moved.str().rfind("MOVED " + std::to_string(fibredis::key_slot(key)) + " ", 0) == 0);
    CHECK_THROWS_AS(m.get(key), fibredis::ResponseError);
    CHECK(m.info("server").find("tcp_port:" + std::to_string(other.port) + "\r\n") != std::string::npos);
    // What a cluster client refuses, a node client refuses too (the connections are shared).
    CHECK_THROWS_AS(n.command({"SELECT", "1"}), fibredis::UsageError);
    // A blocking command takes a pooled connection of that node.
    CHECK_FALSE(rc.get_node_client(rc.get_node_from_key(queue)).blpop({queue}, 100ms).has_value());

    // node_stats: the nodes used have entries; an unknown node has none, before and after asking.
    const std::optional<fibredis::NodeStats> s = rc.node_stats(owner);
    REQUIRE(s.has_value());
    CHECK(s->shared_connected);
    CHECK(s->shared_connects >= 1);
    const std::optional<fibredis::NodeStats> q = rc.node_stats(rc.get_node_from_key(queue));
    REQUIRE(q.has_value());
    CHECK(q->pool_created >= 1);
    CHECK(q->pool_open == q->pool_idle + q->pool_in_use);
    const NodeAddress unknown{"127.0.0.1", test::unused_port()};
    CHECK_FALSE(rc.node_stats(unknown).has_value());
    CHECK_FALSE(rc.node_stats(unknown).has_value());
    rc.del(key);
  });
}

TEST_CASE("on(Target) answers per node; plain per-node commands use the default node", "[cluster][fanout]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const auto& c = test::cluster();
    const std::set<std::uint16_t> all_ports(c.ports.begin(), c.ports.end());

    // Nodes.
    auto primaries = rc.get_primaries();
    auto replicas = rc.get_replicas();
    auto nodes = rc.get_nodes();
    CHECK(primaries.size() == 3);
    CHECK(replicas.size() == 3);
    CHECK(as_set(ports_of(primaries)) == as_set(server_primaries(c)));
    CHECK(nodes.size() == 6);
    std::set<std::uint16_t> node_ports;
    for (const auto& n : nodes) node_ports.insert(n.port);
    CHECK(node_ports == all_ports);
    CHECK(rc.get_node("127.0.0.1", c.ports[4]) == NodeAddress{"127.0.0.1", c.ports[4]});
    CHECK(rc.get_node("127.0.0.1", test::unused_port()) == std::nullopt);

    // PING everywhere / per role.
    auto pongs = rc.on(Target::AllNodes).ping();
    CHECK(pongs.size() == 6);
    for (auto& [n, v] : pongs) CHECK(v == "PONG");
    auto pp = rc.on(Target::Primaries).ping();
    CHECK(pp.size() == 3);
    for (const auto& p : primaries) CHECK(pp.count(p) == 1);
    auto rp = rc.on(Target::Replicas).ping();
    CHECK(rp.size() == 3);
    for (const auto& r : replicas) CHECK(rp.count(r) == 1);
    auto one = rc.on(Target::Random).ping();
    REQUIRE(one.size() == 1);
    CHECK(all_ports.count(one.begin()->first.port) == 1);
    // Target::Random is random, not round-robin: over 200 calls every pick is a node of the map,
    // every node is picked (a node missing has odds of 6 * (5/6)^200, about 1e-15), and the picks
    // do not repeat with the cycle of 6 a round-robin would give.
    std::vector<NodeAddress> picks;
    for (int i = 0; i < 200; ++i) {
      auto r = rc.on(Target::Random).ping();
      REQUIRE(r.size() == 1);
      CHECK(all_ports.count(r.begin()->first.port) == 1);
      CHECK(r.begin()->second == "PONG");
      picks.push_back(r.begin()->first);
    }
    CHECK(std::set<NodeAddress>(picks.begin(), picks.end()).size() == 6);
    bool cyclic = true;
    for (std::size_t i = 6; i < picks.size(); ++i) cyclic = cyclic && picks[i] == picks[i - 6];
    CHECK_FALSE(cyclic);
    const NodeAddress fifth{"127.0.0.1", c.ports[4]};
    auto just = rc.on(fifth).echo("hi");
    REQUIRE(just.size() == 1);
    CHECK(just.begin()->first == fifth);
    CHECK(just.begin()->second == "hi");

    // INFO / TIME / CONFIG GET / CLIENT LIST / SLOWLOG LEN: each node's own answer.
    for (auto& [n, text] : rc.on(Target::AllNodes).info("server"))
      CHECK(text.find("tcp_port:" + std::to_string(n.port) + "\r\n") != std::string::npos);
    const auto now = std::chrono::system_clock::now();
    auto times = rc.on(Target::AllNodes).time();
    CHECK(times.size() == 6);
    for (auto& [n, t] : times) CHECK(std::chrono::abs(t - std::chrono::time_point_cast<std::chrono::microseconds>(now)) < 10s);
    auto ports = rc.on(Target::AllNodes).command({"CONFIG", "GET", "port"});
    CHECK(ports.size() == 6);
    for (auto& [n, r] : ports) {
      REQUIRE(r.elements().size() == 2);
      CHECK(r.elements()[1].str() == std::to_string(n.port));
    }
    auto clients = rc.on(Target::AllNodes).command({"CLIENT", "LIST"});
    CHECK(clients.size() == 6);
    for (auto& [n, r] : clients) {
      CHECK(r.str().find("laddr=127.0.0.1:" + std::to_string(n.port)) != std::string::npos);
      CHECK(r.str().find("cmd=client|list") != std::string::npos);
    }
    auto slowlogs = rc.on(Target::AllNodes).command({"SLOWLOG", "LEN"});
    CHECK(slowlogs.size() == 6);
    for (auto& [n, r] : slowlogs) {
      CHECK(r.is_integer());
      CHECK(r.integer() >= 0);
    }
    CHECK(rc.command({"SLOWLOG", "LEN"}).is_integer());

    // Default node: plain INFO, CLUSTER MYID go there; set_default_node moves them.
    for (const NodeAddress& target : {primaries[1], replicas[0]}) {
      rc.set_default_node(target);
      CHECK(rc.get_default_node() == target);
      CHECK(rc.info("server").find("tcp_port:" + std::to_string(target.port) + "\r\n") != std::string::npos);
      CHECK(rc.command({"CLUSTER", "MYID"}).str() == node_id(target.port));
      CHECK(rc.ping() == "PONG");
    }

    // CLUSTER COUNTKEYSINSLOT / GETKEYSINSLOT: routed to the slot's owner.
    const std::string pre = prefix("countkeys") + "{ck}";
    const std::uint16_t slot = fibredis::key_slot(pre);
    for (int i = 0; i < 7; ++i) rc.set(pre + std::to_string(i), "1");
    for (const NodeAddress& p : primaries)
      if (!(p == owner_of(rc, slot))) {
        rc.set_default_node(p);  // the default node would answer 0
        break;
      }
    CHECK(rc.command({"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}).as_integer() == 7);
    CHECK(rc.command({"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "100"}).as_string_vector().size() == 7);
    std::vector<std::string> ks;
    for (int i = 0; i < 7; ++i) ks.push_back(pre + std::to_string(i));
    CHECK(rc.del(ks) == 7);
  });
}

TEST_CASE("commands that make no sense on a cluster raise UsageError with a reason", "[cluster][blocked]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const std::vector<std::vector<std::string>> blocked = {
        {"MOVE", "k", "1"}, {"SELECT", "1"},       {"SWAPDB", "0", "1"},     {"REPLICAOF", "no", "one"},
        {"SLAVEOF", "no", "one"}, {"SHUTDOWN"},    {"SHUTDOWN", "NOSAVE"},   {"WATCH", "k"},
        {"UNWATCH"},              {"MULTI"},       {"EXEC"},                 {"DISCARD"},
        {"MONITOR"},              {"FAILOVER"},    {"AUTH", "x"},            {"HELLO", "3"},
        {"ASKING"},               {"READONLY"},    {"READWRITE"},            {"QUIT"},
        {"RESET"},                {"SYNC"},        {"PSYNC", "?", "-1"},     {"CLIENT", "REPLY", "OFF"},
        {"SCRIPT", "DEBUG", "YES"}};
    for (const auto& args : blocked) {
      INFO(args[0]);
      try {
        rc.command(args);
        FAIL("not refused");
      } catch (const fibredis::UsageError& e) {
        const std::string what = e.what();
        CHECK(what.find("not allowed in cluster mode") != std::string::npos);
        CHECK(what.size() > std::string("not allowed in cluster mode: ").size() + args[0].size() + 10);
      }
    }
    CHECK_THROWS_AS(rc.on(Target::AllNodes).command({"SHUTDOWN"}), fibredis::UsageError);
    CHECK(rc.command({"SELECT", "0"}).str() == "OK");  // db 0 is what a cluster has
    CHECK(rc.ping() == "PONG");                        // nothing broke
  });
}

// ---- multi-key commands ---------------------------------------------------------------------

TEST_CASE("cross-slot MGET/MSET fail before sending; DEL/UNLINK/EXISTS/TOUCH sum", "[cluster][crossslot]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const auto keys = spread_keys(prefix("cross"), 5);
    const long long mgets0 = calls_everywhere("mget");
    const long long msets0 = calls_everywhere("mset");
    CHECK_THROWS_AS(rc.mget({keys[0], keys[1]}), fibredis::CrossSlotError);
    CHECK_THROWS_AS(rc.mset({{keys[0], "a"}, {keys[1], "b"}}), fibredis::CrossSlotError);
    CHECK_THROWS_AS(rc.command({"SUNION", keys[0], keys[1]}), fibredis::CrossSlotError);
    CHECK(calls_everywhere("mget") == mgets0);  // nothing reached any node
    CHECK(calls_everywhere("mset") == msets0);
    for (const auto& k : keys) CHECK(rc.get(k) == std::nullopt);

    for (const auto& k : keys) rc.set(k, "v");
    const std::string missing = prefix("cross") + "missing";
    std::vector<std::string> with_missing = keys;
    with_missing.push_back(missing);
    CHECK(rc.exists(with_missing) == 5);
    CHECK(rc.touch(with_missing) == 5);
    CHECK(rc.del({keys[0], keys[1], keys[2]}) == 3);
    CHECK(rc.exists(with_missing) == 2);
    CHECK(rc.unlink(with_missing) == 2);
    CHECK(rc.exists(with_missing) == 0);

    // Same slot: the native command.
    const std::string t = prefix("cross") + "{same}";
    rc.mset({{t + "a", "1"}, {t + "b", "2"}});
    CHECK(rc.mget({t + "a", t + "b", t + "c"}) == std::vector<std::optional<std::string>>{"1", "2", std::nullopt});
    rc.del({t + "a", t + "b"});
  });
}

TEST_CASE("mget_nonatomic / mset_nonatomic across slots", "[cluster][nonatomic]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const auto keys = spread_keys(prefix("mnon"), 50);
    std::vector<std::pair<std::string, std::string>> kvs;
    for (std::size_t i = 0; i < keys.size(); ++i) kvs.emplace_back(keys[i], "value-" + std::to_string(i));
    rc.mset_nonatomic(kvs);
    std::vector<std::string> ask = keys;
    ask.insert(ask.begin() + 10, prefix("mnon") + "missing");
    auto got = rc.mget_nonatomic(ask);
    REQUIRE(got.size() == 51);
    for (std::size_t i = 0, j = 0; i < ask.size(); ++i) {
      if (i == 10) {
        CHECK(got[i] == std::nullopt);
        continue;
      }
      CHECK(got[i] == "value-" + std::to_string(j++));
    }
    CHECK(rc.del(keys) == 50);
  });
}

TEST_CASE("rename_nonatomic / renamenx_nonatomic / msetnx_nonatomic", "[cluster][nonatomic]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const auto k = spread_keys(prefix("rename"), 4);
    rc.del(k);

    rc.set(k[0], "payload", {.ttl = 100s});
    rc.set(k[1], "old");
    rc.rename_nonatomic(k[0], k[1]);  // REPLACE over an existing dst, TTL kept
    CHECK(rc.get(k[1]) == "payload");
    CHECK(rc.exists(k[0]) == 0);
    const auto ttl = rc.pttl(k[1]);
    CHECK(ttl > 90s);
    CHECK(ttl <= 100s);

    rc.hset(k[2], {{"f1", "v1"}, {"f2", "v2"}});
    rc.rename_nonatomic(k[2], k[3]);  // any type, no TTL
    CHECK(rc.hget(k[3], "f2") == "v2");
    CHECK(rc.pttl(k[3]) == -1ms);
    CHECK(rc.exists(k[2]) == 0);

    try {
      rc.rename_nonatomic(k[0], k[2]);
      FAIL("renamed a missing key");
    } catch (const fibredis::ResponseError& e) {
      CHECK(std::string(e.what()).find("no such key") != std::string::npos);
    }
    CHECK_THROWS_AS(rc.renamenx_nonatomic(k[0], k[2]), fibredis::ResponseError);

    CHECK_FALSE(rc.renamenx_nonatomic(k[1], k[3]));  // dst exists: nothing moves
    CHECK(rc.get(k[1]) == "payload");
    CHECK(rc.hget(k[3], "f1") == "v1");
    CHECK(rc.renamenx_nonatomic(k[1], k[0]));
    CHECK(rc.get(k[0]) == "payload");
    CHECK(rc.exists(k[1]) == 0);

    // Same slot: the native RENAME.
    const std::string t = prefix("rename") + "{same}";
    rc.set(t + "a", "x");
    rc.rename_nonatomic(t + "a", t + "b");
    CHECK(rc.get(t + "b") == "x");
    rc.del(t + "b");

    rc.del(k);
    CHECK(rc.msetnx_nonatomic({{k[0], "1"}, {k[1], "2"}, {k[2], "3"}}));
    CHECK(rc.mget_nonatomic(k) == std::vector<std::optional<std::string>>{"1", "2", "3", std::nullopt});
    CHECK_FALSE(rc.msetnx_nonatomic({{k[3], "4"}, {k[2], "x"}}));  // k[2] exists: nothing written
    CHECK(rc.exists(k[3]) == 0);
    CHECK(rc.get(k[2]) == "3");
    CHECK(rc.del(k) == 3);
  });
}

TEST_CASE("sdiff/sinter/sunion(_store)_nonatomic and smove_nonatomic", "[cluster][nonatomic]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const auto k = spread_keys(prefix("sets"), 6);  // a, b, c, missing, dst, string
    rc.del(k);
    rc.sadd(k[0], {"a", "b", "c", "d"});
    rc.sadd(k[1], {"c", "d", "e"});
    rc.sadd(k[2], {"d", "x"});
    rc.set(k[5], "not a set");
    using S = std::set<std::string>;

    CHECK(as_set(rc.sdiff_nonatomic({k[0], k[1], k[2]})) == S{"a", "b"});
    CHECK(as_set(rc.sinter_nonatomic({k[0], k[1], k[2]})) == S{"d"});
    CHECK(as_set(rc.sunion_nonatomic({k[0], k[1], k[2]})) == S{"a", "b", "c", "d", "e", "x"});
    CHECK(rc.sinter_nonatomic({k[0], k[3]}).empty());
    CHECK(as_set(rc.sdiff_nonatomic({k[0], k[3]})) == S{"a", "b", "c", "d"});
    CHECK_THROWS_AS(rc.sunion_nonatomic({k[0], k[5]}), fibredis::ResponseError);  // WRONGTYPE

    rc.set(k[4], "overwritten");  // like the native *STORE: any old value is replaced
    CHECK(rc.sunionstore_nonatomic(k[4], {k[0], k[1], k[2]}) == 6);
    CHECK(as_set(rc.smembers(k[4])) == S{"a", "b", "c", "d", "e", "x"});
    CHECK(rc.sinterstore_nonatomic(k[4], {k[0], k[1]}) == 2);
    CHECK(as_set(rc.smembers(k[4])) == S{"c", "d"});
    CHECK(rc.sdiffstore_nonatomic(k[4], {k[1], k[0]}) == 1);
    CHECK(as_set(rc.smembers(k[4])) == S{"e"});
    CHECK(rc.sinterstore_nonatomic(k[4], {k[0], k[3]}) == 0);
    CHECK(rc.exists(k[4]) == 0);  // an empty result deletes dst

    // A big result goes in chunks.
    std::vector<std::string> many;
    for (int i = 0; i < 2500; ++i) many.push_back("m" + std::to_string(i));
    rc.sadd(k[3], many);
    CHECK(rc.sunionstore_nonatomic(k[4], {k[3], k[2]}) == 2502);
    CHECK(rc.scard(k[4]) == 2502);
    rc.del({k[3], k[4]});

    CHECK(rc.smove_nonatomic(k[0], k[1], "a"));
    CHECK_FALSE(rc.sismember(k[0], "a"));
    CHECK(rc.sismember(k[1], "a"));
    CHECK_FALSE(rc.smove_nonatomic(k[0], k[1], "nope"));
    CHECK_THROWS_AS(rc.smove_nonatomic(k[0], k[5], "b"), fibredis::ResponseError);  // WRONGTYPE
    CHECK(rc.sismember(k[0], "b"));  // checked before anything was taken out

    // Same slot: native commands.
    const std::string t = prefix("sets") + "{same}";
    rc.sadd(t + "a", {"1", "2"});
    rc.sadd(t + "b", {"2", "3"});
    CHECK(as_set(rc.sinter_nonatomic({t + "a", t + "b"})) == S{"2"});
    CHECK(rc.sunionstore_nonatomic(t + "c", {t + "a", t + "b"}) == 3);
    CHECK(rc.smove_nonatomic(t + "a", t + "b", "1"));
    rc.del({t + "a", t + "b", t + "c"});
    rc.del(k);
  });
}

TEST_CASE("rpoplpush_nonatomic / brpoplpush_nonatomic / sort_nonatomic", "[cluster][nonatomic]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const auto k = spread_keys(prefix("lists"), 4);
    rc.del(k);
    rc.rpush(k[0], {"1", "2", "3"});
    CHECK(rc.rpoplpush_nonatomic(k[0], k[1]) == "3");
    CHECK(rc.rpoplpush_nonatomic(k[0], k[1]) == "2");
    CHECK(rc.lrange(k[0], 0, -1) == std::vector<std::string>{"1"});
    CHECK(rc.lrange(k[1], 0, -1) == std::vector<std::string>{"2", "3"});
    CHECK(rc.rpoplpush_nonatomic(k[2], k[1]) == std::nullopt);
    rc.set(k[3], "string");
    CHECK_THROWS_AS(rc.rpoplpush_nonatomic(k[0], k[3]), fibredis::ResponseError);
    CHECK(rc.lrange(k[0], 0, -1) == std::vector<std::string>{"1"});  // not lost

    const auto t0 = std::chrono::steady_clock::now();
    CHECK(rc.brpoplpush_nonatomic(k[2], k[1], 200ms) == std::nullopt);
    CHECK(std::chrono::steady_clock::now() - t0 >= 150ms);
    CHECK(rc.brpoplpush_nonatomic(k[0], k[1], 1s) == "1");
    CHECK(rc.exists(k[0]) == 0);
    // Woken by a push from another fiber while it waits.
    fibredis::Fiber pusher([&] {
      boost::this_fiber::sleep_for(100ms);
      rc.lpush(k[2], "late");
    });
    CHECK(rc.brpoplpush_nonatomic(k[2], k[1], 3s) == "late");
    pusher.join();
    CHECK(rc.lrange(k[1], 0, -1) == std::vector<std::string>{"late", "1", "2", "3"});

    // SORT ... STORE across slots.
    rc.del({k[0], k[2]});
    rc.rpush(k[0], {"10", "3", "7", "1"});
    CHECK(rc.sort_nonatomic(k[0], k[2]) == 4);
    CHECK(rc.lrange(k[2], 0, -1) == std::vector<std::string>{"1", "3", "7", "10"});
    CHECK(rc.sort_nonatomic(k[0], k[2], {.limit = fibredis::Limit{1, 2}, .descending = true}) == 2);
    CHECK(rc.lrange(k[2], 0, -1) == std::vector<std::string>{"7", "3"});
    CHECK(rc.sort_nonatomic(k[0], k[2], {.alpha = true}) == 4);
    CHECK(rc.lrange(k[2], 0, -1) == std::vector<std::string>{"1", "10", "3", "7"});
    CHECK(rc.sort_nonatomic(k[0], k[2], {.by = "nosort"}) == 4);  // BY without '*': list order
    CHECK(rc.lrange(k[2], 0, -1) == std::vector<std::string>{"10", "3", "7", "1"});
    // Redis 7.0 refuses GET / BY patterns in cluster mode, natively and so here.
    CHECK_THROWS_AS(rc.sort_nonatomic(k[0], k[2], {.get = {"#"}}), fibredis::ResponseError);
    rc.del(k[0]);
    CHECK(rc.sort_nonatomic(k[0], k[2]) == 0);
    CHECK(rc.exists(k[2]) == 0);  // as SORT ... STORE: an empty result deletes dst
    // Same slot: native SORT ... STORE.
    const std::string t = prefix("lists") + "{same}";
    rc.rpush(t + "src", {"b", "a"});
    CHECK(rc.sort_nonatomic(t + "src", t + "dst", {.alpha = true}) == 2);
    CHECK(rc.lrange(t + "dst", 0, -1) == std::vector<std::string>{"a", "b"});
    rc.del({t + "src", t + "dst"});
    rc.del(k);
  });
}

TEST_CASE("zunionstore_nonatomic / zinterstore_nonatomic with weights and aggregates", "[cluster][nonatomic]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const auto k = spread_keys(prefix("zsets"), 4);  // z1, z2, plain set, dst
    rc.del(k);
    rc.zadd(k[0], {{"a", 1}, {"b", 2}});
    rc.zadd(k[1], {{"b", 3}, {"c", 4}});
    rc.sadd(k[2], {"b", "d"});
    using Z = std::vector<std::pair<std::string, double>>;
    using fibredis::Aggregate;

    CHECK(rc.zunionstore_nonatomic(k[3], {k[0], k[1]}) == 3);
    CHECK(rc.zrange_withscores(k[3], 0, -1) == Z{{"a", 1}, {"c", 4}, {"b", 5}});
    CHECK(rc.zunionstore_nonatomic(k[3], {k[0], k[1]}, {.weights = {1, 2}}) == 3);
    CHECK(rc.zrange_withscores(k[3], 0, -1) == Z{{"a", 1}, {"b", 8}, {"c", 8}});
    CHECK(rc.zunionstore_nonatomic(k[3], {k[0], k[1]}, {.weights = {1, 2}, .aggregate = Aggregate::Min}) == 3);
    CHECK(rc.zrange_withscores(k[3], 0, -1) == Z{{"a", 1}, {"b", 2}, {"c", 8}});
    CHECK(rc.zunionstore_nonatomic(k[3], {k[0], k[1]}, {.weights = {1, 2}, .aggregate = Aggregate::Max}) == 3);
    CHECK(rc.zrange_withscores(k[3], 0, -1) == Z{{"a", 1}, {"b", 6}, {"c", 8}});
    CHECK(rc.zunionstore_nonatomic(k[3], {k[0], k[2]}) == 3);  // a plain set scores 1
    CHECK(rc.zrange_withscores(k[3], 0, -1) == Z{{"a", 1}, {"d", 1}, {"b", 3}});

    CHECK(rc.zinterstore_nonatomic(k[3], {k[0], k[1]}) == 1);
    CHECK(rc.zrange_withscores(k[3], 0, -1) == Z{{"b", 5}});
    CHECK(rc.zinterstore_nonatomic(k[3], {k[0], k[1]}, {.weights = {10, 1}, .aggregate = Aggregate::Max}) == 1);
    CHECK(rc.zrange_withscores(k[3], 0, -1) == Z{{"b", 20}});
    CHECK(rc.zinterstore_nonatomic(k[3], {k[0], k[1], k[2]}) == 1);
    CHECK(rc.zrange_withscores(k[3], 0, -1) == Z{{"b", 6}});
    rc.del(k[2]);
    CHECK(rc.zinterstore_nonatomic(k[3], {k[0], k[2]}) == 0);
    CHECK(rc.exists(k[3]) == 0);
    CHECK_THROWS_AS(rc.zunionstore_nonatomic(k[3], {k[0], k[1]}, {.weights = {1}}), fibredis::UsageError);

    // Same slot: the native command agrees.
    const std::string t = prefix("zsets") + "{same}";
    rc.zadd(t + "1", {{"a", 1}, {"b", 2}});
    rc.zadd(t + "2", {{"b", 3}});
    CHECK(rc.zunionstore_nonatomic(t + "d", {t + "1", t + "2"}) == 2);
    CHECK(rc.zrange_withscores(t + "d", 0, -1) == Z{{"a", 1}, {"b", 5}});
    rc.del({t + "1", t + "2", t + "d"});
    rc.del(k);
  });
}

TEST_CASE("pfmerge_nonatomic merges across slots and leaves no temporary keys", "[cluster][nonatomic]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const std::string pre = prefix("hll");
    const auto k = spread_keys(pre, 3);
    const std::string dst = pre + "{dst}";
    const std::string near = pre + "{dst}near";  // dst's slot: merged directly
    const std::string missing = pre + "{m}missing";
    rc.del({k[0], k[1], k[2], dst, near});
    auto add = [&](const std::string& key, int from, int to) {
      std::vector<std::string> els;
      for (int i = from; i < to; ++i) els.push_back("e" + std::to_string(i));
      rc.pfadd(key, els);
    };
    add(k[0], 0, 100);
    add(k[1], 50, 150);
    add(near, 200, 210);
    add(dst, 300, 305);
    rc.pfmerge_nonatomic(dst, {k[0], k[1], near, missing});
    const long long n = rc.pfcount(dst);
    CHECK(std::abs(n - 165) <= 3);  // HyperLogLog: exact within ~1% at this size
    auto leftovers = [&] {
      std::size_t found = 0;
      for (const std::string& key : rc.scan_iter("*pfmerge-tmp*", 1000)) found += key.empty() ? 0 : 1;
      return found;
    };
    CHECK(leftovers() == 0);
    CHECK(rc.pfcount(k[0]) == 100);  // sources untouched

    // A source that is not a HyperLogLog: PFMERGE fails, the temporaries still go.
    rc.set(k[2], "plain string");
    CHECK_THROWS_AS(rc.pfmerge_nonatomic(dst, {k[0], k[2]}), fibredis::ResponseError);
    CHECK(leftovers() == 0);
    rc.del({k[0], k[1], k[2], dst, near});
  });
}

// ---- scan ---------------------------------------------------------------------------------

TEST_CASE("scan_iter covers every primary exactly; hscan/sscan/zscan_iter on a key", "[cluster][scan]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const std::string pre = prefix("scan");
    std::set<std::string> written;
    std::vector<std::pair<std::string, std::string>> kvs;
    for (int i = 0; i < 1000; ++i) {
      kvs.emplace_back(pre + std::to_string(i), "v");
      written.insert(kvs.back().first);
    }
    rc.mset_nonatomic(kvs);
    std::vector<std::string> seen;
    for (std::string& key : rc.scan_iter(pre + "*", 100)) seen.push_back(std::move(key));
    CHECK(seen.size() == 1000);  // no duplicates (replicas are not scanned)
    CHECK(as_set(seen) == written);
    std::vector<std::string> typed;
    for (std::string& key : rc.scan_iter({.match = pre + "*", .count = 500, .type = "hash"})) typed.push_back(key);
    CHECK(typed.empty());

    const std::string h = pre + "hash", s = pre + "set", z = pre + "zset";
    std::vector<std::pair<std::string, std::string>> fields;
    std::vector<std::string> members;
    std::vector<std::pair<std::string, double>> scored;
    for (int i = 0; i < 300; ++i) {
      fields.emplace_back("f" + std::to_string(i), "v" + std::to_string(i));
      members.push_back("m" + std::to_string(i));
      scored.emplace_back("m" + std::to_string(i), i * 0.5);
    }
    rc.hset(h, fields);
    rc.sadd(s, members);
    rc.zadd(z, scored);
    std::map<std::string, std::string> hseen;
    for (auto& [f, v] : rc.hscan_iter(h, {.count = 50})) hseen[f] = v;
    CHECK(hseen.size() == 300);
    CHECK(hseen["f17"] == "v17");
    std::vector<std::string> sseen;
    for (auto& m : rc.sscan_iter(s, {.count = 50})) sseen.push_back(m);
    CHECK(as_set(sseen) == as_set(members));
    std::map<std::string, double> zseen;
    for (auto& [m, score] : rc.zscan_iter(z, {.match = "m1*", .count = 50})) zseen[m] = score;
    CHECK(zseen.size() == 111);  // m1, m10..m19, m100..m199
    CHECK(zseen["m150"] == 75.0);

    std::vector<std::string> all(written.begin(), written.end());
    all.insert(all.end(), {h, s, z});
    CHECK(rc.del(all) == 1003);
  });
}

// ---- refresh storms -----------------------------------------------------------------------

TEST_CASE("a MOVED storm from 1,000 fibers costs at most a couple of refreshes", "[cluster][storm]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    const std::string pre = prefix("storm") + "{hot}";
    const std::uint16_t slot = fibredis::key_slot(pre);
    std::vector<std::pair<std::string, std::string>> kvs;
    for (int i = 0; i < 1000; ++i) kvs.emplace_back(pre + std::to_string(i), std::to_string(i * 7));
    rc.mset_nonatomic(kvs);
    const NodeAddress owner = owner_of(rc, slot);
    fibredis::detail::topology_holder(rc).move_slot(slot, another_primary(rc, owner));

    const auto refreshes0 = rc.topology_refreshes();
    int ok = 0, wrong = 0, failed = 0;
    {
      std::vector<fibredis::Fiber> fibers;
      for (int i = 0; i < 1000; ++i)
        fibers.emplace_back([&, i] {
          try {
            (rc.get(pre + std::to_string(i)) == std::to_string(i * 7) ? ok : wrong)++;
          } catch (const std::exception& e) {
            if (++failed <= 3) WARN("GET failed: " << e.what());
          }
        });
    }
    const auto refreshes = rc.topology_refreshes() - refreshes0;
    std::cout << "[storm] 1000 fibers on one stale slot: " << refreshes << " refreshes, " << rc.redirects()
              << " redirects\n";
    CHECK(ok == 1000);
    CHECK(wrong == 0);
    CHECK(failed == 0);
    CHECK(refreshes <= 2);
    CHECK(owner_of(rc, slot) == owner);
    std::vector<std::string> keys;
    for (auto& kv : kvs) keys.push_back(kv.first);
    rc.del(keys);
  });
}

TEST_CASE("a stale map of 2,000 slots under 500 fibers heals with few full refreshes", "[cluster][storm]") {
  Runtime rt;
  rt.run([&] {
    ClusterClient rc(shared_options());
    std::set<std::uint16_t> slots;
    for (std::uint16_t s = 0; s < fibredis::kSlotCount; s += 8) slots.insert(s);  // 2048 slots
    const auto keys = keys_for_slots(prefix("storm2"), slots);
    std::map<std::uint16_t, NodeAddress> truth;
    for (std::uint16_t s : slots) truth[s] = owner_of(rc, s);
    std::vector<std::pair<std::string, std::string>> kvs;
    for (auto& [s, k] : keys) kvs.emplace_back(k, "s" + std::to_string(s));
    rc.mset_nonatomic(kvs);
    for (std::uint16_t s : slots) fibredis::detail::topology_holder(rc).move_slot(s, another_primary(rc, truth[s]));

    const auto refreshes0 = rc.topology_refreshes();
    const auto redirects0 = rc.redirects();
    std::vector<std::pair<std::uint16_t, std::string>> work(keys.begin(), keys.end());
    int ok = 0, failed = 0;
    {
      std::vector<fibredis::Fiber> fibers;
      for (std::size_t i = 0; i < 500; ++i)
        fibers.emplace_back([&, i] {
          const auto& [s, k] = work[i * work.size() / 500];
          try {
            if (rc.get(k) == "s" + std::to_string(s)) ++ok;
          } catch (const std::exception& e) {
            if (++failed <= 3) WARN("GET failed: " << e.what());
          }
        });
    }
    const auto refreshes = rc.topology_refreshes() - refreshes0;
    std::cout << "[storm] 500 fibers over 2048 stale slots: " << refreshes << " full refreshes, "
              << rc.redirects() - redirects0 << " redirects\n";
    CHECK(ok == 500);
    CHECK(failed == 0);
    CHECK(refreshes >= 1);  // reinitialize_steps MOVEDs force a full refresh...
    CHECK(refreshes <= 5);  // ...single-flight: not one per fiber
    // A full refresh heals the slots nobody asked about, too.
    std::size_t still_wrong = 0;
    for (std::uint16_t s : slots) still_wrong += owner_of(rc, s) == truth[s] ? 0 : 1;
    CHECK(still_wrong == 0);
    std::vector<std::string> ks;
    for (auto& kv : kvs) ks.push_back(kv.first);
    CHECK(rc.del(ks) == static_cast<long long>(ks.size()));
  });
}
