#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Fails when code under plugins/ reaches into the engine's private side: an #include of a header
# that exists under engine/src/, the FRACTA_BUILDING_ENGINE define, or a meson file that hands
# a plugin the engine's private include directory or library. Plugins build as third-party ones.
"""Usage: plugin_boundary.py SOURCE_ROOT  (exit 0: clean, 1: violations listed on stderr)."""

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
SOURCE_SUFFIXES = ('.c', '.cc', '.cpp', '.cxx', '.h', '.hh', '.hpp', '.hxx', '.inc', '.ipp')
# Names that give a plugin target the engine's private headers, library or build define.
MESON_PRIVATE = re.compile(r'\b(engine_private_inc|fracta_internal_dep|fracta_engine|fracta_dep|'
                           r'engine_internal_args|curl_dep)\b')


def private_headers(root):
    """Every path under engine/src/ relative to it ("core/json.hpp"), and the absolute paths."""
    base = os.path.join(root, 'engine', 'src')
    relative, absolute = set(), set()
    for folder, _, names in os.walk(base):
        for name in names:
            path = os.path.realpath(os.path.join(folder, name))
            absolute.add(path)
            relative.add(os.path.relpath(path, os.path.realpath(base)).replace(os.sep, '/'))
    return relative, absolute


def check_source(path, shown, relative, absolute, problems):
    with open(path, encoding='utf-8', errors='replace') as f:
        for number, line in enumerate(f, 1):
            where = f'{shown}:{number}'
            if 'FRACTA_BUILDING_ENGINE' in line:
                problems.append(f'{where}: mentions FRACTA_BUILDING_ENGINE (engine only)')
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            beside = os.path.realpath(os.path.join(os.path.dirname(path), target))
            if target in relative or beside in absolute or 'engine/src/' in target:
                problems.append(f'{where}: includes the engine-private header "{target}"')


def check_meson(path, shown, problems):
    with open(path, encoding='utf-8', errors='replace') as f:
        for number, line in enumerate(f, 1):
            code = line.split('#', 1)[0]
            if 'FRACTA_BUILDING_ENGINE' in code:
                problems.append(f'{shown}:{number}: defines FRACTA_BUILDING_ENGINE')
            m = MESON_PRIVATE.search(code)
            if m:
                problems.append(f'{shown}:{number}: uses {m.group(1)} (engine internals)')


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = argv[1]
    plugins = os.path.join(root, 'plugins')
    if not os.path.isdir(plugins) or not os.path.isdir(os.path.join(root, 'engine', 'src')):
        print(f'{root}: no plugins/ or engine/src/ here', file=sys.stderr)
        return 2
    relative, absolute = private_headers(root)
    problems = []
    checked = 0
    for folder, _, names in os.walk(plugins):
        for name in sorted(names):
            path = os.path.join(folder, name)
            shown = os.path.relpath(path, root)
            if name.endswith(SOURCE_SUFFIXES):
                check_source(path, shown, relative, absolute, problems)
                checked += 1
            elif name in ('meson.build', 'meson.options', 'meson_options.txt'):
                check_meson(path, shown, problems)
                checked += 1
    for p in problems:
        print(p, file=sys.stderr)
    print(f'{checked} files under plugins/ checked, {len(problems)} reach into the engine')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
