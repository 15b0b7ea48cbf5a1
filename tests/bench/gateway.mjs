#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The gateway benchmark driver: one nginx upstream with canned MCP answers, an nginx proxy_pass
// hop that adds the bearer token, and `fracta gateway` (pass-through and aggregated) in front of
// it, loaded with wrk; then 1,000 open SSE streams through the pass-through to a node upstream.
//
// Usage: node gateway.mjs --out results.json --fracta BIN --plugins DIR [--reps 3] [--seconds 5]
//          [--threads 1,2] [--perf DIR]
//   --perf DIR  after the measurements, profile the first gateway under `perf record -g` during
//               one pass-through and one aggregated run (16 connections): DIR/perf-*.data.
// Everything binds or connects to 127.0.0.1 only; gateway-run starts this inside a network
// namespace that has nothing but loopback.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { closedPort as freePort } from '../e2e/lib/harness.mjs';
import { clockTicksPerSecond, treeCpuTicks } from './proc.mjs';

const { values: opts } = parseArgs({
  options: {
    out: { type: 'string' },
    fracta: { type: 'string' },
    plugins: { type: 'string' },
    reps: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1,2' },
    perf: { type: 'string' },
  },
});
if (!opts.out || !opts.fracta) throw new Error('gateway.mjs: --out FILE and --fracta BIN are required');
const reps = Number(opts.reps);
const seconds = Number(opts.seconds);
const threadCounts = opts.threads.split(',').map(Number);
const ticks = clockTicksPerSecond();
const CONNECTIONS = [1, 16, 64];
const STREAMS = 1000;
const TOKEN = 'bench-token';
const VERSION = '2026-07-28';
const START_TIMEOUT_MS = 30_000;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fracta-gw-bench-'));
const children = [];

function start(argv, env = {}, what = argv[0]) {
  const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderrText = '';
  child.stderr.on('data', (d) => { child.stderrText += d; });
  child.what = what;
  children.push(child);
  return child;
}

async function until(what, test, ms = START_TIMEOUT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await test();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`gateway.mjs: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function post(port, urlPath, method, body, name) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method: 'POST', agent: false, headers: mcpHeaders(method, name) }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// The MCP request every load run sends: a 2026-07-28 tools/call, as such a client writes it.

function mcpHeaders(method, name) {
  const h = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': VERSION, 'Mcp-Method': method };
  if (name) h['Mcp-Name'] = name;
  return h;
}

function callBody(tool) {
  return JSON.stringify({
    jsonrpc: '2.0', id: 1, method: 'tools/call',
    params: { name: tool, arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': VERSION, 'io.modelcontextprotocol/clientCapabilities': {} } },
  });
}

function wrkScript(tool) {
  const file = path.join(dir, `call-${tool}.lua`);
  const lines = ['wrk.method = "POST"', `wrk.body = ${JSON.stringify(callBody(tool))}`];
  for (const [k, v] of Object.entries(mcpHeaders('tools/call', tool))) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

// ---------------------------------------------------------------------------------------------
// nginx: the upstream (canned answers by Mcp-Method, the request's id echoed) and the hop.

function nginxCommon(name) {
  const t = path.join(dir, `${name}-tmp`);
  fs.mkdirSync(t, { recursive: true });
  return [
    'daemon off;', 'worker_processes 1;', `pid ${path.join(dir, `${name}.pid`)};`, `error_log ${path.join(dir, `${name}.err`)} warn;`,
    'events { worker_connections 8192; }',
  ].concat([`client_body_temp_path ${t}; proxy_temp_path ${t}; fastcgi_temp_path ${t}; uwsgi_temp_path ${t}; scgi_temp_path ${t};`, 'access_log off;']);
}

// nginx cannot read a body into a `return`; the outer server reads it (proxy_pass does), takes
// the id with a map, and asks an inner server for the canned answer with that id.
function upstreamConfig(port, inner) {
  const c = nginxCommon('upstream');
  return [
    ...c.slice(0, 5),
    'http {',
    ...c.slice(5),
    '  map $request_body $rid { "~\\"id\\"\\s*:\\s*(?<n>[0-9]+)" $n; default 1; }',
    '  map $http_mcp_method $answer {',
    `    default '{"content":[{"type":"text","text":"ok"}]}';`,
    `    "server/discover" '{"supportedVersions":["${VERSION}"],"capabilities":{"tools":{}},"serverInfo":{"name":"bench-upstream","version":"1.0.0"}}';`,
    `    "tools/list" '{"tools":[{"name":"ok","description":"answers ok","inputSchema":{"type":"object"}}]}';`,
    '  }',
    `  upstream canned { server 127.0.0.1:${inner}; keepalive 64; }`,
    `  server { listen 127.0.0.1:${port}; keepalive_requests 100000000;`,
    '    location = /mcp {',
    `      if ($http_authorization != "Bearer ${TOKEN}") { return 401; }`,
    '      if ($request_method != POST) { return 405; }',
    '      proxy_pass http://canned/canned; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header X-Rid $rid;',
    '    }',
    '  }',
    `  server { listen 127.0.0.1:${inner}; keepalive_requests 100000000;`,
    `    location = /canned { default_type application/json; return 200 '{"jsonrpc":"2.0","id":$http_x_rid,"result":$answer}'; }`,
    '  }',
    '}',
  ].join('\n');
}

function hopConfig(port, upstream) {
  const c = nginxCommon('hop');
  return [
    ...c.slice(0, 5),
    'http {',
    ...c.slice(5),
    `  upstream mcp { server 127.0.0.1:${upstream}; keepalive 64; }`,
    `  server { listen 127.0.0.1:${port}; keepalive_requests 100000000;`,
    '    location = /mcp {',
    '      proxy_pass http://mcp; proxy_http_version 1.1; proxy_set_header Connection "";',
    `      proxy_set_header Authorization "Bearer ${TOKEN}";`,
    '    }',
    '  }',
    '}',
  ].join('\n');
}

function nginx(name, config) {
  const file = path.join(dir, `${name}.conf`);
  fs.writeFileSync(file, config + '\n');
  return start(['nginx', '-c', file, '-p', dir], {}, `nginx ${name}`);
}

// ---------------------------------------------------------------------------------------------
// The SSE upstream: answers server/discover, and holds every GET open as an event stream.

function sseUpstream() {
  const open = new Set();
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) { res.writeHead(401).end(); return; }
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
      res.write(': open\n\n');
      open.add(res);
      res.on('close', () => open.delete(res));
      return;
    }
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const id = JSON.parse(body || '{}').id ?? null;
      const result = req.headers['mcp-method'] === 'server/discover'
        ? { supportedVersions: [VERSION], capabilities: { tools: {} }, serverInfo: { name: 'bench-sse', version: '1.0.0' } }
        : { tools: [] };
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, result }));
    });
  });
  server.maxConnections = 100_000;
  return { server, open };
}

// ---------------------------------------------------------------------------------------------
// The gateways

function gatewayConfig(upPort, ssePort) {
  const file = path.join(dir, 'gateway.toml');
  const server = (name, port) => [
    `[mcp.servers.${name}.remote]`, `url = "http://127.0.0.1:${port}/mcp"`, `protocol = "${VERSION}"`,
    `[mcp.servers.${name}.remote.auth]`, 'type = "bearer"', 'token = { env = "BENCH_TOKEN" }',
  ];
  fs.writeFileSync(file, [...server('bench', upPort), ...server('sse', ssePort), ''].join('\n'), { mode: 0o600 });
  return file;
}

async function gateway(bin, plugins, config, threads) {
  const home = path.join(dir, `home-${threads}`);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const env = { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_STATE_HOME: path.join(home, '.state'), FRACTA_CONFIG: config, BENCH_TOKEN: TOKEN, FRACTA_PLUGIN_PATH: plugins };
  const child = start([bin, 'gateway', '--listen', '127.0.0.1:0', '--threads', String(threads)], env, `fracta gateway --threads ${threads}`);
  const port = await until(`fracta gateway --threads ${threads} to be ready`, () => {
    if (child.exitCode !== null) throw new Error(`fracta gateway exited: ${child.stderrText}`);
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(child.stderrText);
    return m && /ready: \d+ server/.test(child.stderrText) ? Number(m[1]) : null;
  });
  return { child, port, threads };
}

// ---------------------------------------------------------------------------------------------
// wrk

function toMs(v, unit) {
  return Number(v) * { us: 1e-3, ms: 1, s: 1000, m: 60_000 }[unit];
}

function wrk(port, urlPath, script, connections, secs) {
  const out = execFileSync('wrk', ['-t', '1', '-c', String(connections), '-d', `${secs}s`, '--latency', '-s', script, `http://127.0.0.1:${port}${urlPath}`], { encoding: 'utf8' });
  const num = (re) => { const m = re.exec(out); return m ? Number(m[1]) : 0; };
  const lat = (p) => { const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)$`, 'm').exec(out); return m ? toMs(m[1], m[2]) : NaN; };
  const requests = num(/(\d+) requests in/);
  return {
    requests, rps: num(/Requests\/sec:\s+([\d.]+)/), p50_ms: lat(50), p99_ms: lat(99),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socket_errors: (/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out) ?? []).slice(1).reduce((a, b) => a + Number(b), 0),
  };
}

function measure(target, connections) {
  const cpu0 = treeCpuTicks(target.pid);
  const r = wrk(target.port, target.path, target.script, connections, seconds);
  const cpu1 = treeCpuTicks(target.pid);
  return { ...r, cpu_us_per_request: r.requests ? ((cpu1 - cpu0) * 1e6) / ticks / r.requests : NaN, cpu_ticks: cpu1 - cpu0 };
}

// ---------------------------------------------------------------------------------------------
// 1,000 open SSE streams through the pass-through

function status(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { threads: Number(/^Threads:\s+(\d+)/m.exec(s)[1]), rss_kb: Number(/^VmRSS:\s+(\d+) kB/m.exec(s)[1]) };
}

async function streams(gw, sse) {
  const before = status(gw.child.pid);
  const reqs = [];
  let opened = 0;
  let failed = 0;
  for (let i = 0; i < STREAMS; i++) {
    const req = http.request({ host: '127.0.0.1', port: gw.port, path: '/mcp/sse', method: 'GET', agent: false, headers: { Accept: 'text/event-stream', 'MCP-Protocol-Version': VERSION } }, (res) => {
      if (res.statusCode === 200) opened++; else failed++;
      res.on('data', () => {});
    });
    req.on('error', () => { failed++; });
    req.end();
    reqs.push(req);
  }
  await until(`${STREAMS} SSE streams to open (opened ${opened}, failed ${failed})`, () => opened + failed >= STREAMS && sse.open.size >= opened, 60_000);
  const during = status(gw.child.pid);
  const upstreamOpen = sse.open.size;
  for (const r of reqs) r.destroy();
  await until('the SSE streams to close', () => sse.open.size === 0, 30_000);
  return {
    threads: gw.threads, streams: opened, failed, upstream_open: upstreamOpen,
    threads_before: before.threads, threads_during: during.threads,
    rss_before_kb: before.rss_kb, rss_during_kb: during.rss_kb,
    kb_per_stream: opened ? (during.rss_kb - before.rss_kb) / opened : NaN,
  };
}

// ---------------------------------------------------------------------------------------------

const median = (xs) => { const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };

async function main() {
  const [upPort, innerPort, hopPort] = [await freePort(), await freePort(), await freePort()];
  const upstream = nginx('upstream', upstreamConfig(upPort, innerPort));
  const hop = nginx('hop', hopConfig(hopPort, upPort));
  const sse = sseUpstream();
  await new Promise((r) => sse.server.listen(0, '127.0.0.1', r));
  const config = gatewayConfig(upPort, sse.server.address().port);
  const gateways = [];
  for (const t of threadCounts) gateways.push(await gateway(path.resolve(opts.fracta), path.resolve(opts.plugins), config, t));

  // Every path answers before the load starts, and answers right.
  await until('the nginx hop', async () => (await post(hopPort, '/mcp', 'tools/call', callBody('ok'), 'ok').catch(() => ({}))).status === 200);
  for (const gw of gateways) {
    for (const [p, tool] of [['/mcp/bench', 'ok'], ['/mcp', 'bench__ok']]) {
      const r = await post(gw.port, p, 'tools/call', callBody(tool), tool);
      if (r.status !== 200 || !r.text.includes('"text":"ok"')) throw new Error(`gateway.mjs: ${p} answered ${r.status} ${r.text}`);
    }
  }

  const targets = [{ key: 'hop', name: 'nginx hop (proxy_pass + Authorization)', pid: hop.pid, port: hopPort, path: '/mcp', script: wrkScript('ok') }];
  for (const gw of gateways) {
    targets.push({ key: `pass_${gw.threads}`, name: `fracta gateway --threads ${gw.threads}, /mcp/bench (pass-through)`, pid: gw.child.pid, port: gw.port, path: '/mcp/bench', script: wrkScript('ok') });
    targets.push({ key: `agg_${gw.threads}`, name: `fracta gateway --threads ${gw.threads}, /mcp (aggregated)`, pid: gw.child.pid, port: gw.port, path: '/mcp', script: wrkScript('bench__ok') });
  }

  const results = {
    date: new Date().toISOString(), reps, seconds, connections: CONNECTIONS,
    machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? 'unknown', memory_gb: os.totalmem() / 2 ** 30, kernel: os.release(), load_before: os.loadavg() },
    versions: { nginx: spawnText('nginx', ['-v']), wrk: spawnText('wrk', ['-v']).split('\n')[0] },
    runs: {}, rows: [], streams: [],
  };

  for (const t of targets) wrk(t.port, t.path, t.script, 16, 1); // warm-up, not measured
  for (let rep = 0; rep < reps; rep++) {
    for (const c of CONNECTIONS) {
      for (const t of targets) { // targets interleaved, so machine noise falls on all of them
        const r = measure(t, c);
        ((results.runs[t.key] ??= {})[c] ??= []).push(r);
        console.error(`rep ${rep + 1}/${reps} c=${c} ${t.key}: ${r.rps.toFixed(0)} req/s, ${r.cpu_us_per_request.toFixed(1)} µs CPU/req${r.non2xx || r.socket_errors ? `, ${r.non2xx} non-2xx, ${r.socket_errors} socket errors` : ''}`);
      }
    }
  }
  for (const t of targets) {
    const row = { key: t.key, name: t.name, by_connections: {} };
    for (const c of CONNECTIONS) {
      const rs = results.runs[t.key][c];
      row.by_connections[c] = {
        rps: median(rs.map((r) => r.rps)), p50_ms: median(rs.map((r) => r.p50_ms)), p99_ms: median(rs.map((r) => r.p99_ms)),
        cpu_us_per_request: median(rs.map((r) => r.cpu_us_per_request)), fewest_cpu_ticks: Math.min(...rs.map((r) => r.cpu_ticks)),
        errors: rs.reduce((a, r) => a + r.non2xx + r.socket_errors, 0),
      };
    }
    results.rows.push(row);
  }

  for (const gw of gateways) results.streams.push(await streams(gw, sse));

  if (opts.perf) {
    const gw = gateways[0];
    for (const [name, t] of [['pass', targets[1]], ['agg', targets[2]]]) {
      const data = path.join(path.resolve(opts.perf), `perf-gateway-${name}.data`);
      const perf = spawn('perf', ['record', '-g', '-o', data, '-p', String(gw.child.pid)], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 500)); // perf attaching; only the profile depends on it
      wrk(t.port, t.path, t.script, 16, seconds);
      perf.kill('SIGINT');
      await new Promise((r) => perf.once('exit', r));
      results.perf = [...(results.perf ?? []), data];
    }
  }
  results.machine.load_after = os.loadavg();
  fs.writeFileSync(opts.out, JSON.stringify(results, null, 2) + '\n');
}

// Both write their version to stderr, and wrk -v exits 1.
function spawnText(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
}

try {
  await main();
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  process.exitCode ??= 0;
  setTimeout(() => process.exit(), 2000).unref();
}
