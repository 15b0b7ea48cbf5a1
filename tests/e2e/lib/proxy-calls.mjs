// SPDX-License-Identifier: Apache-2.0
// The tests both SDK hosts run through `fracta proxy` against one upstream: tools/list,
// tools/call, progress, elicitation, concurrent calls and cancellation seen by the server
// (connectedTo starts the upstream and the host for a describe).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { waitFor } from './proxy-host.mjs';
import { assertProgress, events, resultText, startUpstream } from './proxy-matrix.mjs';

/** Within a describe: starts upstream `u` and connects a host with `connect(cfg)` before its
 *  tests, closes the host after them. Returns the context the tests read: { up, host }. */
export function connectedTo(u, connect) {
  const ctx = {};
  before(async () => {
    ctx.up = await startUpstream(u);
    ctx.host = await connect(ctx.up.cfg);
  });
  after(async () => {
    await ctx.host?.client.close();
  });
  return ctx;
}

/**
 * Registers the shared tests for upstream `u` (see proxy-matrix.mjs). `ctx.up` is the started
 * upstream ({srv, cfg}) and `ctx.host` the connected host: { client (listTools),
 * call(name, args, {onprogress, signal}) → CallToolResult, seen.elicitations }, both set in a
 * `before` hook.
 */
export function sharedCallTests(u, ctx) {
  test('tools/list gives the server\'s tools', async () => {
    const { tools } = await ctx.host.client.listTools();
    const names = tools.map((t) => t.name);
    for (const n of u.tools) assert.ok(names.includes(n), `${n} missing from ${names}`);
  });

  test('tools/call answers with the tool\'s text', async () => {
    const r = await ctx.host.call(u.echo.name, u.echo.args);
    assert.equal(resultText(r), u.echo.text);
  });

  if (u.progress) {
    test('a progress-reporting tool\'s notifications reach onprogress', async () => {
      const got = [];
      const r = await ctx.host.call(u.progress.name, u.progress.args, { onprogress: (p) => got.push(p) });
      assert.equal(resultText(r), u.progress.text);
      // The SDKs over stdio handle a notification a microtask after a response read in the same
      // chunk, and drop progress that comes with the answer: at least the first one reaches
      // onprogress, in order; proxy-wire checks that all come before the answer.
      assertProgress(got, u.progress.steps);
    });
  }

  test('an elicitation is answered by the host\'s handler and the tool sees the answer', async () => {
    const before = ctx.host.seen.elicitations.length;
    const r = await ctx.host.call(u.elicit.name, {});
    assert.equal(ctx.host.seen.elicitations.length, before + 1, 'the host was asked once');
    assert.ok(resultText(r).includes(u.elicit.text), resultText(r));
  });

  test('concurrent calls get their own answers, whatever order they finish in', async () => {
    const calls = [ctx.host.call(u.echo.name, u.echo.args)];
    if (u.slow) for (const ms of [400, 200, 0]) calls.push(ctx.host.call(u.slow.name, { ms }));
    const texts = (await Promise.all(calls)).map(resultText);
    assert.deepEqual(texts, [u.echo.text, ...(u.slow ? ['slow done 400', 'slow done 200', 'slow done 0'] : [])]);
  });

  if (u.slow) {
    test('cancelling a slow call (AbortSignal) reaches the server', async () => {
      const { srv } = ctx.up;
      const started = events(srv, 'started').length;
      const abort = new AbortController();
      const call = ctx.host.call(u.slow.name, { ms: 30_000 }, { signal: abort.signal });
      await waitFor(() => events(srv, 'started').length > started, 'the slow call started on the server');
      const { rpc_id: upstreamId } = events(srv, 'started').at(-1);
      abort.abort('the host gave up');
      await assert.rejects(call);
      // The server's own request (its id, not the host's) is the one cancelled.
      await waitFor(() => events(srv, u.slow.cancelledEvent).some((e) => e.rpc_id === upstreamId),
        `the server logged ${u.slow.cancelledEvent} for its request ${upstreamId}`);
    });
  }
}
