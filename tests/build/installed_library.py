#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Installs the build's library and headers into a temporary DESTDIR, then builds the embedding
# example against them with only `pkg-config fracta` (as an embedder would), links, and runs it.
"""Usage: installed_library.py BUILD_DIR EXAMPLE_CPP CXX...  (exit 0: it built and ran)."""

import os
import shlex
import subprocess
import sys
import tempfile


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.stderr.write(f'$ {shlex.join(cmd)}\nexit {r.returncode}\n{r.stdout}{r.stderr}')
        sys.exit(1)
    return r.stdout


def main():
    build, example, cxx = sys.argv[1], sys.argv[2], sys.argv[3:]
    with tempfile.TemporaryDirectory(prefix='fracta-install-') as dest:
        # The devel tag: headers, static libraries and the pkg-config file; nothing is rebuilt.
        run(['meson', 'install', '-C', build, '--destdir', dest, '--no-rebuild', '--tags', 'devel', '--quiet'])
        pcs = [os.path.join(d, f) for d, _, fs in os.walk(dest) for f in fs if f == 'fracta.pc']
        if len(pcs) != 1:
            sys.exit(f'expected one installed fracta.pc under {dest}, found {pcs}')
        # Relocated as a package manager would: its prefix moved into the DESTDIR (a sysroot
        # would move the system packages it requires too).
        pc_dir = os.path.join(dest, 'relocated-pkgconfig')
        os.makedirs(pc_dir)
        with open(pcs[0], encoding='utf-8') as f:
            pc = f.read()
        prefix = next(l.split('=', 1)[1] for l in pc.splitlines() if l.startswith('prefix='))
        pc = pc.replace(f'prefix={prefix}\n', f'prefix={dest}{prefix}\n', 1)
        with open(os.path.join(pc_dir, 'fracta.pc'), 'w', encoding='utf-8') as f:
            f.write(pc)
        env = dict(os.environ, PKG_CONFIG_PATH=pc_dir)
        for k in ('PKG_CONFIG_LIBDIR', 'PKG_CONFIG_SYSROOT_DIR'):
            env.pop(k, None)
        flags = shlex.split(run(['pkg-config', '--cflags', '--libs', 'fracta'], env=env))
        # fracta's own paths lead into the installed tree, none into the source or build tree.
        if f'-I{dest}{prefix}/include' not in flags:
            sys.exit(f'pkg-config fracta gave no -I into the installed headers: {flags}')
        tree = (os.path.realpath(build), os.path.realpath(os.path.join(os.path.dirname(example), '..', '..', '..')))
        for f in flags:
            if f.startswith(('-I', '-L')) and os.path.realpath(f[2:]).startswith(tree):
                sys.exit(f'pkg-config fracta gave {f}, inside the source or build tree')
        exe = os.path.join(dest, 'embed-example')
        run(cxx + ['-std=c++20', '-Wall', '-Wextra', '-Werror', example, '-o', exe] + flags)
        usage = run([exe, '--help'])
        if not usage.startswith('usage: fracta-embed-example'):
            sys.exit(f'--help printed {usage!r}')
        offline = run([exe, '--offline'])
        if 'nothing sent' not in offline or 'status: starting' not in offline:
            sys.exit(f'--offline printed {offline!r}')
    print('the installed library built and ran the embedding example')


if __name__ == '__main__':
    main()
