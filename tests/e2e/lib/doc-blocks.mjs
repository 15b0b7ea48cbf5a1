// SPDX-License-Identifier: Apache-2.0
// Code blocks of a docs/ page marked `<!-- test: NAME -->` (the line right before the fence),
// so a test runs what the page shows: extraction, placeholder substitution, bash runs with
// `fracta` on PATH, transcripts (`$ command` lines and the output they print) compared with
// what the binary prints, and a check that every block of a page is tested or exempt
// (`<!-- not-run: reason -->`).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import {
  cleanEnv, fractaBin, runProgram, tmpdir,
} from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const DOCS_DIR = path.resolve(here, '..', '..', '..', 'docs');

/** docs/<page>, the repository's README.md for 'README.md', or an absolute path as it is. */
const pageFile = (page) => {
  if (path.isAbsolute(page)) return page;
  return page === 'README.md' ? path.resolve(DOCS_DIR, '..', page) : path.join(DOCS_DIR, page);
};

const MARKER = /^\s*<!-- (test|not-run): (.+?) -->\s*$/;

/** Map NAME → { lang, text, line } of every marked block in docs/<page>. A marker must be
 *  followed (blank lines allowed) by a fenced block; its indentation is removed. Duplicate
 *  names or a marker without a block throw. */
export function markedBlocks(page) {
  const file = pageFile(page);
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

/** Every fenced block of `page`, in order: { line, lang, marker: 'test'|'not-run'|null, name }
 *  (name: the test name or the exemption's reason), taken from the nearest non-blank line
 *  above the fence. */
export function fencedBlocks(page) {
  const lines = fs.readFileSync(pageFile(page), 'utf8').split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i += 1) {
    const fence = /^(\s*)```\s*(\S*).*$/.exec(lines[i]); // any info string opens a block
    if (!fence) continue;
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k -= 1;
    const m = MARKER.exec(lines[k] ?? '');
    out.push({ line: i + 1, lang: fence[2], marker: m ? m[1] : null, name: m ? m[2] : null });
    for (i += 1; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i += 1);
  }
  return out;
}

/** Throws unless every fenced block of `page` is marked `test: NAME` with NAME in `tested`,
 *  or `not-run: <reason of at least a few words>`, and every name in `tested` is on the page.
 *  Returns the exemptions ({ line, name: reason }). */
export function checkEveryBlock(page, tested) {
  const problems = [];
  const seen = new Set();
  const blocks = fencedBlocks(page);
  for (const b of blocks) {
    if (b.marker === null) problems.push(`${page}:${b.line}: a code block with neither <!-- test: NAME --> nor <!-- not-run: reason --> above it`);
    else if (b.marker === 'test') {
      if (!tested.includes(b.name)) problems.push(`${page}:${b.line}: block '${b.name}' is marked as tested, but no test runs it`);
      seen.add(b.name);
    } else if (b.name.split(/\s+/).length < 4) problems.push(`${page}:${b.line}: not-run needs a reason, not '${b.name}'`);
  }
  for (const n of tested) if (!seen.has(n)) problems.push(`${page}: the block marked <!-- test: ${n} --> is missing`);
  if (problems.length) throw new Error(problems.join('\n'));
  return blocks.filter((b) => b.marker === 'not-run');
}

/** A transcript block as steps { cmd, expected }: a line `$ CMD` (continued while it ends with
 *  a backslash) is a command, the lines up to the next `$ ` line its output (blank lines
 *  between steps dropped). */
export function transcript(text) {
  const steps = [];
  const lines = text.replace(/\n$/, '').split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    if (!lines[i].startsWith('$ ')) {
      if (steps.length === 0) throw new Error(`transcript: output before the first command: ${lines[i]}`);
      steps.at(-1).out.push(lines[i]);
      continue;
    }
    let cmd = lines[i].slice(2);
    while (cmd.endsWith('\\') && i + 1 < lines.length) { i += 1; cmd = `${cmd}\n${lines[i]}`; }
    steps.push({ cmd, out: [] });
  }
  return steps.map(({ cmd, out }) => {
    while (out.length && out.at(-1).trim() === '') out.pop();
    return { cmd, expected: out.length ? `${out.join('\n')}\n` : '' };
  });
}

/** null when `actual` is `expected`, where each `…` in `expected` stands for any text (within
 *  a line or across lines); else a message showing both. */
export function outputDiff(expected, actual) {
  const esc = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${expected.split('…').map(esc).join('[\\s\\S]*?')}$`);
  if (re.test(actual)) return null;
  return `--- the page shows ---\n${expected}--- the binary printed ---\n${actual}`;
}

/** An MCP host (the SDK's stdio client) running `entry.command` with `entry.args`, as a host's
 *  JSON config would, in fracta()'s clean environment for `home` plus `env`, `bin` first on
 *  PATH; closed after test `t`. Resolves to { client, call(text): echo's answer, stderr() }. */
export async function startHost(t, entry, { home, env, bin }) {
  const childEnv = cleanEnv(home, env);
  childEnv.PATH = `${bin}:${childEnv.PATH}`;
  const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env: childEnv, stderr: 'pipe' });
  let stderr = '';
  transport.stderr.setEncoding('utf8');
  transport.stderr.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'e2e-host', version: '1.0.0' }, { capabilities: {} });
  t.after(() => client.close());
  try {
    await client.connect(transport);
  } catch (e) {
    throw new Error(`the host could not start \`${entry.command} ${entry.args.join(' ')}\`: ${e.message}\nstderr:\n${stderr}`);
  }
  const call = async (text) => {
    try {
      const r = await client.callTool({ name: 'echo', arguments: { text } });
      return r.content.map((c) => c.text).join('\n');
    } catch (e) {
      throw new Error(`the host's tools/call through fracta proxy failed: ${e.message}\nproxy stderr:\n${stderr}`);
    }
  };
  return { client, call, stderr: () => stderr };
}

/** What a test of `page` runs its blocks with, in the directory `cwd` and HOME `home`, `bin`
 *  first on PATH, `env` in every run. `toReal` maps the page's placeholders to real values in
 *  scripts (read at each run, so a test may add to it); output is mapped back with it and
 *  `toPage` (real → page, for values a script never names), then `normalise`d.
 *  sh(script, env): { code, out, script }, stdout and stderr on one pipe, without -e.
 *  runTranscript(name, env, code): each `$ ` command prints exactly its lines and exits `code`
 *  (unless it shows its own, `; echo $?`). expectBlock(name, script, code, env): the block is
 *  what the script prints. Differences are collected; check(title, fn) is a node:test test
 *  that reports all of them at its end. uses(...names) records the blocks a test covers, and
 *  tested lists them for checkEveryBlock. */
export function pageRunner(page, { cwd, home, bin, toReal, toPage = {}, env: baseEnv = {}, normalise = (s) => s }) {
  const doc = markedBlocks(page);
  const drift = [];
  const tested = [];
  const normal = (out) => {
    const back = { ...toPage };
    for (const [p, r] of Object.entries(toReal)) back[r] = p;
    return normalise(substitute(out, back));
  };
  async function sh(script, env = {}) {
    const real = substitute(script, toReal);
    const r = await runBash(`exec 2>&1\nset +e\n${real}`, { cwd, home, env: { ...baseEnv, ...env }, bin });
    return { code: r.code, out: normal(r.stdout + r.stderr), script: real };
  }
  async function runTranscript(name, env = {}, code = 0) {
    for (const { cmd, expected } of transcript(block(doc, name))) {
      const r = await sh(cmd, env);
      const diff = outputDiff(expected, r.out);
      if (diff) drift.push(`${page} block '${name}': $ ${cmd}\n${diff}`);
      if (!/echo \$\?$/.test(cmd) && r.code !== code) drift.push(`${page} block '${name}': $ ${cmd} exited ${r.code}, not ${code}`);
    }
  }
  async function expectBlock(name, script, code, env = {}) {
    const r = await sh(script, env);
    const diff = outputDiff(block(doc, name), r.out);
    if (diff) drift.push(`${page} block '${name}', from:\n${r.script}\n${diff}`);
    if (r.code !== code) drift.push(`${page} block '${name}': exit code ${r.code}, the page says ${code}`);
  }
  const check = (title, fn) => test(title, async (t) => {
    await fn(t);
    const found = drift.splice(0);
    assert.equal(found.length, 0, `${found.length} block(s) of ${page} differ from the binary:\n\n${found.join('\n\n')}`);
  });
  const uses = (...names) => { tested.push(...names); };
  return { doc, tested, normal, sh, runTranscript, expectBlock, check, uses };
}
