#!/usr/bin/env bash
# swarm-bench.sh — blocked calls at scale: fibredis' examples/blocking_swarm beside the plain-epoll
# floor (tools/brpop-floor) on a 3+3 cluster of its own, interleaved so both see the same machine.
#
# Usage: tools/swarm-bench.sh [--build DIR] [--port BASE] [--rounds K] [--sizes "1000 10000 15000"]
#                             [--wake N] [--timeout S]
#   --build    meson build directory holding examples/blocking_swarm and tools/brpop-floor
#              (default: build next to tools/)
#   --port     base port of the cluster: BASE..BASE+5, bus ports +10000 (default 21100)
#   --rounds   rounds; each runs floor then fibredis for every size, then both with --wake (default 3)
#   --sizes    client counts of the plain runs (BRPOP on empty lists, --timeout S, default 1)
#   --wake     client count of the wake runs (0: none; default 10000)
#   --node-timeout  the cluster's cluster-node-timeout in ms (default 15000: no failover mid-run)
#
# Prints every run's summary line, then per size the medians of both programs and fibredis/floor
# ratios: wall_ms and setup_ms (plain runs), wake_ms (wake runs), cpu_ms (user + system CPU of
# the run: steadier than wall time on a busy machine), fibredis' heartbeat max_late_ms and
# rss_per_call_kib. Exit 1 if any run failed (its output is shown). The cluster is stopped by
# the PIDs tools/local-cluster recorded, however the script ends.
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
build="$here/../build"
port=21100
rounds=3
sizes="1000 10000 15000"
wake=10000
timeout_s=1
readonly RUN_BOUND_S=180  # one program run, at most
# A node busy accepting 5,000 connects on a loaded 2-core machine may miss cluster pings for
# seconds: with local-cluster's 2 s default it would be failed over mid-run (CLUSTERDOWN).
node_timeout=15000

die() { echo "swarm-bench: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || die "$1 needs a value"
  case $1 in
    --build) build=$2 ;;
    --port) port=$2 ;;
    --rounds) rounds=$2 ;;
    --sizes) sizes=$2 ;;
    --wake) wake=$2 ;;
    --timeout) timeout_s=$2 ;;
    --node-timeout) node_timeout=$2 ;;
    *) die "unknown option $1 (see the usage block at the top of $0)" ;;
  esac
  shift 2
done
[[ $port =~ ^[0-9]+$ && $rounds =~ ^[0-9]+$ && $wake =~ ^[0-9]+$ ]] || die "--port, --rounds, --wake take integers"
floor="$build/tools/brpop-floor"
swarm="$build/examples/blocking_swarm"
[[ -x $floor && -x $swarm ]] || die "build $floor and $swarm first (meson compile -C $build brpop-floor blocking_swarm)"

work=$(mktemp -d "${TMPDIR:-/tmp}/swarm-bench.XXXXXX")
cluster_dir="$work/cluster"
stop_cluster() {
  "$here/local-cluster" stop --port "$port" --dir "$cluster_dir" >/dev/null 2>&1
  rm -rf -- "$work"
}
trap stop_cluster EXIT
trap 'exit 130' INT TERM
"$here/local-cluster" start --port "$port" --dir "$cluster_dir" --node-timeout "$node_timeout" >&2 || die "could not start the cluster on port $port"
seed="127.0.0.1:$port"
ulimit -n "$(ulimit -Hn)"

# field LINE NAME: the value of NAME=... in a summary line.
field() { sed -n "s/.*[ ^]$2=\([-0-9.]*\).*/\1/p; s/^$2=\([-0-9.]*\).*/\1/p" <<<"$1" | head -n1; }
failures=0

# run KIND LABEL ARGS...: one bounded run; appends "LABEL KIND metric value" lines to results.
run() {
  local kind=$1 label=$2; shift 2
  local prog out line rc
  [[ $kind == floor ]] && prog=$floor || prog=$swarm
  out=$(timeout -k 10 "$RUN_BOUND_S" "$prog" --cluster "$seed" "$@" 2>&1); rc=$?
  line=$(grep '^clients=' <<<"$out" | tail -n1)
  printf '%-8s %-9s %s\n' "$label" "$kind" "${line:-(no summary line)}"
  if (( rc != 0 )) || [[ -z $line ]]; then
    failures=$(( failures + 1 ))
    echo "--- $kind $label failed (exit $rc); last lines:"; tail -n 5 <<<"$out"
    return
  fi
  local m
  for m in wall_ms setup_ms wake_ms max_late_ms rss_per_call_kib cpu_ms; do
    local v; v=$(field "$line" "$m")
    [[ -n $v ]] && echo "$label $kind $m $v" >>"$work/results"
  done
}

median() {  # median LABEL KIND METRIC
  awk -v l="$1" -v k="$2" -v m="$3" '$1 == l && $2 == k && $3 == m { print $4 }' "$work/results" 2>/dev/null |
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
                                         else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

echo "swarm-bench: $rounds rounds on a 3+3 cluster at $seed; sizes $sizes, wake $wake, BRPOP timeout ${timeout_s}s"
echo "swarm-bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for (( r = 1; r <= rounds; r++ )); do
  echo "--- round $r"
  for n in $sizes; do
    run floor "$n" --clients "$n" --timeout "$timeout_s"
    run fibredis "$n" --clients "$n" --timeout "$timeout_s"
  done
  if (( wake > 0 )); then
    run floor "wake$wake" --clients "$wake" --wake
    run fibredis "wake$wake" --clients "$wake" --wake
  fi
done

echo
echo "medians over $rounds rounds (ratio: fibredis / floor); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %10s %10s %6s %10s %10s %6s %9s %9s %6s %12s %14s\n' run floor_ms fibredis_ms ratio floor_set fib_set ratio \
  floor_cpu fib_cpu ratio fib_late_ms fib_kib_per_call
for n in $sizes; do
  fw=$(median "$n" floor wall_ms); sw=$(median "$n" fibredis wall_ms)
  fs=$(median "$n" floor setup_ms); ss=$(median "$n" fibredis setup_ms)
  fc=$(median "$n" floor cpu_ms); sc=$(median "$n" fibredis cpu_ms)
  printf '%-10s %10s %10s %6s %10s %10s %6s %9s %9s %6s %12s %14s\n' "$n" "$fw" "$sw" "$(ratio "$sw" "$fw")" "$fs" "$ss" \
    "$(ratio "$ss" "$fs")" "$fc" "$sc" "$(ratio "$sc" "$fc")" "$(median "$n" fibredis max_late_ms)" \
    "$(median "$n" fibredis rss_per_call_kib)"
done
if (( wake > 0 )); then
  l="wake$wake"
  fw=$(median "$l" floor wake_ms); sw=$(median "$l" fibredis wake_ms)
  fs=$(median "$l" floor setup_ms); ss=$(median "$l" fibredis setup_ms)
  fc=$(median "$l" floor cpu_ms); sc=$(median "$l" fibredis cpu_ms)
  printf '%-10s %10s %10s %6s %10s %10s %6s %9s %9s %6s %12s %14s   (wake_ms)\n' "$l" "$fw" "$sw" "$(ratio "$sw" "$fw")" \
    "$fs" "$ss" "$(ratio "$ss" "$fs")" "$fc" "$sc" "$(ratio "$sc" "$fc")" "$(median "$l" fibredis max_late_ms)" \
    "$(median "$l" fibredis rss_per_call_kib)"
fi
(( failures == 0 )) || { echo "swarm-bench: $failures run(s) failed"; exit 1; }
