// SPDX-License-Identifier: Apache-2.0
// Two fracta clients sharing one encrypted token file, side by side for 60 s, with 5 s access
// tokens and rotating refresh tokens from oidc-provider: a long-running `fracta proxy` session
// (its engine refreshing in the background) and a loop of `fracta call` processes. Every call
// works and the provider never sees a refresh token presented twice (reuse detection would
// revoke the whole grant). Each refresh runs under the server's cross-process refresh lock, so
// whichever client comes second adopts what the first stored instead of redeeming the same
// refresh token.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { cleanEnv, fractaBin } from './lib/harness.mjs';
import { setupOAuth } from './lib/oauth-fracta.mjs';

const RUN_MS = 60_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A client of server `s` for loop(): start(), call(n) → { ok, detail }, stop(). This one runs a
 * fresh `fracta call` process per call; a long-running session (e.g. `fracta proxy s` speaking
 * JSON-RPC on stdin/stdout) fits the same three functions: spawn in start(), one tools/call
 * per call(n), close stdin in stop().
 */
function callProcesses(o, name) {
  return {
    name,
    async start() {},
    async call(n) {
      const text = `${name}-${n}`;
      const r = await o.run(['call', 's', 'echo', JSON.stringify({ text })]);
      return { ok: r.code === 0 && r.stdout.includes(`echo: ${text}`), detail: o.explain(r) };
    },
    async stop() {},
  };
}

/** The same three functions over one `fracta proxy s` session, driven by a 2025 host (the MCP
 *  SDK v1 Client over stdio). */
function proxySession(o, name) {
  let client;
  let stderr = '';
  return {
    name,
    async start() {
      const transport = new StdioClientTransport({
        command: fractaBin(), args: ['proxy', 's', '--no-login'], env: cleanEnv(o.home, o.env), stderr: 'pipe',
      });
      transport.stderr.setEncoding('utf8');
      transport.stderr.on('data', (d) => { stderr += d; });
      client = new Client({ name: 'e2e-host', version: '1.0.0' }, { capabilities: {} });
      await client.connect(transport);
    },
    async call(n) {
      const text = `${name}-${n}`;
      try {
        const r = await client.callTool({ name: 'echo', arguments: { text } });
        const got = r.content.map((c) => c.text).join('\n');
        return { ok: got === `echo: ${text}`, detail: `answer: ${JSON.stringify(r)}\nproxy stderr:\n${stderr}` };
      } catch (e) {
        return { ok: false, detail: `${e.message}\nproxy stderr:\n${stderr}\n${o.explain({ code: null, stdout: '', stderr: '' })}` };
      }
    },
    async stop() {
      await client?.close();
    },
  };
}

/** Calls through `client` until `untilMs` (Date.now() time), paced with a little jitter so the
 *  two loops drift against each other; failed calls go to `failures`. Resolves to the count. */
async function loop(client, untilMs, failures) {
  await client.start();
  let n = 0;
  try {
    while (Date.now() < untilMs) {
      const r = await client.call(n);
      if (!r.ok) failures.push(`${client.name} call ${n}, ${RUN_MS - (untilMs - Date.now())} ms in:\n${r.detail}`);
      n += 1;
      await sleep(100 + Math.floor(Math.random() * 200));
    }
  } finally {
    await client.stop();
  }
  return n;
}

describe('oauth: several processes sharing one token store', () => {
  test('a proxy session and a loop of fracta calls for 60 s with 5 s tokens: no failed call, no refresh token reused', async (t) => {
    const o = await setupOAuth({ t, asArgs: ['--access-ttl', '5'] });
    const login = await o.run(['config', 'mcp', 'auth', 'login', 's', '--timeout', '60']);
    assert.equal(login.code, 0, o.explain(login));

    const failures = [];
    const until = Date.now() + RUN_MS;
    const counts = await Promise.all([
      loop(proxySession(o, 'proxy'), until, failures),
      loop(callProcesses(o, 'calls'), until, failures),
    ]);

    const log = o.as.log();
    const refreshes = log.filter((e) => e.event === 'token' && e.grant_type === 'refresh_token');
    t.diagnostic(`calls: ${counts.join(' + ')}, refresh_token grants: ${refreshes.length}, failed calls: ${failures.length}`);
    const reuse = log.filter((e) => e.event === 'refresh_token_reuse' || e.event === 'grant_revoked');
    assert.deepEqual(reuse, [], `the authorization server saw a refresh token twice; the first failed call:\n${failures[0]}`);
    assert.doesNotMatch(o.as.stderr(), /REUSE DETECTED/);
    assert.equal(failures.length, 0, `${failures.length} failed calls; the first:\n${failures[0]}`);
    // One rotation per access-token lifetime or so, not one per call of either loop.
    assert.ok(refreshes.length >= 6, `at least 6 refreshes in 60 s of 5 s tokens, got ${refreshes.length}`);
    assert.ok(refreshes.length < counts[0] + counts[1], `${refreshes.length} refreshes for ${counts} calls`);
    for (const r of refreshes) {
      assert.equal(r.status, 200, JSON.stringify(r));
      assert.equal(r.refresh_token_rotated, true, JSON.stringify(r));
    }
    for (const n of counts) assert.ok(n >= 20, `each loop made calls throughout: ${counts}`);
    assert.equal(o.browserRuns().length, 1, 'no second interactive login');
  });
});
