// Real redis-server processes for the integration tests, started through tools/local-cluster.
//
// Every server is bound to 127.0.0.1 on ports below the ephemeral range, lives in a state
// directory private to this process, and is stopped when the process exits: normally by an
// atexit handler, and after a crash, abort or SIGKILL by a small watchdog process that
// notices the test process is gone.  The script's path comes from FIBREDIS_LOCAL_CLUSTER
// (set by meson), else tools/local-cluster or ../tools/local-cluster relative to the cwd.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fibredis::test {

struct ServerInfo {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string password;  // empty: no AUTH needed
};

struct ClusterInfo {
  std::string host = "127.0.0.1";
  std::vector<uint16_t> ports;  // 6 ports; the first 3 are initially primaries
  std::string password;         // empty: no AUTH needed
  /// With fresh_proxied_cluster(): the fibredis-proxy control port in front of each of `ports`
  /// (same order); empty otherwise.
  std::vector<uint16_t> control_ports;
  /// With fresh_proxied_cluster(): the source address each node's own connections (cluster bus,
  /// replication) come from, for `FAULT blackhole bus FROM addr` (docs/PROXY.md).
  std::vector<std::string> source_addrs;
};

// A plain server, started once per process on first call.
const ServerInfo& single_server();

// A plain server with requirepass and the ACL user "fibredis", both with password
// "s3cret-pw"; started once per process on first call.
const ServerInfo& password_server();

// 3 primaries + 3 replicas, started once per process on first call.  Do not kill or fail
// over its nodes: other tests share it.  Use fresh_cluster() for that.
const ClusterInfo& cluster();

// 3 primaries + 3 replicas with requirepass/masterauth and the ACL user "fibredis", all with
// password "s3cret-pw" (the same as password_server()); started once per process on first call.
// Shared like cluster(): do not kill or fail over its nodes.
const ClusterInfo& password_cluster();

// A new 3 + 3 cluster on every call, for destructive tests (kill -9, SIGSTOP, failover).
// Stop it with stop_cluster() when done (it is stopped at exit anyway).
ClusterInfo fresh_cluster();
void stop_cluster(const ClusterInfo& c);

// A new 3 + 3 cluster behind fibredis-proxy (`local-cluster start --proxy`): `ports` are the
// proxies (the nodes announce them), `control_ports` their control ports (docs/PROXY.md).
// server_pid() of a port gives the redis-server behind that proxy. Stop it with stop_cluster().
// The proxy binary comes from FIBREDIS_PROXY (set by meson) or the newest build*/tools one.
ClusterInfo fresh_proxied_cluster();

// Sends one control command to a proxy (`redis-cli -p CONTROL_PORT ARGS`); returns its answer
// ("OK" on success).
std::string proxy_command(uint16_t control_port, const std::string& args);

// PID of the server listening on `port` (one this process started), via
// `local-cluster pids`; for kill -9 / SIGSTOP / SIGCONT.  Throws if unknown.
pid_t server_pid(uint16_t port);

// Runs `redis-cli -h 127.0.0.1 -p PORT ARGS` (ARGS is shell-split, quote as in a shell;
// bounded to 60 s) and returns its stdout with surrounding whitespace trimmed.
std::string redis_cli(uint16_t port, const std::string& args);

// A loopback port below the ephemeral range with nothing listening on it right now
// (for "connection refused" tests).
uint16_t unused_port();

}  // namespace fibredis::test
