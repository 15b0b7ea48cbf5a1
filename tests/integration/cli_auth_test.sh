#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The CLI's auth commands through the built binary: add --oauth, status of every kind of server,
# login (browser script and pasted URL), logout, exit codes and the deprecated aliases.
# Usage: cli_auth_test.sh FRACTA FAKE_PLUGIN_DIR FAKE_BROWSER
set -u
fracta=$1
browser=$3
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fracta-cli-auth-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export XDG_STATE_HOME="$scratch/state" FRACTA_STORE_PASSPHRASE=cli-test HOME="$scratch/home"
export FRACTA_TEST_BROWSER_LOG="$scratch/browser.log"
unset BROWSER FRACTA_CONFIG
mkdir -p "$HOME"
cfg="$scratch/config.toml"
# shellcheck source=cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"

# The fake login plugin stands in for the shipped oauth-authcode provider, which the config
# must allow explicitly.
printf '[plugins]\nreplace_builtin = ["oauth-authcode"]\n' >"$cfg"

# ---- add --oauth writes the TOML --------------------------------------------------------------
expect_rc 0 config mcp add plain --url https://plain.example/mcp
expect_rc 0 config mcp add gh --url https://gh.example/mcp --auth bearer --secret token=env:FRACTA_CLI_GH
expect_rc 0 config mcp add n --url http://127.0.0.1:9/mcp --oauth --client-id cid --client-secret-env FRACTA_CLI_SECRET \
  --scope read --scope write
want='[mcp.servers.n.remote]
url = "http://127.0.0.1:9/mcp"

[mcp.servers.n.remote.auth]
type = "oauth"
scopes = ["read", "write"]
client_id = { value = "cid" }
client_secret = { env = "FRACTA_CLI_SECRET" }'
contains "$(cat "$cfg")" "$want" "config after add --oauth"
expect_rc 0 config mcp add m --url http://127.0.0.1:9/mcp --oauth --client-id c2 --client-secret s3cr3t
contains "$(cat "$cfg")" 'client_secret = { value = "s3cr3t" }' "config after --client-secret"
expect_rc 2 config mcp add x --url http://127.0.0.1:9/mcp --scope read
contains "$err" "add --oauth" "--scope without --oauth"
expect_rc 2 config mcp add x --url http://127.0.0.1:9/mcp --oauth --auth bearer
expect_rc 2 config mcp add x --url http://127.0.0.1:9/mcp --oauth --client-secret s --client-secret-env E

# ---- status -------------------------------------------------------------------------------------
export FRACTA_CLI_SECRET=s FRACTA_CLI_GH=t
expect_rc 0 config mcp auth status plain
[ "$out" = "plain: none (no credential)" ] || fail "status plain: $out"
expect_rc 0 config mcp auth status gh
[ "$out" = "gh: static credential (bearer)" ] || fail "status gh: $out"
expect_rc 0 config mcp auth status n
contains "$out" "n: needs login (run \`fracta config mcp auth login n\`)" "status n"
contains "$out" "store: file $scratch/state/fracta/tokens.enc" "status n"
expect_rc 0 config mcp auth status --json
contains "$out" '{"server":"plain","auth":"none","credential":"none"}' "status --json"
contains "$out" '{"server":"gh","auth":"bearer","credential":"static credential"}' "status --json"
contains "$out" '"server":"n","store":"file '"$scratch"'/state/fracta/tokens.enc"' "status --json"
case "$out" in \[*\]) ;; *) fail "status --json is not an array: $out" ;; esac
expect_rc 2 config mcp auth status nope

# ---- login on types without one ---------------------------------------------------------------------
expect_rc 2 config mcp auth login gh
contains "$err" "has no interactive login" "login gh"
contains "$err" 'grant_type = "authorization_code"' "login gh"
expect_rc 2 config mcp auth login plain

# ---- login through the browser script, status, logout -------------------------------------------
export BROWSER="$browser --log $FRACTA_TEST_BROWSER_LOG"  # a browser gets no FRACTA_* variables
expect_rc 0 config mcp auth login n --timeout 20
contains "$out" "Logged in to n: logged in to https://fake.invalid (scopes: read)" "login n"
contains "$err" "Opening your browser at: http://127.0.0.1:" "login n stderr"
[ -s "$FRACTA_TEST_BROWSER_LOG" ] || fail "the browser script did not run"
expect_rc 0 config mcp auth status n
contains "$out" "n: logged in, expiry unknown" "status after login"
contains "$out" "issuer: https://fake.invalid" "status after login"
lacks "$out" "token-c0de" "status after login"
expect_rc 0 config mcp auth status n --json
contains "$out" '"logged_in":true' "status --json after login"
lacks "$out" "token-c0de" "status --json"
expect_rc 0 config mcp auth logout n
[ "$out" = "Logged out of n; stored tokens removed from file $scratch/state/fracta/tokens.enc" ] || fail "logout: $out"
expect_rc 0 config mcp auth logout n
[ "$out" = "Not logged in to n: nothing stored in file $scratch/state/fracta/tokens.enc" ] || fail "logout of nothing: $out"
expect_rc 0 config mcp auth status n
contains "$out" "needs login" "status after logout"

# ---- --json login, --no-browser with a pasted URL ------------------------------------------------
unset BROWSER
# A fixed port below the kernel's ephemeral range (the other tests' servers and every outgoing
# connection take theirs from that range), so that no concurrent test holds it.
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
port=$((low - 1 - RANDOM % 8000))
expect_rc 0 config mcp add p --url http://127.0.0.1:9/mcp --auth oauth --set redirect_uri=http://127.0.0.1:$port/callback
printf 'http://127.0.0.1:%s/callback?code=pasted&state=s1\n' "$port" >"$scratch/paste"
"$fracta" --config "$cfg" config mcp auth login p --no-browser --json --timeout 20 <"$scratch/paste" >"$scratch/out" 2>"$scratch/err"
rc=$?
out=$(cat "$scratch/out")
err=$(cat "$scratch/err")
[ "$rc" -eq 0 ] || fail "login --no-browser exited $rc: $err"
contains "$err" "Open this URL in a browser: http://127.0.0.1:$port/callback?code=c0de" "login --no-browser"
contains "$out" '"server":"p","logged_in":true' "login --json"

# ---- timeout -----------------------------------------------------------------------------------------
export BROWSER=/bin/true
expect_rc 4 config mcp auth login n --timeout 1
contains "$err" "no redirect arrived within 1 s (--timeout)" "login timeout"
unset BROWSER

# ---- call/tools --login: log in when the provider needs it, then retry once ---------------------------
# The server (port 9) is down: the retry after the login reaches the network and fails (exit 4).
expect_rc 0 config mcp auth logout n
expect_rc 3 call n echo </dev/null
contains "$err" "not logged in" "call without --login"
export BROWSER="$browser --log $FRACTA_TEST_BROWSER_LOG"  # a browser gets no FRACTA_* variables
expect_rc 4 call n echo --login --timeout 20 </dev/null
contains "$err" "Logged in to n: logged in to https://fake.invalid" "call --login"
contains "$err" "127.0.0.1:9" "call --login retried against the server"
expect_rc 0 config mcp auth logout n
expect_rc 4 tools n --login </dev/null
contains "$err" "Logged in to n:" "tools --login"
unset BROWSER

# ---- deprecated aliases ------------------------------------------------------------------------------
expect_rc 0 mcp auth-status gh
[ "$out" = "gh: static credential (bearer)" ] || fail "mcp auth-status: $out"
contains "$err" "use \`fracta config mcp auth status\`" "mcp auth-status"
expect_rc 2 mcp login gh
contains "$err" "use \`fracta config mcp auth login\`" "mcp login"

# ---- no key for the file store -----------------------------------------------------------------------
unset FRACTA_STORE_PASSPHRASE
expect_rc 3 config mcp auth status n
contains "$out" "n: the stored credentials cannot be read: " "status without a key"
lacks "$out" "needs login" "status without a key"
contains "$out" "store: unavailable" "status without a key"
contains "$out" 'passphrase = { env = "NAME" }' "status without a key"

# ---- config commands never print a URL's password or API key -----------------------------------------
expect_rc 0 config mcp add red --url 'https://bob:hunter2@red.example/mcp?api_key=K3Y'
for args in "config mcp list" "config mcp list --json" "config mcp show red" "config mcp show red --json"; do
  # shellcheck disable=SC2086
  run $args
  contains "$out" "https://red.example/mcp" "$args"
  lacks "$out$err" "hunter2" "$args"
  lacks "$out$err" "K3Y" "$args"
done
expect_rc 0 config mcp remove red
# Plain http to a host that is not loopback needs allow_insecure_http; nothing is written.
before=$(cat "$cfg")
expect_rc 2 config mcp add clear --url http://mcp.example.com/mcp
contains "$err" "allow_insecure_http = true" "add with plain http"
[ "$(cat "$cfg")" = "$before" ] || fail "add with plain http changed the config"
# A device or FIFO as the config is refused at once and left as it is.
mkfifo "$scratch/fifo"
"$fracta" --config "$scratch/fifo" config mcp add x --url https://x.example/mcp >"$scratch/out" 2>"$scratch/err"
rc=$?
[ "$rc" -eq 2 ] || fail "add to a FIFO exited $rc"
contains "$(cat "$scratch/err")" "is a FIFO (named pipe), not a regular file" "add to a FIFO"
[ -p "$scratch/fifo" ] || fail "the FIFO was replaced"

finish "all CLI auth checks passed"
