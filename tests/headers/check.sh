#!/usr/bin/env bash
# The installed headers are the API (issue 12, item 1). From a copy holding ONLY the installed
# headers (what `meson install` puts in includedir), checks that
#   1. every installed header compiles on its own (a one-line translation unit each), so none
#      leans on an internal header (fibredis/detail/ is not installed) or on an include order;
#   2. `g++ -H` on the umbrella header lists no liburing, hiredis or Boost.Fiber header at all
#      (every Boost.Fiber public header pulls boost/fiber/context.hpp, algo/ and scheduler.hpp),
#      and no fibredis/detail/ header.
# Usage: check.sh CXX SOURCE_INCLUDE_DIR HEADER...   (HEADER relative to SOURCE_INCLUDE_DIR)
set -euo pipefail
cxx=$1
src=$2
shift 2
(($# > 0)) || { echo "check.sh: no headers given" >&2; exit 2; }

# Every header outside fibredis/detail/ is API, so it must be in the installed list (or moved).
unlisted=$(cd "$src" && find fibredis -name '*.hpp' -not -path 'fibredis/detail/*' | sort | \
  comm -23 - <(printf '%s\n' "$@" | sort))
if [[ -n $unlisted ]]; then
  echo "FAIL: headers outside fibredis/detail/ missing from include/meson.build's installed list:" >&2
  echo "$unlisted" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fibredis-headers.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/include"
for h in "$@"; do
  mkdir -p "$work/include/$(dirname "$h")"
  cp "$src/$h" "$work/include/$h"
done

flags=(-std=c++20 -Wall -Wextra -Werror -fsyntax-only -I "$work/include")
failed=0
for h in "$@"; do
  tu="$work/tu.cpp"
  printf '#include <%s>\n' "$h" >"$tu"
  if ! "$cxx" "${flags[@]}" "$tu" 2>"$work/err"; then
    echo "FAIL: <$h> does not compile on its own from the installed set:" >&2
    head -n 20 "$work/err" >&2
    failed=$((failed + 1))
  fi
done
((failed == 0)) || { echo "headers: $failed of $# installed headers fail on their own" >&2; exit 1; }
echo "headers: all $# installed headers compile on their own"

umbrella="$work/umbrella.cpp"
printf '#include <fibredis/fibredis.hpp>\n' >"$umbrella"
"$cxx" "${flags[@]}" -H "$umbrella" 2>"$work/h.txt"
# -H prints one line per header opened, its depth as leading dots.
listed=$(grep -c '^\.' "$work/h.txt" || true)
bad=$(grep -E '^\.+ .*(liburing|hiredis|boost/fiber/|fibredis/detail/)' "$work/h.txt" || true)
if [[ -n $bad ]]; then
  echo "FAIL: the umbrella header pulls in internals:" >&2
  echo "$bad" | head -n 20 >&2
  exit 1
fi
boost=$(grep -cE '^\.+ .*/boost/' "$work/h.txt" || true)
echo "headers: <fibredis/fibredis.hpp> opens $listed headers ($boost of Boost), none of liburing, hiredis, Boost.Fiber or fibredis/detail"
