#!/usr/bin/env bash
# Builds tests/consumer the way a user's project gets fibredis: through subprojects/fibredis.wrap
# (the wrap-git file README.md shows) and dependency('fibredis'). The wrap points at a throwaway git
# snapshot of this working tree, so what is tested is the checkout as it is, uncommitted edits too.
# Usage: check.sh CONSUMER_SOURCE_DIR WORK_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
root=$(cd "$src/../.." && pwd)
rm -rf -- "$work"
mkdir -p "$work"
log=$work.log
: >"$log"
fail() { echo "consumer: $1 (log: $log)" >&2; tail -n 40 "$log" >&2; exit 1; }

# The snapshot: every file git tracks or would add, except build directories (build*/ at the top,
# where tools/test.sh and the docs put them), committed once.
snap=$work/fibredis-snapshot
mkdir -p "$snap"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$root" && git ls-files -z --cached --others --exclude-standard |
    grep -zv '^build' | xargs -0 cp --parents -P -t "$snap") || fail "copying the checkout failed"
else
  # A source tarball without .git: copy it, minus build directories.
  (cd "$root" && tar --exclude='./build*' --exclude='./tests/consumer*/subprojects/fibredis' -cf - .) |
    (cd "$snap" && tar -xf -)
fi
git -C "$snap" init -q -b main >>"$log" 2>&1 || fail "git init failed"
git -C "$snap" add -A >>"$log" 2>&1
git -C "$snap" -c user.name=consumer -c user.email=consumer@localhost commit -q -m snapshot \
  >>"$log" 2>&1 || fail "git commit of the snapshot failed"

# The consumer project, with the wrap file in its subprojects/.
cp -r "$src" "$work/project"
mkdir -p "$work/project/subprojects"
cat >"$work/project/subprojects/fibredis.wrap" <<WRAP
[wrap-git]
url = file://$snap
revision = main
depth = 1

[provide]
fibredis = fibredis_dep
WRAP

# buildtype plain (no -O): this checks that the wrap builds and links, not how fast it runs, and
# without the optimiser passes the library compiles faster, and CI runs this beside the other tests.
meson setup --buildtype=plain "$work/build" "$work/project" </dev/null >>"$log" 2>&1 || fail "meson setup failed"
grep -q "Executing subproject fibredis" "$log" || fail "fibredis did not come in as a subproject"
meson compile -C "$work/build" </dev/null >>"$log" 2>&1 || fail "build failed"
"$work/build/consumer"
