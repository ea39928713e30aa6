#!/usr/bin/env bash
# Checks that the README's C++ sample compiles against the headers (the first ```cpp block).
# Usage: readme_sample.sh SOURCE_ROOT CXX
set -euo pipefail
root=$1
cxx=$2
out=$(mktemp "${TMPDIR:-/tmp}/fibredis-readme.XXXXXX.cpp")
trap 'rm -f "$out"' EXIT
awk '/^```cpp$/ { on = 1; next } on && /^```$/ { exit } on { print }' "$root/README.md" >"$out"
[[ -s $out ]] || { echo "readme_sample: no \`\`\`cpp block in README.md" >&2; exit 1; }
# No liburing or hiredis flags: the installed headers need neither (tests/headers checks that).
"$cxx" -std=c++20 -Wall -Wextra -Werror -fsyntax-only -I "$root/include" "$out"
echo "readme_sample: README.md's sample compiles"
