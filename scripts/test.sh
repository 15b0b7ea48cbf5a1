#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds fracta three times (plain, ASan+UBSan, ThreadSanitizer), runs
# every test: unit, integration and end-to-end on the plain build; unit and integration under
# the sanitizers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

jobs=$(nproc)
configure() {  # dir, options…
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then meson setup --reconfigure "$dir" "$@" >/dev/null
  else meson setup "$dir" "$@" >/dev/null; fi
}

configure build
ninja -C build -j"$jobs"
configure build-asan -Db_sanitize=address,undefined -Db_lundef=false -De2e=false -Dbuildtype=debug
ninja -C build-asan -j"$jobs"
# ThreadSanitizer, optimised (races show where the compiler reorders). GCC warns that TSan does
# not model atomic_thread_fence, which Asio uses next to its mutexes: not an error here.
configure build-tsan -Db_sanitize=thread -Db_lundef=false -De2e=false -Dbuildtype=debugoptimized -Dcpp_args=-Wno-tsan
ninja -C build-tsan -j"$jobs"

status=0
meson test -C build --print-errorlogs --num-processes "$jobs" || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  meson test -C build-asan --suite unit --suite integration --print-errorlogs --num-processes "$jobs" || status=1
# The engine's concurrency tests (actor strands with four loop threads, the blocking pool, the
# keyring's per-item order) are in these suites. tests/tsan.supp names what is not fracta's.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
  meson test -C build-tsan --suite unit --suite integration --print-errorlogs --num-processes "$jobs" || status=1

# Every libFuzzer target briefly (clang, ASan+UBSan), from the seed corpora in tests/fuzz/corpus.
echo "fuzz targets (tests/fuzz/run):"
bash tests/fuzz/run --seconds 10 || status=1

# The MCP conformance suite's verdict per scenario (Passed N/M), from the e2e run's log.
if grep -q "conformance: " build/meson-logs/testlog.txt 2>/dev/null; then
  echo "MCP conformance suite (client, auth scenarios):"
  grep -E "^[✓✗] auth/|^conformance: " build/meson-logs/testlog.txt | sed 's/^/  /'
fi

# One closing line over the three runs, in the plain form CI reads.
python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json build-tsan/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    for line in open(path):
        t = json.loads(line)
        r = t["result"]
        if r in ("OK", "EXPECTEDFAIL"): passed += 1
        elif r == "SKIP": skipped += 1
        else:
            failed += 1
            # The end of a failing test's output again, here at the end where a CI summary
            # that shows only the tail still has it.
            tail = ((t.get("stdout") or "") + (t.get("stderr") or "")).splitlines()[-40:]
            print(f"--- {path.split('/')[0]} {t['name']}: {r}; the last {len(tail)} lines of its output:")
            for l in tail: print(f"    {l}")
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
