#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# $BROWSER hook for the OAuth e2e tests: fracta runs it with the URL as the last argument.
# fracta gives a browser no FRACTA_* variables: `--log FILE` first sets FRACTA_TEST_BROWSER_LOG.
if [ "$#" -gt 2 ] && [ "$1" = "--log" ]; then
  FRACTA_TEST_BROWSER_LOG=$2
  export FRACTA_TEST_BROWSER_LOG
  shift 2
fi
exec node "$(dirname "$0")/browser.mjs" "$@"
