// SPDX-License-Identifier: Apache-2.0
// Code blocks of a docs/ page marked `<!-- test: NAME -->` (the line right before the fence),
// so a test runs what the page shows: extraction, placeholder substitution, bash runs with
// `fracta` on PATH.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { fractaBin, runProgram, tmpdir } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const DOCS_DIR = path.resolve(here, '..', '..', '..', 'docs');

/** Map NAME → { lang, text, line } of every marked block in docs/<page>. A marker must be
 *  followed (blank lines allowed) by a fenced block; its indentation is removed. Duplicate
 *  names or a marker without a block throw. */
export function markedBlocks(page) {
  const file = path.join(DOCS_DIR, page);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const blocks = new Map();
  for (let i = 0; i < lines.length; i += 1) {
    const m = /^(\s*)<!-- test: ([a-z0-9-]+) -->\s*$/.exec(lines[i]);
    if (!m) continue;
    let j = i + 1;
    while (j < lines.length && lines[j].trim() === '') j += 1;
    const fence = /^(\s*)```([a-z]*)\s*$/.exec(lines[j] ?? '');
    if (!fence) throw new Error(`${page}:${i + 1}: marker '${m[2]}' is not followed by a fenced code block`);
    const indent = fence[1].length;
    const body = [];
    for (j += 1; j < lines.length && !/^\s*```\s*$/.test(lines[j]); j += 1) body.push(lines[j].slice(indent));
    if (j >= lines.length) throw new Error(`${page}:${i + 1}: block '${m[2]}' is not closed`);
    if (blocks.has(m[2])) throw new Error(`${page}:${i + 1}: marker '${m[2]}' appears twice`);
    blocks.set(m[2], { lang: fence[2], text: `${body.join('\n')}\n`, line: i + 1 });
  }
  return blocks;
}

/** The block `name` of `blocks` (from markedBlocks), checked to exist with language `lang`. */
export function block(blocks, name, lang) {
  const b = blocks.get(name);
  if (!b) throw new Error(`docs: the block marked <!-- test: ${name} --> is missing`);
  if (lang && b.lang !== lang) throw new Error(`docs: block '${name}' is \`\`\`${b.lang}, expected \`\`\`${lang}`);
  return b.text;
}

/** Replaces each key of `map` (exact strings; at one position the longest key wins) by its
 *  value, in one pass. Keys listed in `required` must occur (so a changed placeholder fails). */
export function substitute(text, map, required = []) {
  for (const k of required) {
    if (!text.includes(k)) throw new Error(`docs block no longer contains the placeholder ${k}:\n${text}`);
  }
  const keys = Object.keys(map).sort((a, b) => b.length - a.length);
  if (keys.length === 0) return text;
  const re = new RegExp(keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return text.replace(re, (m) => map[m]);
}

/** A directory with `fracta` (the binary under test) and any `extra` scripts (name → text,
 *  made executable), for the front of PATH. */
export function binDir(extra = {}) {
  const dir = tmpdir('fracta-e2e-bin-');
  fs.symlinkSync(fractaBin(), path.join(dir, 'fracta'));
  for (const [name, script] of Object.entries(extra)) fs.writeFileSync(path.join(dir, name), script, { mode: 0o755 });
  return dir;
}

/** Runs `script` with `bash -euo pipefail` in `cwd`, in fracta()'s clean environment plus
 *  `env`, with `bin` first on PATH. Resolves to { code, signal, stdout, stderr }. */
export function runBash(script, { cwd, home, env = {}, bin, timeoutMs = 120_000 }) {
  const PATH = `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  return runProgram('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', script], { cwd, home, env: { ...env, PATH }, timeoutMs });
}
