#!/usr/bin/env bash
# Configures and builds tests/consumer (fibredis as a subproject) in a fresh directory and runs it.
# Usage: check.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1
work=$2
rm -rf -- "$work"
meson setup "$work" "$src" </dev/null >"$work.log" 2>&1 || { cat "$work.log"; exit 1; }
meson compile -C "$work" </dev/null >>"$work.log" 2>&1 || { tail -n 40 "$work.log"; exit 1; }
"$work/consumer"
