// Driving a test cluster from a fiber without stalling the runtime: Redis tooling (redis-cli,
// CLUSTER FAILOVER, CLUSTER SETSLOT) runs on a std::thread while the fiber polls with sleeps.
#pragma once

#include <catch2/catch.hpp>

#include "support/servers.hpp"

#include <boost/fiber/operations.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <thread>

namespace fibredis::test {

// Work for a std::thread (subprocesses: redis-cli, kill), watched from a fiber without blocking
// the runtime thread: the fiber polls done() with sleeps.
class OffThread {
 public:
  explicit OffThread(std::function<void()> fn)
      : thread_([this, fn = std::move(fn)] {
          try {
            fn();
          } catch (const std::exception& e) {
            error_ = e.what();
          }
          done_ = true;
        }) {}
  ~OffThread() {
    if (thread_.joinable()) thread_.join();
  }
  OffThread(const OffThread&) = delete;
  OffThread& operator=(const OffThread&) = delete;
  bool done() const { return done_; }
  /// Sleeps this fiber until the work is done or `limit` passed; true if done.
  bool wait(std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done_ && std::chrono::steady_clock::now() < end)
      boost::this_fiber::sleep_for(std::chrono::milliseconds(20));
    if (done_ && thread_.joinable()) thread_.join();
    return done_;
  }
  const std::string& error() const { return error_; }

 private:
  std::atomic<bool> done_{false};
  std::string error_;
  std::thread thread_;
};

/// Sleeps this fiber until pred() or `limit`; true if pred() held. pred must not block long.
template <class P>
bool fiber_wait_until(P pred, std::chrono::milliseconds limit,
                      std::chrono::milliseconds step = std::chrono::milliseconds(50)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    boost::this_fiber::sleep_for(step);
  }
  return pred();
}

/// "master" or "slave": the first line of ROLE (blocking: call it off the fiber thread or
/// accept a short stall).
inline std::string role_of(std::uint16_t port) {
  const std::string r = redis_cli(port, "ROLE");
  return r.substr(0, r.find('\n'));
}

/// The replica of the primary on `primary_port`, from that replica's own INFO.
inline std::uint16_t replica_of(const ClusterInfo& c, std::uint16_t primary_port) {
  for (std::uint16_t p : c.ports) {
    if (p == primary_port) continue;
    const std::string info = redis_cli(p, "INFO replication");
    if (info.find("role:slave") != std::string::npos &&
        info.find("master_port:" + std::to_string(primary_port) + "\r") != std::string::npos)
      return p;
  }
  FAIL("no replica of port " << primary_port);
  return 0;
}

/// CLUSTER FAILOVER on `replica` (run off the fiber thread), then waits (≤ 30 s) until the roles
/// flipped. True when they did.
inline bool manual_failover(std::uint16_t replica, std::uint16_t primary) {
  if (redis_cli(replica, "CLUSTER FAILOVER") != "OK") return false;
  for (int i = 0; i < 300; ++i) {
    if (role_of(replica) == "master" && role_of(primary) == "slave") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

/// Moves one slot from the primary on `from` to the primary on `to` by the resharding steps
/// (cluster spec, "Live resharding"): IMPORTING on the target, MIGRATING on the source, MIGRATE
/// of its keys, then SETSLOT NODE on target, source and every other primary. Run it off the fiber
/// thread. True if every step answered OK.
inline bool move_slot(const ClusterInfo& c, std::uint16_t slot, std::uint16_t from, std::uint16_t to) {
  const std::string s = std::to_string(slot);
  const std::string from_id = redis_cli(from, "CLUSTER MYID"), to_id = redis_cli(to, "CLUSTER MYID");
  if (redis_cli(to, "CLUSTER SETSLOT " + s + " IMPORTING " + from_id) != "OK") return false;
  if (redis_cli(from, "CLUSTER SETSLOT " + s + " MIGRATING " + to_id) != "OK") return false;
  for (int round = 0; round < 1000; ++round) {
    const std::string keys = redis_cli(from, "CLUSTER GETKEYSINSLOT " + s + " 100");
    if (keys.empty()) break;
    std::string list;
    for (char ch : keys) list += ch == '\n' ? ' ' : ch;
    if (redis_cli(from, "MIGRATE 127.0.0.1 " + std::to_string(to) + " \"\" 0 5000 KEYS " + list) != "OK") return false;
  }
  if (redis_cli(to, "CLUSTER SETSLOT " + s + " NODE " + to_id) != "OK") return false;
  if (redis_cli(from, "CLUSTER SETSLOT " + s + " NODE " + to_id) != "OK") return false;
  for (std::uint16_t p : c.ports) {
    if (p == from || p == to || role_of(p) != "master") continue;
    redis_cli(p, "CLUSTER SETSLOT " + s + " NODE " + to_id);
  }
  return true;
}

/// `redis-cli --cluster reshard` of `count` slots from the primary on `from` to the primary on
/// `to`, keys and all, as an operator does it (redis-cli takes the source's lowest `count`
/// slots; each one IMPORTING/MIGRATING, MIGRATE, then SETSLOT NODE on every primary). Run it off
/// the fiber thread. Returns redis-cli's output; `ok` says whether it ran without an [ERR].
inline std::string reshard(std::uint16_t from, std::uint16_t to, int count, bool& ok) {
  const std::string from_id = redis_cli(from, "CLUSTER MYID"), to_id = redis_cli(to, "CLUSTER MYID");
  ok = false;
  if (from_id.empty() || to_id.empty()) return "no node id";
  // redis_cli() bounds the run to 60 s; a few hundred slots take a few seconds.
  const std::string out = redis_cli(from, "--cluster reshard 127.0.0.1:" + std::to_string(from) + " --cluster-from " +
                                              from_id + " --cluster-to " + to_id + " --cluster-slots " +
                                              std::to_string(count) + " --cluster-yes");
  ok = out.find("[ERR]") == std::string::npos && out.find("Moving slot") != std::string::npos;
  return out;
}

}  // namespace fibredis::test
