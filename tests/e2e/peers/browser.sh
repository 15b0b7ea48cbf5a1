#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# $BROWSER hook for the OAuth e2e tests: fracta runs it with the URL as the last argument.
exec node "$(dirname "$0")/browser.mjs" "$@"
