#!/usr/bin/env bash
# tools/compare.sh: fibredis beside redis-benchmark, redis-py + gevent and ioredis on one local
# cluster, and the charts of docs/BENCHMARKS.md drawn from what it measured.
#
# Usage: tools/compare.sh [--ops N] [--rounds R] [--calls "100 1000 5000"] [--port P] [--build DIR]
#                         [--out FILE] [--no-install]
#
# Installs what is missing (Debian: gnuplot-nox, python3-redis, python3-gevent, npm; npm: ioredis
# into ~/.cache/fibredis-compare), builds nothing (meson compile -C build first), starts a 3-primary
# cluster with tools/local-cluster on ports P.. (default 17400), and runs R rounds. In each round
# every workload runs once per client, the clients in turn, so the machine's drift hits all alike:
#   sequential   one caller alternating SET/GET (32-byte values, random keys), reads checked
#   concurrent   100 fibers / greenlets / promises doing the same
#   pipeline     batches of 16 SETs to one slot; ops/s and per-batch latency (p50, p99)
#   blocking     N calls parked in BRPOP at once, then released: wall time, memory per call
#                (fibredis-bench --workload blocking when this build has it)
#   latency      fibredis-bench --workload latency when this build has it
# Every measurement is one JSON line in FILE (default docs/charts/compare.jsonl); then
# tools/compare/render.py writes docs/charts/*.svg and the "Charts" section of docs/BENCHMARKS.md.
# Progress goes to stderr (one line per run, or a rewritten status line on a terminal). Stops the
# servers it started (local-cluster stop, by PID) on exit.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ops=20000
rounds=3
calls="100 1000 5000"
port=17400
build=$root/build
out=$root/docs/charts/compare.jsonl
install=1
while (( $# )); do
  case $1 in
    --ops) ops=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --calls) calls=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-install) install=0; shift ;;
    -h|--help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
bench=$build/tools/fibredis-bench
[[ -x $bench ]] || { echo "compare.sh: $bench missing: meson setup build && meson compile -C build" >&2; exit 1; }

# ---- what the peers need ------------------------------------------------------------------
# Debian's python3-redis and python3-gevent live in Debian's python, whatever else PATH finds first.
py3=/usr/bin/python3; [[ -x $py3 ]] || py3=python3
cache=${XDG_CACHE_HOME:-$HOME/.cache}/fibredis-compare
if (( install )); then
  pkgs=()
  command -v gnuplot >/dev/null || pkgs+=(gnuplot-nox)
  "$py3" -c 'import redis.cluster' 2>/dev/null || pkgs+=(python3-redis)
  "$py3" -c 'import gevent' 2>/dev/null || pkgs+=(python3-gevent)
  command -v redis-benchmark >/dev/null || pkgs+=(redis-tools)
  command -v npm >/dev/null || pkgs+=(npm)
  if (( ${#pkgs[@]} )); then
    echo "compare.sh: installing ${pkgs[*]}" >&2
    sudo=(); (( $(id -u) == 0 )) || sudo=(sudo -n)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null >/dev/null
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" </dev/null >/dev/null
  fi
  if [[ ! -d $cache/node_modules/ioredis ]]; then
    echo "compare.sh: npm install ioredis into $cache" >&2
    mkdir -p "$cache"
    npm install --prefix "$cache" --no-audit --no-fund --silent ioredis </dev/null >&2
  fi
fi
export NODE_PATH=$cache/node_modules
have_ioredis=0; node -e 'require("ioredis")' 2>/dev/null && have_ioredis=1
have_redispy=0; "$py3" -c 'import redis.cluster, gevent' 2>/dev/null && have_redispy=1

# ---- the cluster ---------------------------------------------------------------------------
lc=$root/tools/local-cluster
cleanup() { "$lc" stop --port "$port" >/dev/null 2>&1 || true; }
trap cleanup EXIT
echo "compare.sh: starting a 3-primary cluster on 127.0.0.1:$port-$(( port + 2 ))" >&2
"$lc" start --port "$port" --primaries 3 --replicas 0 >/dev/null
seed=127.0.0.1:$port

supports() {  # supports WORKLOAD ARGS...: does this fibredis-bench know it? (bounded: an older build spins)
  timeout 20 "$bench" --workload "$1" --cluster "$seed" "${@:2}" >/dev/null 2>&1
}
has_blocking=0; supports blocking --clients 2 --wake && has_blocking=1
has_latency=0; supports latency --runs 1 && has_latency=1

mkdir -p "$(dirname "$out")"
: >"$out"
tty=0; [[ -t 2 ]] && tty=1
runs_total=0 runs_done=0
count_runs() {
  local per=$(( 6 + 3 * have_redispy + 3 * have_ioredis ))   # seq, conc, pipe: fibredis + redis-benchmark + peers
  (( has_latency )) && per=$(( per + 1 ))
  local n=0 _c; for _c in $calls; do n=$(( n + 1 )); done
  per=$(( per + n * (has_blocking + have_redispy + have_ioredis) ))
  runs_total=$(( per * rounds ))
}
count_runs
progress() {  # progress TEXT
  runs_done=$(( runs_done + 1 ))
  if (( tty )); then printf '\r\033[0K[%d/%d] %s' "$runs_done" "$runs_total" "$1" >&2
  else printf '[%d/%d] %s\n' "$runs_done" "$runs_total" "$1" >&2; fi
}
record() {  # record ROUND JSON_LINE... — adds "round" and appends to the JSON lines file
  local line
  for line in "$@"; do
    [[ $line == \{* ]] || continue
    printf '{"round":%d,%s\n' "$1" "${line#\{}" >>"$out"
  done
}
run() {  # run ROUND LABEL CMD... — one measurement; a failed run is reported and skipped
  local r=$1 label=$2; shift 2
  progress "round $r: $label"
  local lines
  local bound=(timeout 600); declare -F "$1" >/dev/null && bound=()  # a shell function runs as is
  if lines=$("${bound[@]}" "$@" 2>/dev/null); then
    local l; while IFS= read -r l; do record "$r" "$l"; done <<<"$lines"
  else
    echo "compare.sh: round $r: $label failed (skipped)" >&2
  fi
}
# redis-benchmark: SET and GET, n/2 requests each, rates combined as alternating SET/GET would see
# them (2/(1/set + 1/get)); -P 16 gives the pipeline row and its latency percentiles (--csv; a
# request's latency there runs from its batch's write to its reply, so it is the batch's latency).
rb_json() {  # rb_json WORKLOAD CLIENTS PIPELINE
  local csv set get p50 p99
  csv=$(redis-benchmark --cluster -h 127.0.0.1 -p "$port" -c "$2" -P "$3" -n "$(( ops / 2 ))" -r 1000000 -d 32 \
        -t set,get --csv 2>/dev/null | tr -d '"')
  set=$(awk -F, '$1 == "SET" { print $2 }' <<<"$csv")
  get=$(awk -F, '$1 == "GET" { print $2 }' <<<"$csv")
  p50=$(awk -F, '$1 == "SET" { print $5 * 1000 }' <<<"$csv")
  p99=$(awk -F, '$1 == "SET" { print $7 * 1000 }' <<<"$csv")
  [[ -n $set && -n $get ]] || return 1
  awk -v w="$1" -v s="$set" -v g="$get" -v p50="$p50" -v p99="$p99" -v c="$2" -v b="$3" 'BEGIN {
    printf "{\"workload\":\"%s\",\"client\":\"redis-benchmark\",\"target\":\"cluster\",\"connections\":%d,\"batch\":%d,\"ops_per_sec\":%.0f", w, c, b, 2/(1/s+1/g)
    if (b > 1) printf ",\"p50_us\":%.1f,\"p99_us\":%.1f", p50, p99
    printf "}\n" }'
}
py=$root/tools/compare/peer_redispy.py
js=$root/tools/compare/peer_ioredis.js
fb=("$bench" --cluster "$seed")
for (( r = 1; r <= rounds; r++ )); do
  run "$r" "fibredis sequential" "${fb[@]}" --workload sequential --ops "$ops"
  run "$r" "redis-benchmark -c 1" rb_json sequential 1 1
  (( have_redispy )) && run "$r" "redis-py sequential" "$py3" "$py" sequential --port "$port" --ops "$(( ops / 4 ))"
  (( have_ioredis )) && run "$r" "ioredis sequential" node "$js" sequential --port "$port" --ops "$ops"
  run "$r" "fibredis concurrent" "${fb[@]}" --workload concurrent --fibers 100 --ops "$(( ops * 5 ))"
  run "$r" "redis-benchmark -c 100" rb_json concurrent 100 1
  (( have_redispy )) && run "$r" "redis-py concurrent" "$py3" "$py" concurrent --port "$port" --fibers 100 --ops "$(( ops / 2 ))"
  (( have_ioredis )) && run "$r" "ioredis concurrent" node "$js" concurrent --port "$port" --fibers 100 --ops "$(( ops * 2 ))"
  run "$r" "fibredis pipeline" "${fb[@]}" --workload pipeline --batch 16 --ops "$(( ops * 5 ))"
  run "$r" "redis-benchmark -P 16" rb_json pipeline 1 16
  (( have_redispy )) && run "$r" "redis-py pipeline" "$py3" "$py" pipeline --port "$port" --batch 16 --ops "$ops"
  (( have_ioredis )) && run "$r" "ioredis pipeline" node "$js" pipeline --port "$port" --batch 16 --ops "$(( ops * 2 ))"
  (( has_latency )) && run "$r" "fibredis latency" "${fb[@]}" --workload latency --runs 20
  for n in $calls; do
    (( has_blocking )) && run "$r" "fibredis blocking N=$n" "${fb[@]}" --workload blocking --clients "$n" --wake
    (( have_redispy )) && run "$r" "redis-py blocking N=$n" "$py3" "$py" blocking --port "$port" --calls "$n"
    (( have_ioredis )) && run "$r" "ioredis blocking N=$n" node "$js" blocking --port "$port" --calls "$n"
  done
done
(( tty )) && echo >&2
echo "compare.sh: $(wc -l <"$out") measurements in $out" >&2
(( has_blocking )) || echo "compare.sh: this fibredis-bench has no blocking workload: fibredis is missing from the blocking charts" >&2
"$py3" "$root/tools/compare/render.py" "$out" "$root/docs/charts" "$root/docs/BENCHMARKS.md"
