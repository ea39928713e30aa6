#!/usr/bin/env bash
# Installs the Debian packages fibredis needs to build, test and demo, if any is missing.
# Run it, or source it and call fibredis_install_deps.
fibredis_install_deps() {
  local pkgs=(g++ meson ninja-build pkg-config libboost-fiber-dev libboost-context-dev
              liburing-dev libhiredis-dev libreadline-dev catch2 redis-server redis-tools procps)
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

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -u -o pipefail
  fibredis_install_deps
fi
