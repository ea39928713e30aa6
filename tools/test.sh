#!/usr/bin/env bash
# Build fibredis and run its whole test suite (unit + integration against real
# redis-server processes that the tests start themselves through tools/local-cluster).
#
#   tools/test.sh              build in build/
#   tools/test.sh --sanitize   build in build-sanitize/ with ASan + UBSan
#
# Ends with a line "N passed, M failed"; exits non-zero if anything failed.
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1

sanitize=0
for arg in "$@"; do
  case $arg in
    --sanitize) sanitize=1 ;;
    -h|--help) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

summary() {  # summary PASSED FAILED [RC]
  echo "$1 passed, $2 failed"
  exit "${3:-1}"
}

"$here/install-deps.sh" || { echo "test.sh: installing dependencies failed" >&2; summary 0 1; }

if (( sanitize )); then
  builddir=build-sanitize
  opts=(-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized)
  # Fiber stacks and ASan: see docs/SANITIZERS.md.
  export ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  builddir=build
  opts=()
fi

if [[ -f $builddir/meson-private/coredata.dat ]]; then
  meson setup --reconfigure "$builddir" "${opts[@]}" </dev/null \
    || meson setup --wipe "$builddir" "${opts[@]}" </dev/null \
    || { echo "test.sh: meson setup failed" >&2; summary 0 1; }
else
  meson setup "$builddir" "${opts[@]}" </dev/null \
    || { echo "test.sh: meson setup failed" >&2; summary 0 1; }
fi

meson compile -C "$builddir" </dev/null || { echo "test.sh: build failed" >&2; summary 0 1; }

log=$(mktemp "${TMPDIR:-/tmp}/fibredis-test-log.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
meson test -C "$builddir" --print-errorlogs </dev/null 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

# The installed copy as a pkg-config-only consumer sees it (meson install --destdir, then a program
# built with `pkg-config --cflags --libs fibredis` alone, run against a redis-server it starts).
# Not under ASan: the consumer is built without the sanitizer runtime the library needs then.
pc_ok=0 pc_failed=0
if (( ! sanitize )); then
  echo "test.sh: installed-copy consumer (tests/consumer-pkgconfig/check.sh)"
  if tests/consumer-pkgconfig/check.sh "$builddir" 2>&1 | tee -a "$log"; then pc_ok=1; else pc_failed=1; fi
fi

count() {  # count LABEL — the number after "LABEL:" in meson's summary, 0 if absent
  local n
  n=$(sed -n "s/^ *$1: *\([0-9][0-9]*\) *$/\1/p" "$log" | tail -n1)
  echo "${n:-0}"
}
ok=$(count 'Ok')
fail=$(count 'Fail')
timeout=$(count 'Timeout')
xpass=$(count 'Unexpected Pass')
ok=$(( ok + pc_ok ))
failed=$(( fail + timeout + xpass + pc_failed ))
if (( rc != 0 && failed == 0 )); then
  echo "test.sh: meson test exited with status $rc" >&2
  failed=1
fi
if (( failed > 0 )); then summary "$ok" "$failed" 1; fi
summary "$ok" 0 0
