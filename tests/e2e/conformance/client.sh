#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The MCP conformance suite's client command: `client.sh <serverUrl>` (the suite appends the
# URL). Runs the built fracta against the scenario's mock servers; see client.mjs.
exec node "$(dirname "$0")/client.mjs" "$@"
