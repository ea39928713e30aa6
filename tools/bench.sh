#!/usr/bin/env bash
# tools/bench.sh: fibredis-bench next to redis-benchmark, same servers, same run.
#
# Usage: tools/bench.sh [--ops N] [--build DIR]
# Starts one plain server and a 3+3 cluster with tools/local-cluster (ports below the ephemeral
# range), runs each workload for fibredis and the matching redis-benchmark line, prints one JSON
# object per measurement, and stops everything it started (by PID, through local-cluster stop).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ops=200000
build="$root/build"
while (( $# )); do
  case $1 in
    --ops) ops=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "usage: tools/bench.sh [--ops N] [--build DIR]" >&2; exit 2 ;;
  esac
done
bench="$build/tools/fibredis-bench"
[[ -x $bench ]] || { echo "build first: $bench missing" >&2; exit 1; }
single=16600
cluster=17200
lc="$root/tools/local-cluster"
cleanup() { "$lc" stop --port "$single" >/dev/null 2>&1 || true; "$lc" stop --port "$cluster" >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$lc" start --port "$single" --single >/dev/null
"$lc" start --port "$cluster" --primaries 3 --replicas 1 >/dev/null

# redis-benchmark prints "SET: 40306.33 requests per second"; SET and GET each run $ops requests.
rb() {  # rb LABEL ARGS...
  local label=$1; shift
  local out set get
  out=$(redis-benchmark "$@" -c 1 -n "$ops" -r 1000000 -d 32 -t set,get -q 2>/dev/null | tr '\r' '\n')
  set=$(grep '^SET:' <<<"$out" | tail -1 | awk '{print $2}')
  get=$(grep '^GET:' <<<"$out" | tail -1 | awk '{print $2}')
  # Alternating SET/GET at these two rates takes this combined rate (harmonic mean).
  awk -v s="$set" -v g="$get" -v l="$label" 'BEGIN { printf "{\"workload\":\"sequential\",\"client\":\"redis-benchmark\",\"target\":\"%s\",\"set_per_sec\":%.0f,\"get_per_sec\":%.0f,\"ops_per_sec\":%.0f}\n", l, s, g, 2/(1/s+1/g) }'
}

for round in 1 2; do
  rb single -p "$single"
  "$bench" --workload sequential --host 127.0.0.1 --port "$single" --ops "$((ops * 2))"
  rb cluster -p "$cluster" --cluster
  "$bench" --workload sequential --cluster "127.0.0.1:$cluster" --ops "$((ops * 2))"
done
"$bench" --workload concurrent --fibers 200 --port "$single" --ops "$((ops * 4))"
"$bench" --workload pipeline --batch 100 --port "$single" --ops "$((ops * 4))"
