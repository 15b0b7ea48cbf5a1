// SPDX-License-Identifier: Apache-2.0
// `fracta proxy` and credentials, against real peers: mcp-remote's one-liner with a static header
// and with OAuth discovery + dynamic registration (oidc-provider, the browser hook); a revoked
// grant answers the host with the login command, and a login from another process heals the
// running proxy without a restart.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import {
  BROWSER_HOOK, cleanEnv, fracta, fractaBin, startOAuthPair, startV2Server, tmpdir,
} from './lib/harness.mjs';
import { setupOAuth } from './lib/oauth-fracta.mjs';

const PASSPHRASE = 'e2e store passphrase, not a secret';

/** A 2025 host (SDK v1 Client over stdio) running `fracta proxy ...args`. */
async function startHost(t, args, { home, env = {} } = {}) {
  home ??= tmpdir('fracta-e2e-home-');
  const transport = new StdioClientTransport({
    command: fractaBin(), args: ['proxy', ...args], env: cleanEnv(home, env), stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr.setEncoding('utf8');
  transport.stderr.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'e2e-host', version: '1.0.0' }, { capabilities: {} });
  t.after(() => client.close());
  await client.connect(transport);
  return { client, stderr: () => stderr, home };
}

/** Polls `fn` until it returns a truthy value, at most `ms`. */
async function eventually(fn, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last?.ok) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what} did not happen within ${ms} ms; last: ${JSON.stringify(last)}`);
}

const text = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');

describe('proxy: the one-liner form', () => {
  test('a static header with ${VAR}: the credential reaches the server, the tool answers', async (t) => {
    const srv = await startV2Server({ auth: 'bearer:e2e-static-token-123', t });
    const h = await startHost(t, [srv.url, '--header', 'Authorization: Bearer ${E2E_PROXY_TOKEN}'],
      { env: { E2E_PROXY_TOKEN: 'e2e-static-token-123' } });
    const tools = await h.client.listTools();
    assert.ok(tools.tools.some((x) => x.name === 'echo'), JSON.stringify(tools));
    const r = await h.client.callTool({ name: 'echo', arguments: { text: 'one-liner' } });
    assert.equal(text(r), 'echo: one-liner');
    const posts = srv.log().filter((e) => e.http_method === 'POST');
    assert.ok(posts.length >= 2 && posts.every((e) => e.auth_present), JSON.stringify(posts));
    assert.doesNotMatch(h.stderr(), /e2e-static-token-123/);
  });

  test('an unset ${VAR} is refused before anything is sent, naming the variable', async () => {
    const r = await fracta(['proxy', 'http://127.0.0.1:9/mcp', '--header', 'Authorization: Bearer ${E2E_UNSET_VAR}']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /E2E_UNSET_VAR/);
  });

  test('no header: OAuth discovery, dynamic registration and a browser login, then calls', async (t) => {
    const pair = await startOAuthPair({ t });
    const cfgDir = tmpdir('fracta-e2e-cfg-');
    const browserLog = `${cfgDir}/browser.jsonl`;
    const h = await startHost(t, [pair.resource], {
      env: { FRACTA_STORE_PASSPHRASE: PASSPHRASE, BROWSER: `${BROWSER_HOOK} --log ${browserLog}` },
    });
    // initialize waited for the login: the first call is authenticated.
    const r = await h.client.callTool({ name: 'whoami', arguments: {} });
    assert.match(text(r), /authenticated/, text(r));
    const log = pair.as.log();
    assert.equal(log.filter((e) => e.event === 'registration' && e.status === 201).length, 1, JSON.stringify(log));
    assert.ok(log.some((e) => e.event === 'token' && e.grant_type === 'authorization_code' && e.status === 200));
    // The tokens went to the normal store: a second proxy on the same URL needs no login.
    const again = await startHost(t, [pair.resource], { home: h.home, env: { FRACTA_STORE_PASSPHRASE: PASSPHRASE, BROWSER: '/bin/false' } });
    const r2 = await again.client.callTool({ name: 'whoami', arguments: {} });
    assert.match(text(r2), /authenticated/);
    assert.equal(pair.as.log().filter((e) => e.event === 'registration').length, 1, 'no second registration');
  });
});

describe('proxy: a revoked grant', () => {
  test('the host is told the login command; a login from another process heals the proxy', async (t) => {
    const o = await setupOAuth({ t, asArgs: ['--access-ttl', '5'] });
    const login = await o.run(['config', 'mcp', 'auth', 'login', 's', '--timeout', '60']);
    assert.equal(login.code, 0, o.explain(login));
    const h = await startHost(t, ['s', '--no-login'], { home: o.home, env: o.env });
    const first = await h.client.callTool({ name: 'whoami', arguments: {} });
    assert.match(text(first), /authenticated/);

    const revoke = await fetch(`${o.as.origin}/test/revoke-grants`, { method: 'POST' });
    assert.equal((await revoke.json()).revoked >= 1, true);
    // Once the 5 s access token expires, the refresh fails (invalid_grant): the host hears why.
    const refused = await eventually(async () => {
      try {
        await h.client.callTool({ name: 'whoami', arguments: {} });
        return { ok: false };
      } catch (e) {
        return { ok: true, code: e.code, message: e.message };
      }
    }, 20_000, 'a call refused for a login');
    assert.equal(refused.code, -32001, JSON.stringify(refused));
    assert.match(refused.message, /fracta config mcp auth login s/);

    // Another terminal logs in: the running proxy uses those tokens at once.
    const relogin = await o.run(['config', 'mcp', 'auth', 'login', 's', '--timeout', '60']);
    assert.equal(relogin.code, 0, o.explain(relogin));
    const healed = await h.client.callTool({ name: 'whoami', arguments: {} });
    assert.match(text(healed), /authenticated/, text(healed));
    assert.ok(!o.as.log().some((e) => e.event === 'refresh_token_reuse'), 'no reuse detection');
  });
});
