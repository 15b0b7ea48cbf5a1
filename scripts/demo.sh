#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fracta's main job on a self-contained local setup: a real MCP server (the MCP TypeScript
# SDK) on a loopback port that requires a bearer token; fracta is configured for it, keeps the
# token out of its config, attaches it to every request, lists the tools and calls them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "start an MCP server on 127.0.0.1 that requires a bearer token"
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
umask 077
printf '%s\n' "$token" > "$work/token"
mkfifo "$work/ready"
node tests/e2e/peers/mcp-server.mjs --auth bearer --expect "$token" --ignore-stdin > "$work/ready" 2>"$work/server.log" &
server_pid=$!
read -r _ port < "$work/ready"
echo "listening on port $port (token stored in $work/token, never in fracta's config)"

export FRACTA_CONFIG="$work/config.toml"
export FRACTA_PLUGIN_PATH="$PWD/build/plugins"
fracta=build/cli/fracta

step "configure it"
run $fracta config mcp add demo --url "http://127.0.0.1:$port/mcp" --auth bearer --secret "token=file:$work/token"
run cat "$FRACTA_CONFIG"
run $fracta config mcp validate
run $fracta config mcp show demo

step "call it: fracta attaches the token to every request"
run $fracta tools demo
run $fracta call demo echo '{"text":"hello from fracta"}'
run $fracta call demo add '{"a":2,"b":3}'

step "a wrong credential is a clear error (exit 3), never a leaked secret"
printf 'not-the-token\n' > "$work/token"
set +e
$fracta call demo whoami
echo "exit code: $?"
set -e
echo
echo "demo finished: see docs/ for OAuth, plugins and the gateway"
