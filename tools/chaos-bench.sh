#!/usr/bin/env bash
# chaos-bench.sh — fibredis-bench through a primary's failure: for each fault (kill -9, a 15 s
# SIGSTOP) and each workload (sequential, concurrent), start a fresh 3 + 3 cluster with
# tools/local-cluster, run the bench with a --timeout-ms longer than the failover, inject the
# fault into one primary a few seconds in, and require exit 0 (every call succeeded, every value
# read back was the one written). One JSON line per run, prefixed with the fault.
#
# Usage: tools/chaos-bench.sh [BUILD_DIR] [BASE_PORT]
#   BUILD_DIR  where fibredis-bench was built (default build-h); BASE_PORT default 21000
#   (ports BASE..BASE+5, bus ports +10000: below 32768).
# Env: CHAOS_SECONDS (default 30: length of each run), CHAOS_TIMEOUT_MS (default 20000).
# Exit: 0 when every run exited 0, 1 otherwise.
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-h}
base=${2:-21000}
seconds=${CHAOS_SECONDS:-30}
timeout_ms=${CHAOS_TIMEOUT_MS:-20000}
bench="$build/tools/fibredis-bench"
lc="$here/local-cluster"
[[ -x $bench ]] || { echo "chaos-bench: no $bench (build it first)" >&2; exit 1; }

status=0
stopped_pid=""
cleanup() {
  [[ -n $stopped_pid ]] && kill -CONT "$stopped_pid" 2>/dev/null
  "$lc" stop --port "$base" >/dev/null 2>&1
}
trap cleanup EXIT

pid_of() { "$lc" pids --port "$base" | awk -v p="$1" '$1 == p { print $2 }'; }

# Ops for about $seconds of the workload: a short calibration run on a healthy cluster.
calibrate() {
  local workload=$1 line rate
  line=$("$bench" --workload "$workload" --fibers 200 --cluster "127.0.0.1:$base" --ops 20000) || return 1
  rate=$(sed -E 's/.*"ops_per_sec":([0-9]+).*/\1/' <<<"$line")
  echo $(( rate * seconds ))
}

run_one() {
  local fault=$1 workload=$2 ops victim pid bench_pid rc t0
  "$lc" start --port "$base" >/dev/null || { echo "chaos-bench: cluster start failed" >&2; return 1; }
  ops=$(calibrate "$workload") || { echo "chaos-bench: calibration failed" >&2; "$lc" stop --port "$base" >/dev/null; return 1; }
  victim=$(( base + 1 ))
  pid=$(pid_of "$victim")
  t0=$(date +%s.%N)
  "$bench" --workload "$workload" --fibers 200 --cluster "127.0.0.1:$base" --ops "$ops" \
           --timeout-ms "$timeout_ms" > "/tmp/chaos-bench-$$.json" 2> "/tmp/chaos-bench-$$.err" &
  bench_pid=$!
  sleep 3
  case $fault in
    kill9) kill -KILL "$pid" ;;
    sigstop15)
      kill -STOP "$pid"; stopped_pid=$pid
      sleep 15
      kill -CONT "$pid"; stopped_pid="" ;;
  esac
  # Bounded: the run is sized for $seconds; allow for the outage and a slow box.
  local waited=0
  while kill -0 "$bench_pid" 2>/dev/null && (( waited < seconds * 4 + 60 )); do sleep 1; waited=$(( waited + 1 )); done
  if kill -0 "$bench_pid" 2>/dev/null; then kill -KILL "$bench_pid"; echo "chaos-bench: $fault $workload hung" >&2; fi
  wait "$bench_pid"; rc=$?
  printf '{"fault":"%s","exit":%d,"wall_s":%.1f,"bench":%s}\n' "$fault" "$rc" \
    "$(echo "$(date +%s.%N) - $t0" | bc)" "$(cat "/tmp/chaos-bench-$$.json" 2>/dev/null || echo null)"
  [[ $rc -eq 0 ]] || { sed 's/^/  stderr: /' "/tmp/chaos-bench-$$.err" | tail -n 5; }
  rm -f "/tmp/chaos-bench-$$.json" "/tmp/chaos-bench-$$.err"
  "$lc" stop --port "$base" >/dev/null
  return "$rc"
}

for fault in kill9 sigstop15; do
  for workload in sequential concurrent; do
    run_one "$fault" "$workload" || status=1
  done
done
exit "$status"
