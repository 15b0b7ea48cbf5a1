// SPDX-License-Identifier: Apache-2.0
// The embedding example (docs/examples/embed) against real peers of both MCP eras: v2server
// (2026-07-28) and server-everything (2025): its status transitions, tools/list and tools/call
// through request(), the call's progress notifications, post() and close.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  runProgram, serverConfig, show, startEverything, startV2Server, tmpdir, writeConfig,
} from './lib/harness.mjs';

function exampleBin() {
  const bin = process.env.FRACTA_EMBED_EXAMPLE;
  if (!bin) throw new Error('FRACTA_EMBED_EXAMPLE is not set: run with `meson test -C <builddir> e2e-embed`');
  return bin;
}

/** Runs the example (in fracta()'s clean environment); resolves with its output's lines too. */
async function runExample(args, opts = {}) {
  const r = await runProgram(exampleBin(), args, opts);
  return { ...r, lines: r.stdout.split('\n').filter(Boolean) };
}

const statuses = (r) => r.lines.filter((l) => l.startsWith('status: ')).map((l) => l.slice('status: '.length));
const lineAfter = (r, prefix) => r.lines.find((l) => l.startsWith(prefix))?.slice(prefix.length);

describe('the embedding example against v2server (2026-07-28)', () => {
  let srv;
  let cfg;
  before(async () => {
    srv = await startV2Server({ legacy: 'reject', auth: 'bearer:embed-token' });
    cfg = writeConfig(tmpdir(), serverConfig('v2', srv.url, 'type = "bearer"\ntoken = { env = "V2_TOKEN" }'));
  });
  after(() => srv.stop());

  test('--config: starting → ready, the tools listed, add called through request(), post dropped, closed', async () => {
    const r = await runExample(['--config', cfg, 'v2', 'add', '{"a":2,"b":3}'], { env: { V2_TOKEN: 'embed-token' } });
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(statuses(r), ['starting', 'ready'], show(r));
    assert.equal(lineAfter(r, 'era: '), 'modern (2026-07-28)', show(r));
    assert.deepEqual(lineAfter(r, 'tools: ').split(', ').sort(), ['add', 'confirm', 'echo', 'headers'], show(r));
    const result = JSON.parse(lineAfter(r, 'result: '));
    assert.deepEqual(result.content, [{ type: 'text', text: '5' }], show(r));
    assert.ok(r.lines.includes('posted notifications/roots/list_changed'), show(r));
    assert.equal(r.lines.at(-1), 'closed', show(r));
    assert.ok(!r.stdout.includes('embed-token') && !r.stderr.includes('embed-token'), 'the token is never printed');
    // The 2026 wire: no initialize, and the notification was not sent (it has none).
    const methods = srv.log().map((e) => e.rpc_method);
    assert.ok(!methods.includes('initialize'), JSON.stringify(methods));
    assert.ok(!methods.includes('notifications/roots/list_changed'), JSON.stringify(methods));
  });

  test('a refused credential: starting → refreshing → failing, the reason printed, exit 1', async () => {
    const r = await runExample(['--config', cfg, 'v2'], { env: { V2_TOKEN: 'wrong-token' } });
    assert.equal(r.code, 1, show(r));
    const states = statuses(r).map((s) => s.split(' ')[0]);
    assert.deepEqual([states[0], states[1], states.at(-1)], ['starting', 'refreshing', 'failing'], show(r));
    assert.ok(!states.includes('ready'), show(r));
    assert.match(lineAfter(r, 'failed: '), /401|refused|rejected|credential/i, show(r));
    assert.ok(!r.stdout.includes('wrong-token'), show(r));
  });
});

describe('the embedding example against server-everything (2025)', () => {
  let ev;
  before(async () => { ev = await startEverything(); });
  after(() => ev.stop());

  test('--url (configured in code): progress notifications on the call\'s stream, the result, post, close', async () => {
    const r = await runExample(['--url', ev.url, 'trigger-long-running-operation', '{"duration":0.4,"steps":2}']);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(statuses(r), ['starting', 'ready'], show(r));
    assert.match(lineAfter(r, 'era: '), /^legacy \(2025-/, show(r));
    const tools = lineAfter(r, 'tools: ').split(', ');
    for (const n of ['echo', 'get-sum', 'trigger-long-running-operation']) assert.ok(tools.includes(n), show(r));
    const progress = r.lines.filter((l) => l.startsWith('stream: ')).map((l) => JSON.parse(l.slice('stream: '.length)))
      .filter((m) => m.method === 'notifications/progress');
    assert.deepEqual(progress.map((m) => m.params.progress), [1, 2], show(r));
    for (const m of progress) assert.equal(m.params.progressToken, 'embed-1', show(r));
    assert.match(lineAfter(r, 'result: '), /Long running operation completed/, show(r));
    assert.ok(r.lines.includes('posted notifications/roots/list_changed'), show(r));
    assert.equal(r.lines.at(-1), 'closed', show(r));
    // The notification reached the server in the session (a POST answered 202).
    const posts = ev.log().filter((e) => e.http_method === 'POST' && e.status === 202);
    assert.ok(posts.length >= 2, JSON.stringify(ev.log())); // initialized + roots/list_changed (+ answers)
  });
});

test('--offline builds a config in code, an engine and a session, and sends nothing', async () => {
  const r = await runExample(['--offline']);
  assert.equal(r.code, 0, show(r));
  assert.deepEqual(r.lines, ['status: starting', "engine built, session to 'remote' opened; nothing sent"], show(r));
});

test('--help prints the usage; a bad command line exits 2', async () => {
  const h = await runExample(['--help']);
  assert.equal(h.code, 0, show(h));
  assert.match(h.stdout, /^usage: fracta-embed-example --config FILE SERVER/);
  const bad = await runExample(['--config']);
  assert.equal(bad.code, 2, show(bad));
});
