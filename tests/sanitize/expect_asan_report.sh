#!/usr/bin/env bash
# expect_asan_report.sh PROGRAM BUG — runs PROGRAM BUG (tests/sanitize/planted_stack_bugs.cpp) and
# passes only if AddressSanitizer reports exactly that kind of bug ("ERROR: AddressSanitizer: BUG").
set -u
prog=$1 bug=$2
# UBSan may see the overflow first (an out-of-bounds index): let it go on so ASan reports.
out=$(ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=0 "$prog" "$bug" 2>&1)
rc=$?
if [[ $out == *"ERROR: AddressSanitizer: $bug"* ]]; then
  echo "ASan reported the planted $bug (exit $rc)"
  exit 0
fi
echo "FAIL: ASan did not report the planted $bug (exit $rc); the program said:" >&2
echo "$out" >&2
exit 1
