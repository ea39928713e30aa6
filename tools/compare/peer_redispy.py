#!/usr/bin/env python3
"""redis-py + gevent doing tools/compare.sh's workloads, one JSON line per run.

Usage: peer_redispy.py WORKLOAD --port P [--ops N] [--fibers F] [--batch B] [--calls N]
Workloads (the same as fibredis-bench's and peer_ioredis.js's):
  sequential  one caller alternating SET/GET of 32-byte values on random keys, each read checked
  concurrent  F greenlets doing the same, ops split among them
  pipeline    batches of B SETs, one round trip each; per-batch latency percentiles
  blocking    N greenlets each parked in BRPOP on its own key, then all released: wall time and
              memory (RSS growth) per blocked call
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import gevent.pool  # noqa: E402
from redis.cluster import RedisCluster, ClusterNode  # noqa: E402


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ops", type=int, default=20000)
    ap.add_argument("--fibers", type=int, default=100)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--calls", type=int, default=1000)
    a = ap.parse_args()
    # Enough pooled connections that no greenlet waits for one (blocking: one per parked call).
    pool = max(a.fibers, a.calls) + 16
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", a.port)], max_connections=pool)
    value = "v" * 32
    out = {"workload": a.workload, "client": "redis-py+gevent", "target": "cluster"}

    def set_get(n):
        bad = 0
        for _ in range(n // 2):
            k = "cmp:%d" % random.randrange(1_000_000)
            rc.set(k, value)
            if rc.get(k) != value.encode():
                bad += 1
        return bad

    t0 = time.monotonic()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    if a.workload == "sequential":
        bad = set_get(a.ops)
        ops = a.ops
    elif a.workload == "concurrent":
        per = a.ops // a.fibers
        jobs = [gevent.spawn(set_get, per) for _ in range(a.fibers)]
        gevent.joinall(jobs)
        bad = sum(j.value for j in jobs)
        ops = per * a.fibers
    elif a.workload == "pipeline":
        lat = []
        batches = a.ops // a.batch
        tag = random.randrange(1_000_000)
        for b in range(batches):
            p = rc.pipeline()
            for i in range(a.batch):
                p.set("cmp:{%d}:%d" % (tag, i), value)  # one slot: one node per batch, as fibredis-bench
            s = time.monotonic()
            p.execute()
            lat.append((time.monotonic() - s) * 1e6)
        lat.sort()
        out["p50_us"] = round(lat[len(lat) // 2], 1)
        out["p99_us"] = round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1)
        out["batch"] = a.batch
        bad = 0
        ops = batches * a.batch
    elif a.workload == "blocking":
        rss0 = rss_kib()
        keys = ["cmp:block:{%d}" % i for i in range(a.calls)]
        parked = [gevent.spawn(rc.brpop, [k], 30) for k in keys]
        # Wait until the servers report every call blocked, then release them all.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            per_node = rc.info("clients", target_nodes=RedisCluster.PRIMARIES)
            blocked = sum(int(v.get("blocked_clients", 0)) for v in per_node.values())
            if blocked >= a.calls:
                break
            gevent.sleep(0.05)
        out["rss_per_call_kib"] = round((rss_kib() - rss0) / a.calls, 2)
        for k in keys:
            rc.rpush(k, "x")
        gevent.joinall(parked)
        bad = sum(1 for p in parked if p.value is None)
        ops = a.calls
        out["calls"] = a.calls
    else:
        raise SystemExit("unknown workload " + a.workload)
    secs = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    out.update({"ops": ops, "wrong": bad, "seconds": round(secs, 3), "ops_per_sec": round(ops / secs),
                "cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 3),
                "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})
    print(json.dumps(out), flush=True)
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
