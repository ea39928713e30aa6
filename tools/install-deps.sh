#!/usr/bin/env bash
# Installs the Debian packages fibredis needs to build, test and demo, if any is missing.
# Run it, or source it and call fibredis_install_deps. --fuzz adds what tools/fuzz.sh needs:
# Debian's clang with its compiler runtime (libFuzzer and the sanitizers), unless some clang++
# with libFuzzer is already there.
fibredis_install_deps() {
  local pkgs=(g++ meson ninja-build pkg-config libboost-fiber-dev libboost-context-dev
              liburing-dev libhiredis-dev libreadline-dev catch2 redis-server redis-tools procps)
  if [[ ${1:-} == --fuzz ]] && ! fibredis_have_libfuzzer; then
    pkgs+=(clang-15)  # its libclang-common-15-dev holds libFuzzer and the sanitizer runtimes
  fi
  local missing=() p
  for p in "${pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "install-deps: installing ${missing[*]}" >&2
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo -n)
    else
      echo "install-deps: not root and no sudo; please install: ${missing[*]}" >&2
      return 1
    fi
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null || return 1
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    "${missing[@]}" </dev/null || return 1
}

# True when a Debian clang++ (15, 16 or 14) links -fsanitize=fuzzer (its libclang-rt is there).
fibredis_have_libfuzzer() {
  local c v
  for v in 15 16 14; do
    c=clang++-$v
    command -v "$c" >/dev/null 2>&1 || continue
    compgen -G "/usr/lib/llvm-$v/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null \
      && return 0
  done
  return 1
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -u -o pipefail
  fibredis_install_deps "$@"
fi
