// SPDX-License-Identifier: Apache-2.0
// `fracta gateway`'s /mcp when a 2026-07-28 server asks a question mid-call (input_required) and
// the client speaks 2025 (SDK v1): the gateway puts it to that client as an elicitation request
// on the call's stream, and makes the call again with the answer; a decline reaches the server
// as a decline; a client that did not declare elicitation gets the server's refusal (the gateway
// passes each client's capabilities on), and the other server's calls are not held up meanwhile.
// And what a 2026 server announces on the listen the gateway holds open: a tool-list change and a
// subscribed resource's update reach the 2025 client's GET stream.
// And the other way: a 2025 server (SDK v1) asking during a 2026 client's call parks the call;
// the client gets input_required with a requestState bound to it, and its retry's answer
// reaches the server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ElicitRequestSchema, ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from '@modelcontextprotocol/client';

import {
  serverConfig, startServer, startV2Server, tmpdir, tomlStr, writeConfig,
} from './lib/harness.mjs';
import { startGateway } from './lib/gateway.mjs';
import { modernMeta } from './lib/proxy-host.mjs';

const text = (r) => (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

/** A 2025 client of the gateway's /mcp; `answer(params)` answers each elicitation (none: the
 *  client does not declare the capability). Records what it was asked. */
async function connect(t, url, answer) {
  const asked = [];
  const client = new Client({ name: 'gw-questions', version: '1.0.0' }, { capabilities: answer ? { elicitation: {} } : {} });
  if (answer) {
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params);
      return answer(req.params);
    });
  }
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  t.after(() => client.close());
  return { client, asked, version: () => transport.protocolVersion };
}

describe('gateway: a 2026 server\'s questions to a 2025 client', () => {
  test('asked as elicitation on the call\'s stream; accept and decline reach the server; undeclared is refused', async (t) => {
    const up = await startV2Server({ t });
    const other = await startV2Server({ t });
    const cfg = writeConfig(tmpdir(), `${serverConfig('up', up.url)}\n${serverConfig('other', other.url)}`);
    const gw = await startGateway(t, cfg);
    const ready = await (await fetch(`${gw.base}/readyz`)).json();
    assert.equal(ready.servers.up.era, 'modern', JSON.stringify(ready));

    const yes = await connect(t, gw.url, () => ({ action: 'accept', content: { name: 'Grace', ok: true } }));
    assert.match(yes.version() ?? '', /^2025-/);
    const r = await yes.client.callTool({ name: 'up__confirm', arguments: {} });
    assert.equal(r.isError ?? false, false, JSON.stringify(r));
    assert.equal(text(r), 'confirmed: name=Grace ok=true');
    assert.equal(yes.asked.length, 1);
    assert.match(yes.asked[0].message, /Confirm the/);
    assert.deepEqual(yes.asked[0].requestedSchema.required, ['name', 'ok']);

    const no = await connect(t, gw.url, () => ({ action: 'decline' }));
    assert.equal(text(await no.client.callTool({ name: 'up__confirm', arguments: {} })), 'confirm: decline');

    // While one client is being asked (and has not answered yet), another server's call goes on.
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    const slow = await connect(t, gw.url, async () => {
      await held;
      return { action: 'accept', content: { name: 'Ada', ok: false } };
    });
    const pending = slow.client.callTool({ name: 'up__confirm', arguments: {} });
    const echo = await yes.client.callTool({ name: 'other__echo', arguments: { text: 'meanwhile' } });
    assert.equal(text(echo), 'echo: meanwhile');
    release();
    assert.equal(text(await pending), 'confirmed: name=Ada ok=false');

    // A client without elicitation: the server hears that from the capabilities the gateway
    // passes on, and refuses to ask; the client gets that error, naming what was needed.
    const mute = await connect(t, gw.url, null);
    await assert.rejects(mute.client.callTool({ name: 'up__confirm', arguments: {} }),
      (e) => /elicitation/.test(e.message) && /capabilit/.test(e.message));
    assert.equal(mute.asked.length, 0);
    // The gateway keeps serving that client.
    assert.equal(text(await mute.client.callTool({ name: 'up__echo', arguments: { text: 'still here' } })), 'echo: still here');
  });
});

describe('gateway: a 2026 server\'s announcements to a 2025 client', () => {
  test('tools/list_changed and a subscribed resource\'s update arrive on the client\'s stream', async (t) => {
    const up = await startV2Server({ t, args: ['--proxy-tools'] });
    const cfg = writeConfig(tmpdir(), serverConfig('up', up.url));
    const gw = await startGateway(t, cfg);
    const { client } = await connect(t, gw.url, null);
    assert.equal(client.getServerCapabilities()?.resources?.subscribe, true, JSON.stringify(client.getServerCapabilities()));
    const changed = new Promise((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, resolve));
    const updated = new Promise((resolve) => client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params)));
    assert.deepEqual(await client.subscribeResource({ uri: 'note://one' }), {});
    // The gateway listens again with the new URI; a touch made before that listen is open
    // would be missed, so touch until the update arrives (bounded).
    let got;
    updated.then((p) => { got = p; });
    const deadline = Date.now() + 10_000;
    while (!got && Date.now() < deadline) {
      assert.match(text(await client.callTool({ name: 'up__touch', arguments: {} })), /^touched \d+/);
      await Promise.race([updated, new Promise((r) => setTimeout(r, 200))]);
    }
    assert.equal(got?.uri, 'note://one', 'no notifications/resources/updated within 10 s');
    assert.equal(got._meta?.['io.modelcontextprotocol/subscriptionId'], undefined, 'the upstream listen\'s tag stays upstream');
    assert.equal(text(await client.callTool({ name: 'up__grow', arguments: {} })), 'grown');
    await changed;
    assert.ok((await client.listTools()).tools.some((x) => x.name === 'up__grown'));
    assert.deepEqual(await client.unsubscribeResource({ uri: 'note://one' }), {});
  });
});

describe('gateway: a 2025 server\'s questions to a 2026 client', () => {
  test('an SDK v2 client answers the input_required the gateway mints, and the server sees the answer', async (t) => {
    const up = await startServer(['--mode', 'stateful', '--proxy-tools'], { t });
    const cfg = writeConfig(tmpdir(), serverConfig('up', up.url));
    const gw = await startGateway(t, cfg);
    const asked = [];
    const client = new ClientV2({ name: 'gw-questions-v2', version: '2.0.0' },
      { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: 'auto' } });
    client.setRequestHandler('elicitation/create', async (req) => {
      asked.push(req.params);
      return { action: 'accept', content: { name: 'Grace' } };
    });
    await client.connect(new HttpTransportV2(new URL(gw.url)));
    t.after(() => client.close());
    assert.equal(client.getProtocolEra(), 'modern');
    const r = await client.callTool({ name: 'up__ask', arguments: {} });
    assert.equal(text(r), 'asked: accept Grace', JSON.stringify(r));
    assert.equal(asked.length, 1);
    assert.equal(asked[0].message, 'Your name?');
    // Twice more: each call parks on its own.
    const [a, b] = await Promise.all([client.callTool({ name: 'up__ask', arguments: {} }),
      client.callTool({ name: 'up__ask', arguments: {} })]);
    assert.deepEqual([text(a), text(b)], ['asked: accept Grace', 'asked: accept Grace']);
    assert.equal(asked.length, 3);
  });

  test('the requestState works once, for the caller it was issued to, for the same tool; a forged one is refused', async (t) => {
    const up = await startServer(['--mode', 'stateful', '--proxy-tools'], { t });
    const A = 'front-token-alice-0123456789';
    const B = 'front-token-bob-0123456789';
    const cfg = writeConfig(tmpdir(), `[gateway.auth]\ntokens = [{ value = ${tomlStr(A)} }, { value = ${tomlStr(B)} }]\n\n${serverConfig('up', up.url)}`);
    const gw = await startGateway(t, cfg);
    let id = 0;
    const call = async (token, name, extra = {}) => {
      const res = await fetch(gw.url, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          'MCP-Protocol-Version': '2026-07-28',
          'Mcp-Method': 'tools/call',
          'Mcp-Name': name,
        },
        body: JSON.stringify({
          jsonrpc: '2.0', id: ++id, method: 'tools/call',
          params: { name, arguments: {}, ...extra, _meta: modernMeta({ elicitation: { form: {} } }) },
        }),
      });
      assert.equal(res.status, 200);
      const body = await res.text();
      const json = body.startsWith('{') ? JSON.parse(body)
        : JSON.parse(body.split('\n').filter((l) => l.startsWith('data: ')).pop().slice(6));
      return json;
    };
    const first = await call(A, 'up__ask');
    assert.equal(first.result?.resultType, 'input_required', JSON.stringify(first));
    const [key, question] = Object.entries(first.result.inputRequests)[0];
    assert.equal(question.method, 'elicitation/create');
    assert.equal(question.params.message, 'Your name?');
    const state = first.result.requestState;
    assert.match(state, /^fracta-gw\.[0-9a-f]{32}$/);
    const answer = { inputResponses: { [key]: { action: 'accept', content: { name: 'Ada' } } }, requestState: state };

    // Another caller, another tool, a forged handle: refused, and the parked call is kept.
    for (const [token, name, extra] of [[B, 'up__ask', answer], [A, 'up__echo', answer],
      [A, 'up__ask', { ...answer, requestState: `fracta-gw.${'0'.repeat(32)}` }]]) {
      const r = await call(token, name, extra);
      assert.equal(r.error?.code, -32602, JSON.stringify(r));
      assert.match(r.error.message, /requestState/);
    }
    const done = await call(A, 'up__ask', answer);
    assert.equal(text(done.result ?? {}), 'asked: accept Ada', JSON.stringify(done));
    assert.equal(done.result.resultType, 'complete');
    // Used once: a replay is refused.
    const again = await call(A, 'up__ask', answer);
    assert.equal(again.error?.code, -32602, JSON.stringify(again));
  });
});
