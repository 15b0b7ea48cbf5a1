#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# $BROWSER for the conformance scenarios: the mock authorization server answers /authorize with a
# 302 straight to the client's loopback redirect URI, so GET the URL and follow at most 3
# redirects by hand, each only to a loopback address (never anything else).
url=
for url in "$@"; do :; done
[ -n "$url" ] || { echo "usage: curl-browser.sh <url>" >&2; exit 2; }
i=0
while [ -n "$url" ] && [ "$i" -lt 4 ]; do
  case "$url" in
    http://localhost:*|http://localhost/*|http://127.0.0.1:*|http://127.0.0.1/*|http://\[::1\]:*) ;;
    *) echo "curl-browser: refusing a non-loopback URL" >&2; exit 1 ;;
  esac
  url=$(curl -s --noproxy '*' -o /dev/null --max-time 10 -w '%{redirect_url}' "$url") || {
    echo "curl-browser: request failed" >&2; exit 1; }
  i=$((i + 1))
done
exit 0
