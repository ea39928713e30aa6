#!/usr/bin/env bash
# Build fibredis and run its whole test suite (unit + integration against real
# redis-server processes that the tests start themselves through tools/local-cluster).
#
#   tools/test.sh                  build in build/, run every suite, then fuzz each target 10 s
#   tools/test.sh --sanitize       build in build-sanitize/ with ASan + UBSan (docs/SANITIZERS.md)
#   tools/test.sh --suite unit     only that Meson suite (builds only the unit test programs)
#   tools/test.sh --fuzz-seconds N fuzz each target (tools/fuzz.sh) N s; 0: no fuzzing. The
#                                  fuzz step runs only in the plain build (default 10 s).
#   tools/test.sh --no-sanitize-logic  skip the ASan + UBSan run of the pure-logic unit tests
#                                  and the planted stack bugs that a plain run ends with
#   tools/test.sh --chaos          only the chaos suite (tests/chaos: faults on a cluster behind
#                                  fibredis-proxy, ~10 minutes; docs/RELIABILITY.md); a plain
#                                  run leaves it out
#
# Ends with a line "N passed, M failed"; exits non-zero if anything failed.
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1

sanitize=0 suite="" fuzz_seconds=10 sanitize_logic=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --sanitize) sanitize=1 ;;
    --chaos) suite=chaos ;;
    --no-sanitize-logic) sanitize_logic=0 ;;
    --suite) [[ $# -ge 2 ]] || { echo "test.sh: --suite needs a name" >&2; exit 2; }
             suite=$2; shift ;;
    --fuzz-seconds) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || { echo "test.sh: --fuzz-seconds needs a number" >&2; exit 2; }
                    fuzz_seconds=$2; shift ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

# Each phase prints how long it took (CI must stay under 20 minutes; these lines show where the
# time goes on the CI machine).
phase_start=$SECONDS
phase_done() {  # phase_done NAME
  echo "test.sh: phase '$1' took $(( SECONDS - phase_start )) s (total $SECONDS s)"
  phase_start=$SECONDS
}

summary() {  # summary PASSED FAILED [RC]
  echo "$1 passed, $2 failed"
  echo "test.sh: total $SECONDS s"
  exit "${3:-1}"
}

"$here/install-deps.sh" || { echo "test.sh: installing dependencies failed" >&2; summary 0 1; }
phase_done install-deps

if (( sanitize )); then
  builddir=build-sanitize
  opts=(-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized)
  # Fiber stacks and ASan: see docs/SANITIZERS.md (fake stacks assume one stack per thread).
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

# With --suite unit only the unit programs are built (the sanitizer build's library and
# integration tests take longest to compile).
targets=()
test_args=()
if [[ $suite == unit ]]; then
  targets=(tests/fibredis-unit)
  if (( sanitize )); then targets+=(tests/fibredis-unit-logic tests/planted-stack-bugs); fi
fi
if [[ -n $suite ]]; then test_args=(--suite "$suite"); fi
meson compile -C "$builddir" "${targets[@]}" </dev/null || { echo "test.sh: build failed" >&2; summary 0 1; }
phase_done build

log=$(mktemp "${TMPDIR:-/tmp}/fibredis-test-log.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
# The default test setup (tests/meson.build) leaves the chaos suite out; --suite chaos runs it.
meson test -C "$builddir" --no-rebuild --print-errorlogs "${test_args[@]}" </dev/null 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
phase_done "meson test"

# The installed copy as a pkg-config-only consumer sees it (meson install --destdir, then a program
# built with `pkg-config --cflags --libs fibredis` alone, run against a redis-server it starts).
# Not under ASan: the consumer is built without the sanitizer runtime the library needs then.
pc_ok=0 pc_failed=0
if (( ! sanitize )) && [[ -z $suite ]]; then
  echo "test.sh: installed-copy consumer (tests/consumer-pkgconfig/check.sh)"
  if tests/consumer-pkgconfig/check.sh "$builddir" 2>&1 | tee -a "$log"; then pc_ok=1; else pc_failed=1; fi
  phase_done "pkg-config consumer"
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

# A short run of every fuzz target (tools/fuzz.sh: clang, ASan + UBSan, its own build-fuzz/).
if (( ! sanitize && fuzz_seconds > 0 )) && [[ -z $suite ]]; then
  for t in reader topology error_reply url; do
    if "$here/fuzz.sh" "$t" "$fuzz_seconds" </dev/null; then
      ok=$(( ok + 1 ))
    else
      failed=$(( failed + 1 ))
    fi
  done
  phase_done fuzz
fi
# Pure logic under ASan + UBSan with full stack instrumentation (docs/SANITIZERS.md): its unit
# tests and the planted stack bugs that prove the flags see stack errors. Only those targets are
# built (in build-sanitize/), so this takes minutes, not the full sanitizer build's quarter hour.
if (( ! sanitize && sanitize_logic )) && [[ -z $suite ]]; then
  san_dir=build-sanitize
  san_opts=(-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized)
  echo "test.sh: pure logic under ASan + UBSan ($san_dir: unit-logic, asan-sees-*)"
  if [[ -f $san_dir/meson-private/coredata.dat ]]; then
    meson setup --reconfigure "$san_dir" "${san_opts[@]}" </dev/null >/dev/null \
      || meson setup --wipe "$san_dir" "${san_opts[@]}" </dev/null >/dev/null
  else
    meson setup "$san_dir" "${san_opts[@]}" </dev/null >/dev/null
  fi
  if meson compile -C "$san_dir" tests/fibredis-unit-logic tests/planted-stack-bugs </dev/null >/dev/null \
     && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        meson test -C "$san_dir" --no-rebuild --print-errorlogs \
          unit-logic asan-sees-stack-buffer-overflow asan-sees-stack-use-after-scope </dev/null; then
    ok=$(( ok + 1 ))
  else
    echo "test.sh: the pure-logic sanitizer run failed" >&2
    failed=$(( failed + 1 ))
  fi
  phase_done "pure logic under ASan"
fi

if (( failed > 0 )); then summary "$ok" "$failed" 1; fi
summary "$ok" 0 0
