#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Lint for GCC 12 coroutine rule 1 (docs/architecture.md): no capturing lambda handed to
# co_spawn. Scans the C/C++ files under engine/, cli/, plugins/ and tests/ for `co_spawn(`
# whose second argument (the coroutine) starts with a lambda that captures anything, e.g.
# `co_spawn(io, [&]() -> awaitable<void> {…}, …)`. A capture-less `[]` is allowed, and so is a
# capturing lambda as the completion handler (third argument). Comments and string literals
# are ignored. Deliberately simple: a named lambda called in the argument (`co_spawn(io, f(), …)`)
# is not followed; review catches those.
# Known breaches awaiting their owners are listed, per file with a count, in coroutine_lint.allow.
# Usage: coroutine_lint.py SOURCE_ROOT   (exit 1 and one line per finding when it finds any)
import pathlib
import re
import sys

AREAS = ("engine", "cli", "plugins", "tests")
SUFFIXES = {".c", ".cc", ".cpp", ".h", ".hpp"}
# Comments and string/char literals, replaced by spaces of the same length (line numbers stay).
NOISE = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def blank(m):
    return re.sub(r"[^\n]", " ", m.group(0))


def second_argument_start(text, open_paren):
    """Index just after the first top-level comma of the call opened at `open_paren`, or -1."""
    depth = 0
    for i in range(open_paren, len(text)):
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return -1
        elif c == "," and depth == 1:
            return i + 1
    return -1


def findings(path):
    text = NOISE.sub(blank, path.read_text(encoding="utf-8", errors="replace"))
    for m in re.finditer(r"\bco_spawn\s*\(", text):
        start = second_argument_start(text, m.end() - 1)
        if start < 0:
            continue
        rest = text[start:].lstrip()
        capture = re.match(r"\[([^\]]*)\]", rest)
        if capture and capture.group(1).strip():
            line = text.count("\n", 0, m.start()) + 1
            yield line, capture.group(0)


def allowed():
    counts = {}
    allow = pathlib.Path(__file__).with_name("coroutine_lint.allow")
    for raw in allow.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].split()
        if len(line) == 2:
            counts[line[0]] = int(line[1])
    return counts


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    tolerated = allowed()
    bad = 0
    for area in AREAS:
        for path in sorted((root / area).rglob("*")):
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            name = path.relative_to(root).as_posix()
            found = list(findings(path))
            if found and len(found) <= tolerated.get(name, 0):
                print(f"{name}: {len(found)} known finding(s), tolerated by coroutine_lint.allow")
                continue
            for line, capture in found:
                print(f"{name}:{line}: co_spawn of a capturing lambda {capture}: "
                      "use a plain coroutine function (GCC 12 rule 1, docs/architecture.md)")
                bad += 1
    if bad:
        print(f"{bad} finding(s)")
        return 1
    print("no capturing lambda handed to co_spawn")
    return 0


if __name__ == "__main__":
    sys.exit(main())
