// SPDX-License-Identifier: Apache-2.0
// `fracta proxy` driven by a 2026-07-28 host: the TS SDK v2 Client (versionNegotiation auto,
// StdioClientTransport; it probes with server/discover) against a 2026-07-28-only server, a
// dual-era one, server-everything and our SDK v1 server: handshake, tools/list, tools/call,
// progress, elicitation (MRTR, or the bridge's input_required shim for a 2025 server),
// cancellation seen by the server, tools/list_changed through subscriptions/listen.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

import { connectedTo, sharedCallTests } from './lib/proxy-calls.mjs';
import { proxyCommand } from './lib/proxy-host.mjs';
import {
  MODERN, UPSTREAMS, answerForm, eventually, resultText,
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
  const call = (name, args, opts) => client.callTool({ name, arguments: args }, opts);
  return { client, call, seen };
}

for (const u of UPSTREAMS) {
  describe(`SDK v2 host (auto) → fracta proxy → ${u.title}`, () => {
    const ctx = connectedTo(u, connectV2);

    test('the handshake is 2026-07-28 (server/discover) with the server\'s name', () => {
      assert.equal(ctx.host.client.getNegotiatedProtocolVersion(), MODERN);
      assert.equal(ctx.host.client.getProtocolEra(), 'modern');
      assert.equal(ctx.host.client.getServerVersion()?.name, u.serverName);
      assert.ok(ctx.host.client.getServerCapabilities()?.tools, JSON.stringify(ctx.host.client.getServerCapabilities()));
    });

    sharedCallTests(u, ctx);

    if (u.grow) {
      test('a tools/list_changed from the server reaches the host\'s listChanged handler (subscriptions/listen)', async () => {
        assert.ok(ctx.host.client.autoOpenedSubscription, 'the client opened subscriptions/listen at connect');
        const changed = eventually('the host\'s tools listChanged handler');
        ctx.host.seen.onListChanged = changed.resolve;
        const r = await ctx.host.client.callTool({ name: u.grow.name, arguments: {} });
        assert.equal(resultText(r), 'grown');
        const { error, tools } = await changed.promise;
        assert.equal(error, null);
        assert.ok(tools.some((t) => t.name === u.grow.added), JSON.stringify(tools.map((t) => t.name)));
      });
    }
  });
}
