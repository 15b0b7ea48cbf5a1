#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `fracta config mcp remove` erases the server's stored credentials (unless --keep-credentials),
# says what it erased, and when the store cannot be opened still edits the file, says what to
# do and exits non-zero. Usage: cli_remove_test.sh FRACTA FAKE_PLUGIN_DIR FAKE_BROWSER
set -u
fracta=$1
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fracta-cli-remove-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export XDG_STATE_HOME="$scratch/state" FRACTA_STORE_PASSPHRASE=cli-remove HOME="$scratch/home"
export BROWSER="$3" FRACTA_TEST_BROWSER_LOG="$scratch/browser.log"
unset FRACTA_CONFIG
mkdir -p "$HOME"
cfg="$scratch/config.toml"
store="file $scratch/state/fracta/tokens.enc"
# shellcheck source=cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"
# The fake login plugin stands in for the shipped oauth-authcode.
printf '[plugins]\nreplace_builtin = ["oauth-authcode"]\n' >"$cfg"

# ---- remove erases what the server stored ----------------------------------------------------------
expect_rc 0 config mcp add n --url http://127.0.0.1:9/mcp --oauth
expect_rc 0 config mcp auth login n --timeout 20
expect_rc 0 config mcp auth status n
contains "$out" "n: logged in" "status after login"
expect_rc 0 config mcp remove n
contains "$out" "removed server 'n' from $cfg" "remove"
contains "$out" "erased 1 stored credential item of 'n' from the $store" "remove"
# Re-added under the same name (and URL): nothing left to use.
expect_rc 0 config mcp add n --url http://127.0.0.1:9/mcp --oauth
expect_rc 0 config mcp auth status n
contains "$out" "needs login" "status after remove and add"

# ---- --keep-credentials -----------------------------------------------------------------------------
expect_rc 0 config mcp auth login n --timeout 20
expect_rc 0 config mcp remove n --keep-credentials
contains "$out" "kept the stored credentials of 'n' (--keep-credentials)" "remove --keep-credentials"
expect_rc 0 config mcp add n --url http://127.0.0.1:9/mcp --oauth
expect_rc 0 config mcp auth status n
contains "$out" "n: logged in" "status after remove --keep-credentials and add"

# ---- a server without stored credentials ------------------------------------------------------------
expect_rc 0 config mcp add gh --url https://gh.example/mcp --auth bearer --secret token=env:FRACTA_CLI_GH
expect_rc 0 config mcp remove gh
[ "$out" = "removed server 'gh' from $cfg" ] || fail "remove gh: $out"

# ---- a store that cannot be opened: the edit still happens, the error says what to do --------------
unset FRACTA_STORE_PASSPHRASE
expect_rc 2 config mcp remove n
contains "$out" "removed server 'n' from $cfg" "remove without a store key"
contains "$err" "could not erase the stored credentials of 'n'" "remove without a store key"
contains "$err" "FRACTA_STORE_PASSPHRASE" "remove without a store key"
contains "$err" "fracta config mcp remove n" "remove without a store key"
case "$(cat "$cfg")" in *"servers.n"*) fail "server n still in the config" ;; *) ;; esac

finish "all CLI remove checks passed"
