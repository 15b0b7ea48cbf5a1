#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A stand-in browser for tests. fracta gives a browser no FRACTA_* variables, so the test says
# what to do with options at the start of $BROWSER:
#   --log FILE    append the remaining arguments (one per line) to FILE
#   --page FILE   for a loopback http URL (the last argument), GET it (bash's /dev/tcp: no curl
#                 needed) and save the answer to FILE
#   --probe DIR   record what the browser inherited: DIR/env (its environment), DIR/fds (the
#                 descriptors `ls` sees: the inherited ones plus the directory it reads),
#                 DIR/stdin (where fd 0 points); DIR/done last
log=
page=/dev/null
probe=
while [ $# -gt 1 ]; do
  case "$1" in
    --log) log=$2; shift 2 ;;
    --page) page=$2; shift 2 ;;
    --probe) probe=$2; shift 2 ;;
    *) break ;;
  esac
done
url="${*: -1}"
if [ -n "$probe" ]; then
  env > "$probe/env"
  ls /proc/self/fd > "$probe/fds"
  readlink /proc/self/fd/0 > "$probe/stdin"
  : > "$probe/done"
fi
if [ -n "$log" ]; then
  printf '%s\n' "$@" >> "$log"
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
cat <&3 > "$page"
