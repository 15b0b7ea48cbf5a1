#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A stand-in browser for tests: appends its arguments (one per line) to $FRACTA_TEST_BROWSER_LOG,
# then, for a loopback http URL, GETs it (bash's /dev/tcp: no curl needed) and saves the answer
# to $FRACTA_TEST_BROWSER_PAGE.
url="${*: -1}"
if [ -n "${FRACTA_TEST_BROWSER_LOG:-}" ]; then
  printf '%s\n' "$@" >> "$FRACTA_TEST_BROWSER_LOG"
fi
case "$url" in
  http://127.0.0.1:*) ;;
  *) exit 0 ;;
esac
rest=${url#http://127.0.0.1:}
port=${rest%%/*}
path=/${rest#*/}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$path" "$port" >&3
cat <&3 > "${FRACTA_TEST_BROWSER_PAGE:-/dev/null}"
