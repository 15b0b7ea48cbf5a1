// SPDX-License-Identifier: Apache-2.0
// Self-test of the 2026-era peers (no fracta involved): raw fetch() speaks MCP 2026-07-28 to
// peers/v2server.mjs (modern-only and dual era), the SDK v1 client speaks 2025 to its dual mode
// and to server-everything. If this file fails, the failures in era.test.mjs are not fracta's.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { startEverything, startV2Server } from './lib/harness.mjs';

const MODERN = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'era-peers', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
};

let nextId = 1;
/** One modern JSON-RPC request: the standard headers, `_meta` in params. */
async function modern(url, method, params = {}, { headers = {}, name } = {}) {
  const h = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': MODERN,
    'Mcp-Method': method,
    ...(name ? { 'Mcp-Name': name } : {}),
    ...headers,
  };
  const r = await fetch(url, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: { ...params, _meta: META } }),
  });
  return { status: r.status, body: await r.json(), headers: r.headers };
}

async function legacyClient(url, { elicit } = {}) {
  const client = new Client({ name: 'era-peers', version: '1.0.0' }, { capabilities: elicit ? { elicitation: {} } : {} });
  if (elicit) client.setRequestHandler(ElicitRequestSchema, elicit);
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

const text = (result) => result.content.map((c) => c.text).join('');

describe('v2server --legacy reject (modern only)', () => {
  test('server/discover, tools/list and tools/call over the stateless 2026-07-28 wire', async (t) => {
    const srv = await startV2Server({ legacy: 'reject', t });
    const disc = await modern(srv.url, 'server/discover');
    assert.equal(disc.status, 200, JSON.stringify(disc.body));
    assert.deepEqual(disc.body.result.supportedVersions, [MODERN]);
    assert.equal(disc.headers.get('mcp-session-id'), null);

    const list = await modern(srv.url, 'tools/list');
    assert.deepEqual(list.body.result.tools.map((x) => x.name).sort(), ['add', 'confirm', 'echo', 'headers']);
    const headersTool = list.body.result.tools.find((x) => x.name === 'headers');
    assert.equal(headersTool.inputSchema.properties.region['x-mcp-header'], 'Region');

    const echo = await modern(srv.url, 'tools/call', { name: 'echo', arguments: { text: 'hi' } }, { name: 'echo' });
    assert.equal(text(echo.body.result), 'echo: hi');
    const add = await modern(srv.url, 'tools/call', { name: 'add', arguments: { a: 2, b: 3 } }, { name: 'add' });
    assert.equal(text(add.body.result), '5');

    const log = srv.log();
    assert.deepEqual(log.map((e) => e.rpc_method), ['server/discover', 'tools/list', 'tools/call', 'tools/call']);
    for (const e of log) {
      assert.equal(e.protocol_version, MODERN);
      assert.equal(e.meta_protocol_version, MODERN);
      assert.equal(e.mcp_method, e.rpc_method);
      assert.equal(e.meta_present, true);
    }
    assert.deepEqual(log.filter((e) => e.rpc_method === 'tools/call').map((e) => e.mcp_name), ['echo', 'add']);
  });

  test('initialize is refused with -32022 naming 2026-07-28', async (t) => {
    const srv = await startV2Server({ legacy: 'reject', t });
    const r = await fetch(srv.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0', id: 1, method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      }),
    });
    assert.equal(r.status, 400);
    const body = await r.json();
    assert.equal(body.error.code, -32022);
    assert.deepEqual(body.error.data.supported, [MODERN]);
    assert.deepEqual(srv.log().map((e) => [e.rpc_method, e.status]), [['initialize', 400]]);
  });

  test('headers: Mcp-Param-Region is required, checked against the argument, and echoed back', async (t) => {
    const srv = await startV2Server({ legacy: 'reject', t });
    const args = { name: 'headers', arguments: { region: 'eu-west' } };
    const ok = await modern(srv.url, 'tools/call', args, { name: 'headers', headers: { 'Mcp-Param-Region': 'eu-west' } });
    assert.equal(text(ok.body.result), 'region header: eu-west');
    const missing = await modern(srv.url, 'tools/call', args, { name: 'headers' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.code, -32020);
    const wrong = await modern(srv.url, 'tools/call', args, { name: 'headers', headers: { 'Mcp-Param-Region': 'us-east' } });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error.code, -32020);
    assert.deepEqual(srv.log().map((e) => e.mcp_param_region), ['eu-west', null, 'us-east']);
  });

  test('confirm: input_required with an elicitation form, then the retry with inputResponses completes', async (t) => {
    const srv = await startV2Server({ legacy: 'reject', t });
    const first = await modern(srv.url, 'tools/call', { name: 'confirm', arguments: {} }, { name: 'confirm' });
    assert.equal(first.status, 200);
    const res = first.body.result;
    assert.equal(res.resultType, 'input_required');
    const req = res.inputRequests.confirm;
    assert.equal(req.method, 'elicitation/create');
    assert.match(req.params.message, /^Confirm the \u001b\[31mdeployment/); // server text with an escape
    assert.deepEqual(Object.keys(req.params.requestedSchema.properties), ['name', 'ok']);
    assert.equal(req.params.requestedSchema.properties.name.default, 'Ada');

    const retry = (response) => modern(srv.url, 'tools/call', {
      name: 'confirm', arguments: {}, inputResponses: { confirm: response },
      ...(res.requestState ? { requestState: res.requestState } : {}),
    }, { name: 'confirm' });
    const done = await retry({ action: 'accept', content: { name: 'Grace', ok: true } });
    assert.equal(done.body.result.resultType, 'complete');
    assert.equal(text(done.body.result), 'confirmed: name=Grace ok=true');
    assert.equal(text((await retry({ action: 'decline' })).body.result), 'confirm: decline');
    assert.deepEqual(srv.log().map((e) => e.input_responses), [null, ['confirm'], ['confirm']]);
  });

  test('Host and Origin other than loopback are refused', async (t) => {
    const srv = await startV2Server({ legacy: 'reject', t });
    const evilOrigin = await modern(srv.url, 'server/discover', {}, { headers: { Origin: 'https://evil.example' } });
    assert.equal(evilOrigin.status, 403);
    // fetch() cannot set Host; node:http can.
    const http = await import('node:http');
    const status = await new Promise((resolve, reject) => {
      const r = http.request(srv.url, { method: 'POST', headers: { Host: 'evil.example', 'Content-Type': 'application/json' } },
        (res) => { res.resume(); resolve(res.statusCode); });
      r.on('error', reject);
      r.end('{}');
    });
    assert.equal(status, 403);
  });

  test('--auth bearer: 401 without the token, served with it, the token never logged', async (t) => {
    const token = 'v2-token-6d1f';
    const srv = await startV2Server({ legacy: 'reject', auth: `bearer:${token}`, t });
    const no = await modern(srv.url, 'server/discover');
    assert.equal(no.status, 401);
    assert.match(no.headers.get('www-authenticate'), /^Bearer error="invalid_token"/);
    const yes = await modern(srv.url, 'server/discover', {}, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(yes.status, 200);
    assert.deepEqual(srv.log().map((e) => [e.status, e.auth_present]), [[401, false], [200, true]]);
    assert.ok(!fs.readFileSync(srv.logPath, 'utf8').includes(token));
  });
});

describe('v2server --legacy stateless (dual era)', () => {
  test('a 2025 client (SDK v1) initializes and calls tools; no session id', async (t) => {
    const srv = await startV2Server({ legacy: 'stateless', t });
    const client = await legacyClient(srv.url);
    const tools = await client.listTools();
    assert.deepEqual(tools.tools.map((x) => x.name).sort(), ['add', 'confirm', 'echo', 'headers']);
    assert.equal(text(await client.callTool({ name: 'echo', arguments: { text: 'hi' } })), 'echo: hi');
    await client.close();
    const log = srv.log().filter((e) => e.http_method === 'POST');
    assert.equal(log[0].rpc_method, 'initialize');
    assert.equal(log[0].meta_present, false);
    for (const e of log) assert.equal(e.mcp_session_id, null);
  });

  test('a modern client gets the same tools over 2026-07-28', async (t) => {
    const srv = await startV2Server({ legacy: 'stateless', t });
    const echo = await modern(srv.url, 'tools/call', { name: 'echo', arguments: { text: 'hi' } }, { name: 'echo' });
    assert.equal(text(echo.body.result), 'echo: hi');
  });
});

describe('server-everything (legacy only) on loopback', () => {
  test('binds 127.0.0.1 only, sessionful, refuses a modern request', async (t) => {
    const ev = await startEverything({ t });
    assert.match(ev.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    // Bound to 127.0.0.1 alone: another loopback address on the same port is refused.
    await assert.rejects(fetch(`http://127.0.0.2:${ev.port}/mcp`), (e) => e.cause?.code === 'ECONNREFUSED');
    const r = await modern(ev.url, 'server/discover');
    assert.equal(r.status, 400);
    assert.notEqual(r.body.error.code, -32022); // a legacy error, not a modern one
    const client = await legacyClient(ev.url);
    await client.listTools();
    await client.close();
    const posts = ev.log().filter((e) => e.http_method === 'POST');
    const sid = posts.find((e) => e.response_session_id)?.response_session_id;
    assert.match(sid, /^[0-9a-f-]{36}$/);
    assert.ok(posts.slice(2).every((e) => e.mcp_session_id === sid), JSON.stringify(posts));
  });

  test('echo, trigger-long-running-operation (progress) and trigger-elicitation-request work', async (t) => {
    const ev = await startEverything({ t });
    const asked = [];
    const client = await legacyClient(ev.url, {
      elicit: async (req) => {
        asked.push(req.params);
        return { action: 'accept', content: { name: 'Grace', check: true, integer: 7 } };
      },
    });
    const names = (await client.listTools()).tools.map((x) => x.name);
    for (const n of ['echo', 'trigger-long-running-operation', 'trigger-elicitation-request']) assert.ok(names.includes(n), names.join(','));
    assert.equal(text(await client.callTool({ name: 'echo', arguments: { message: 'hi' } })), 'Echo: hi');

    const progress = [];
    const long = await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.4, steps: 2 } },
      undefined, { onprogress: (p) => progress.push(p.progress) });
    assert.match(text(long), /^Long running operation completed\. Duration: 0\.4 seconds, Steps: 2\./);
    assert.deepEqual(progress, [1, 2]);

    const el = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    assert.equal(asked.length, 1);
    assert.deepEqual(asked[0].requestedSchema.required, ['name']);
    assert.match(text(el), /- Name: Grace/);
    assert.match(text(el), /- Agreed to terms: true/);
    assert.match(text(el), /- Favorite Integer: 7/);
    await client.close();
  });
});
