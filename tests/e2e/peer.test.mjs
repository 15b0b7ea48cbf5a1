// SPDX-License-Identifier: Apache-2.0
// Self-test of the MCP peer (no fracta involved): the SDK's own client talks to
// peers/mcp-server.mjs in every mode, and raw fetch() checks auth enforcement, the request log
// and the rotation file. If this file fails, the fracta e2e failures are not fracta's.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { hmacHeaders } from './peers/hmac.mjs';
import { startServer, tmpdir } from './lib/harness.mjs';

const INIT = {
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

async function post(url, body, headers = {}) {
  const text = JSON.stringify(body);
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: text,
  });
}

async function sdkSession(url, { headers = {}, fetchImpl } = {}) {
  const client = new Client({ name: 'peer-selftest', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers },
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  await client.connect(transport);
  return { client, transport };
}

function text(result) {
  return result.content.map((c) => c.text).join('');
}

describe('mcp peer: transports', () => {
  for (const mode of ['stateful', 'stateless']) {
    for (const json of [false, true]) {
      test(`${mode} ${json ? 'JSON' : 'SSE'}: initialize, tools/list, tools/call`, async (t) => {
        const srv = await startServer(['--mode', mode, ...(json ? ['--json'] : [])], { t });
        const { client } = await sdkSession(srv.url);
        const tools = await client.listTools();
        assert.deepEqual(tools.tools.map((x) => x.name).sort(), ['add', 'echo', 'fail', 'whoami']);
        assert.equal(text(await client.callTool({ name: 'echo', arguments: { text: 'hi' } })), 'echo: hi');
        assert.equal(text(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })), '5');
        assert.equal(text(await client.callTool({ name: 'whoami' })), 'authenticated');
        const fail = await client.callTool({ name: 'fail' });
        assert.equal(fail.isError, true);
        assert.equal(text(fail), 'tool failed on purpose');
        await assert.rejects(client.callTool({ name: 'jsonrpc_error' }), /internal error on purpose/);
        await client.close();

        const log = srv.log();
        const posts = log.filter((e) => e.method === 'POST');
        assert.deepEqual(posts[0].rpc_methods, ['initialize']);
        assert.equal(posts[0].mcp_session_id, null);
        if (mode === 'stateful') {
          const sid = posts[0].response_session_id;
          assert.match(sid, /^[0-9a-f-]{36}$/);
          for (const e of log.slice(1)) assert.equal(e.mcp_session_id, sid, JSON.stringify(e));
        } else {
          for (const e of log) assert.equal(e.response_session_id, null);
        }
        for (const e of posts.slice(1)) assert.ok(e.mcp_protocol_version, JSON.stringify(e));
        for (const e of posts) {
          if (e.rpc_methods[0].startsWith('notifications/')) assert.equal(e.status, 202);
          else assert.equal(e.status, 200);
        }
      });
    }
  }
});

describe('mcp peer: auth enforcement', () => {
  const cases = [
    {
      name: 'bearer', args: ['--auth', 'bearer', '--expect', 'tok-123'],
      good: { Authorization: 'Bearer tok-123' }, bad: { Authorization: 'Bearer nope' }, scheme: /^Bearer error="invalid_token", error_description="/,
    },
    {
      name: 'header', args: ['--auth', 'header', '--header-name', 'X-Api-Key', '--expect', 'k-456'],
      good: { 'X-Api-Key': 'k-456' }, bad: { 'X-Api-Key': 'nope' }, scheme: /^Bearer error="invalid_token", error_description="/,
    },
    {
      name: 'basic', args: ['--auth', 'basic', '--expect', 'alice:pä ss:w'],
      good: { Authorization: `Basic ${Buffer.from('alice:pä ss:w', 'utf8').toString('base64')}` },
      bad: { Authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` },
      scheme: /^Basic realm="mcp", error_description="/,
    },
  ];
  for (const c of cases) {
    test(`${c.name}: good credential passes, missing/wrong ones get 401 without echo`, async (t) => {
      const srv = await startServer(c.args, { t });
      for (const hdrs of [{}, c.bad]) {
        const r = await post(srv.url, INIT, hdrs);
        assert.equal(r.status, 401);
        const www = r.headers.get('www-authenticate');
        assert.match(www, c.scheme);
        const body = await r.json();
        assert.equal(body.error, 'invalid_token');
        assert.ok(body.error_description.length > 5);
        assert.ok(www.includes(body.error_description));
        for (const v of Object.values(hdrs)) assert.ok(!www.includes(v) && !JSON.stringify(body).includes(v));
      }
      const { client } = await sdkSession(srv.url, { headers: c.good });
      assert.equal(text(await client.callTool({ name: 'whoami' })), 'authenticated');
      await client.close();
      const statuses = srv.log().map((e) => e.status);
      assert.deepEqual(statuses.slice(0, 2), [401, 401]);
      assert.ok(statuses.slice(2).every((s) => s < 300), statuses.join(','));
    });
  }

  test('hmac: signed requests pass; unsigned, wrong key, stale date, tampered path are rejected', async (t) => {
    const key = 'hmac-key-789';
    const srv = await startServer(['--auth', 'hmac', '--expect', key], { t });
    const signingFetch = (k, { skewMs = 0, target } = {}) => async (url, init = {}) => {
      const u = new URL(url);
      const method = (init.method ?? 'GET').toUpperCase();
      const body = init.body === undefined ? Buffer.alloc(0) : Buffer.from(init.body);
      const headers = new Headers(init.headers);
      for (const [h, v] of Object.entries(hmacHeaders(k, method, target ?? u.pathname + u.search, body, Date.now() + skewMs))) {
        headers.set(h, v);
      }
      return fetch(url, { ...init, headers });
    };
    const { client } = await sdkSession(srv.url, { fetchImpl: signingFetch(key) });
    assert.equal(text(await client.callTool({ name: 'echo', arguments: { text: 'signed' } })), 'echo: signed');
    await client.close();
    assert.ok(srv.log().every((e) => e.status < 300));

    const reject = async (f, re) => {
      const r = await f(srv.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
        body: JSON.stringify(INIT),
      });
      assert.equal(r.status, 401);
      assert.match(r.headers.get('www-authenticate'), /^Bearer error="invalid_token"/);
      assert.match((await r.json()).error_description, re);
    };
    await reject(fetch, /not signed/);
    await reject(signingFetch('wrong-key'), /signature does not match/);
    await reject(signingFetch(key, { skewMs: -301_000 }), /300 seconds/);
    await reject(signingFetch(key, { target: '/other' }), /signature does not match/);
  });

  test('403 mode answers insufficient_scope', async (t) => {
    const srv = await startServer(['--auth', 'bearer', '--expect', 'x', '--reject-status', '403'], { t });
    const r = await post(srv.url, INIT, { Authorization: 'Bearer y' });
    assert.equal(r.status, 403);
    assert.match(r.headers.get('www-authenticate'), /error="insufficient_scope"/);
  });
});

describe('mcp peer: rotation', () => {
  test('first rejection writes the new value atomically; then only it is accepted', async (t) => {
    const dir = tmpdir();
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'old\n');
    const srv = await startServer(['--auth', 'bearer', '--rotate-file', file, '--rotate-to', 'new'], { t });
    assert.equal((await post(srv.url, INIT, { Authorization: 'Bearer old' })).status, 401);
    assert.equal(fs.readFileSync(file, 'utf8'), 'new\n');
    fs.writeFileSync(file, 'tampered\n');
    assert.equal((await post(srv.url, INIT, { Authorization: 'Bearer other' })).status, 401);
    assert.equal(fs.readFileSync(file, 'utf8'), 'tampered\n', 'rotation happens only once');
    assert.equal((await post(srv.url, INIT, { Authorization: 'Bearer new' })).status, 200);
    assert.deepEqual(fs.readdirSync(dir), ['token'], 'no temp file left behind');
  });

  test('--rotate-still-reject rotates but accepts nothing', async (t) => {
    const dir = tmpdir();
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'old\n');
    const srv = await startServer(['--auth', 'bearer', '--rotate-file', file, '--rotate-to', 'new', '--rotate-still-reject'], { t });
    assert.equal((await post(srv.url, INIT, { Authorization: 'Bearer old' })).status, 401);
    assert.equal(fs.readFileSync(file, 'utf8'), 'new\n');
    assert.equal((await post(srv.url, INIT, { Authorization: 'Bearer new' })).status, 401);
  });
});

describe('mcp peer: lifecycle', () => {
  test('exits when stdin closes', async () => {
    const srv = await startServer([]);
    const t0 = Date.now();
    await srv.stop();
    assert.ok(Date.now() - t0 < 3000);
  });

  test('request log records method, path, credential headers, x- headers, session, status', async (t) => {
    const srv = await startServer(['--mode', 'stateful'], { t });
    await post(`${srv.url}?q=1`, INIT, { Authorization: 'Bearer abc', 'X-Team': 'platform', 'X-Api-Key': 'k' });
    const [e] = srv.log();
    assert.equal(e.method, 'POST');
    assert.equal(e.path, '/mcp?q=1');
    assert.equal(e.authorization, 'Bearer abc');
    assert.deepEqual(e.x_headers, { 'x-team': 'platform', 'x-api-key': 'k' });
    assert.equal(e.mcp_session_id, null);
    assert.equal(e.mcp_protocol_version, null);
    assert.equal(e.status, 200);
    assert.deepEqual(e.rpc_methods, ['initialize']);
  });
});
