#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs a test binary inside a private D-Bus session with gnome-keyring's Secret Service.
# Exits 77 (meson's "skipped") when the tools are missing.
set -eu
if [ "$#" -lt 1 ]; then
  echo "usage: with-keyring.sh TEST-BINARY [ARGS...]" >&2
  exit 2
fi
for tool in dbus-run-session dbus-send gnome-keyring-daemon; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "skipped: $tool is not installed (apt-get install gnome-keyring dbus libsecret-tools)"
    exit 77
  fi
done
# A throw-away HOME and runtime dir: nothing touches the user's real keyrings.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fracta-keyring-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -m 700 "$scratch/home" "$scratch/run"
export HOME="$scratch/home" XDG_RUNTIME_DIR="$scratch/run" XDG_DATA_HOME="$scratch/home/.local/share"
unset DISPLAY WAYLAND_DISPLAY
# The in-memory "session" collection needs no unlock, so the daemon starts without a password.
dbus-run-session -- sh -c '
  gnome-keyring-daemon --start --components=secrets >/dev/null
  i=0
  until dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
          org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
        grep -q "boolean true"; do
    i=$((i + 1))
    if [ "$i" -ge 50 ]; then
      echo "org.freedesktop.secrets did not appear on the private bus within 5 s" >&2
      exit 1
    fi
    sleep 0.1
  done
  exec "$@"
' with-keyring "$@"
