#!/usr/bin/env bash
# Build fibredis and run its whole test suite (unit + integration against real
# redis-server processes that the tests start themselves through tools/local-cluster).
#
#   tools/test.sh                  build in build/, run every suite, fuzz each target 10 s, then
#                                  build the unit and integration programs in build-sanitize/
#                                  under ASan + UBSan and run those two suites there (CI's run)
#   tools/test.sh --sanitize       only build-sanitize/: the whole suite under ASan + UBSan
#                                  (every target, the consumer project too; docs/SANITIZERS.md)
#   tools/test.sh --suite unit     only that Meson suite (builds only the unit test programs)
#   tools/test.sh --fuzz-seconds N fuzz each target (tools/fuzz.sh) N s; 0: no fuzzing. The
#                                  fuzz step runs only in the plain build (default 10 s).
#   tools/test.sh --no-asan        leave out the ASan + UBSan phase that a plain run ends with
#   tools/test.sh --chaos          only the chaos suite (tests/chaos: faults on a cluster behind
#                                  fibredis-proxy, ~10 minutes; docs/RELIABILITY.md); a plain
#                                  run leaves it out
#
# Ends with a line "N passed, M failed"; exits non-zero if anything failed.
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1

sanitize=0 suite="" fuzz_seconds=10 asan_phase=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --sanitize) sanitize=1 ;;
    --chaos) suite=chaos ;;
    --no-asan) asan_phase=0 ;;
    --suite) [[ $# -ge 2 ]] || { echo "test.sh: --suite needs a name" >&2; exit 2; }
             suite=$2; shift ;;
    --fuzz-seconds) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || { echo "test.sh: --fuzz-seconds needs a number" >&2; exit 2; }
                    fuzz_seconds=$2; shift ;;
    -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

# The sanitizer build (docs/SANITIZERS.md): ASan + UBSan at -O1 with -g1 (meson.build: line
# tables, so reports name file:line; no variable info, which ASan never prints); the test
# programs' own code at -O0 (tests/meson.build). -O2 -g compiled the heaviest test file 2.3x
# slower for nothing a report needs. ASAN_OPTIONS and UBSAN_OPTIONS come from the default test
# setup in tests/meson.build.
san_dir=build-sanitize
san_opts=(-Db_sanitize=address,undefined -Db_lundef=false -Doptimization=1 -Ddebug=false)

setup_build() {  # setup_build DIR OPTION... — configure DIR (again) with these options
  local dir=$1
  shift
  if [[ -f $dir/meson-private/coredata.dat ]]; then
    meson setup --reconfigure "$dir" "$@" </dev/null || meson setup --wipe "$dir" "$@" </dev/null
  else
    meson setup "$dir" "$@" </dev/null
  fi
}

if (( sanitize )); then
  builddir=$san_dir
  opts=("${san_opts[@]}")
else
  builddir=build
  opts=()
fi

setup_build "$builddir" "${opts[@]}" || { echo "test.sh: meson setup failed" >&2; summary 0 1; }

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

count() {  # count LABEL [LOG] — the number after "LABEL:" in meson's summary, 0 if absent
  local n
  n=$(sed -n "s/^ *$1: *\([0-9][0-9]*\) *$/\1/p" "${2:-$log}" | tail -n1)
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
# The unit and integration suites again, under ASan + UBSan (docs/SANITIZERS.md). Only what they
# run is built: the unit programs (fibredis-unit-logic: the pure-logic tests with full stack
# instrumentation; planted-stack-bugs: the proof that it is on), the integration tests and the
# programs they start (fibredis-cli, the examples). The README sample and the installed-header
# checks compile with the plain compiler, so they ran above already.
if (( ! sanitize && asan_phase )) && [[ -z $suite ]]; then
  echo "test.sh: unit + integration under ASan + UBSan ($san_dir)"
  san_targets=(tests/fibredis-unit tests/fibredis-unit-logic tests/planted-stack-bugs
               tests/fibredis-integration tools/fibredis-cli
               examples/basic examples/cluster_basic examples/pubsub examples/replica_reads
               examples/blocking_swarm)
  san_tests=(unit unit-logic asan-sees-stack-buffer-overflow asan-sees-stack-use-after-scope
             integration)
  san_log=$(mktemp "${TMPDIR:-/tmp}/fibredis-asan-log.XXXXXX") || exit 1
  trap 'rm -f "$log" "$san_log"' EXIT
  if setup_build "$san_dir" "${san_opts[@]}" >/dev/null \
     && meson compile -C "$san_dir" "${san_targets[@]}" </dev/null >"$san_log" 2>&1; then
    phase_done "ASan build"
    meson test -C "$san_dir" --no-rebuild --print-errorlogs "${san_tests[@]}" </dev/null 2>&1 | tee "$san_log"
    san_rc=${PIPESTATUS[0]}
    san_ok=$(count 'Ok' "$san_log")
    san_failed=$(( $(count 'Fail' "$san_log") + $(count 'Timeout' "$san_log") + $(count 'Unexpected Pass' "$san_log") ))
    if (( san_rc != 0 && san_failed == 0 )); then
      echo "test.sh: meson test under ASan exited with status $san_rc" >&2
      san_failed=1
    fi
    ok=$(( ok + san_ok ))
    failed=$(( failed + san_failed ))
    phase_done "tests under ASan"
  else
    echo "test.sh: the ASan + UBSan build failed:" >&2
    grep -E -A3 'error:|FAILED' "$san_log" | head -n 40 >&2
    failed=$(( failed + 1 ))
    phase_done "ASan build"
  fi
fi

if (( failed > 0 )); then summary "$ok" "$failed" 1; fi
summary "$ok" 0 0
