#!/usr/bin/env bash
# Self-test of tools/local-cluster: start a plain server and a 3 + 3 cluster, check them,
# check the refusals, stop both and check their processes are gone.
#   tests/support/selftest.sh [BASE_PORT]
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lc="$here/../../tools/local-cluster"
work=$(mktemp -d "${TMPDIR:-/tmp}/fibredis-selftest.XXXXXX") || exit 1

failures=0
pass() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; failures=$(( failures + 1 )); }
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

single_port=""; cluster_port=""
cleanup() {
  [[ -n $single_port ]] && "$lc" stop --port "$single_port" --dir "$work/single" >/dev/null 2>&1
  [[ -n $cluster_port ]] && "$lc" stop --port "$cluster_port" --dir "$work/cluster" >/dev/null 2>&1
  rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Pick bases: free ports below 22000 whose bus ports (+10000) are free as well.
start_free() {  # start_free VAR DIR ARGS...
  local var=$1 dir=$2; shift 2
  local base=$(( ${BASE:-13000} )) i rc
  for (( i = 0; i < 20; i++ )); do
    "$lc" start --port "$base" --dir "$dir" "$@" >"$work/start.out" 2>&1
    rc=$?
    if (( rc == 0 )); then printf -v "$var" '%s' "$base"; cat "$work/start.out"; return 0; fi
    if (( rc != 3 )); then cat "$work/start.out"; return 1; fi
    base=$(( base + 10 ))
  done
  return 1
}
BASE=${1:-$(( 13000 + ($$ % 300) * 20 ))}

alive() { [[ -d /proc/$1 ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# ---- single server -------------------------------------------------------------------
t0=$SECONDS
check "start single server" start_free single_port "$work/single" --single
[[ -n $single_port ]] || { echo "cannot continue"; exit 1; }
check "single: PING" test "$(redis-cli -h 127.0.0.1 -p "$single_port" ping)" = PONG
mapfile -t single_pids < <("$lc" pids --port "$single_port" --dir "$work/single")
check "single: pids prints one 'PORT PID' line" \
  test "${#single_pids[@]}" = 1 -a "${single_pids[0]%% *}" = "$single_port"
spid=${single_pids[0]##* }
check "single: pid is the server's process_id" \
  test "$(redis-cli -p "$single_port" info server | tr -d '\r' | sed -n 's/^process_id://p')" = "$spid"

# ---- cluster -------------------------------------------------------------------------
t1=$SECONDS
check "start 3+3 cluster" start_free cluster_port "$work/cluster" --primaries 3 --replicas 1
echo "     (cluster start took $(( SECONDS - t1 ))s)"
[[ -n $cluster_port ]] || { echo "cannot continue"; exit 1; }
for (( i = 0; i < 6; i++ )); do
  p=$(( cluster_port + i ))
  check "cluster node $p: PING" test "$(redis-cli -p "$p" ping)" = PONG
  check "cluster node $p: cluster_state:ok" \
    bash -c "redis-cli -p $p cluster info | tr -d '\r' | grep -qx cluster_state:ok"
done
for (( i = 0; i < 3; i++ )); do
  p=$(( cluster_port + i ))
  check "node $p is a primary" bash -c "redis-cli -p $p role | head -n1 | grep -qx master"
done
mapfile -t cluster_pids < <("$lc" pids --port "$cluster_port" --dir "$work/cluster")
check "cluster: pids prints 6 lines" test "${#cluster_pids[@]}" = 6
check "cluster: a key round-trips (-c)" \
  test "$(redis-cli -c -p "$cluster_port" set selftest:{x} 1 >/dev/null; redis-cli -c -p $(( cluster_port + 1 )) get selftest:{x})" = 1

# ---- refusals ------------------------------------------------------------------------
read -r eph_low _ </proc/sys/net/ipv4/ip_local_port_range
"$lc" start --port "$eph_low" --single --dir "$work/r1" >/dev/null 2>&1; rc=$?
check "refuses a port >= ephemeral low ($eph_low) with exit 3" test "$rc" = 3
check "  ... and created nothing" test ! -e "$work/r1"
"$lc" start --port $(( eph_low - 10000 )) --dir "$work/r2" >/dev/null 2>&1; rc=$?
check "refuses a cluster whose bus port reaches the ephemeral range" test "$rc" = 3
"$lc" start --port "$single_port" --single --dir "$work/r3" >/dev/null 2>&1; rc=$?
check "refuses a taken port with exit 3" test "$rc" = 3
check "  ... and created nothing" test ! -e "$work/r3"
"$lc" start --port $(( cluster_port - 3 )) --dir "$work/r4" >/dev/null 2>&1; rc=$?
check "refuses a cluster overlapping a taken port" test "$rc" = 3
"$lc" start --port $(( cluster_port + 10000 - 1 )) --single --dir "$work/r5" >/dev/null 2>&1; rc=$?
check "single on a free port next to a cluster bus port: not refused for the bus port" test "$rc" = 0
"$lc" stop --port $(( cluster_port + 10000 - 1 )) --dir "$work/r5" >/dev/null 2>&1
"$lc" start --port $(( cluster_port + 10000 - 1 )) --primaries 3 --replicas 0 --dir "$work/r6" >/dev/null 2>&1; rc=$?
check "refuses a cluster whose ports hit a taken bus port" test "$rc" = 3
"$lc" stop --port 1 --dir "$work/nothing" >/dev/null; rc=$?
check "stop with nothing running exits 0" test "$rc" = 0

# ---- stop ----------------------------------------------------------------------------
kill -STOP "${cluster_pids[1]##* }"   # a stopped node must still be stopped by 'stop'
check "stop single" "$lc" stop --port "$single_port" --dir "$work/single"
check "stop cluster (one node SIGSTOPped)" "$lc" stop --port "$cluster_port" --dir "$work/cluster"
gone=1
for line in "${single_pids[@]}" "${cluster_pids[@]}"; do
  alive "${line##* }" && { gone=0; echo "     pid ${line##* } still alive"; }
done
check "all server pids are gone" test "$gone" = 1
check "state dirs removed" test ! -e "$work/single" -a ! -e "$work/cluster"
single_port=""; cluster_port=""

echo "selftest: $failures failure(s), $(( SECONDS - t0 ))s"
(( failures == 0 ))
