#!/usr/bin/env bash
# Builds one libFuzzer target (tests/fuzz/) and fuzzes it for a while.
#
#   tools/fuzz.sh TARGET SECONDS     TARGET: reader | topology | error_reply | url | all
#
# Builds in build-fuzz/ with Debian's clang (clang++-15, -16 or -14, the newest present; or
# $FUZZ_CXX) under ASan + UBSan with full stack instrumentation, starts from the seed corpus in
# tests/fuzz/corpus/TARGET (read only: new inputs go to build-fuzz/corpus/TARGET) and runs for
# SECONDS on one core. A finding (crash, sanitizer report, broken invariant, a >10 s input) is
# saved as build-fuzz/artifacts/TARGET-crash-* and makes this exit non-zero. "all" runs every
# target in turn, each for SECONDS. Reproduce a finding: build-fuzz/tests/fuzz/fuzz-TARGET FILE.
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1

targets=(reader topology error_reply url)
if [[ $# -ne 2 || ! $2 =~ ^[0-9]+$ ]]; then
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
want=$1 seconds=$2
if [[ $want == all ]]; then
  chosen=("${targets[@]}")
else
  chosen=()
  for t in "${targets[@]}"; do [[ $t == "$want" ]] && chosen=("$t"); done
  if [[ ${#chosen[@]} -eq 0 ]]; then
    echo "fuzz.sh: unknown target '$want' (one of: ${targets[*]} all)" >&2
    exit 2
  fi
fi

"$here/install-deps.sh" --fuzz || { echo "fuzz.sh: installing dependencies failed" >&2; exit 1; }

cxx=${FUZZ_CXX:-}
if [[ -z $cxx ]]; then
  for c in clang++-15 clang++-16 clang++-14 clang++; do
    if command -v "$c" >/dev/null 2>&1; then cxx=$c; break; fi
  done
fi
[[ -n $cxx ]] || { echo "fuzz.sh: no clang++ found" >&2; exit 1; }

builddir=build-fuzz
opts=(-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized)
if [[ ! -f $builddir/meson-private/coredata.dat ]]; then
  CXX=$cxx meson setup "$builddir" "${opts[@]}" </dev/null >/dev/null \
    || { echo "fuzz.sh: meson setup failed" >&2; exit 1; }
fi
exes=()
for t in "${chosen[@]}"; do exes+=("tests/fuzz/fuzz-${t//_/-}"); done
mkdir -p "$builddir"
if ! meson compile -C "$builddir" "${exes[@]}" </dev/null >"$builddir/build.log" 2>&1; then
  echo "fuzz.sh: build failed (meson compile -C $builddir ${exes[*]}):" >&2
  grep -E -A3 'error:|FAILED' "$builddir/build.log" | head -n 40 >&2
  exit 1
fi

# A finding must stop the run: UBSan aborts instead of printing and going on.
export ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1

failed=0
for t in "${chosen[@]}"; do
  exe=$builddir/tests/fuzz/fuzz-${t//_/-}
  work=$builddir/corpus/$t
  mkdir -p "$work" "$builddir/artifacts"
  log=$builddir/fuzz-$t.log
  echo "fuzz.sh: $t for ${seconds}s ($cxx; log $log)"
  # -timeout: an input that takes 10 s is a finding (a hang); -rss_limit_mb: so is one that makes
  # the parser hold 2 GiB. -max_len: replies of a few KiB reach every branch.
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$builddir/artifacts/$t-" \
    "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  stats=$(grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec' "$log" \
          | sed 's/^stat:://' | tr '\n' ' ')
  cov=$(grep -E '^#[0-9]+ +DONE' "$log" | tail -n1)
  if (( rc != 0 )); then
    echo "fuzz.sh: $t FAILED (exit $rc): see $log and $builddir/artifacts/$t-*" >&2
    grep -m5 -E 'ERROR|invariant|chunking|SUMMARY' "$log" >&2
    failed=1
  else
    echo "fuzz.sh: $t ok: $stats${cov:+| $cov}"
  fi
done
exit $failed
