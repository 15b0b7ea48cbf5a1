// SPDX-License-Identifier: Apache-2.0
// Streamable HTTP variants: stateful (Mcp-Session-Id) and stateless servers, SSE and JSON
// responses. After initialize, every request carries the negotiated MCP-Protocol-Version and,
// in stateful mode, the session id the server assigned. These 2025 servers refuse the era probe
// (server/discover) that comes first, without a session.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { SUPPORTED_PROTOCOL_VERSIONS, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

import { fracta, rpcSeq, serverConfig, show, startServer, tmpdir, withRpc, writeConfig } from './lib/harness.mjs';

const TOKEN = 'tok-e2e-transport-6d2e';

describe('transports', () => {
  for (const mode of ['stateful', 'stateless']) {
    for (const json of [false, true]) {
      test(`${mode} server, ${json ? 'JSON' : 'SSE'} responses`, async (t) => {
        const srv = await startServer(['--mode', mode, ...(json ? ['--json'] : []), '--auth', 'bearer', '--expect', TOKEN], { t });
        const cfg = writeConfig(tmpdir(), serverConfig('demo', srv.url, 'type = "bearer"\ntoken = { env = "DEMO_TOKEN" }'));
        const r = await fracta(['--config', cfg, 'call', 'demo', 'add', '{"a":2,"b":40}'], { env: { DEMO_TOKEN: TOKEN } });
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout.trimEnd(), '42');

        const all = srv.log();
        const seq = rpcSeq(all);
        assert.deepEqual(all[0].rpc_methods, ['server/discover'], `the era probe comes first; saw ${seq.join(', ')}`);
        assert.equal(all[0].status, 400, 'a 2025 server refuses server/discover');
        assert.equal(all[0].mcp_session_id, null);
        const log = all.slice(1);
        const initIdx = log.findIndex((e) => e.rpc_methods?.includes('initialize'));
        assert.equal(initIdx, 0, `initialize must follow the probe; saw ${seq.join(', ')}`);
        const init = log[0];
        assert.equal(init.mcp_session_id, null, 'initialize must not carry a session id');
        assert.equal(init.status, 200);
        assert.ok(init.accept && init.accept.includes('application/json') && init.accept.includes('text/event-stream'),
          `Accept must list application/json and text/event-stream; got ${init.accept}`);

        const requested = init.initialize_protocol_version;
        const negotiated = SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
        for (const e of log.slice(1)) {
          assert.equal(e.mcp_protocol_version, negotiated, `MCP-Protocol-Version after initialize: ${JSON.stringify(e)}`);
          if (mode === 'stateful') {
            assert.equal(e.mcp_session_id, init.response_session_id, `Mcp-Session-Id must be echoed: ${JSON.stringify(e)}`);
          } else {
            assert.equal(e.mcp_session_id, null, `no session id in stateless mode: ${JSON.stringify(e)}`);
          }
          assert.equal(e.authorization, `Bearer ${TOKEN}`);
        }
        if (mode === 'stateful') assert.ok(init.response_session_id, 'the server assigned a session id');
        assert.equal(withRpc(log, 'notifications/initialized').length, 1, seq.join(', '));
        assert.equal(withRpc(log, 'tools/call').length, 1, seq.join(', '));
        assert.equal(withRpc(log, 'tools/call')[0].status, 200);
      });
    }
  }
});
