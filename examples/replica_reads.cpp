// replica_reads: read mode at run time (redis-py's readonly()/readwrite(), the AWS blog's example).
//
// Usage: replica_reads --cluster HOST:PORT [--keys 50]
//
// Writes keys (always on their primaries), waits until a replica has each write (WAIT in the same
// pipeline), switches replica reads on with rc.readonly(), reads them back, and shows from the
// replicas' own INFO commandstats that they served GETs; then rc.readwrite() and shows that they
// serve none. Replication is asynchronous: a read from a replica right after a write may return
// the old value (docs/REPLICAS.md); the program counts how often that happened without WAIT, for
// information. It exits non-zero when a value read back is wrong, when no replica served a GET
// after readonly(), when one did after readwrite(), or when a write was redirected.
#include <fibredis/fibredis.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include <unistd.h>

using namespace std::chrono_literals;

namespace {

// GET calls each replica has served so far, from its INFO commandstats
// ("cmdstat_get:calls=12,usec=...").
std::map<fibredis::NodeAddress, long long> replica_gets(fibredis::ClusterClient& rc) {
  std::map<fibredis::NodeAddress, long long> out;
  for (const auto& [node, text] : rc.on(fibredis::Target::Replicas).info("commandstats")) {
    long long calls = 0;
    const std::size_t at = text.find("cmdstat_get:calls=");
    if (at != std::string::npos) calls = std::atoll(text.c_str() + at + std::string("cmdstat_get:calls=").size());
    out[node] = calls;
  }
  return out;
}

long long served_since(const std::map<fibredis::NodeAddress, long long>& before,
                       const std::map<fibredis::NodeAddress, long long>& after) {
  long long total = 0;
  for (const auto& [node, n] : after) {
    auto it = before.find(node);
    total += n - (it == before.end() ? 0 : it->second);
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 7000;
  int nkeys = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--cluster") {
      const std::size_t colon = value.rfind(':');
      if (colon == std::string::npos) {
        std::cerr << "replica_reads: --cluster wants HOST:PORT\n";
        return 2;
      }
      host = value.substr(0, colon);
      port = std::atoi(value.c_str() + colon + 1);
    } else if (flag == "--keys") {
      nkeys = std::atoi(value.c_str());
    }
  }
  if (port <= 0 || port > 65535 || nkeys <= 0) {
    std::cerr << "usage: replica_reads --cluster HOST:PORT [--keys N]\n";
    return 2;
  }
  int failures = 0;
  auto check = [&](bool ok, const std::string& what) {
    std::cout << (ok ? "ok: " : "FAILED: ") << what << "\n";
    if (!ok) ++failures;
  };
  fibredis::Runtime rt;
  try {
    rt.run([&] {
      fibredis::ClusterClient rc({.startup_nodes = {{host, static_cast<std::uint16_t>(port)}}});
      std::cout << "primaries: " << rc.get_primaries().size() << ", replicas: " << rc.get_replicas().size() << "\n";
      if (rc.get_replicas().empty()) {
        check(false, "the cluster has replicas");
        return;
      }
      const std::string prefix = "replica_reads:" + std::to_string(::getpid()) + ":";
      const auto redirects = rc.stats().redirects;

      // Without WAIT: write, then read at once from the shard's replica (readonly on that one).
      int stale = 0;
      const std::string probe = prefix + "probe";
      const fibredis::NodeAddress probe_replica = rc.get_node_from_key(probe, /*replica=*/true);
      std::cout << probe << ": primary " << rc.get_node_from_key(probe).to_string() << ", replica "
                << probe_replica.to_string() << "\n";
      rc.readonly(probe_replica);
      for (int i = 0; i < 20; ++i) {
        rc.set(probe, std::to_string(i));
        // Round-robin: primary, replica; two reads make sure the replica is asked once.
        if (rc.get(probe) != std::to_string(i) || rc.get(probe) != std::to_string(i)) ++stale;
      }
      rc.readwrite();
      std::cout << "reads right after a write that saw an older value (asynchronous replication): " << stale
                << " of 20\n";

      // With WAIT: each write acknowledged by a replica before anyone reads it there.
      // (A replica still syncing after a restart acknowledges nothing: a few tries each.)
      for (int i = 0; i < nkeys; ++i) {
        long long acked = 0;
        for (int attempt = 0; attempt < 5 && acked < 1; ++attempt) {
          auto p = rc.pipeline();
          p.set(prefix + std::to_string(i), "v" + std::to_string(i)).wait(1, 1000ms);
          acked = p.execute()[1].integer();
        }
        if (acked < 1) check(false, "WAIT: a replica acknowledged " + prefix + std::to_string(i));
      }

      rc.readonly();  // every replica, from now on
      auto before = replica_gets(rc);
      int wrong = 0;
      for (int rep = 0; rep < 2; ++rep)
        for (int i = 0; i < nkeys; ++i)
          if (rc.get(prefix + std::to_string(i)) != "v" + std::to_string(i)) ++wrong;
      const long long on = served_since(before, replica_gets(rc));
      std::cout << "readonly(): replicas served " << on << " of " << 2 * nkeys << " GETs\n";
      check(wrong == 0, "every value read back (replicas included) is the one written");
      check(on > 0, "replicas served GETs after readonly()");

      rc.readwrite();
      before = replica_gets(rc);
      for (int i = 0; i < nkeys; ++i)
        if (rc.get(prefix + std::to_string(i)) != "v" + std::to_string(i)) ++wrong;
      const long long off = served_since(before, replica_gets(rc));
      std::cout << "readwrite(): replicas served " << off << " of " << nkeys << " GETs\n";
      check(off == 0, "no replica served a GET after readwrite()");
      check(wrong == 0, "every value read from the primaries is the one written");
      check(rc.stats().redirects == redirects, "no write was redirected (every SET went to a primary)");

      for (int i = 0; i < nkeys; ++i) rc.del({prefix + std::to_string(i)});
      rc.del({probe});
    });
  } catch (const fibredis::Error& e) {
    std::cerr << "replica_reads: " << e.what() << "\n";
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
