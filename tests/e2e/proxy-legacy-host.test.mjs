// SPDX-License-Identifier: Apache-2.0
// `fracta proxy` driven by a 2025 host: the TS SDK v1 Client over StdioClientTransport (it
// speaks `initialize`), against a 2026-07-28-only server, a dual-era one, server-everything and
// our SDK v1 server: handshake, tools/list, tools/call, progress, elicitation, cancellation seen
// by the server, tools/list_changed, ping, logging/setLevel, concurrent calls.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  ElicitRequestSchema, LATEST_PROTOCOL_VERSION, LoggingMessageNotificationSchema, ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

import { proxyCommand, waitFor } from './lib/proxy-host.mjs';
import {
  UPSTREAMS, answerForm, assertProgress, events, eventually, resultText, startUpstream,
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
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    seen.logs.push(n.params);
    seen.onLog?.(n.params);
  });
  const transport = new StdioClientTransport({ ...proxyCommand(cfg, 'up'), stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  transport.setProtocolVersion = (v) => { seen.version = v; };
  await client.connect(transport);
  return { client, seen, stderr: () => stderr };
}

for (const u of UPSTREAMS) {
  describe(`SDK v1 host → fracta proxy → ${u.title}`, () => {
    let up;
    let host;
    before(async () => {
      up = await startUpstream(u);
      host = await connectV1(up.cfg);
    });
    after(async () => {
      await host?.client.close();
    });

    test('the handshake answers initialize with the server\'s name and the host\'s 2025 version', () => {
      assert.equal(host.client.getServerVersion()?.name, u.serverName);
      assert.equal(host.seen.version, LATEST_PROTOCOL_VERSION);
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

    test('ping is answered', async () => {
      assert.deepEqual(await host.client.ping(), {});
    });

    if (u.progress) {
      test('a progress-reporting tool\'s notifications reach onprogress', async () => {
        const got = [];
        const r = await host.client.callTool({ name: u.progress.name, arguments: u.progress.args }, undefined, {
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
        const call = host.client.callTool({ name: u.slow.name, arguments: { ms: 30_000 } }, undefined, { signal: abort.signal });
        await waitFor(() => events(up.srv, 'started').length > started, 'the slow call started on the server');
        abort.abort('the host gave up');
        await assert.rejects(call);
        await waitFor(() => events(up.srv, u.slow.cancelledEvent).length > 0, `the server logged ${u.slow.cancelledEvent}`);
      });
    }

    if (u.era === 'modern') {
      test('logging/setLevel is accepted and becomes the requests\' _meta logLevel', async () => {
        assert.deepEqual(await host.client.setLoggingLevel('info'), {});
        const got = eventually('a notifications/message from the chatty tool');
        host.seen.onLog = got.resolve;
        const r = await host.client.callTool({ name: 'chatty', arguments: {} });
        assert.equal(resultText(r), 'chatted');
        const msg = await got.promise;
        assert.equal(msg.level, 'info');
        const chatty = up.srv.log().filter((e) => e.rpc_method === 'tools/call' && e.mcp_name === 'chatty');
        assert.ok(chatty.length > 0 && chatty.every((e) => e.meta_log_level === 'info'), JSON.stringify(chatty));
      });
    }

    if (u.grow) {
      test('a tools/list_changed from the server reaches the host\'s handler', async () => {
        if (u.era === 'modern') {
          // The bridge listens for the host (subscriptions/listen) once initialize is answered.
          await waitFor(() => up.srv.log().some((e) => e.rpc_method === 'subscriptions/listen'), 'the bridge listened');
        }
        const changed = eventually('notifications/tools/list_changed at the host');
        host.seen.onListChanged = changed.resolve;
        const r = await host.client.callTool({ name: u.grow.name, arguments: {} });
        assert.equal(resultText(r), 'grown');
        await changed.promise;
        const { tools } = await host.client.listTools();
        assert.ok(tools.some((t) => t.name === u.grow.added), JSON.stringify(tools.map((t) => t.name)));
      });
    }
  });
}
