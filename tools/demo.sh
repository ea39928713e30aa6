#!/usr/bin/env bash
# Build fibredis, start a plain server and a 3 + 3 cluster on free local ports, and run
# the example programs against them.  Servers are stopped on exit.
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1
lc="$here/local-cluster"

"$here/install-deps.sh" || { echo "demo.sh: installing dependencies failed" >&2; exit 1; }

if [[ -f build/meson-private/coredata.dat ]]; then
  meson setup --reconfigure build </dev/null || exit 1
else
  meson setup build </dev/null || exit 1
fi
meson compile -C build </dev/null || { echo "demo.sh: build failed" >&2; exit 1; }

single_port=""
cluster_port=""
demo_dir=$(mktemp -d "${TMPDIR:-/tmp}/fibredis-demo.XXXXXX") || exit 1
cleanup() {
  [[ -n $single_port ]] && "$lc" stop --port "$single_port" --dir "$demo_dir/single" >/dev/null
  [[ -n $cluster_port ]] && "$lc" stop --port "$cluster_port" --dir "$demo_dir/cluster" >/dev/null
  rm -rf -- "$demo_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# start_on_free_port VAR BASE DIR ARGS... — tries bases from BASE up, below the ephemeral
# range (and their cluster bus ports, +10000); local-cluster exits 3 when a port is out of
# range or taken.
start_on_free_port() {
  local var=$1 base=$2 dir=$3; shift 3
  local i rc
  for (( i = 0; i < 20; i++ )); do
    "$lc" start --port "$base" --dir "$dir" "$@"
    rc=$?
    if (( rc == 0 )); then printf -v "$var" '%s' "$base"; return 0; fi
    (( rc == 3 )) || return 1
    base=$(( base + 10 ))
  done
  return 1
}

start_on_free_port single_port $(( 12000 + ($$ % 450) * 20 )) "$demo_dir/single" --single \
  || { echo "demo.sh: could not start a redis server" >&2; exit 1; }
start_on_free_port cluster_port $(( single_port + 10 )) "$demo_dir/cluster" --primaries 3 --replicas 1 \
  || { echo "demo.sh: could not start a redis cluster" >&2; exit 1; }

failed=0
run_example() {  # run_example NAME ARGS...
  local name=$1; shift
  local bin="build/examples/$name"
  if [[ ! -x $bin ]]; then
    echo "demo.sh: skipping $name (build/examples/$name not built yet)"
    return 0
  fi
  echo "demo.sh: running $name $*"
  if timeout 300 "$bin" "$@" </dev/null; then
    echo "demo.sh: $name ok"
  else
    echo "demo.sh: $name FAILED (exit $?)" >&2
    failed=1
  fi
}

run_example basic --host 127.0.0.1 --port "$single_port"
run_example blocking_swarm --host 127.0.0.1 --port "$single_port" --clients 500
run_example cluster_basic --host 127.0.0.1 --port "$cluster_port"
run_example pubsub --cluster "127.0.0.1:$cluster_port"
run_example replica_reads --cluster "127.0.0.1:$cluster_port"

if (( failed )); then
  echo "demo.sh: some examples failed" >&2
  exit 1
fi
echo "demo.sh: all examples ok"
