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
pids=()
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$work"
}
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

step "bridge it for a desktop host: fracta proxy speaks MCP over stdio (what Claude Desktop or Cursor would send)"
printf '%s\n' \
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"demo-host","version":"1"}}}' \
  '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
  '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello through fracta proxy"}}}' |
  run $fracta proxy demo

step "a wrong credential is a clear error (exit 3), never a leaked secret"
printf 'not-the-token\n' > "$work/token"
set +e
$fracta call demo whoami
echo "exit code: $?"
set -e

step "OAuth: an MCP server that wants JWTs from a real authorization server (oidc-provider)"
mkfifo "$work/mcp-ready" "$work/as-ready"
node tests/e2e/peers/mcp-server.mjs --mode stateless --auth jwt --issuer-file "$work/issuer" --ignore-stdin \
  > "$work/mcp-ready" 2>"$work/mcp.log" &
pids+=($!)
read -r _ mcp_port < "$work/mcp-ready"
node tests/e2e/peers/oidc-provider.mjs --resource "http://127.0.0.1:$mcp_port/mcp" --access-ttl 30 \
  --ignore-stdin > "$work/as-ready" 2>"$work/as.log" &
pids+=($!)
read -r _ as_port < "$work/as-ready"
printf 'http://127.0.0.1:%s\n' "$as_port" > "$work/issuer"
echo "MCP server on port $mcp_port, authorization server on port $as_port"

step "configure it: no client, no secret; fracta discovers and registers itself"
export FRACTA_DEMO_PASSPHRASE="demo passphrase for the encrypted token file"
export XDG_STATE_HOME="$work/state"
run $fracta config mcp add notes --url "http://127.0.0.1:$mcp_port/mcp" --oauth
cat >> "$FRACTA_CONFIG" <<TOML
token_store = "file"
passphrase = { env = "FRACTA_DEMO_PASSPHRASE" }
TOML
run $fracta config mcp show notes

step "log in: the browser (headless Chromium standing in for you) signs in and consents"
export BROWSER="$PWD/tests/e2e/peers/browser.sh"
run $fracta config mcp auth login notes --timeout 60
run $fracta config mcp auth status notes
run $fracta call notes echo '{"text":"hello with an OAuth token"}'

step "fracta gateway: both servers behind one MCP endpoint, each with its own credential"
printf '%s\n' "$token" > "$work/token"   # the demo server's right token again
$fracta gateway --listen 127.0.0.1:0 2> "$work/gateway.log" &
pids+=($!)
for _ in $(seq 100); do grep -q 'ready:' "$work/gateway.log" && break; sleep 0.1; done
cat "$work/gateway.log"
gateway=$(sed -n 's/.*listening on \([^ ]*\) .*/\1/p' "$work/gateway.log")
echo "an MCP SDK client (it holds no credential) lists and calls through $gateway:"
run node tests/e2e/peers/gateway-client.mjs "$gateway"
run curl -s "${gateway%/mcp}/readyz"
echo

run $fracta config mcp auth logout notes

echo
echo "demo finished: see docs/oauth.md, docs/cli.md and docs/plugin-abi.md"
