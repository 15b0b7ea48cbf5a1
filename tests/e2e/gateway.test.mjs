// SPDX-License-Identifier: Apache-2.0
// `fracta gateway` against real peers: the aggregated /mcp for SDK v1 and v2 clients in front of
// a static-token server and a client-credentials OAuth server, one token request per expiry,
// a faithful pass-through, front-end auth and Origin/Host checks, health and metrics, SIGTERM
// drain, SIGHUP reload, tool filters and prefixes; no secret in anything fracta prints.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { describe, test } from 'node:test';

import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as HttpTransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from '@modelcontextprotocol/client';

import {
  fractaBin, runProgram, serverConfig, startOAuthPair, startServer, startV2Server, tmpdir,
  tomlStr, writeConfig,
} from './lib/harness.mjs';
import { startGateway as startGatewayProcess } from './lib/gateway.mjs';
import { waitFor } from './lib/proxy-host.mjs';

const MODERN = '2026-07-28';
const PASSPHRASE = 'e2e gateway passphrase, not a secret';
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'gw-e2e', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** The shared start (lib/gateway.mjs), with this file's store passphrase. */
const startGateway = (t, config, o = {}) =>
  startGatewayProcess(t, config, { ...o, env: { FRACTA_STORE_PASSPHRASE: PASSPHRASE, ...(o.env ?? {}) } });

/** Asserts that none of `secrets` is in any output the gateway printed. */
function assertNoSecrets(gw, secrets) {
  for (const s of secrets) {
    assert.ok(!gw.stderr().includes(s), `a secret is on the gateway's stderr:\n${gw.stderr()}`);
    assert.ok(!gw.stdout().includes(s), 'a secret is on the gateway\'s stdout');
  }
  assert.doesNotMatch(gw.stderr(), /eyJ[A-Za-z0-9_-]{10,}/, 'a JWT is on the gateway\'s stderr');
}

/** The JSON-RPC messages of a response body (JSON or SSE). */
function messagesOf(contentType, body) {
  if ((contentType ?? '').includes('text/event-stream')) {
    return body.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).filter(Boolean)
      .map((l) => JSON.parse(l));
  }
  return body.trim() ? [JSON.parse(body)] : [];
}

/**
 * POSTs one JSON-RPC request; `modern` adds params._meta and the 2026 headers. Resolves to
 * { status, headers, body, message } (message: the response with this id, if any).
 */
async function rpc(url, method, params = {}, { headers = {}, id = 1, modern = true } = {}) {
  const h = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers };
  const p = modern ? { ...params, _meta: { ...META, ...(params._meta ?? {}) } } : params;
  if (modern) Object.assign(h, { 'MCP-Protocol-Version': MODERN, 'Mcp-Method': method });
  // SEP-2243: Mcp-Name carries the name (or URI) the body names, as a 2026-07-28 client sends it.
  const named = method === 'resources/read' ? params.uri : (method === 'tools/call' || method === 'prompts/get') ? params.name : undefined;
  if (modern && named !== undefined && !('Mcp-Name' in headers)) h['Mcp-Name'] = named;
  const res = await fetch(url, { method: 'POST', headers: h, body: JSON.stringify({ jsonrpc: '2.0', id, method, params: p }) });
  const body = await res.text();
  let message;
  try {
    message = messagesOf(res.headers.get('content-type'), body).find((m) => m.id === id);
  } catch { /* not JSON: the assertion shows the body */ }
  return { status: res.status, headers: res.headers, body, message };
}

const textOf = (result) => (result?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

/** A raw HTTP/1.1 request on a fresh connection (fetch cannot set Host). */
function rawRequest(port, { method = 'GET', path = '/', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

async function connectV1(url, headers = {}) {
  const client = new ClientV1({ name: 'gw-e2e-v1', version: '1.0.0' }, { capabilities: {} });
  const transport = new HttpTransportV1(new URL(url), { requestInit: { headers } });
  await client.connect(transport);
  return { client, transport };
}

async function connectV2(url, headers = {}) {
  const client = new ClientV2({ name: 'gw-e2e-v2', version: '2.0.0' }, { capabilities: {}, versionNegotiation: { mode: 'auto' } });
  const transport = new HttpTransportV2(new URL(url), { requestInit: { headers } });
  await client.connect(transport);
  return { client, transport };
}

/** Config text for an OAuth client_credentials server. */
function ccServer(name, url, id, secret) {
  return serverConfig(name, url, [
    'type = "oauth"',
    'grant_type = "client_credentials"',
    `client_id = { value = ${tomlStr(id)} }`,
    `client_secret = { value = ${tomlStr(secret)} }`,
    'token_endpoint_auth_method = "client_secret_basic"',
    'token_store = "file"',
    'passphrase = { env = "FRACTA_STORE_PASSPHRASE" }',
  ].join('\n'));
}

const bearerServer = (name, url, token) => serverConfig(name, url, `type = "bearer"\ntoken = { value = ${tomlStr(token)} }`);
/** Established TCP connections to 127.0.0.1:`port` (server side), from /proc/net/tcp. */
function established(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
    .filter((l) => { const f = l.trim().split(/\s+/); return f[1]?.endsWith(`:${hex}`) && f[3] === '01'; }).length;
}

const tokenEvents = (as) => as.log().filter((e) => e.event === 'token');

const BURST = 1000;

/** The OAuth pair with `ttl`-second tokens behind a gateway (server `oa`), warmed up by one
 *  pass-through call; `burst()` sends BURST concurrent tools/call POSTs to /mcp/oa and resolves
 *  to { bad } (the calls that did not answer their own echo). */
async function burstSetup(t, ttl) {
  const secret = `gw-cc-burst-secret-${ttl}-77e0`;
  const pair = await startOAuthPair({ t, asArgs: ['--client', `gw-cc:${secret}:client_secret_basic`, '--access-ttl', String(ttl)] });
  const cfg = writeConfig(tmpdir(), ccServer('oa', pair.resource, 'gw-cc', secret));
  const gw = await startGateway(t, cfg);
  const pass = `${gw.base}/mcp/oa`;
  // The stateless 2025 upstream (SDK v1) takes a tools/call without a session.
  const call = (id, text) => rpc(pass, 'tools/call', { name: 'echo', arguments: { text } },
    { id, modern: false, headers: { 'MCP-Protocol-Version': '2025-06-18' } });
  const first = await call(1, 'warm');
  assert.equal(first.status, 200, first.body);
  assert.equal(textOf(first.message?.result), 'echo: warm', first.body);
  const burst = async () => {
    const results = await Promise.all(Array.from({ length: BURST }, (_, i) => call(i + 10, `c${i}`)
      .catch((e) => ({ status: 0, body: e.message }))));
    const bad = results.map((r, i) => [i, r]).filter(([i, r]) => r.status !== 200 || textOf(r.message?.result) !== `echo: c${i}`)
      .map(([i, r]) => `#${i}: ${r.status} ${r.body.slice(0, 300)}`);
    return { bad };
  };
  /** `workers` concurrent loops of calls for `ms`: resolves to { calls, bad }. */
  const sustained = async (workers, ms) => {
    const end = Date.now() + ms;
    const bad = [];
    let calls = 0;
    await Promise.all(Array.from({ length: workers }, async (_, w) => {
      for (let k = 0; Date.now() < end; k += 1) {
        const id = 100_000 + w * 10_000 + k;
        calls += 1;
        const r = await call(id, `w${w}k${k}`).catch((e) => ({ status: 0, body: e.message }));
        if (r.status !== 200 || textOf(r.message?.result) !== `echo: w${w}k${k}`) bad.push(`${r.status} ${r.body.slice(0, 300)}`);
      }
    }));
    return { calls, bad };
  };
  return { ...pair, gw, secret, burst, sustained };
}

describe('fracta gateway', () => {
  test('two servers with two auth types serve SDK v1 and v2 clients across token lifetimes without a failed call', async (t) => {
    const STATIC = 'gw-static-token-5f1c2e';
    const SECRET = 'gw-cc-secret-9d41ab';
    const v2 = await startV2Server({ auth: `bearer:${STATIC}`, t });
    const pair = await startOAuthPair({ t, asArgs: ['--client', `gw-cc:${SECRET}:client_secret_basic`, '--access-ttl', '5'] });
    const cfg = writeConfig(tmpdir(), `${bearerServer('st', v2.url, STATIC)}\n${ccServer('oa', pair.resource, 'gw-cc', SECRET)}`);
    const began = Date.now();
    const gw = await startGateway(t, cfg);

    const v1 = await connectV1(gw.url);
    t.after(() => v1.client.close());
    const v2c = await connectV2(gw.url);
    t.after(() => v2c.client.close());
    assert.equal(v2c.client.getNegotiatedProtocolVersion(), MODERN, 'the v2 client speaks 2026-07-28 to the gateway');
    assert.ok(v1.transport.sessionId, 'the v1 client has a 2025 session');
    for (const [label, c] of [['v1', v1.client], ['v2', v2c.client]]) {
      const names = (await c.listTools()).tools.map((x) => x.name);
      for (const n of ['st__echo', 'st__add', 'oa__echo', 'oa__whoami']) assert.ok(names.includes(n), `${label}: ${n} in ${names}`);
    }

    const failures = [];
    let calls = 0;
    const one = async (label, c, name, args, expect) => {
      calls += 1;
      try {
        const r = await c.callTool({ name, arguments: args });
        if (r.isError || !expect.test(textOf(r))) failures.push(`${label} ${name}: ${JSON.stringify(r)}`);
      } catch (e) {
        failures.push(`${label} ${name}: ${e.message}`);
      }
    };
    const loopStart = Date.now();
    for (let i = 0; Date.now() - loopStart < 15_000; i += 1) {
      await Promise.all([
        one('v1', v1.client, 'st__echo', { text: `a${i}` }, new RegExp(`^echo: a${i}$`)),
        one('v1', v1.client, 'oa__whoami', {}, /authenticated/),
        one('v2', v2c.client, 'st__add', { a: i, b: 1 }, new RegExp(`^${i + 1}$`)),
        one('v2', v2c.client, 'oa__echo', { text: `b${i}` }, new RegExp(`^echo: b${i}$`)),
      ]);
      // Pacing, not synchronisation: about four calls every 250 ms, on 2 shared cores.
      await new Promise((r) => setTimeout(r, 250));
    }
    const elapsedS = (Date.now() - began) / 1000;
    assert.deepEqual(failures, [], `${failures.length} of ${calls} calls failed`);
    assert.ok(calls >= 40, `only ${calls} calls`);

    const tokens = tokenEvents(pair.as);
    assert.ok(tokens.every((e) => e.status === 200 && e.grant_type === 'client_credentials'), JSON.stringify(tokens));
    assert.ok(tokens.length >= 2, `token requests: ${tokens.length}`);
    assert.ok(tokens.length <= elapsedS / 5 + 2, `${tokens.length} token requests in ${elapsedS.toFixed(1)} s of 5 s tokens`);
    assertNoSecrets(gw, [STATIC, SECRET]);
    for (const p of ['/readyz', '/metrics']) {
      const body = await (await fetch(`${gw.base}${p}`)).text();
      for (const s of [STATIC, SECRET]) assert.ok(!body.includes(s), `a secret in ${p}`);
      assert.doesNotMatch(body, /eyJ[A-Za-z0-9_-]{10,}/, `a JWT in ${p}`);
    }
  });

  test('1,000 concurrent calls arriving while the token is expired cause exactly one token request', async (t) => {
    // 30 s tokens: the burst (about 10 s through a Node upstream) ends well inside the new
    // token's lifetime, so exactly one token request is the right count.
    const TTL = 30;
    const b = await burstSetup(t, TTL);
    // The engine refreshes ahead of expiry on a timer, so a running gateway never holds an
    // expired token. Stopping the process (as a paused VM or a suspended laptop would) lets it
    // expire: the calls then arrive, and the overdue timer fires, while it is expired.
    b.gw.signal('SIGSTOP');
    let resumed = false;
    t.after(() => { if (!resumed) b.gw.signal('SIGCONT'); });
    const before = tokenEvents(b.as);
    assert.ok(before.length >= 1, 'the warm-up call took a token');
    const expiresAt = Date.parse(before.at(-1).time) + TTL * 1000;
    // Waiting out the authorization server's token lifetime (a server-side TTL), not a sync.
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 500));
    assert.equal(tokenEvents(b.as).length, before.length, 'no token request while stopped');

    const pending = b.burst();
    // The kernel queues the connections (and their requests) for the stopped gateway.
    await waitFor(() => established(b.gw.port) >= BURST, `${BURST} connections queued`, 20_000).catch(() => {});
    b.gw.signal('SIGCONT');
    resumed = true;
    const { bad } = await pending;
    assert.equal(bad.length, 0, `${bad.length} of ${BURST} failed; first: ${JSON.stringify(bad.slice(0, 3))}`);
    const fresh = tokenEvents(b.as).slice(before.length);
    assert.equal(fresh.length, 1, `new token requests at: ${fresh.map((e) => e.time).join(' ')}`);
    assert.equal(fresh[0].status, 200);
    assertNoSecrets(b.gw, [b.secret]);
  });

  test('calls across many token lifetimes take about one token per lifetime, not one per rejected call', async (t) => {
    // 5 s tokens, WORKERS loops of calls for 15 s: calls in flight when the token is replaced
    // may come back 401 "expired"; they should be retried with the newer token, not each take
    // a token of their own.
    const TTL = 5;
    const WORKERS = 100;
    const b = await burstSetup(t, TTL);
    const before = tokenEvents(b.as).length;
    const started = Date.now();
    const { calls, bad } = await b.sustained(WORKERS, 15_000);
    const seconds = (Date.now() - started) / 1000;
    const fresh = tokenEvents(b.as).slice(before);
    const rejected = b.mcp.log().filter((e) => e.status === 401).length;
    const summary = `${calls} calls, ${bad.length} failed, ${fresh.length} token requests in ${seconds.toFixed(1)} s of ${TTL} s tokens, ${rejected} upstream 401s`;
    assert.equal(bad.length, 0, `${summary}; first: ${JSON.stringify(bad.slice(0, 3))}`);
    // Refreshed ahead of expiry (a tenth of the lifetime, at least 1 s): one every 3-4 s.
    assert.ok(fresh.length <= seconds / 3 + 2, summary);
    assertNoSecrets(b.gw, [b.secret]);
  });

  test('pass-through is faithful: own tool names, session id, SSE, upstream status, never the client\'s Authorization', async (t) => {
    const UPSTREAM = 'gw-upstream-token-31a7';
    const FRONT = 'gw-front-token-c0ffee';
    const srv = await startServer(['--mode', 'stateful', '--auth', 'bearer', '--expect', UPSTREAM], { t });
    const cfg = writeConfig(tmpdir(), `[gateway.auth]\ntokens = [{ value = ${tomlStr(FRONT)} }]\n\n${bearerServer('st', srv.url, UPSTREAM)}`);
    const gw = await startGateway(t, cfg);
    const pass = `${gw.base}/mcp/st`;
    const auth = { Authorization: `Bearer ${FRONT}` };

    const { client, transport } = await connectV1(pass, auth);
    t.after(() => client.close());
    const names = (await client.listTools()).tools.map((x) => x.name);
    assert.ok(names.includes('echo') && names.includes('add'), String(names));
    assert.ok(names.every((n) => !n.includes('__')), `no prefix through the pass-through: ${names}`);
    const r = await client.callTool({ name: 'echo', arguments: { text: 'through' } });
    assert.equal(textOf(r), 'echo: through');

    const sid = transport.sessionId;
    assert.ok(sid, 'the client got an Mcp-Session-Id');
    const log = srv.log();
    assert.ok(log.some((e) => e.response_session_id === sid), 'the id is the upstream\'s own');
    assert.ok(log.some((e) => e.mcp_session_id === sid && (e.rpc_methods ?? []).includes('tools/call')), 'the id went back upstream');

    // A POST answered with SSE: relayed as an event stream.
    const version = transport.protocolVersion ?? '2025-06-18';
    const sse = await rpc(pass, 'tools/call', { name: 'echo', arguments: { text: 'sse' } },
      { id: 7, modern: false, headers: { ...auth, 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': version } });
    assert.equal(sse.status, 200, sse.body);
    assert.match(sse.headers.get('content-type'), /text\/event-stream/);
    assert.match(sse.body, /^event: message$/m);
    assert.equal(textOf(sse.message?.result), 'echo: sse');

    // A GET stream on a new session: its headers arrive while the stream stays open.
    const init = await rpc(pass, 'initialize', {
      protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' },
    }, { id: 1, modern: false, headers: auth });
    assert.equal(init.status, 200, init.body);
    const sid2 = init.headers.get('mcp-session-id');
    assert.ok(sid2 && sid2 !== sid, `a second session: ${sid2}`);
    const h2 = { ...auth, 'Mcp-Session-Id': sid2, 'MCP-Protocol-Version': '2025-06-18', 'Content-Type': 'application/json' };
    const ack = await fetch(pass, { method: 'POST', headers: { ...h2, Accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    assert.equal(ack.status, 202);
    const ac = new AbortController();
    const stream = await fetch(pass, { headers: { ...h2, Accept: 'text/event-stream' }, signal: ac.signal });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type'), /text\/event-stream/);
    // The upstream allows one GET stream per session: a second one's 409 is relayed as is.
    const second = await fetch(pass, { headers: { ...h2, Accept: 'text/event-stream' } });
    const upstreamGets = () => srv.log().filter((e) => e.method === 'GET' && e.mcp_session_id === sid2);
    await waitFor(() => upstreamGets().length >= 2, 'the second GET reached the server', 5000);
    assert.equal(second.status, upstreamGets().at(-1).status);
    assert.ok(second.status >= 400, `second GET stream: ${second.status}`);
    await second.text();
    ac.abort();

    // A bad session id: the upstream's status comes back.
    const bogus = await rpc(pass, 'tools/list', {}, { id: 9, modern: false, headers: { ...auth, 'Mcp-Session-Id': 'no-such-session', 'MCP-Protocol-Version': version } });
    const bogusLog = await waitFor(() => srv.log().find((e) => e.mcp_session_id === 'no-such-session'), 'the bad-session request reached the server', 5000);
    assert.ok(bogus.status >= 400, bogus.body);
    assert.equal(bogus.status, bogusLog.status, 'the upstream\'s status is relayed');

    const entries = srv.log().filter((e) => e.method);
    assert.ok(entries.length >= 5);
    for (const e of entries) assert.equal(e.authorization, `Bearer ${UPSTREAM}`, JSON.stringify(e));
    assertNoSecrets(gw, [UPSTREAM, FRONT]);
  });

  describe('who may use it', () => {
    test('a non-loopback --listen without [gateway.auth] exits 2 naming gateway.auth', async () => {
      const cfg = writeConfig(tmpdir(), serverConfig('s', 'http://127.0.0.1:9/mcp'));
      // In a private network namespace: should it bind after all, it binds nothing reachable.
      const r = await runProgram('unshare', ['-n', '--', fractaBin(), '--config', cfg, 'gateway', '--listen', '0.0.0.0:0'],
        { env: { FRACTA_STORE_PASSPHRASE: PASSPHRASE }, timeoutMs: 15_000 });
      assert.equal(r.code, 2, `${r.code} ${r.signal}\n${r.stderr}`);
      assert.match(r.stderr, /gateway\.auth/);
      assert.doesNotMatch(r.stderr, /listening on/);
    });

    test('a wildcard --listen with tokens but no Host it serves exits 2 naming gateway.allowed_hosts', async () => {
      const cfg = writeConfig(tmpdir(), `[gateway.auth]\ntokens = [{ value = "gw-front-wildcard-token" }]\n\n${serverConfig('s', 'http://127.0.0.1:9/mcp')}`);
      const r = await runProgram('unshare', ['-n', '--', fractaBin(), '--config', cfg, 'gateway', '--listen', '0.0.0.0:0'],
        { env: { FRACTA_STORE_PASSPHRASE: PASSPHRASE }, timeoutMs: 15_000 });
      assert.equal(r.code, 2, `${r.code} ${r.signal}\n${r.stderr}`);
      assert.match(r.stderr, /gateway\.allowed_hosts/);
      assert.doesNotMatch(r.stderr, /listening on/);
      assert.ok(!r.stderr.includes('gw-front-wildcard-token'));
    });

    test('front-end tokens: 401 with the metadata, invalid_token, 200; foreign Origin and Host get 403', async (t) => {
      const FRONT = 'gw-front-token-4e8d21';
      const srv = await startV2Server({ t });
      const cfg = writeConfig(tmpdir(), `[gateway.auth]\ntokens = [{ env = "GW_FRONT" }]\n\n${serverConfig('s', srv.url)}`);
      const gw = await startGateway(t, cfg, { env: { GW_FRONT: FRONT } });
      const metadata = `${gw.base}/.well-known/oauth-protected-resource/mcp`;

      const none = await rpc(gw.url, 'tools/list');
      assert.equal(none.status, 401, none.body);
      assert.ok((none.headers.get('www-authenticate') ?? '').includes(`resource_metadata="${metadata}"`), none.headers.get('www-authenticate'));
      const wrong = await rpc(gw.url, 'tools/list', {}, { headers: { Authorization: 'Bearer not-the-token' } });
      assert.equal(wrong.status, 401, wrong.body);
      assert.match(wrong.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      assert.ok((wrong.headers.get('www-authenticate') ?? '').includes(`resource_metadata="${metadata}"`));
      const right = await rpc(gw.url, 'tools/list', {}, { headers: { Authorization: `Bearer ${FRONT}` } });
      assert.equal(right.status, 200, right.body);
      assert.ok(right.message?.result?.tools?.some((x) => x.name === 's__echo'), right.body);
      const pass = await rpc(`${gw.url}/s`, 'tools/list', {}, { headers: { Authorization: 'Bearer not-the-token' } });
      assert.equal(pass.status, 401, 'the pass-through is guarded too');

      const evil = await rpc(gw.url, 'tools/list', {}, { headers: { Authorization: `Bearer ${FRONT}`, Origin: 'http://evil.example' } });
      assert.equal(evil.status, 403, evil.body);
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: META } });
      const host = await rawRequest(gw.port, {
        method: 'POST', path: '/mcp', body,
        headers: { Host: 'evil.example', Authorization: `Bearer ${FRONT}`, 'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': MODERN, 'Mcp-Method': 'tools/list' },
      });
      assert.equal(host.status, 403, host.body);
      const ok = await rawRequest(gw.port, {
        method: 'POST', path: '/mcp', body,
        headers: { Host: `127.0.0.1:${gw.port}`, Authorization: `Bearer ${FRONT}`, 'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': MODERN, 'Mcp-Method': 'tools/list' },
      });
      assert.equal(ok.status, 200, 'the same request with our Host passes');

      const md = await fetch(metadata);
      assert.equal(md.status, 200);
      const doc = await md.json();
      assert.equal(doc.resource, gw.url, JSON.stringify(doc));
      assertNoSecrets(gw, [FRONT]);
    });
  });

  describe('health and metrics', () => {
    test('healthz, readyz with both servers ready, metrics per server and method', async (t) => {
      const a = await startV2Server({ t });
      const b = await startServer(['--mode', 'stateless'], { t });
      const cfg = writeConfig(tmpdir(), `${serverConfig('a', a.url)}\n${serverConfig('b', b.url)}`);
      const gw = await startGateway(t, cfg);

      const hz = await fetch(`${gw.base}/healthz`);
      assert.equal(hz.status, 200);
      assert.equal((await hz.text()).trim(), 'ok');
      for (const [name, text] of [['a__echo', 'm1'], ['b__echo', 'm2']]) {
        const r = await rpc(gw.url, 'tools/call', { name, arguments: { text } });
        assert.equal(textOf(r.message?.result), `echo: ${text}`, r.body);
      }
      const passed = await rpc(`${gw.url}/a`, 'tools/list');
      assert.equal(passed.status, 200, passed.body);
      const rz = await fetch(`${gw.base}/readyz`);
      assert.equal(rz.status, 200);
      const ready = await rz.json();
      assert.equal(ready.ready, true);
      assert.equal(ready.servers.a?.state, 'ready', JSON.stringify(ready));
      assert.equal(ready.servers.b?.state, 'ready', JSON.stringify(ready));
      assert.deepEqual(ready.collisions, []);

      const m = await (await fetch(`${gw.base}/metrics`)).text();
      const has = (re, what) => assert.match(m, re, `${what} in\n${m}`);
      for (const s of ['a', 'b']) {
        has(new RegExp(`^fracta_gateway_requests_total\\{[^}]*server="${s}"[^}]*method="tools/call"[^}]*\\} [1-9]`, 'm'), `tools/call on ${s}`);
        has(new RegExp(`^fracta_gateway_server_state\\{[^}]*server="${s}"[^}]*state="ready"[^}]*\\} 1$`, 'm'), `${s} ready`);
      }
      has(/^fracta_gateway_requests_total\{[^}]*server="a"[^}]*method="tools\/list"[^}]*\} [1-9]/m, 'the pass-through tools/list');
      has(/^# TYPE fracta_gateway_request_duration_seconds histogram$/m, 'the histogram');
      has(/^fracta_gateway_request_duration_seconds_bucket\{[^}]*server="a"[^}]*le="\+Inf"[^}]*\} [1-9]/m, 'a +Inf bucket');
      has(/^fracta_gateway_request_duration_seconds_count\{[^}]*server="b"/m, 'a count');
      has(/^fracta_gateway_connections [0-9]+$/m, 'connections');
    });

    test('a tool name collision with tool_prefix = "never" is reported in readyz and at start', async (t) => {
      const a = await startV2Server({ t });
      const b = await startServer(['--mode', 'stateless'], { t });
      const cfg = writeConfig(tmpdir(), `[gateway]\ntool_prefix = "never"\n\n${serverConfig('one', a.url)}\n${serverConfig('two', b.url)}`);
      const gw = await startGateway(t, cfg);
      const ready = await (await fetch(`${gw.base}/readyz`)).json();
      const c = ready.collisions.find((x) => x.name === 'echo');
      assert.ok(c, JSON.stringify(ready.collisions));
      assert.deepEqual([...c.servers].sort(), ['one', 'two']);
      const startup = gw.stderr().split('ready:')[0];
      assert.match(startup, /'echo'/, gw.stderr());
      const list = await rpc(gw.url, 'tools/list');
      const echoes = list.message.result.tools.filter((x) => x.name === 'echo');
      assert.equal(echoes.length, 1, 'one echo is served, not two with one name');
    });
  });

  test('SIGTERM lets the call in flight finish, refuses new connections, exits 0', async (t) => {
    const srv = await startV2Server({ t, args: ['--proxy-tools'] });
    const cfg = writeConfig(tmpdir(), serverConfig('s', srv.url));
    const gw = await startGateway(t, cfg);
    const call = rpc(gw.url, 'tools/call', { name: 's__slow', arguments: { ms: 1500 } }, { id: 42 });
    await waitFor(() => srv.log().some((e) => e.event === 'started' && e.tool === 'slow'), 'the slow call started', 10_000);
    gw.signal('SIGTERM');
    await gw.waitLine(/SIGTERM: finishing/, 5000);
    let held;
    const late = await Promise.race([
      rawRequest(gw.port, { path: '/healthz' }).then((r) => `answered ${r.status}`, (e) => e.code ?? e.message),
      new Promise((res) => { held = setTimeout(() => res('no answer within 3 s (held, not refused)'), 3000); }),
    ]);
    clearTimeout(held);
    assert.match(late, /ECONNREFUSED|ECONNRESET|socket hang up/, `a new connection after the drain began: ${late}`);
    const r = await call;
    assert.equal(r.status, 200, r.body);
    assert.equal(textOf(r.message?.result), 'slow done 1500', r.body);
    const exit = await Promise.race([gw.exited, new Promise((res) => setTimeout(() => res('still running'), 10_000))]);
    assert.deepEqual(exit, { code: 0, signal: null }, gw.stderr());
    assert.ok(!srv.log().some((e) => e.event === 'aborted'), 'the upstream call was not cut');
  });

  test('SIGHUP picks up an added server; a 2025 session from before keeps working', async (t) => {
    const a = await startV2Server({ t });
    const b = await startServer(['--mode', 'stateless'], { t });
    const dir = tmpdir();
    const cfg = writeConfig(dir, `${serverConfig('a', a.url)}\n${serverConfig('b', b.url)}`);
    const gw = await startGateway(t, cfg);
    const { client, transport } = await connectV1(gw.url);
    t.after(() => client.close());
    const sid = transport.sessionId;
    assert.ok(sid, 'a 2025 client has a gateway session');
    const before = (await client.listTools()).tools.map((x) => x.name);
    assert.ok(before.includes('a__echo') && !before.some((n) => n.startsWith('c__')), String(before));

    const c = await startV2Server({ t });
    fs.appendFileSync(cfg, `\n${serverConfig('c', c.url)}`);
    gw.signal('SIGHUP');
    await waitFor(async () => (await (await fetch(`${gw.base}/readyz`)).json()).servers.c?.state === 'ready', 'readyz lists c', 15_000);
    const after = (await client.listTools()).tools.map((x) => x.name);
    assert.ok(after.includes('c__echo') && after.includes('a__echo') && after.includes('b__echo'), String(after));
    assert.equal(textOf(await client.callTool({ name: 'c__echo', arguments: { text: 'new' } })), 'echo: new');
    assert.equal(textOf(await client.callTool({ name: 'a__echo', arguments: { text: 'old' } })), 'echo: old');
    assert.equal(transport.sessionId, sid, 'the same session');
    const raw = await rpc(gw.url, 'tools/call', { name: 'b__add', arguments: { a: 2, b: 3 } },
      { id: 5, modern: false, headers: { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': transport.protocolVersion ?? '2025-06-18' } });
    assert.equal(raw.status, 200, raw.body);
    assert.equal(textOf(raw.message?.result), '5');
    assert.ok(c.log().some((e) => e.rpc_method === 'tools/call'), 'the call reached the added server');
  });

  test('a per-server prefix and tools.deny: p__echo listed, p__add neither listed nor callable', async (t) => {
    const srv = await startV2Server({ t });
    const cfg = writeConfig(tmpdir(), `${serverConfig('x', srv.url)}\n[mcp.servers.x.gateway]\nprefix = "p"\n\n[mcp.servers.x.gateway.tools]\ndeny = ["add"]\n`);
    const gw = await startGateway(t, cfg);
    const { client } = await connectV1(gw.url);
    t.after(() => client.close());
    const names = (await client.listTools()).tools.map((x) => x.name);
    assert.ok(names.includes('p__echo'), String(names));
    assert.ok(!names.includes('p__add') && !names.includes('x__add') && !names.includes('add'), String(names));
    assert.ok(!names.some((n) => n.startsWith('x__')), `the prefix replaces the server name: ${names}`);
    assert.equal(textOf(await client.callTool({ name: 'p__echo', arguments: { text: 'pre' } })), 'echo: pre');
    const denied = await rpc(gw.url, 'tools/call', { name: 'p__add', arguments: { a: 1, b: 2 } }, { id: 3 });
    assert.ok(denied.message?.error, `a JSON-RPC error for a denied tool: ${denied.status} ${denied.body}`);
    assert.ok(!srv.log().some((e) => e.rpc_method === 'tools/call' && e.mcp_name === 'add'), 'the denied call never reached the server');
  });
});
