#!/usr/bin/env bash
# Installs a built fibredis with `meson install --destdir` into a temporary root, then builds
# tests/consumer-pkgconfig/main.cpp with `pkg-config --cflags --libs fibredis` as its only flags
# and runs it against a redis-server this script starts on a free loopback port (and stops, by PID).
# Usage: check.sh BUILD_DIR [CXX]      (BUILD_DIR: a compiled fibredis build; installed as it is)
set -euo pipefail
build=$(cd "$1" && pwd)
cxx=${2:-c++}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/fibredis-pc-consumer.XXXXXX")
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf -- "$work"
}
trap cleanup EXIT
fail() { echo "consumer-pkgconfig: $1" >&2; [[ -f $work/log ]] && tail -n 40 "$work/log" >&2; exit 1; }

meson install -C "$build" --no-rebuild --destdir "$work/root" --quiet </dev/null >"$work/log" 2>&1 \
  || fail "meson install --destdir failed"
pcfile=$(find "$work/root" -name fibredis.pc -print -quit)
[[ -n $pcfile ]] || fail "meson install put no fibredis.pc under the destdir"
grep -E '^Libs(\.private)?:' "$pcfile" | grep -q ' /' && fail "fibredis.pc has absolute paths in Libs: $(grep '^Libs' "$pcfile")"

# The destdir is a sysroot to pkg-config: it prefixes the .pc's -I and -L paths with it.
export PKG_CONFIG_PATH=$(dirname "$pcfile") PKG_CONFIG_SYSROOT_DIR=$work/root
flags=$(pkg-config --cflags --libs fibredis) || fail "pkg-config --cflags --libs fibredis failed"
echo "consumer-pkgconfig: pkg-config --cflags --libs fibredis: $flags"
# shellcheck disable=SC2086  # the flags are words
"$cxx" -std=c++20 -Wall -Wextra -Werror -o "$work/consumer" "$here/main.cpp" $flags >"$work/log" 2>&1 \
  || fail "compiling and linking with pkg-config's flags alone failed"
libdir=$(dirname "$(dirname "$pcfile")")
soname=$(objdump -p "$work/consumer" | awk '$1 == "NEEDED" && $2 ~ /^libfibredis/ { print $2 }')
[[ $soname =~ ^libfibredis\.so\.[0-9] ]] || fail "the program does not link a versioned soname (NEEDED: '$soname')"
[[ -e $libdir/$soname ]] || fail "$soname is not installed in $libdir"

# A free port: a random one below the ephemeral range; redis-server exits if it is taken, and then
# the next one is tried.
for _try in $(seq 1 10); do
  port=$(( 20000 + RANDOM % 12000 ))
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    --logfile "$work/redis.log" </dev/null >/dev/null 2>&1 &
  server_pid=$!
  for _wait in $(seq 1 50); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break 2
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=
done
[[ -n $server_pid ]] || fail "could not start redis-server on a free port"

LD_LIBRARY_PATH=$libdir "$work/consumer" 127.0.0.1 "$port" || fail "the program failed against redis-server on port $port"
echo "consumer-pkgconfig: ok ($soname from $libdir)"
