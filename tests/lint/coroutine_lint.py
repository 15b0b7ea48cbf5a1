#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Lint for GCC 12 coroutine rule 1 (docs/architecture.md): no capturing lambda handed to
# co_spawn. Scans the C/C++ files under engine/, cli/, plugins/ and tests/ for `co_spawn(`
# whose second argument (the coroutine) starts with a lambda that captures anything, e.g.
# `co_spawn(io, [&]() -> awaitable<void> {…}, …)`. A capture-less `[]` is allowed, and so is a
# capturing lambda as the completion handler (third argument). Comments and string literals
# are ignored. Deliberately simple: a named lambda called in the argument (`co_spawn(io, f(), …)`)
# is not followed; review catches those.
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


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    bad = 0
    for area in AREAS:
        for path in sorted((root / area).rglob("*")):
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            name = path.relative_to(root).as_posix()
            for line, capture in findings(path):
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
