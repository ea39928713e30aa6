// ClusterClient under faults, each on its own fresh 3 + 3 cluster (stopped at the end, also on
// failure): a live reshard followed by a manual CLUSTER FAILOVER under load must cost nothing (no
// error reaches a caller, no acknowledged write is lost); a primary killed with SIGKILL, or
// stopped with SIGSTOP for 15 s (no RST: it just never answers), under load costs typed errors
// only until its replica is promoted plus 1 s, after which the client recovers by itself; a write
// parked on a stopped primary is re-sent or refused as retry_unknown_writes says; the periodic
// refresh picks up a failover that no command noticed; a slotless node and a cluster stuck in
// CLUSTERDOWN are handled.
//
// The load: 200 fibers doing SET-then-GET on 20,000 keys, each fiber owning a disjoint set of
// keys and remembering the last acknowledged value of each (and the value of a SET that failed,
// which may or may not have been applied). Redis tooling (redis-cli --cluster reshard, CLUSTER
// FAILOVER, kill) runs on a std::thread so the fiber loop never stalls.
#include <catch2/catch.hpp>

#include <fibredis/cluster/cluster_client.hpp>
#include <fibredis/cluster/slot.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/runtime/runtime.hpp>

#include "support/cluster_ops.hpp"
#include "support/helpers.hpp"
#include "support/servers.hpp"

#include <boost/fiber/operations.hpp>

#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using fibredis::ClusterClient;
using fibredis::ClusterOptions;
using fibredis::NodeAddress;
using fibredis::Runtime;
namespace test = fibredis::test;
using SteadyClock = std::chrono::steady_clock;

namespace {

using test::FreshCluster;

ClusterOptions options_for(const test::ClusterInfo& c, std::chrono::milliseconds command_timeout) {
  ClusterOptions o;
  o.startup_nodes = {{c.host, c.ports.front()}};
  o.command_timeout = command_timeout;
  o.connect_timeout = 1000ms;
  return o;
}

double ms_between(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

using test::fiber_wait_until;
using test::OffThread;

std::string error_kind(const std::exception& e) {
  // Most specific first.
  if (dynamic_cast<const fibredis::RedirectLimitError*>(&e)) return "RedirectLimitError";
  if (dynamic_cast<const fibredis::ClusterDownError*>(&e)) return "ClusterDownError";
  if (dynamic_cast<const fibredis::TryAgainError*>(&e)) return "TryAgainError";
  if (dynamic_cast<const fibredis::SlotNotCoveredError*>(&e)) return "SlotNotCoveredError";
  if (dynamic_cast<const fibredis::CrossSlotError*>(&e)) return "CrossSlotError";
  if (dynamic_cast<const fibredis::ClusterError*>(&e)) return "ClusterError";
  if (dynamic_cast<const fibredis::TimeoutError*>(&e)) return "TimeoutError";
  if (dynamic_cast<const fibredis::ConnectionError*>(&e)) return "ConnectionError";
  if (dynamic_cast<const fibredis::ResponseError*>(&e)) return "ResponseError";
  if (dynamic_cast<const fibredis::ProtocolError*>(&e)) return "ProtocolError";
  if (dynamic_cast<const fibredis::Error*>(&e)) return "Error";
  return std::string("NOT a fibredis::Error: ") + typeid(e).name();
}

// The load and its bookkeeping. Single-threaded (all fibers on the runtime thread): plain ints.
class Load {
 public:
  static constexpr int kFibers = 200;
  static constexpr int kKeysPerFiber = 100;

  Load(ClusterClient& rc, std::string prefix) : rc_(rc) {
    for (int f = 0; f < kFibers; ++f)
      for (int i = 0; i < kKeysPerFiber; ++i) keys_.push_back(prefix + "f" + std::to_string(f) + ":k" + std::to_string(i));
    acked_.resize(keys_.size());
    maybe_.resize(keys_.size());
  }

  /// Slots whose keys count as "on the watched shard" for the recovery figures.
  void watch_slots(std::set<std::uint16_t> slots) { watched_ = std::move(slots); }

  void start() {
    started_ = SteadyClock::now();
    for (int f = 0; f < kFibers; ++f) fibers_.emplace_back([this, f] { run(f); });
  }
  void stop() {
    stop_ = true;
    for (auto& fb : fibers_) fb.join();
    fibers_.clear();
  }

  /// Reads every key back; a key is lost when it holds neither its last acknowledged value nor
  /// the value of a later SET that failed (and so may have been applied).
  std::size_t lost_writes() {
    std::size_t lost = 0;
    for (std::size_t at = 0; at < keys_.size(); at += 1000) {
      std::vector<std::string> part(keys_.begin() + static_cast<long>(at),
                                    keys_.begin() + static_cast<long>(std::min(keys_.size(), at + 1000)));
      // The reads check what survived, so they may wait out a cluster that is still settling
      // after the fault (CLUSTERDOWN for a moment on a loaded box): bounded retries.
      std::vector<std::optional<std::string>> values;
      for (int attempt = 0;; ++attempt) {
        try {
          values = rc_.mget_nonatomic(part);
          break;
        } catch (const fibredis::Error& e) {
          if (attempt >= 10) throw;
          std::cout << "  verify: " << e.what() << " (retrying)\n";
          boost::this_fiber::sleep_for(1s);
        }
      }
      for (std::size_t j = 0; j < values.size(); ++j) {
        const std::size_t k = at + j;
        const bool ok = values[j] == acked_[k] || (maybe_[k] && values[j] == maybe_[k]);
        if (!ok && ++lost <= 5)
          std::cout << "  lost: " << keys_[k] << " holds " << values[j].value_or("(nil)") << ", acknowledged "
                    << acked_[k].value_or("(nil)") << "\n";
      }
    }
    return lost;
  }

  std::size_t keys() const { return keys_.size(); }
  long long ops() const { return ops_; }
  long long errors() const { return errors_; }
  long long read_mismatches() const { return mismatches_; }
  const std::map<std::string, long long>& errors_by_kind() const { return by_kind_; }
  double max_latency_ms() const { return max_latency_ms_; }
  std::optional<SteadyClock::time_point> first_failure() const { return first_failure_; }
  std::optional<SteadyClock::time_point> last_failure() const { return last_failure_; }
  /// Completion time of the first successful op on a watched slot that started after `t`.
  std::optional<SteadyClock::time_point> first_watched_success_after(SteadyClock::time_point t) const {
    for (const auto& [start, end] : watched_successes_)
      if (start > t) return end;
    return std::nullopt;
  }
  long long watched_successes_since(SteadyClock::time_point t) const {
    long long n = 0;
    for (const auto& [start, end] : watched_successes_) n += start > t ? 1 : 0;
    return n;
  }
  void print(const std::string& title) const {
    std::cout << "[" << title << "] ops " << ops_ << ", errors " << errors_ << ", read mismatches " << mismatches_
              << ", max op latency " << max_latency_ms_ << " ms, redirects " << rc_.redirects() << ", topology refreshes "
              << rc_.topology_refreshes() << "\n";
    for (const auto& [kind, n] : by_kind_) std::cout << "  " << kind << ": " << n << "\n";
  }

 private:
  void run(int f) {
    long long seq = 0;
    for (int round = 0; round < 1'000'000 && !stop_; ++round) {
      const std::size_t k = static_cast<std::size_t>(f) * kKeysPerFiber + static_cast<std::size_t>(round % kKeysPerFiber);
      const std::string value = "f" + std::to_string(f) + "-" + std::to_string(++seq);
      const bool watched = !watched_.empty() && watched_.count(fibredis::key_slot(keys_[k])) != 0;
      const auto t0 = SteadyClock::now();
      try {
        rc_.set(keys_[k], value);
        acked_[k] = value;
        maybe_[k].reset();
        std::optional<std::string> back = rc_.get(keys_[k]);
        if (back != value) {
          if (++mismatches_ <= 5)
            std::cout << "  read mismatch on " << keys_[k] << ": wrote " << value << ", read " << back.value_or("(nil)") << "\n";
        }
        done(t0, watched, nullptr);
      } catch (const std::exception& e) {
        if (!acked_[k] || *acked_[k] != value) maybe_[k] = value;  // the SET may have been applied
        done(t0, watched, &e);
        boost::this_fiber::sleep_for(10ms);  // a failing caller backs off a little, like a real one
      }
    }
  }

  void done(SteadyClock::time_point t0, bool watched, const std::exception* e) {
    const auto t1 = SteadyClock::now();
    ++ops_;
    max_latency_ms_ = std::max(max_latency_ms_, ms_between(t0, t1));
    if (e == nullptr) {
      if (watched) watched_successes_.emplace_back(t0, t1);
      return;
    }
    ++errors_;
    const std::string kind = error_kind(*e);
    if (++by_kind_[kind] <= 2) std::cout << "  error (" << kind << "): " << e->what() << "\n";
    if (!first_failure_) first_failure_ = t1;
    last_failure_ = t1;
  }

  ClusterClient& rc_;
  std::vector<std::string> keys_;
  std::vector<std::optional<std::string>> acked_;
  std::vector<std::optional<std::string>> maybe_;
  std::vector<fibredis::Fiber> fibers_;
  std::set<std::uint16_t> watched_;
  std::vector<std::pair<SteadyClock::time_point, SteadyClock::time_point>> watched_successes_;
  bool stop_ = false;
  SteadyClock::time_point started_{};
  long long ops_ = 0;
  long long errors_ = 0;
  long long mismatches_ = 0;
  double max_latency_ms_ = 0;
  std::map<std::string, long long> by_kind_;
  std::optional<SteadyClock::time_point> first_failure_;
  std::optional<SteadyClock::time_point> last_failure_;
};

using test::replica_of;
using test::role_of;

std::set<std::uint16_t> slots_of(ClusterClient& rc, const NodeAddress& primary) {
  std::set<std::uint16_t> out;
  auto t = rc.topology();
  for (std::uint16_t s = 0; s < fibredis::kSlotCount; ++s)
    if (const fibredis::Shard* sh = t->shard_for_slot(s); sh && sh->primary == primary) out.insert(s);
  return out;
}

}  // namespace

TEST_CASE("live reshard and CLUSTER FAILOVER under load: no errors, no lost writes", "[cluster][faults]") {
  FreshCluster cluster;
  const test::ClusterInfo& c = cluster.info;
  const std::uint16_t from = c.ports[0], to = c.ports[1];
  const std::string from_id = test::redis_cli(from, "CLUSTER MYID"), to_id = test::redis_cli(to, "CLUSTER MYID");
  const std::uint16_t replica = replica_of(c, to);  // fail over the shard that receives the slots

  Runtime rt;
  rt.run([&] {
    ClusterClient rc(options_for(c, 5000ms));
    Load load(rc, "reshard:");
    load.start();
    boost::this_fiber::sleep_for(1s);
    const long long ops_before = load.ops();

    const auto t_reshard = SteadyClock::now();
    int reshard_status = -1;
    const char* tmp = std::getenv("TMPDIR");
    const std::string log = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/fibredis-reshard-" +
                            std::to_string(::getpid()) + ".log";
    {
      OffThread reshard([&] {
        const std::string cmd = "timeout -k 5 240 redis-cli --cluster reshard 127.0.0.1:" + std::to_string(from) +
                                " --cluster-from " + from_id + " --cluster-to " + to_id +
                                " --cluster-slots 2000 --cluster-yes >'" + log + "' 2>&1 </dev/null";
        reshard_status = std::system(cmd.c_str());
      });
      REQUIRE(reshard.wait(250s));
    }
    const double reshard_ms = ms_between(t_reshard, SteadyClock::now());
    CHECK(reshard_status == 0);
    if (reshard_status != 0) std::system(("tail -n 20 '" + log + "'").c_str());
    std::remove(log.c_str());
    std::cout << "[reshard] 2000 slots moved in " << reshard_ms << " ms under load\n";

    boost::this_fiber::sleep_for(500ms);
    const auto t_failover = SteadyClock::now();
    bool flipped = false;
    {
      OffThread failover([&] {
        if (test::redis_cli(replica, "CLUSTER FAILOVER") != "OK") return;
        for (int i = 0; i < 300 && !flipped; ++i) {  // ≤ 30 s
          flipped = role_of(replica) == "master" && role_of(to) == "slave";
          if (!flipped) std::this_thread::sleep_for(100ms);
        }
      });
      REQUIRE(failover.wait(60s));
    }
    CHECK(flipped);
    std::cout << "[failover] roles flipped after " << ms_between(t_failover, SteadyClock::now()) << " ms\n";
    boost::this_fiber::sleep_for(2s);  // keep going on the new layout
    load.stop();

    load.print("reshard+failover");
    CHECK(load.ops() > ops_before);
    CHECK(load.errors() == 0);
    CHECK(load.read_mismatches() == 0);
    const std::size_t lost = load.lost_writes();
    std::cout << "[reshard+failover] lost acknowledged writes: " << lost << " of " << load.keys() << " keys\n";
    CHECK(lost == 0);
    // The client follows the new layout: the replica is a primary now, the old one is not.
    rc.refresh_topology();
    const auto primaries = rc.get_primaries();
    CHECK(std::count(primaries.begin(), primaries.end(), NodeAddress{"127.0.0.1", replica}) == 1);
    CHECK(std::count(primaries.begin(), primaries.end(), NodeAddress{"127.0.0.1", to}) == 0);
    CHECK(slots_of(rc, NodeAddress{"127.0.0.1", replica}).size() == 5462 + 2000);  // 5461-10922 + the reshard
  });
}

TEST_CASE("kill -9 of a primary under load: typed errors in a bounded window, then recovery", "[cluster][faults]") {
  const int refresh_ms = GENERATE(0, 250);
  FreshCluster cluster;
  const test::ClusterInfo& c = cluster.info;
  const std::uint16_t victim = c.ports[2];
  const std::uint16_t heir = replica_of(c, victim);
  const pid_t pid = test::server_pid(victim);
  constexpr auto kCommandTimeout = 2000ms;

  Runtime rt;
  rt.run([&] {
    ClusterOptions o = options_for(c, kCommandTimeout);
    o.refresh_interval = std::chrono::milliseconds(refresh_ms);
    ClusterClient rc(o);
    Load load(rc, "kill:");
    load.watch_slots(slots_of(rc, NodeAddress{"127.0.0.1", victim}));
    load.start();
    boost::this_fiber::sleep_for(1s);
    REQUIRE(load.errors() == 0);

    const auto t_kill = SteadyClock::now();
    REQUIRE(::kill(pid, SIGKILL) == 0);
    bool promoted = false;
    {
      OffThread watch([&] {
        for (int i = 0; i < 300 && !promoted; ++i) {  // ≤ 30 s
          promoted = role_of(heir) == "master";
          if (!promoted) std::this_thread::sleep_for(100ms);
        }
      });
      REQUIRE(watch.wait(60s));
    }
    REQUIRE(promoted);
    const double promoted_ms = ms_between(t_kill, SteadyClock::now());
    // Recovered: ops on the failed shard's slots succeed again, by the client's own doing.
    const bool recovered = fiber_wait_until([&] { return load.watched_successes_since(t_kill) >= 100; }, 20s);
    boost::this_fiber::sleep_for(1s);
    load.stop();

    load.print("kill -9, refresh_interval " + std::to_string(refresh_ms) + " ms");
    CHECK(recovered);
    const auto first_ok = load.first_watched_success_after(t_kill);
    REQUIRE(first_ok);
    const double outage_ms = ms_between(t_kill, *first_ok);
    std::cout << "[kill -9] replica promoted (seen by ROLE) " << promoted_ms << " ms after the kill; first success on the "
              << "failed shard " << outage_ms << " ms after the kill\n";
    if (load.first_failure()) {
      std::cout << "[kill -9] recovery (first failure -> first success on the failed shard after it): "
                << ms_between(*load.first_failure(), *first_ok) << " ms; errors from "
                << ms_between(t_kill, *load.first_failure()) << " to " << ms_between(t_kill, *load.last_failure())
                << " ms after the kill\n";
      CHECK(*load.last_failure() - t_kill < 30s);  // errors stop: the window is bounded
      // ...and only until the promotion (as ROLE polled every 100 ms saw it) plus 1 s.
      CHECK(ms_between(t_kill, *load.last_failure()) - promoted_ms < 1000);
    }
    for (const auto& [kind, n] : load.errors_by_kind()) {
      INFO(kind);
      CHECK(kind.rfind("NOT", 0) != 0);  // every error is a typed fibredis::Error
    }
    // Nothing hangs: every call ends within its deadline (+ slack for a loaded 2-core box).
    CHECK(load.max_latency_ms() < std::chrono::duration<double, std::milli>(kCommandTimeout).count() + 1500);
    const std::size_t lost = load.lost_writes();
    std::cout << "[kill -9] lost acknowledged writes: " << lost << " of " << load.keys() << " keys; read mismatches "
              << load.read_mismatches() << "\n";
    CHECK(lost <= load.keys() / 100);  // async replication: a few may go, not more than 1 %
  });
}

TEST_CASE("refresh_interval picks up a failover no command noticed", "[cluster][faults]") {
  FreshCluster cluster;
  const test::ClusterInfo& c = cluster.info;
  const std::uint16_t old_primary = c.ports[1];
  const std::uint16_t replica = replica_of(c, old_primary);

  Runtime rt;
  rt.run([&] {
    ClusterOptions o = options_for(c, 2000ms);
    o.refresh_interval = 200ms;
    ClusterClient rc(o);
    std::string k;
    for (int i = 0; i < 100'000 && (k.empty() || !(rc.get_node_from_key(k) == NodeAddress{"127.0.0.1", old_primary})); ++i)
      k = "quiet:" + std::to_string(i);
    REQUIRE(rc.get_node_from_key(k) == NodeAddress{"127.0.0.1", old_primary});
    rc.set(k, "before");

    const auto refreshes0 = rc.topology_refreshes();
    const auto redirects0 = rc.redirects();
    bool flipped = false;
    {
      OffThread failover([&] {
        if (test::redis_cli(replica, "CLUSTER FAILOVER") != "OK") return;
        for (int i = 0; i < 300 && !flipped; ++i) {
          flipped = role_of(replica) == "master" && role_of(old_primary) == "slave";
          if (!flipped) std::this_thread::sleep_for(100ms);
        }
      });
      REQUIRE(failover.wait(60s));
    }
    REQUIRE(flipped);
    // No command runs; only the periodic refresh can tell the client.
    const auto t0 = SteadyClock::now();
    const bool seen = fiber_wait_until([&] { return rc.get_node_from_key(k) == NodeAddress{"127.0.0.1", replica}; }, 10s);
    std::cout << "[refresh_interval] failover seen by the client " << ms_between(t0, SteadyClock::now())
              << " ms after the roles flipped, " << rc.topology_refreshes() - refreshes0 << " periodic refreshes\n";
    CHECK(seen);
    CHECK(rc.topology_refreshes() > refreshes0);
    CHECK(rc.redirects() == redirects0);
    // The next command goes straight to the new primary: no MOVED.
    CHECK(rc.get(k) == "before");
    CHECK(rc.set(k, "after"));
    CHECK(rc.redirects() == redirects0);
    CHECK(test::redis_cli(replica, "GET '" + k + "'") == "after");
  });
}

namespace {

// Polls ROLE of `port` off the fiber thread until it says `role` (≤ limit); the time it was seen.
std::optional<SteadyClock::time_point> wait_for_role(std::uint16_t port, const std::string& role,
                                                     std::chrono::milliseconds limit) {
  std::optional<SteadyClock::time_point> seen;
  OffThread watch([&] {
    const auto end = SteadyClock::now() + limit;
    while (!seen && SteadyClock::now() < end) {
      if (role_of(port) == role) {
        seen = SteadyClock::now();
      } else {
        std::this_thread::sleep_for(100ms);
      }
    }
  });
  watch.wait(limit + 10s);
  return seen;
}

// A key whose slot the primary on `port` serves.
std::string key_on(ClusterClient& rc, std::uint16_t port, const std::string& prefix) {
  for (int i = 0; i < 100'000; ++i) {
    std::string k = prefix + std::to_string(i);
    if (rc.get_node_from_key(k) == NodeAddress{"127.0.0.1", port}) return k;
  }
  FAIL("no key on port " << port);
  return {};
}

}  // namespace

TEST_CASE("SIGSTOP of a primary under load: errors end when the replica is promoted, then it rejoins",
          "[cluster][faults][sigstop]") {
  FreshCluster cluster;
  const test::ClusterInfo& c = cluster.info;
  const std::uint16_t victim = c.ports[1];
  const std::uint16_t heir = replica_of(c, victim);
  const pid_t pid = test::server_pid(victim);
  constexpr auto kCommandTimeout = 2000ms;
  constexpr auto kStop = 15s;

  Runtime rt;
  rt.run([&] {
    ClusterClient rc(options_for(c, kCommandTimeout));
    Load load(rc, "stop:");
    load.watch_slots(slots_of(rc, NodeAddress{"127.0.0.1", victim}));
    load.start();
    boost::this_fiber::sleep_for(1s);
    REQUIRE(load.errors() == 0);

    const auto t_stop = SteadyClock::now();
    REQUIRE(::kill(pid, SIGSTOP) == 0);
    const auto promoted = wait_for_role(heir, "master", 30s);
    if (!promoted) ::kill(pid, SIGCONT);
    REQUIRE(promoted);
    const double promoted_ms = ms_between(t_stop, *promoted);
    const bool recovered = fiber_wait_until([&] { return load.watched_successes_since(*promoted) >= 100; }, 10s);
    // Keep the node stopped for the whole 15 s while the load runs on the new layout.
    boost::this_fiber::sleep_until(t_stop + kStop);
    REQUIRE(::kill(pid, SIGCONT) == 0);
    const auto rejoined = wait_for_role(victim, "slave", 30s);
    boost::this_fiber::sleep_for(1s);
    load.stop();

    load.print("SIGSTOP 15 s");
    CHECK(recovered);
    const auto first_ok = load.first_watched_success_after(t_stop);
    REQUIRE(first_ok);
    std::cout << "[SIGSTOP] replica promoted (seen by ROLE) " << promoted_ms << " ms after the stop; first success on "
              << "the stopped shard " << ms_between(t_stop, *first_ok) << " ms after the stop\n";
    if (load.last_failure()) {
      std::cout << "[SIGSTOP] errors from " << ms_between(t_stop, *load.first_failure()) << " to "
                << ms_between(t_stop, *load.last_failure()) << " ms after the stop\n";
      // Errors only until the promotion (as ROLE polled every 100 ms saw it) plus 1 s.
      CHECK(ms_between(*promoted, *load.last_failure()) < 1000);
    }
    for (const auto& [kind, n] : load.errors_by_kind()) {
      INFO(kind);
      CHECK(kind.rfind("NOT", 0) != 0);  // every error is a typed fibredis::Error
    }
    CHECK(load.max_latency_ms() < std::chrono::duration<double, std::milli>(kCommandTimeout).count() + 1500);
    CHECK(rejoined);  // the old primary came back as a replica
    if (rejoined) std::cout << "[SIGSTOP] old primary a replica " << ms_between(t_stop + kStop, *rejoined) << " ms after SIGCONT\n";
    const std::size_t lost = load.lost_writes();
    std::cout << "[SIGSTOP] lost acknowledged writes: " << lost << " of " << load.keys() << " keys; read mismatches "
              << load.read_mismatches() << "\n";
    CHECK(lost <= load.keys() / 100);
    CHECK(load.read_mismatches() == 0);
    CHECK(rc.stats().retries > 0);
    CHECK(rc.stats().timeouts > 0);
    // The client never routes to the stopped node once the replica took over.
    CHECK(rc.get_node_from_key(key_on(rc, heir, "stop:probe:")) == NodeAddress{"127.0.0.1", heir});
  });
}

TEST_CASE("a write parked on a stopped primary: retried by default, refused with retry_unknown_writes off",
          "[cluster][faults][sigstop]") {
  FreshCluster cluster;
  const test::ClusterInfo& c = cluster.info;
  const std::uint16_t victim = c.ports[0];
  const std::uint16_t heir = replica_of(c, victim);
  const pid_t pid = test::server_pid(victim);

  Runtime rt;
  rt.run([&] {
    // A deadline far beyond the failover: whatever ends these calls early is the client's doing.
    ClusterOptions lenient = options_for(c, 15000ms);
    ClusterOptions strict = lenient;
    strict.retry_unknown_writes = false;
    ClusterClient at_least_once(lenient);
    ClusterClient at_most_once(strict);
    CHECK(lenient.retry_unknown_writes);  // the documented default
    const std::string k1 = key_on(at_least_once, victim, "park:a:");
    const std::string k2 = key_on(at_least_once, victim, "park:b:");
    at_most_once.set(k2, "before");

    REQUIRE(::kill(pid, SIGSTOP) == 0);
    const auto t_stop = SteadyClock::now();
    std::string set1, set2, get2;
    double set1_ms = 0, set2_ms = 0, get2_ms = 0;
    {
      std::vector<fibredis::Fiber> calls;
      calls.emplace_back([&] {
        try {
          set1 = at_least_once.set(k1, "v1") ? "ok" : "not set";
        } catch (const std::exception& e) {
          set1 = error_kind(e) + ": " + e.what();
        }
        set1_ms = ms_between(t_stop, SteadyClock::now());
      });
      calls.emplace_back([&] {
        try {
          set2 = at_most_once.set(k2, "v2") ? "ok" : "not set";
        } catch (const std::exception& e) {
          set2 = error_kind(e);
        }
        set2_ms = ms_between(t_stop, SteadyClock::now());
      });
      calls.emplace_back([&] {
        try {
          get2 = at_most_once.get(k2).value_or("(nil)");
        } catch (const std::exception& e) {
          get2 = error_kind(e);
        }
        get2_ms = ms_between(t_stop, SteadyClock::now());
      });
    }
    const auto promoted = wait_for_role(heir, "master", 1s);  // already promoted: the calls ended after it
    ::kill(pid, SIGCONT);
    std::cout << "[parked] SET (at-least-once): " << set1 << " after " << set1_ms << " ms; SET (at-most-once): " << set2
              << " after " << set2_ms << " ms; GET (at-most-once): " << get2 << " after " << get2_ms << " ms\n";
    CHECK(promoted);
    // At-least-once: the parked SET was re-sent to the new primary and acknowledged there.
    CHECK(set1 == "ok");
    CHECK(test::redis_cli(heir, "GET '" + k1 + "'") == "v1");
    // At-most-once: the written SET's outcome is unknown, so the caller is told, well before
    // its deadline (the connection to the demoted node is broken as soon as the map shows it).
    CHECK(set2 == "ConnectionError");
    CHECK(set2_ms < 12000);
    // A read is retried either way: GET answers from the new primary.
    CHECK((get2 == "before" || get2 == "v2"));
    CHECK(get2_ms < 12000);
    CHECK(set1_ms < 12000);
    wait_for_role(victim, "slave", 30s);
  });
}

TEST_CASE("a node that owns no slots: the coverage check neither crashes nor passes", "[cluster][faults][coverage]") {
  FreshCluster cluster;
  const test::ClusterInfo& c = cluster.info;
  const std::uint16_t lone = c.ports[5];  // a replica, reset into a cluster of its own with no slots
  REQUIRE(test::redis_cli(lone, "CLUSTER RESET HARD") == "OK");
  Runtime rt;
  rt.run([&] {
    ClusterOptions o = options_for(c, 2000ms);
    o.startup_nodes = {{"127.0.0.1", lone}};
    try {
      ClusterClient rc(o);
      FAIL("a client on a slotless node started without skip_full_coverage_check");
    } catch (const fibredis::SlotNotCoveredError& e) {
      CHECK(std::string(e.what()).find("0-16383") != std::string::npos);
    }
    o.skip_full_coverage_check = true;
    ClusterClient rc(o);
    CHECK(rc.get_primaries().empty());
    CHECK(rc.get_default_node() == NodeAddress{"127.0.0.1", lone});
    CHECK_THROWS_AS(rc.get("anything"), fibredis::SlotNotCoveredError);
    CHECK(rc.ping() == "PONG");  // keyless: the node itself answers
  });
}

TEST_CASE("a cluster stuck in CLUSTERDOWN: refreshes are rate-limited per client, errors typed",
          "[cluster][faults][clusterdown]") {
  FreshCluster cluster;
  const test::ClusterInfo& c = cluster.info;
  const std::uint16_t dead = c.ports[2];
  const std::uint16_t dead_replica = replica_of(c, dead);
  Runtime rt;
  rt.run([&] {
    ClusterOptions o = options_for(c, 3000ms);
    ClusterClient rc(o);
    const std::string alive_key = key_on(rc, c.ports[0], "down:");
    // A whole shard dies: the others declare the cluster down after cluster-node-timeout.
    REQUIRE(::kill(test::server_pid(dead_replica), SIGKILL) == 0);
    REQUIRE(::kill(test::server_pid(dead), SIGKILL) == 0);
    const bool down = fiber_wait_until(
        [&] { return test::redis_cli(c.ports[0], "CLUSTER INFO").find("cluster_state:fail") != std::string::npos; },
        20s, 200ms);
    REQUIRE(down);
    // One caller, then fifty: the refresh rate must not grow with the number of waiting callers.
    for (const int callers : {1, 50}) {
      const auto refreshes0 = rc.topology_refreshes();
      const auto t0 = SteadyClock::now();
      std::map<std::string, int> kinds;
      {
        std::vector<fibredis::Fiber> fibers;
        for (int i = 0; i < callers; ++i)
          fibers.emplace_back([&] {
            try {
              rc.get(alive_key);
              ++kinds["no error"];
            } catch (const std::exception& e) {
              ++kinds[error_kind(e)];
            }
          });
      }
      const double seconds = ms_between(t0, SteadyClock::now()) / 1000;
      const auto refreshes = rc.topology_refreshes() - refreshes0;
      std::cout << "[CLUSTERDOWN] " << callers << " callers waited " << seconds << " s: " << refreshes
                << " refreshes (" << refreshes / seconds << "/s for the client)\n";
      for (const auto& [kind, n] : kinds) std::cout << "  " << kind << ": " << n << "\n";
      CHECK(kinds["ClusterDownError"] == callers);  // the deadline passed while the cluster was down
      CHECK(seconds < 3.0 + 1.5);
      // One refresh per fault_refresh_interval (200 ms) for the whole client, however many wait.
      CHECK(refreshes / seconds <= 1000.0 / 200 + 2);
    }
  });
}
