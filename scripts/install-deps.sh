#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what fracta's build and tests need and is missing: Debian packages, then the npm
# peers pinned in tests/e2e/package-lock.json. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ meson ninja-build pkg-config
  libasio-dev libcurl4-openssl-dev libcpp-httplib-dev libsimdjson-dev libtomlplusplus-dev
  libssl-dev libsodium-dev libsecret-1-dev libcli11-dev doctest-dev
  nodejs npm openssl ca-certificates
  gnome-keyring dbus libsecret-tools
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
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  cp tests/e2e/package-lock.json "$stamp"
fi
