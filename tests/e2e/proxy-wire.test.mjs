// SPDX-License-Identifier: Apache-2.0
// `fracta proxy` on the wire, from a raw stdio host: what the SDK hosts hide. The synthesised
// server/discover and modern result fields for a 2026 host on a 2025 server, request ids of
// both types never confused, no request a host did not declare a capability for (none at all
// for a 2026 host), subscriptions/listen on a 2025 server, ping and logging/setLevel on a 2026
// server, only JSON-RPC on stdout, and stdin EOF ending the process (calls in flight answer
// first; what only the host could end is ended).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { closedPort, serverConfig, tmpdir, writeConfig } from './lib/harness.mjs';
import { modernMeta, startRawProxy, waitFor } from './lib/proxy-host.mjs';
import { MODERN, UPSTREAMS, events, startUpstream } from './lib/proxy-matrix.mjs';

const [V2_REJECT, , EVERYTHING, V1_SERVER] = UPSTREAMS;
const EOF_DEADLINE_MS = 5000;

const isRequest = (m) => m.method !== undefined && m.id !== undefined;

/** A raw proxy whose host has done the 2025 handshake with `capabilities`. */
async function legacyHost(cfg, capabilities = {}) {
  const p = startRawProxy(cfg, 'up');
  const init = await p.request(0, 'initialize', {
    protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'raw-2025-host', version: '1' },
  });
  assert.ok(init.result, p.transcript());
  p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return { p, init: init.result };
}

/** tools/call params for a 2026 host. */
const modernCall = (name, args, caps = {}) => ({ name, arguments: args, _meta: modernMeta(caps) });

/** Asserts stdout held only JSON-RPC messages and no request at all. */
function assertCleanStdout(p, { noRequests = false } = {}) {
  assert.deepEqual(p.badLines, [], p.transcript());
  if (noRequests) assert.deepEqual(p.messages.filter(isRequest), [], p.transcript());
}

describe('fracta proxy on the wire: a 2026 host on a 2025 server (server-everything)', () => {
  test('server/discover is synthesised: versions, capabilities, serverInfo, resultType, ttlMs, cacheScope', async () => {
    const { cfg } = await startUpstream(EVERYTHING);
    const p = startRawProxy(cfg, 'up');
    const d = await p.request('d', 'server/discover', { _meta: modernMeta() });
    assert.ok(d.result, p.transcript());
    assert.deepEqual(d.result.supportedVersions, [MODERN]);
    assert.ok(d.result.capabilities?.tools, JSON.stringify(d.result));
    assert.equal(d.result.resultType, 'complete');
    assert.equal(d.result.ttlMs, 0);
    assert.equal(d.result.cacheScope, 'private');
    assert.equal(d.result._meta?.['io.modelcontextprotocol/serverInfo']?.name, EVERYTHING.serverName);
    const list = await p.request(1, 'tools/list', { _meta: modernMeta() });
    assert.equal(list.result?.resultType, 'complete', JSON.stringify(list));
    assert.equal(list.result.ttlMs, 0);
    assert.equal(list.result.cacheScope, 'private');
    const call = await p.request(2, 'tools/call', modernCall('echo', { message: 'x' }));
    assert.equal(call.result?.resultType, 'complete', JSON.stringify(call));
    assert.equal(call.result.content[0].text, 'Echo: x');
    assert.equal('ttlMs' in call.result, false, 'a tools/call result carries no caching hints');
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p, { noRequests: true });
  });

  test('a version the bridge does not speak gets -32022 with the supported versions (stdio: the JSON-RPC error alone)', async () => {
    const { cfg } = await startUpstream(EVERYTHING);
    const p = startRawProxy(cfg, 'up');
    const meta = modernMeta({}, { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' });
    const d = await p.request('d', 'server/discover', { _meta: meta });
    assert.equal(d.error?.code, -32022, JSON.stringify(d));
    assert.ok(d.error.data?.supported?.includes(MODERN), JSON.stringify(d));
    assert.equal(d.error.data?.requested, '2099-01-01');
    // The era is decided (2026): a request without the protocol's _meta is invalid params.
    const bare = await p.request('bare', 'tools/list', {});
    assert.equal(bare.error?.code, -32602, JSON.stringify(bare));
    const ok = await p.request('ok', 'tools/list', { _meta: modernMeta() });
    assert.ok(ok.result?.tools, JSON.stringify(ok));
    assert.equal((await p.end()).code, 0);
  });

  test('an elicitation becomes input_required (never a request on stdout); the retry completes the call', async () => {
    const { srv, cfg } = await startUpstream(EVERYTHING);
    const p = startRawProxy(cfg, 'up');
    const caps = { elicitation: { form: {} }, roots: { listChanged: true } };
    await p.request('d', 'server/discover', { _meta: modernMeta(caps) });
    const first = await p.request('e1', 'tools/call', modernCall('trigger-elicitation-request', {}, caps));
    assert.equal(first.result?.resultType, 'input_required', JSON.stringify(first));
    const keys = Object.keys(first.result.inputRequests ?? {});
    assert.equal(keys.length, 1, JSON.stringify(first.result));
    assert.equal(first.result.inputRequests[keys[0]].method, 'elicitation/create');
    assert.equal(typeof first.result.requestState, 'string');
    const retry = await p.request('e2', 'tools/call', {
      ...modernCall('trigger-elicitation-request', {}, caps),
      inputResponses: { [keys[0]]: { action: 'accept', content: { name: 'Grace' } } },
      requestState: first.result.requestState,
    });
    assert.equal(retry.result?.resultType, 'complete', JSON.stringify(retry));
    assert.ok(retry.result.content.some((c) => c.text.includes('- Name: Grace')), JSON.stringify(retry.result));
    // server-everything asks a host that declared roots for roots/list, outside any call: the
    // bridge refuses it for a 2026 host (the server says so), and stdout never sees it.
    await waitFor(() => srv.stderr().includes('Failed to request roots'), 'server-everything was refused roots/list');
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p, { noRequests: true });
  });
});

describe('fracta proxy on the wire: a 2026 host on a 2025 server asking (SDK v1 server)', () => {
  test('two calls asked at once get their own requestState; retried in reverse order, each gets its answer', async () => {
    const { cfg } = await startUpstream(V1_SERVER);
    const p = startRawProxy(cfg, 'up');
    const caps = { elicitation: { form: {} } };
    await p.request('d', 'server/discover', { _meta: modernMeta(caps) });
    p.send({ jsonrpc: '2.0', id: 'a1', method: 'tools/call', params: modernCall('ask', {}, caps) });
    p.send({ jsonrpc: '2.0', id: 'b1', method: 'tools/call', params: modernCall('ask', {}, caps) });
    const [a, b] = [await p.response('a1'), await p.response('b1')];
    for (const x of [a, b]) assert.equal(x.result?.resultType, 'input_required', JSON.stringify(x));
    assert.notEqual(a.result.requestState, b.result.requestState);
    const retry = (id, first, name) => p.request(id, 'tools/call', {
      ...modernCall('ask', {}, caps),
      inputResponses: Object.fromEntries(Object.keys(first.result.inputRequests).map((k) => [k, { action: 'accept', content: { name } }])),
      requestState: first.result.requestState,
    });
    const b2 = await retry('b2', b, 'Bea');
    const a2 = await retry('a2', a, 'Al');
    assert.equal(b2.result?.content?.[0]?.text, 'asked: accept Bea', JSON.stringify(b2));
    assert.equal(a2.result?.content?.[0]?.text, 'asked: accept Al', JSON.stringify(a2));
    assert.equal(a2.result.resultType, 'complete');
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p, { noRequests: true });
  });
});

describe('fracta proxy on the wire: subscriptions/listen on a 2025 server (SDK v1 server)', () => {
  test('the ack names the listen id and the accepted filter; list changes carry the subscriptionId', async () => {
    const { cfg } = await startUpstream(V1_SERVER);
    const p = startRawProxy(cfg, 'up');
    await p.request('d', 'server/discover', { _meta: modernMeta() });
    // A listen for nothing: it must hear none of what follows.
    p.send({ jsonrpc: '2.0', id: 0, method: 'subscriptions/listen', params: { _meta: modernMeta(), notifications: {} } });
    const none = await p.next((m) => m.method === 'notifications/subscriptions/acknowledged', 'the first listen ack');
    assert.deepEqual(none.params.notifications, {});
    p.send({
      jsonrpc: '2.0', id: 'sub-1', method: 'subscriptions/listen',
      params: { _meta: modernMeta(), notifications: { toolsListChanged: true, promptsListChanged: true } },
    });
    const ack = await p.next((m) => m.method === 'notifications/subscriptions/acknowledged', 'the listen ack');
    assert.equal(ack.params._meta?.['io.modelcontextprotocol/subscriptionId'], 'sub-1', JSON.stringify(ack));
    assert.deepEqual(ack.params.notifications, { toolsListChanged: true }, 'prompts: the server has none to change');
    const grown = await p.request(1, 'tools/call', modernCall('grow', {}));
    assert.equal(grown.result?.content?.[0]?.text, 'grown', JSON.stringify(grown));
    const changed = await p.next((m) => m.method === 'notifications/tools/list_changed', 'tools/list_changed');
    assert.equal(changed.params?._meta?.['io.modelcontextprotocol/subscriptionId'], 'sub-1', JSON.stringify(changed));
    // The bridge fans a notification out to every listener at once: the other is already written if ever.
    assert.deepEqual(p.messages.filter((m) => m.method === 'notifications/tools/list_changed').length, 1, p.transcript());
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p, { noRequests: true });
  });
});

describe('fracta proxy on the wire: resource subscriptions through subscriptions/listen on a 2025 server', () => {
  test('the bridge subscribes upstream, acks the URI, and tags the resources/updated it passes on', async () => {
    const { srv, cfg } = await startUpstream(V1_SERVER);
    const p = startRawProxy(cfg, 'up');
    await p.request('d', 'server/discover', { _meta: modernMeta() });
    p.send({
      jsonrpc: '2.0', id: 'res', method: 'subscriptions/listen',
      params: { _meta: modernMeta(), notifications: { resourceSubscriptions: ['note://one'] } },
    });
    const ack = await p.next((m) => m.method === 'notifications/subscriptions/acknowledged', 'the listen ack');
    assert.deepEqual(ack.params.notifications, { resourceSubscriptions: ['note://one'] });
    assert.ok(events(srv, 'subscribed').some((e) => e.uri === 'note://one'), 'resources/subscribe reached the server');
    const touched = await p.request(1, 'tools/call', modernCall('touch', {}));
    assert.equal(touched.result?.content?.[0]?.text, 'touched 1', JSON.stringify(touched));
    const updated = await p.next((m) => m.method === 'notifications/resources/updated', 'resources/updated');
    assert.equal(updated.params.uri, 'note://one');
    assert.equal(updated.params._meta?.['io.modelcontextprotocol/subscriptionId'], 'res', JSON.stringify(updated));
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p, { noRequests: true });
  });
});

describe('fracta proxy on the wire: a 2025 host', () => {
  test('on a 2026-only server, ping and logging/setLevel are answered; results come without 2026 fields', async () => {
    const { srv, cfg } = await startUpstream(V2_REJECT);
    const { p, init } = await legacyHost(cfg);
    assert.equal(init.protocolVersion, '2025-06-18');
    assert.equal(init.serverInfo?.name, V2_REJECT.serverName);
    for (const k of ['supportedVersions', 'resultType', 'ttlMs', 'cacheScope']) assert.equal(k in init, false, k);
    const list = await p.request('l', 'tools/list', {});
    const call = await p.request('c', 'tools/call', { name: 'echo', arguments: { text: 'x' } });
    assert.equal(call.result?.content?.[0]?.text, 'echo: x');
    for (const r of [list.result, call.result]) {
      for (const k of ['resultType', 'ttlMs', 'cacheScope']) assert.equal(k in r, false, `${k} in ${JSON.stringify(r).slice(0, 200)}`);
      assert.deepEqual(Object.keys(r._meta ?? {}).filter((k) => k.startsWith('io.modelcontextprotocol/')), []);
    }
    assert.deepEqual((await p.request('ping-1', 'ping')).result, {});
    assert.deepEqual((await p.request(7, 'logging/setLevel', { level: 'debug' })).result, {});
    assert.ok(!srv.log().some((e) => e.rpc_method === 'ping' || e.rpc_method === 'logging/setLevel'),
      'neither went to the server (the 2026 wire has neither)');
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p);
  });

  for (const u of [V2_REJECT, EVERYTHING]) {
    test(`that declared no capabilities never sees a request on stdout (${u.title})`, async () => {
      const { cfg } = await startUpstream(u);
      const { p } = await legacyHost(cfg, {});
      const list = await p.request(1, 'tools/list', {});
      assert.ok(list.result?.tools, p.transcript());
      if (u === V2_REJECT) {
        // The MRTR tool needs elicitation: the server refuses it (-32021) rather than ask.
        const r = await p.request(2, 'tools/call', { name: 'confirm', arguments: {} });
        assert.ok(r.error || r.result?.isError, JSON.stringify(r));
      } else {
        assert.ok(!list.result.tools.some((t) => t.name === 'trigger-elicitation-request'), 'offered only with elicitation');
      }
      const echo = await p.request(3, 'tools/call', { name: u.echo.name, arguments: u.echo.args });
      assert.equal(echo.result?.content?.[0]?.text, u.echo.text);
      assert.equal((await p.end()).code, 0);
      assertCleanStdout(p, { noRequests: true });
    });
  }
});

describe('fracta proxy on the wire: a 2025 host asked by a 2026 server (input_required → its request)', () => {
  /** The host calls confirm and receives the bridge's elicitation/create, unanswered. */
  async function asked() {
    const { srv, cfg } = await startUpstream(V2_REJECT);
    const { p } = await legacyHost(cfg, { elicitation: {} });
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'confirm', arguments: {} } });
    const q = await p.next((m) => m.method === 'elicitation/create', 'the bridge\'s elicitation/create');
    assert.equal(typeof q.id, 'string', 'the bridge asks with ids of its own');
    return { srv, p, q };
  }

  test('the host\'s answer completes the call', async () => {
    const { p, q } = await asked();
    p.send({ jsonrpc: '2.0', id: q.id, result: { action: 'accept', content: { name: 'Ada', ok: true } } });
    const r = await p.response(1);
    assert.equal(r.result?.content?.[0]?.text, 'confirmed: name=Ada ok=true', JSON.stringify(r));
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p);
  });

  test('two calls asked at once: each answer goes to its own call (answered in reverse order)', async () => {
    const { cfg } = await startUpstream(V2_REJECT);
    const { p } = await legacyHost(cfg, { elicitation: {} });
    p.send({ jsonrpc: '2.0', id: 'one', method: 'tools/call', params: { name: 'confirm', arguments: {} } });
    const q1 = await p.next((m) => m.method === 'elicitation/create', 'the first elicitation/create');
    p.send({ jsonrpc: '2.0', id: 'two', method: 'tools/call', params: { name: 'confirm', arguments: {} } });
    const q2 = await p.next((m) => m.method === 'elicitation/create', 'the second elicitation/create');
    assert.notEqual(q1.id, q2.id);
    p.send({ jsonrpc: '2.0', id: q2.id, result: { action: 'accept', content: { name: 'Two', ok: true } } });
    p.send({ jsonrpc: '2.0', id: q1.id, result: { action: 'accept', content: { name: 'One', ok: false } } });
    assert.equal((await p.response('two')).result?.content?.[0]?.text, 'confirmed: name=Two ok=true');
    assert.equal((await p.response('one')).result?.content?.[0]?.text, 'confirmed: name=One ok=false');
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p);
  });

  test('a server asking for what the host did not declare (sampling) is not put to the host', async () => {
    const { cfg } = await startUpstream(V2_REJECT);
    const { p } = await legacyHost(cfg, { elicitation: {} });
    const r = await p.request(1, 'tools/call', { name: 'pushy', arguments: {} }, 3000);
    assert.ok(r.error || r.result?.isError, JSON.stringify(r));
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p, { noRequests: true });
  });

  test('stdin EOF while the host is asked still ends the proxy with exit 0 in time', async () => {
    const { p } = await asked();
    const r = await p.end(EOF_DEADLINE_MS + 500);
    assert.equal(r.code, 0, p.transcript());
    assert.ok(r.ms < EOF_DEADLINE_MS, `exited after ${r.ms} ms`);
  });

  test('cancelling the call while the host is asked ends it: no answer, and EOF exits in time', async () => {
    const { p } = await asked();
    p.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    // Another call still works and is answered, the cancelled one never is.
    const echo = await p.request(2, 'tools/call', { name: 'echo', arguments: { text: 'after' } });
    assert.equal(echo.result?.content?.[0]?.text, 'echo: after');
    const r = await p.end(EOF_DEADLINE_MS + 500);
    assert.equal(r.code, 0, p.transcript());
    assert.ok(r.ms < EOF_DEADLINE_MS, `exited after ${r.ms} ms`);
    assert.deepEqual(p.messages.filter((m) => m.id === 1 && m.method === undefined), [], 'a cancelled call gets no answer');
  });
});

describe('fracta proxy on the wire: tools/list from a 2026 server', () => {
  test('a tool with an invalid x-mcp-header is not passed down, to either era\'s host', async () => {
    const { srv, cfg } = await startUpstream(V2_REJECT);
    const { p } = await legacyHost(cfg);
    const legacy = (await p.request(1, 'tools/list', {})).result?.tools?.map((t) => t.name) ?? [];
    assert.equal((await p.end()).code, 0);
    assert.match(p.stderr(), /leaving out tool 'bad_header'/, 'the person hears why, on stderr');
    assertCleanStdout(p);
    const q = startRawProxy(cfg, 'up');
    const modern = (await q.request(1, 'tools/list', { _meta: modernMeta() })).result?.tools?.map((t) => t.name) ?? [];
    assert.equal((await q.end()).code, 0);
    for (const names of [legacy, modern]) {
      assert.ok(names.includes('headers'), `a valid x-mcp-header tool stays: ${names}`);
      assert.ok(!names.includes('bad_header'), `bad_header passed down: ${names}`);
    }
    // The server itself does offer it.
    const direct = await fetch(srv.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: modernMeta() } }),
    });
    assert.ok((await direct.json()).result.tools.some((t) => t.name === 'bad_header'));
  });
});

describe('fracta proxy on the wire: progress', () => {
  for (const u of [V2_REJECT, EVERYTHING]) {
    for (const era of ['legacy', 'modern']) {
      test(`a call's progress notifications all come before its answer, with the host's token (${era} host, ${u.title})`, async () => {
        const { cfg } = await startUpstream(u);
        let p;
        let params = { name: u.progress.name, arguments: u.progress.args, _meta: { progressToken: 'tok-1' } };
        if (era === 'modern') {
          p = startRawProxy(cfg, 'up');
          await p.request('probe', 'server/discover', { _meta: modernMeta() });
          params = { ...params, _meta: modernMeta({}, { progressToken: 'tok-1' }) };
        } else {
          ({ p } = await legacyHost(cfg));
        }
        const answer = await p.request(7, 'tools/call', params);
        assert.equal(answer.result?.content?.[0]?.text, u.progress.text, JSON.stringify(answer));
        const at = p.messages.indexOf(answer);
        const progress = p.messages.filter((m) => m.method === 'notifications/progress');
        assert.deepEqual(progress.map((m) => [m.params.progressToken, m.params.progress]),
          Array.from({ length: u.progress.steps }, (_, i) => ['tok-1', i + 1]), p.transcript());
        assert.ok(progress.every((m) => p.messages.indexOf(m) < at), `progress after the answer:\n${p.transcript()}`);
        assert.equal((await p.end()).code, 0);
        assertCleanStdout(p, { noRequests: true });
      });
    }
  }
});

describe('fracta proxy on the wire: a 2025 server cancelling what it asked (SDK v1 server)', () => {
  test('its notifications/cancelled reaches the 2025 host under the bridge\'s id for the request', async () => {
    const { cfg } = await startUpstream(V1_SERVER);
    const { p } = await legacyHost(cfg, { elicitation: {} });
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ask', arguments: { timeoutMs: 300 } } });
    const q = await p.next((m) => m.method === 'elicitation/create', 'the elicitation/create');
    const cancelled = await p.next((m) => m.method === 'notifications/cancelled', 'the server\'s cancellation');
    assert.equal(cancelled.params?.requestId, q.id, JSON.stringify(cancelled));
    const r = await p.response(1);
    assert.ok(r.result?.isError || r.error, JSON.stringify(r));
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p);
  });
});

describe('fracta proxy on the wire: request ids', () => {
  const cases = [
    { u: V2_REJECT, era: 'modern' },
    { u: V1_SERVER, era: 'legacy' },
    { u: V1_SERVER, era: 'modern' },
  ];
  for (const { u, era } of cases) {
    test(`string and number ids ("1" and 1 too) get their own answers, interleaved (${era} host, ${u.title})`, async () => {
      const { cfg } = await startUpstream(u);
      let p;
      let call;
      if (era === 'modern') {
        p = startRawProxy(cfg, 'up');
        await p.request('probe', 'server/discover', { _meta: modernMeta() });
        call = (args) => modernCall('slow', args);
      } else {
        ({ p } = await legacyHost(cfg));
        call = (args) => ({ name: 'slow', arguments: args });
      }
      // 'a' is sent first and answered last: the others overtake it.
      const sent = [['a', 800], [1, 1], ['1', 2], [2, 3], ['b-2', 4]];
      for (const [id, ms] of sent) p.send({ jsonrpc: '2.0', id, method: 'tools/call', params: call({ ms }) });
      const answers = await Promise.all(sent.map(([id]) => p.response(id)));
      for (let i = 0; i < sent.length; i += 1) {
        assert.equal(answers[i].result?.content?.[0]?.text, `slow done ${sent[i][1]}`, JSON.stringify(answers[i]));
      }
      // One answer per request, the slow first one last.
      const order = p.messages.filter((m) => m.method === undefined && m.id !== 'probe' && m.id !== 0).map((m) => m.id);
      assert.equal(order.length, sent.length, JSON.stringify(order));
      assert.equal(order.at(-1), 'a', JSON.stringify(order));
      assert.equal((await p.end()).code, 0);
      assertCleanStdout(p);
    });
  }
});

describe('fracta proxy on the wire: stdio hygiene', () => {
  test('a line that is not JSON is answered -32700 on stdout; stdout never carries anything but JSON-RPC', async () => {
    const { cfg } = await startUpstream(V2_REJECT);
    const p = startRawProxy(cfg, 'up');
    p.sendLine('this is not json');
    const err = await p.next((m) => m.error?.code === -32700, 'the parse error');
    assert.equal(err.id, null);
    const d = await p.request(1, 'server/discover', { _meta: modernMeta() });
    assert.ok(d.result, p.transcript());
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p, { noRequests: true });
  });

  test('framing: a message split across writes, several in one write, CRLF endings and a 1 MiB message', async () => {
    const { cfg } = await startUpstream(V2_REJECT);
    const { p } = await legacyHost(cfg);
    const call = (id, text) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });
    const split = call('split', 'in two');
    p.write(split.slice(0, 20));
    p.write(`${split.slice(20)}\n`);
    p.write(`${call('many-1', 'a')}\n${call('many-2', 'b')}\r\n${call('many-3', 'c')}\n`);
    const big = 'x'.repeat(1024 * 1024);
    p.write(`${call('big', big)}\n`);
    assert.equal((await p.response('split')).result?.content?.[0]?.text, 'echo: in two');
    for (const [id, t] of [['many-1', 'a'], ['many-2', 'b'], ['many-3', 'c']]) {
      assert.equal((await p.response(id)).result?.content?.[0]?.text, `echo: ${t}`);
    }
    assert.equal((await p.response('big')).result?.content?.[0]?.text, `echo: ${big}`);
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p);
  });

  test('stdin EOF ends what only the host could end: its subscription and a call awaiting its retry', async () => {
    const { cfg } = await startUpstream(V1_SERVER);
    const p = startRawProxy(cfg, 'up');
    const caps = { elicitation: { form: {} } };
    await p.request('d', 'server/discover', { _meta: modernMeta(caps) });
    p.send({ jsonrpc: '2.0', id: 'sub', method: 'subscriptions/listen', params: { _meta: modernMeta(caps), notifications: { toolsListChanged: true } } });
    await p.next((m) => m.method === 'notifications/subscriptions/acknowledged', 'the listen ack');
    const asked = await p.request('q', 'tools/call', modernCall('ask', {}, caps));
    assert.equal(asked.result?.resultType, 'input_required', JSON.stringify(asked));
    const r = await p.end(EOF_DEADLINE_MS * 2);
    assert.equal(r.code, 0, p.transcript());
    assert.ok(r.ms < EOF_DEADLINE_MS, `exited after ${r.ms} ms`);
    assertCleanStdout(p, { noRequests: true });
  });

  test('stdin EOF with a 2026 server\'s subscription open ends it and exits in time', async () => {
    const { cfg } = await startUpstream(V2_REJECT);
    const p = startRawProxy(cfg, 'up');
    await p.request('d', 'server/discover', { _meta: modernMeta() });
    p.send({ jsonrpc: '2.0', id: 'sub', method: 'subscriptions/listen', params: { _meta: modernMeta(), notifications: { toolsListChanged: true } } });
    const ack = await p.next((m) => m.method === 'notifications/subscriptions/acknowledged', 'the listen ack');
    assert.equal(ack.params?._meta?.['io.modelcontextprotocol/subscriptionId'], 'sub', JSON.stringify(ack));
    const r = await p.end(EOF_DEADLINE_MS * 2);
    assert.equal(r.code, 0, p.transcript());
    assert.ok(r.ms < EOF_DEADLINE_MS, `exited after ${r.ms} ms`);
    assertCleanStdout(p, { noRequests: true });
  });

  test('a line over the 64 MiB limit is dropped with -32600 on stdout, and the next message is served', async () => {
    const { cfg } = await startUpstream(V2_REJECT);
    const { p } = await legacyHost(cfg);
    p.write(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${'y'.repeat(65 * 1024 * 1024)}"}}}\n`);
    const dropped = await p.next((m) => m.error?.code === -32600, 'the oversize error', 30_000);
    assert.equal(dropped.id, null);
    assert.match(dropped.error.message, /over the limit/);
    const after = await p.request(2, 'tools/call', { name: 'echo', arguments: { text: 'after' } });
    assert.equal(after.result?.content?.[0]?.text, 'echo: after');
    assert.equal(p.messages.filter((m) => m.id === 1).length, 0, 'the dropped request is not answered');
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p);
  });

  test('an unreachable server: every request gets a JSON-RPC error naming the server, and EOF exits 0', async () => {
    const cfg = writeConfig(tmpdir(), serverConfig('up', `http://127.0.0.1:${await closedPort()}/mcp`));
    const p = startRawProxy(cfg, 'up');
    const init = await p.request(0, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'h', version: '1' } });
    assert.match(init.error?.message ?? '', /server 'up'/, JSON.stringify(init));
    const list = await p.request(1, 'tools/list', {});
    assert.ok(list.error, JSON.stringify(list));
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p, { noRequests: true });
  });

  test('the server going away: requests get JSON-RPC errors, stderr says why, EOF exits 0', async () => {
    const { srv, cfg } = await startUpstream(V2_REJECT);
    const { p } = await legacyHost(cfg);
    await waitFor(() => srv.log().some((e) => e.rpc_method === 'subscriptions/listen'), 'the bridge listened for the host');
    srv.kill();
    await waitFor(() => /subscription stream ended/.test(p.stderr()), 'stderr telling the stream ended');
    const r = await p.request(1, 'tools/list', {});
    assert.match(r.error?.message ?? '', /server 'up'/, JSON.stringify(r));
    assert.equal((await p.end()).code, 0);
    assertCleanStdout(p, { noRequests: true });
  });

  for (const u of [V2_REJECT, V1_SERVER]) {
    test(`stdin EOF: the call in flight still answers (a piped script reads it), then exit 0 (${u.title})`, async () => {
      const { srv, cfg } = await startUpstream(u);
      const { p } = await legacyHost(cfg);
      p.send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'slow', arguments: { ms: 800 } } });
      await waitFor(() => events(srv, 'started').length > 0, 'the slow call started');
      const r = await p.end(EOF_DEADLINE_MS * 2);
      assert.equal(r.code, 0, p.transcript());
      assert.ok(r.ms < EOF_DEADLINE_MS, `exited after ${r.ms} ms`);
      const answer = p.messages.find((m) => m.id === 9 && m.method === undefined);
      assert.equal(answer?.result?.content?.[0]?.text, 'slow done 800', p.transcript());
      assert.deepEqual(events(srv, u.slow.cancelledEvent), [], 'nothing was cancelled');
      assertCleanStdout(p);
    });
  }
});
