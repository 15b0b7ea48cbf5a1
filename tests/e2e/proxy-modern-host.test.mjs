// SPDX-License-Identifier: Apache-2.0
// `fracta proxy` driven by a 2026-07-28 host: the TS SDK v2 Client (versionNegotiation auto,
// StdioClientTransport; it probes with server/discover) against a 2026-07-28-only server, a
// dual-era one, server-everything and our SDK v1 server: handshake, tools/list, tools/call,
// progress, elicitation (MRTR, or the bridge's input_required shim for a 2025 server),
// cancellation seen by the server, tools/list_changed through subscriptions/listen.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

import { proxyCommand, waitFor } from './lib/proxy-host.mjs';
import {
  MODERN, UPSTREAMS, answerForm, assertProgress, events, eventually, resultText, startUpstream,
} from './lib/proxy-matrix.mjs';

/** A v2 Client (auto negotiation) connected through `fracta proxy up`, with an elicitation
 *  handler and a tools listChanged handler (which makes it listen on a 2026 connection). */
async function connectV2(cfg) {
  const seen = { elicitations: [], listChanged: [] };
  const client = new Client({ name: 'sdk-v2-host', version: '2.0.0' }, {
    capabilities: { elicitation: { form: {} } },
    versionNegotiation: { mode: 'auto' },
    listChanged: {
      tools: {
        debounceMs: 0,
        onChanged: (error, tools) => {
          seen.listChanged.push({ error, tools });
          seen.onListChanged?.({ error, tools });
        },
      },
    },
  });
  client.setRequestHandler('elicitation/create', async (req) => {
    seen.elicitations.push(req.params);
    return answerForm(req.params);
  });
  const transport = new StdioClientTransport({ ...proxyCommand(cfg, 'up'), stderr: 'pipe' });
  await client.connect(transport);
  return { client, seen };
}

for (const u of UPSTREAMS) {
  describe(`SDK v2 host (auto) → fracta proxy → ${u.title}`, () => {
    let up;
    let host;
    before(async () => {
      up = await startUpstream(u);
      host = await connectV2(up.cfg);
    });
    after(async () => {
      await host?.client.close();
    });

    test('the handshake is 2026-07-28 (server/discover) with the server\'s name', () => {
      assert.equal(host.client.getNegotiatedProtocolVersion(), MODERN);
      assert.equal(host.client.getProtocolEra(), 'modern');
      assert.equal(host.client.getServerVersion()?.name, u.serverName);
      assert.ok(host.client.getServerCapabilities()?.tools, JSON.stringify(host.client.getServerCapabilities()));
    });

    test('tools/list gives the server\'s tools', async () => {
      const { tools } = await host.client.listTools();
      const names = tools.map((t) => t.name);
      for (const n of u.tools) assert.ok(names.includes(n), `${n} missing from ${names}`);
    });

    test('tools/call answers with the tool\'s text', async () => {
      const r = await host.client.callTool({ name: u.echo.name, arguments: u.echo.args });
      assert.equal(resultText(r), u.echo.text);
    });

    if (u.progress) {
      test('a progress-reporting tool\'s notifications reach onprogress', async () => {
        const got = [];
        const r = await host.client.callTool({ name: u.progress.name, arguments: u.progress.args }, {
          onprogress: (p) => got.push(p),
        });
        assert.equal(resultText(r), u.progress.text);
        // The SDKs over stdio handle a notification a microtask after a response read in the same
        // chunk, and drop progress that comes with the answer: at least the first one reaches
        // onprogress, in order; proxy-wire checks that all come before the answer.
        assertProgress(got, u.progress.steps);
      });
    }

    test('an elicitation is answered by the host\'s handler and the tool sees the answer', async () => {
      const before_ = host.seen.elicitations.length;
      const r = await host.client.callTool({ name: u.elicit.name, arguments: {} });
      assert.equal(host.seen.elicitations.length, before_ + 1, 'the host was asked once');
      assert.ok(resultText(r).includes(u.elicit.text), resultText(r));
    });

    test('concurrent calls get their own answers, whatever order they finish in', async () => {
      const calls = [host.client.callTool({ name: u.echo.name, arguments: u.echo.args })];
      if (u.slow) {
        for (const ms of [400, 200, 0]) calls.push(host.client.callTool({ name: u.slow.name, arguments: { ms } }));
      }
      const texts = (await Promise.all(calls)).map(resultText);
      assert.deepEqual(texts, [u.echo.text, ...(u.slow ? ['slow done 400', 'slow done 200', 'slow done 0'] : [])]);
    });

    if (u.slow) {
      test('cancelling a slow call (AbortSignal) reaches the server', async () => {
        const started = events(up.srv, 'started').length;
        const abort = new AbortController();
        const call = host.client.callTool({ name: u.slow.name, arguments: { ms: 30_000 } }, { signal: abort.signal });
        await waitFor(() => events(up.srv, 'started').length > started, 'the slow call started on the server');
        abort.abort('the host gave up');
        await assert.rejects(call);
        await waitFor(() => events(up.srv, u.slow.cancelledEvent).length > 0, `the server logged ${u.slow.cancelledEvent}`);
      });
    }

    if (u.grow) {
      test('a tools/list_changed from the server reaches the host\'s listChanged handler (subscriptions/listen)', async () => {
        assert.ok(host.client.autoOpenedSubscription, 'the client opened subscriptions/listen at connect');
        const changed = eventually('the host\'s tools listChanged handler');
        host.seen.onListChanged = changed.resolve;
        const r = await host.client.callTool({ name: u.grow.name, arguments: {} });
        assert.equal(resultText(r), 'grown');
        const { error, tools } = await changed.promise;
        assert.equal(error, null);
        assert.ok(tools.some((t) => t.name === u.grow.added), JSON.stringify(tools.map((t) => t.name)));
      });
    }
  });
}
