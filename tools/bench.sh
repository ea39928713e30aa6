#!/usr/bin/env bash
# tools/bench.sh: fibredis-bench next to redis-benchmark, same servers, same run.
#
# Usage: tools/bench.sh [--ops N] [--rounds R] [--build DIR]
# Starts one plain server and a 3+3 cluster with tools/local-cluster (ports below the ephemeral
# range), then, R times in turn, runs redis-benchmark (-c 1, SET then GET, N/2 requests each) and
# fibredis-bench's sequential workload (N alternating SET/GET) against each, printing one JSON
# object per measurement and, per target, the median of the R ratios fibredis / redis-benchmark.
# Interleaving the two clients round by round keeps the loopback's drift (large on a VM) out of the
# ratio. Then the concurrent and pipeline workloads. Stops everything it started (by PID, through
# local-cluster stop).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ops=40000
rounds=5
build="$root/build"
while (( $# )); do
  case $1 in
    --ops) ops=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "usage: tools/bench.sh [--ops N] [--rounds R] [--build DIR]" >&2; exit 2 ;;
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

# redis-benchmark prints "SET: 40306.33 requests per second"; SET and GET each run ops/2 requests.
rb() {  # rb LABEL ARGS... — prints the JSON line, sets RB_RATE
  local label=$1; shift
  local out set get
  out=$(redis-benchmark "$@" -c 1 -n "$(( ops / 2 ))" -r 1000000 -d 32 -t set,get -q 2>/dev/null | tr '\r' '\n')
  set=$(grep '^SET:' <<<"$out" | tail -1 | awk '{print $2}')
  get=$(grep '^GET:' <<<"$out" | tail -1 | awk '{print $2}')
  # Alternating SET/GET at these two rates takes this combined rate (harmonic mean).
  RB_RATE=$(awk -v s="$set" -v g="$get" 'BEGIN { printf "%.0f", 2/(1/s+1/g) }')
  printf '{"workload":"sequential","client":"redis-benchmark","target":"%s","set_per_sec":%.0f,"get_per_sec":%.0f,"ops_per_sec":%s}\n' \
    "$label" "$set" "$get" "$RB_RATE"
}
fb() {  # fb ARGS... — prints the JSON line, sets FB_RATE
  local line
  line=$("$bench" --workload sequential --ops "$ops" "$@")
  echo "$line"
  FB_RATE=$(sed 's/.*"ops_per_sec":\([0-9.]*\).*/\1/' <<<"$line")
}

ratios_single=()
ratios_cluster=()
for (( round = 1; round <= rounds; round++ )); do
  rb single -p "$single"
  fb --host 127.0.0.1 --port "$single"
  ratios_single+=("$(awk -v f="$FB_RATE" -v r="$RB_RATE" 'BEGIN { printf "%.3f", f / r }')")
  rb cluster -p "$cluster" --cluster
  fb --cluster "127.0.0.1:$cluster"
  ratios_cluster+=("$(awk -v f="$FB_RATE" -v r="$RB_RATE" 'BEGIN { printf "%.3f", f / r }')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
printf '{"summary":"sequential","target":"single","ratios":"%s","median_ratio":%s}\n' "${ratios_single[*]}" "$(median "${ratios_single[@]}")"
printf '{"summary":"sequential","target":"cluster","ratios":"%s","median_ratio":%s}\n' "${ratios_cluster[*]}" "$(median "${ratios_cluster[@]}")"

# Many callers at once, and pipelines, on both targets (the issue's comparisons):
#   1,000 fibers on one shared connection per node  vs  redis-benchmark -c 50 -P 16 (800 in flight)
#   pipelines of 100 SET + 100 GET                   vs  redis-benchmark -c 1 -P 100
# fibredis' JSON line carries writes_per_cmd and ring_enters_per_cmd (ClientStats).
many() {  # many WORKLOAD TARGET ARGS... — one redis-benchmark line
  local label=$1 target=$2; shift 2
  local out set get
  out=$(redis-benchmark "$@" -n "$(( ops * 10 ))" -r 1000000 -d 32 -t set,get -q 2>/dev/null | tr '\r' '\n')
  set=$(grep '^SET:' <<<"$out" | tail -1 | awk '{print $2}')
  get=$(grep '^GET:' <<<"$out" | tail -1 | awk '{print $2}')
  awk -v s="$set" -v g="$get" -v l="$label" -v t="$target" -v a="$*" 'BEGIN { printf "{\"workload\":\"%s\",\"client\":\"redis-benchmark\",\"target\":\"%s\",\"args\":\"%s\",\"ops_per_sec\":%.0f}\n", l, t, a, 2/(1/s+1/g) }'
}
many concurrent single -p "$single" -c 50 -P 16
"$bench" --workload concurrent --fibers 1000 --port "$single" --ops "$(( ops * 20 ))"
many concurrent cluster -p "$cluster" --cluster -c 50 -P 16
"$bench" --workload concurrent --fibers 1000 --cluster "127.0.0.1:$cluster" --ops "$(( ops * 20 ))"
many pipeline single -p "$single" -c 1 -P 100
"$bench" --workload pipeline --batch 100 --port "$single" --ops "$(( ops * 20 ))"
many pipeline cluster -p "$cluster" --cluster -c 1 -P 100
"$bench" --workload pipeline --batch 100 --cluster "127.0.0.1:$cluster" --ops "$(( ops * 20 ))"
