// SPDX-License-Identifier: Apache-2.0
// `fracta proxy` driven by a 2025 host: the TS SDK v1 Client over StdioClientTransport (it
// speaks `initialize`), against a 2026-07-28-only server, a dual-era one, server-everything and
// our SDK v1 server: handshake, tools/list, tools/call, progress, elicitation, cancellation seen
// by the server, tools/list_changed, resources/subscribe, ping, logging/setLevel, concurrent calls.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  ElicitRequestSchema, LATEST_PROTOCOL_VERSION, LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

import { connectedTo, sharedCallTests } from './lib/proxy-calls.mjs';
import { proxyCommand, waitFor } from './lib/proxy-host.mjs';
import {
  UPSTREAMS, answerForm, eventually, resultText,
} from './lib/proxy-matrix.mjs';

/** A v1 Client connected through `fracta proxy up`; records the negotiated version, the
 *  elicitations it answered, list changes and log messages. */
async function connectV1(cfg) {
  const seen = { elicitations: [], listChanged: [], logs: [], version: null };
  const client = new Client({ name: 'sdk-v1-host', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    seen.elicitations.push(req.params);
    return answerForm(req.params);
  });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    seen.listChanged.push(Date.now());
    seen.onListChanged?.();
  });
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => seen.onResourceUpdated?.(n.params));
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    seen.logs.push(n.params);
    seen.onLog?.(n.params);
  });
  const transport = new StdioClientTransport({ ...proxyCommand(cfg, 'up'), stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  transport.setProtocolVersion = (v) => { seen.version = v; };
  await client.connect(transport);
  const call = (name, args, opts) => client.callTool({ name, arguments: args }, undefined, opts);
  return { client, call, seen, stderr: () => stderr };
}

for (const u of UPSTREAMS) {
  describe(`SDK v1 host → fracta proxy → ${u.title}`, () => {
    const ctx = connectedTo(u, connectV1);

    test('the handshake answers initialize with the server\'s name and the host\'s 2025 version', () => {
      assert.equal(ctx.host.client.getServerVersion()?.name, u.serverName);
      assert.equal(ctx.host.seen.version, LATEST_PROTOCOL_VERSION);
      assert.ok(ctx.host.client.getServerCapabilities()?.tools, JSON.stringify(ctx.host.client.getServerCapabilities()));
    });

    sharedCallTests(u, ctx);

    test('ping is answered', async () => {
      assert.deepEqual(await ctx.host.client.ping(), {});
    });

    if (u.era === 'modern') {
      test('logging/setLevel is accepted and becomes the requests\' _meta logLevel', async () => {
        assert.deepEqual(await ctx.host.client.setLoggingLevel('info'), {});
        const got = eventually('a notifications/message from the chatty tool');
        ctx.host.seen.onLog = got.resolve;
        const r = await ctx.host.client.callTool({ name: 'chatty', arguments: {} });
        assert.equal(resultText(r), 'chatted');
        const msg = await got.promise;
        assert.equal(msg.level, 'info');
        const chatty = ctx.up.srv.log().filter((e) => e.rpc_method === 'tools/call' && e.mcp_name === 'chatty');
        assert.ok(chatty.length > 0 && chatty.every((e) => e.meta_log_level === 'info'), JSON.stringify(chatty));
      });
    }

    if (u.era === 'modern') {
      test('resources/subscribe: the server\'s resources/updated reaches the host (the bridge listens for the URI)', async () => {
        const listens = () => ctx.up.srv.log().filter((e) => e.rpc_method === 'subscriptions/listen').length;
        const before = listens();
        assert.deepEqual(await ctx.host.client.subscribeResource({ uri: 'note://one' }), {});
        await waitFor(() => listens() > before, 'the bridge listened again, with the URI');
        const updated = eventually('notifications/resources/updated at the host');
        ctx.host.seen.onResourceUpdated = updated.resolve;
        const r = await ctx.host.call('touch', {});
        assert.match(resultText(r), /^touched \d+$/);
        assert.equal((await updated.promise).uri, 'note://one');
      });
    }

    if (u.grow) {
      test('a tools/list_changed from the server reaches the host\'s handler', async () => {
        if (u.era === 'modern') {
          // The bridge listens for the host (subscriptions/listen) once initialize is answered.
          await waitFor(() => ctx.up.srv.log().some((e) => e.rpc_method === 'subscriptions/listen'), 'the bridge listened');
        }
        const changed = eventually('notifications/tools/list_changed at the host');
        ctx.host.seen.onListChanged = changed.resolve;
        const r = await ctx.host.client.callTool({ name: u.grow.name, arguments: {} });
        assert.equal(resultText(r), 'grown');
        await changed.promise;
        const { tools } = await ctx.host.client.listTools();
        assert.ok(tools.some((t) => t.name === u.grow.added), JSON.stringify(tools.map((t) => t.name)));
      });
    }
  });
}
