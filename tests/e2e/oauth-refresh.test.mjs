// SPDX-License-Identifier: Apache-2.0
// fracta refreshes short-lived access tokens (5 s) with a rotating refresh token: every call
// works, the provider sees refresh_token grants that rotate, never a rotated-out token (reuse
// detection would revoke the grant), and the newest refresh token is persisted.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { setupOAuth } from './lib/oauth-fracta.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('oauth: refresh with rotation', () => {
  test('calls across ~12 s with 5 s access tokens all succeed; rotation persisted; no reuse', async (t) => {
    const o = await setupOAuth({ t, asArgs: ['--access-ttl', '5'] });
    const login = await o.run(['config', 'mcp', 'auth', 'login', 's', '--timeout', '60']);
    assert.equal(login.code, 0, o.explain(login));

    const start = Date.now();
    let n = 0;
    while (Date.now() - start < 12_500) {
      const r = await o.run(['call', 's', 'echo', JSON.stringify({ text: `n${n}` })]);
      assert.equal(r.code, 0, `call ${n} after ${Date.now() - start} ms\n${o.explain(r)}`);
      assert.match(r.stdout, new RegExp(`echo: n${n}`));
      n += 1;
      await sleep(1500);
    }

    const log = o.as.log();
    assert.ok(!log.some((e) => e.event === 'refresh_token_reuse'), `reuse detected:\n${o.as.stderr()}`);
    assert.doesNotMatch(o.as.stderr(), /REUSE DETECTED/);
    const refreshes = log.filter((e) => e.event === 'token' && e.grant_type === 'refresh_token');
    assert.ok(refreshes.length >= 2, `at least 2 refreshes, got ${refreshes.length}: ${JSON.stringify(refreshes)}`);
    for (const r of refreshes) {
      assert.equal(r.status, 200, JSON.stringify(r));
      assert.equal(r.refresh_token_rotated, true, JSON.stringify(r));
      assert.equal(r.access_token_aud, o.resource, 'refreshed tokens are for the resource');
    }
    assert.equal(o.browserRuns().length, 1, 'no second interactive login');
    // The MCP server never had to reject an expired token for long: every call above succeeded.

    // A fresh process after the last rotation still works (the rotated token was persisted).
    await sleep(5500);
    const fresh = await o.run(['call', 's', 'whoami', '{}']);
    assert.equal(fresh.code, 0, o.explain(fresh));
    assert.match(fresh.stdout, /authenticated/);
    assert.ok(!o.as.log().some((e) => e.event === 'refresh_token_reuse'));
    const last = o.as.log().filter((e) => e.event === 'token').at(-1);
    assert.equal(last.grant_type, 'refresh_token');
    assert.equal(last.status, 200);
  });
});
