// SPDX-License-Identifier: Apache-2.0
// `fracta gateway` and a dead grant, against real peers: an authorization-code login with
// oidc-provider (5 s access tokens, rotating refresh tokens) and a static-bearer SDK v2 server
// behind one gateway. Revoking the OAuth grant moves that server to needs_login, with the
// fixing command in the client's error and in /readyz; the other server keeps answering; a
// login from another process heals the running gateway without a restart.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { startV2Server } from './lib/harness.mjs';
import { waitFor } from './lib/proxy-host.mjs';
import { startGateway as startGatewayProcess } from './lib/gateway.mjs';
import { secretLeak, setupOAuth } from './lib/oauth-fracta.mjs';

const STATIC_TOKEN = 'gw-static-token-not-a-real-secret';

/** The shared start (lib/gateway.mjs): the config `env` names, two loop threads. */
const startGateway = (t, { env, home }) => startGatewayProcess(t, null, { env, home, threads: 2 });

const text = (r) => (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

describe('gateway: a revoked grant', () => {
  test('that server needs a login (the command named), the other keeps working, a login heals it', async (t) => {
    const o = await setupOAuth({ t, asArgs: ['--access-ttl', '5'] });
    const v2 = await startV2Server({ t, auth: `bearer:${STATIC_TOKEN}` });
    fs.appendFileSync(o.config, `
[mcp.servers.plain.remote]
url = "${v2.url}"
[mcp.servers.plain.remote.auth]
type = "bearer"
token = { value = "${STATIC_TOKEN}" }
`);
    const login = await o.run(['config', 'mcp', 'auth', 'login', 's', '--timeout', '60']);
    assert.equal(login.code, 0, o.explain(login));

    const gw = await startGateway(t, { env: o.env, home: o.home });
    const client = new Client({ name: 'e2e-app', version: '1.0.0' });
    t.after(() => client.close());
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.base}/mcp`)));
    const names = (await client.listTools()).tools.map((x) => x.name);
    assert.ok(names.includes('s__whoami') && names.includes('plain__echo'), names.join(', '));
    assert.match(text(await client.callTool({ name: 's__whoami', arguments: {} })), /authenticated/);

    const revoke = await fetch(`${o.as.origin}/test/revoke-grants`, { method: 'POST' });
    assert.ok((await revoke.json()).revoked >= 1);
    // Once the 5 s access token expires, the refresh is refused (invalid_grant).
    const refused = await waitFor(async () => {
      try {
        await client.callTool({ name: 's__whoami', arguments: {} });
        return null;
      } catch (e) {
        return { code: e.code, message: e.message };
      }
    }, 'a call refused for a login', 30_000);
    assert.equal(refused.code, -32001, JSON.stringify(refused));
    assert.match(refused.message, /fracta config mcp auth login s\b/);
    const ready = await (await fetch(`${gw.base}/readyz`)).json();
    assert.equal(ready.servers.s.state, 'needs_login', JSON.stringify(ready));
    assert.match(ready.servers.s.detail, /fracta config mcp auth login s\b/);
    assert.equal(ready.ready, true, 'one usable server keeps the gateway ready');
    // The other server is untouched.
    assert.match(text(await client.callTool({ name: 'plain__echo', arguments: { text: 'still here' } })), /echo: still here/);

    // Another terminal logs in: the running gateway uses those tokens.
    const relogin = await o.run(['config', 'mcp', 'auth', 'login', 's', '--timeout', '60']);
    assert.equal(relogin.code, 0, o.explain(relogin));
    const healed = await client.callTool({ name: 's__whoami', arguments: {} });
    assert.match(text(healed), /authenticated/, JSON.stringify(healed));
    const after = await (await fetch(`${gw.base}/readyz`)).json();
    assert.equal(after.servers.s.state, 'ready', JSON.stringify(after));
    assert.ok(!o.as.log().some((e) => e.event === 'refresh_token_reuse'), 'no reuse detection');
    assert.equal(secretLeak(gw.stderr()), null, gw.stderr());
    assert.ok(!gw.stderr().includes(STATIC_TOKEN));
  });
});
