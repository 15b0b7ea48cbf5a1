# SPDX-License-Identifier: Apache-2.0
# Helpers for the CLI test scripts (sourced). The script sets $fracta, $cfg and $scratch first.
# run CMD… runs `fracta --config $cfg CMD…`, leaving $rc, $out and $err; expect_rc WANT CMD…
# also checks the exit code; contains / lacks HAYSTACK NEEDLE WHAT check output; finish exits
# with the verdict.
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
run() {
  "$fracta" --config "$cfg" "$@" >"$scratch/out" 2>"$scratch/err"
  rc=$?
  out=$(cat "$scratch/out")
  err=$(cat "$scratch/err")
}
expect_rc() {
  local want=$1
  shift
  run "$@"
  [ "$rc" -eq "$want" ] || fail "fracta $* exited $rc, wanted $want; stdout: $out; stderr: $err"
}
contains() {  # contains HAYSTACK NEEDLE WHAT
  case "$1" in *"$2"*) ;; *) fail "$3 lacks '$2': $1" ;; esac
}
lacks() {
  case "$1" in *"$2"*) fail "$3 contains '$2': $1" ;; *) ;; esac
}
finish() {  # finish SUCCESS-LINE
  if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
  fi
  echo "$1"
}
