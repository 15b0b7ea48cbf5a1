#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The benchmark driver: starts one upstream MCP server on 127.0.0.1, then for each stdio proxy
// (mcp-remote, fracta proxy) spawns it, speaks raw newline-delimited JSON-RPC on its stdin and
// stdout as a host does, and measures time to the first tools/call, calls/s with 1 and with 32
// in flight, CPU per call and peak resident memory of the proxy's process tree.
//
// Usage: node bench.mjs --out results.json [--reps 5] [--seconds 5] [--fracta BIN
//          --plugins DIR [--fracta-form config|url] [--perf FILE]] [--standin]
//   --fracta      the fracta binary; without it the fracta row says it was not available.
//   --perf        run fracta under `perf record -g -o FILE` (its figures then include perf's own).
//   --standin     run mcp-remote in the fracta row (to prove the row's plumbing; never publish).
// Everything binds or connects to 127.0.0.1 only; `run` starts this inside a network namespace
// that has nothing but loopback.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { clockTicksPerSecond, tree, treeCpuTicks, treePeakResident } from './proc.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const UPSTREAM = path.join(here, 'upstream.mjs');
const MCP_REMOTE = path.join(here, 'node_modules', 'mcp-remote', 'dist', 'proxy.js');
const PROTOCOL = '2025-06-18';
const START_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 10_000;
const WIDE = 32;

const { values: opts } = parseArgs({
  options: {
    out: { type: 'string' },
    reps: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    fracta: { type: 'string' },
    plugins: { type: 'string' },
    'fracta-form': { type: 'string', default: 'config' },
    standin: { type: 'boolean', default: false },
    perf: { type: 'string' },
  },
});
if (!opts.out) throw new Error('bench.mjs: --out FILE is required');
const reps = Number(opts.reps);
const phaseMs = Number(opts.seconds) * 1000;
const ticks = clockTicksPerSecond();

// ---------------------------------------------------------------------------------------------
// Newline-delimited JSON-RPC over a child's stdio

class StdioRpc {
  constructor(child) {
    this.child_ = child;
    this.next_ = 1;
    this.pending_ = new Map();
    this.buffer_ = '';
    this.stderr_ = '';
    this.exited_ = null;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => this.onData_(d));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { this.stderr_ = (this.stderr_ + d).slice(-4000); });
    child.stdin.on('error', () => {});
    child.on('exit', (code, signal) => {
      this.exited_ = { code, signal };
      for (const p of this.pending_.values()) p.reject(new Error(`proxy exited (${signal ?? code})`));
      this.pending_.clear();
    });
  }

  onData_(d) {
    this.buffer_ += d;
    let nl;
    while ((nl = this.buffer_.indexOf('\n')) >= 0) {
      const line = this.buffer_.slice(0, nl);
      this.buffer_ = this.buffer_.slice(nl + 1);
      if (line.trim() === '') continue;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        this.fail_(new Error(`proxy wrote a line that is not JSON: ${line.slice(0, 200)}`));
        continue;
      }
      if (msg.id === undefined || msg.method !== undefined) continue; // notification or request
      const p = this.pending_.get(msg.id);
      if (!p) continue;
      this.pending_.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Error(`${p.method}: JSON-RPC error ${msg.error.code}: ${msg.error.message}`));
      else p.resolve(msg.result);
    }
  }

  fail_(err) {
    for (const p of this.pending_.values()) p.reject(err);
    this.pending_.clear();
  }

  request(method, params, timeoutMs = CALL_TIMEOUT_MS) {
    const id = this.next_++;
    return new Promise((resolve, reject) => {
      if (this.exited_) return reject(new Error('proxy has exited'));
      const timer = setTimeout(() => {
        this.pending_.delete(id);
        reject(new Error(`${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending_.set(id, { resolve, reject, timer, method });
      this.child_.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  notify(method, params) {
    this.child_.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method, ...(params ? { params } : {}) })}\n`);
  }

  stderrTail() {
    return this.stderr_;
  }
}

const echoText = (result) => result?.content?.[0]?.text;

async function echoCall(rpc, text) {
  const r = await rpc.request('tools/call', { name: 'echo', arguments: { text } });
  if (r.isError || echoText(r) !== `echo: ${text}`) throw new Error(`tools/call echo answered ${JSON.stringify(r).slice(0, 200)}`);
}

// `width` callers, each with one `call(text)` in flight, until `ms` have passed.
async function load(call, width, ms) {
  const end = performance.now() + ms;
  let calls = 0;
  const start = performance.now();
  const worker = async (w) => {
    for (let i = 0; performance.now() < end; i++) {
      await call(`w${w}-${i}`);
      calls++;
    }
  };
  await Promise.all(Array.from({ length: width }, (_, w) => worker(w)));
  return { calls, seconds: (performance.now() - start) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// One run of one proxy

function signal(pids, sig) {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

function waitExit(child, ms) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => { clearTimeout(timer); resolve(true); });
  });
}

let upstreamPid = 0;
const benchToken = crypto.randomBytes(24).toString('hex'); // the upstream's bearer token, this run only
const msPerCall = (ticks0, ticks1, calls) => ((ticks1 - ticks0) * 1000) / ticks / calls;

// A measured phase: calls/s, and CPU per call of the proxy's tree and of the upstream.
async function measured(call, pid, width) {
  const cpu0 = treeCpuTicks(pid);
  const up0 = treeCpuTicks(upstreamPid);
  const self0 = process.cpuUsage();
  const r = await load(call, width, phaseMs);
  const self = process.cpuUsage(self0);
  const cpu1 = treeCpuTicks(pid);
  const up1 = treeCpuTicks(upstreamPid);
  return {
    driver_cpu_ms_per_call: (self.user + self.system) / 1000 / r.calls,
    calls_per_s: r.calls / r.seconds,
    cpu_ms_per_call: msPerCall(cpu0, cpu1, r.calls),
    cpu_ticks: cpu1 - cpu0,
    upstream_cpu_ms_per_call: msPerCall(up0, up1, r.calls),
    calls: r.calls,
  };
}

async function runOnce(proxy) {
  const t0 = performance.now();
  const child = spawn(proxy.argv[0], proxy.argv.slice(1), { cwd: proxy.cwd, env: proxy.env, stdio: ['pipe', 'pipe', 'pipe'] });
  const rpc = new StdioRpc(child);
  try {
    const init = await rpc.request('initialize', {
      protocolVersion: PROTOCOL,
      capabilities: {},
      clientInfo: { name: 'fracta-bench', version: '0' },
    }, START_TIMEOUT_MS);
    if (!init?.protocolVersion) throw new Error(`initialize answered ${JSON.stringify(init).slice(0, 200)}`);
    rpc.notify('notifications/initialized');
    const list = await rpc.request('tools/list', {});
    if (!list?.tools?.some((t) => t.name === 'echo')) throw new Error('tools/list has no echo tool');
    await echoCall(rpc, 'first');
    const first_call_ms = performance.now() - t0;

    const call = (text) => echoCall(rpc, text);
    await load(call, WIDE, Math.min(1000, phaseMs / 2)); // warm-up, not measured
    const one = await measured(call, child.pid, 1);
    const wide = await measured(call, child.pid, WIDE);
    const peak = treePeakResident(child.pid);
    child.stdin.end();
    const exited = await waitExit(child, 5000);
    return { first_call_ms, one, wide, peak_rss_mb: peak.total_kb / 1024, largest_rss_mb: peak.largest_kb / 1024, processes: peak.processes, exited_on_eof: exited };
  } catch (e) {
    e.message += `\n--- proxy stderr (tail) ---\n${rpc.stderrTail().replaceAll(benchToken, '<token>')}`;
    throw e;
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const all = tree(child.pid); // npx leaves mcp-remote as a grandchild
      signal(all, 'SIGTERM');
      if (!(await waitExit(child, 2000))) signal(all, 'SIGKILL');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The upstream, and a baseline straight to it (no proxy) for the ceiling

async function startUpstream(token) {
  const child = spawn(process.execPath, [UPSTREAM, '--token', token],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('upstream did not start')), START_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^LISTENING (\d+)$/m.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on('exit', (code) => reject(new Error(`upstream exited (${code})`)));
  });
  return { child, port, url: `http://127.0.0.1:${port}/mcp` };
}

// The driver POSTing tools/call itself over keep-alive HTTP: the upstream's rate as this node
// driver sees it, an upper bound for any proxy in front of it.
async function directCalls(upstream, token, width) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: width });
  let id = 0;
  const call = (text) => new Promise((resolve, reject) => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });
    const req = http.request(upstream.url, {
      method: 'POST', agent,
      headers: {
        'content-type': 'application/json', accept: 'application/json, text/event-stream',
        'mcp-protocol-version': PROTOCOL, authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body),
      },
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        if (res.statusCode !== 200 || echoText(JSON.parse(data).result) !== `echo: ${text}`) reject(new Error(`direct call: HTTP ${res.statusCode}`));
        else resolve();
      });
    });
    req.on('error', reject);
    req.end(body);
  });
  await load(call, width, Math.min(1000, phaseMs / 2));
  const r = await measured(call, upstreamPid, width);
  agent.destroy();
  return { calls_per_s: r.calls_per_s, upstream_cpu_ms_per_call: r.cpu_ms_per_call };
}

// ---------------------------------------------------------------------------------------------
// The proxies

function cleanEnv(home, extra = {}) {
  const env = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8' };
  for (const [k, sub] of [['XDG_CONFIG_HOME', '.config'], ['XDG_DATA_HOME', '.local/share'], ['XDG_STATE_HOME', '.local/state'], ['XDG_CACHE_HOME', '.cache']]) {
    env[k] = path.join(home, sub);
  }
  return { ...env, ...extra };
}

function fractaProxy(bin, upstream, token, home) {
  const p = fractaCommand(bin, upstream, token, home);
  if (opts.perf) p.argv = ['perf', 'record', '-q', '-F', '999', '-g', '-o', path.resolve(opts.perf), '--', ...p.argv];
  return p;
}

function fractaCommand(bin, upstream, token, home) {
  const env = cleanEnv(home, { BENCH_TOKEN: token, ...(opts.plugins ? { FRACTA_PLUGIN_PATH: path.resolve(opts.plugins) } : {}) });
  if (opts['fracta-form'] === 'url') {
    return { argv: [bin, 'proxy', upstream.url, '--header', `Authorization: Bearer ${token}`], env, cwd: home };
  }
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const config = path.join(home, 'bench.toml');
  fs.writeFileSync(config, [
    '[mcp.servers.bench.remote]',
    `url = ${JSON.stringify(upstream.url)}`,
    '[mcp.servers.bench.remote.auth]',
    'type = "bearer"',
    'token = { env = "BENCH_TOKEN" }',
    '',
  ].join('\n'), { mode: 0o600 });
  return { argv: [bin, 'proxy', 'bench'], env: { ...env, FRACTA_CONFIG: config }, cwd: home };
}

function proxies(upstream, token, home) {
  const header = ['--header', `Authorization: Bearer ${token}`];
  const remoteNode = { argv: [process.execPath, MCP_REMOTE, upstream.url, ...header], env: cleanEnv(path.join(home, 'node')), cwd: here };
  const list = [
    { name: 'mcp-remote (npx)', key: 'mcp_remote_npx', argv: ['npx', '--no', 'mcp-remote', upstream.url, ...header], env: cleanEnv(path.join(home, 'npx')), cwd: here },
    { name: 'mcp-remote (node)', key: 'mcp_remote', ...remoteNode },
  ];
  if (opts.standin) list.push({ name: 'fracta proxy (STAND-IN: mcp-remote)', key: 'fracta', standin: true, ...remoteNode, env: cleanEnv(path.join(home, 'standin')) });
  else if (opts.fracta) list.push({ name: 'fracta proxy', key: 'fracta', ...fractaProxy(path.resolve(opts.fracta), upstream, token, path.join(home, 'fracta')) });
  for (const p of list) fs.mkdirSync(p.env.HOME, { recursive: true, mode: 0o700 });
  return list;
}

// ---------------------------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function summarise(runs) {
  if (runs.length === 0) return null;
  const pick = (f) => median(runs.map(f));
  return {
    reps: runs.length,
    first_call_ms: pick((r) => r.first_call_ms),
    calls_per_s_1: pick((r) => r.one.calls_per_s),
    calls_per_s_32: pick((r) => r.wide.calls_per_s),
    cpu_ms_per_call_1: pick((r) => r.one.cpu_ms_per_call),
    cpu_ms_per_call_32: pick((r) => r.wide.cpu_ms_per_call),
    upstream_cpu_ms_per_call_1: pick((r) => r.one.upstream_cpu_ms_per_call),
    upstream_cpu_ms_per_call_32: pick((r) => r.wide.upstream_cpu_ms_per_call),
    driver_cpu_ms_per_call_32: pick((r) => r.wide.driver_cpu_ms_per_call),
    peak_rss_mb: pick((r) => r.peak_rss_mb),
    largest_rss_mb: pick((r) => r.largest_rss_mb),
    processes: pick((r) => r.processes),
    exited_on_eof: runs.every((r) => r.exited_on_eof),
    fewest_cpu_ticks: Math.min(...runs.flatMap((r) => [r.one.cpu_ticks, r.wide.cpu_ticks])),
    ticks_per_s: ticks,
  };
}

async function main() {
  const token = benchToken;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fracta-bench-'));
  const upstream = await startUpstream(token);
  upstreamPid = upstream.child.pid;
  const results = {
    date: new Date().toISOString(), reps, perf: !!opts.perf, seconds: phaseMs / 1000, width: WIDE, proxies: {}, direct: {},
    machine: {
      cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? 'unknown', memory_gb: os.totalmem() / 2 ** 30,
      kernel: os.release(), node: process.version, load_before: os.loadavg(),
    },
  };
  try {
    const list = proxies(upstream, token, home);
    const runs = Object.fromEntries(list.map((p) => [p.key, []]));
    const failed = {}; // key -> the first error; a proxy that fails once is not run again
    for (let rep = 1; rep <= reps; rep++) {
      for (const p of list) { // proxies interleaved, so machine noise falls on all of them
        if (failed[p.key]) continue;
        let r;
        try {
          r = await runOnce(p);
        } catch (e) {
          failed[p.key] = e.message.split('\n')[0];
          process.stderr.write(`bench: rep ${rep}/${reps} ${p.name} failed: ${e.message}\n`);
          continue;
        }
        runs[p.key].push(r);
        process.stderr.write(`bench: rep ${rep}/${reps} ${p.name}: first call ${r.first_call_ms.toFixed(0)} ms, `
          + `${r.one.calls_per_s.toFixed(0)}/${r.wide.calls_per_s.toFixed(0)} calls/s, `
          + `${r.one.cpu_ms_per_call.toFixed(3)}/${r.wide.cpu_ms_per_call.toFixed(3)} ms CPU/call, ${r.peak_rss_mb.toFixed(1)} MB\n`);
      }
    }
    for (const p of list) {
      results.proxies[p.key] = failed[p.key]
        ? { name: p.name, standin: !!p.standin, error: failed[p.key] }
        : { name: p.name, standin: !!p.standin, ...summarise(runs[p.key]), runs: runs[p.key] };
    }
    results.direct = { one: await directCalls(upstream, token, 1), wide: await directCalls(upstream, token, WIDE) };
    process.stderr.write(`bench: upstream direct ${results.direct.one.calls_per_s.toFixed(0)}/${results.direct.wide.calls_per_s.toFixed(0)} calls/s, `
      + `${results.direct.one.upstream_cpu_ms_per_call.toFixed(3)}/${results.direct.wide.upstream_cpu_ms_per_call.toFixed(3)} ms upstream CPU/call\n`);
  } finally {
    upstream.child.stdin.end();
    upstream.child.kill('SIGTERM');
    fs.rmSync(home, { recursive: true, force: true });
  }
  results.machine.load_after = os.loadavg();
  fs.writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
}

await main();
