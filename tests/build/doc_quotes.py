#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Fails when a ```cpp block of a guide is not, verbatim, a part of the example it quotes, so the
# walkthrough cannot drift from the code that is built and tested.
"""Usage: doc_quotes.py GUIDE.md SOURCE...  (exit 0: every cpp block is in one of the sources)."""

import re
import sys


def main():
    guide, sources = sys.argv[1], sys.argv[2:]
    code = [open(s, encoding='utf-8').read() for s in sources]
    text = open(guide, encoding='utf-8').read()
    blocks = re.findall(r'^```cpp\n(.*?)^```$', text, flags=re.S | re.M)
    if not blocks:
        sys.exit(f'{guide}: no ```cpp block to check')
    stale = [b for b in blocks if not any(b in c for c in code)]
    for b in stale:
        sys.stderr.write(f'{guide}: this block is not in {", ".join(sources)}:\n{b}\n')
    sys.exit(1 if stale else 0)


if __name__ == '__main__':
    main()
