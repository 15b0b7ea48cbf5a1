// SPDX-License-Identifier: Apache-2.0
// fracta's client_credentials grant with pre-registered clients (client_secret_basic and
// client_secret_post): calls work, the configured client authentication is used, the resource
// is sent, and the token never reaches the disk.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { tomlStr } from './lib/harness.mjs';
import { secretLeak, setupOAuth } from './lib/oauth-fracta.mjs';

describe('oauth: client_credentials', () => {
  for (const method of ['client_secret_basic', 'client_secret_post']) {
    test(`${method}: call works, no token on disk`, async (t) => {
      const id = `cc-${method.split('_').at(-1)}`;
      const secret = `s3cret-${method}-value`;
      const o = await setupOAuth({
        t,
        asArgs: ['--client', `${id}:${secret}:${method}`],
        auth: {
          grant_type: tomlStr('client_credentials'),
          client_id: `{ value = ${tomlStr(id)} }`,
          client_secret: `{ value = ${tomlStr(secret)} }`,
          token_endpoint_auth_method: tomlStr(method),
        },
      });
      const call = await o.run(['call', 's', 'echo', '{"text":"cc"}']);
      assert.equal(call.code, 0, o.explain(call));
      assert.match(call.stdout, /echo: cc/);
      const again = await o.run(['call', 's', 'add', '{"a":2,"b":3}']);
      assert.equal(again.code, 0, o.explain(again));
      assert.match(again.stdout, /5/);

      const tok = o.as.log().filter((e) => e.event === 'token');
      assert.ok(tok.length >= 1);
      for (const e of tok) {
        assert.equal(e.grant_type, 'client_credentials');
        assert.equal(e.status, 200, JSON.stringify(e));
        assert.equal(e.client_auth_used, method, JSON.stringify(e));
        assert.equal(e.resource_sent, true, 'resource on the token request');
        assert.equal(e.refresh_token_issued, false);
      }
      assert.equal(o.browserRuns().length, 0, 'no browser for client_credentials');
      for (const r of [call, again]) assert.equal(secretLeak(r.stdout + r.stderr), null);
      assert.ok(!(call.stdout + call.stderr).includes(secret));

      const stateDir = path.join(o.home, '.local', 'state', 'fracta');
      assert.ok(!fs.existsSync(o.tokenFile), 'client_credentials tokens are never stored');
      if (fs.existsSync(stateDir)) {
        for (const f of fs.readdirSync(stateDir, { recursive: true })) {
          const p = path.join(stateDir, f);
          if (fs.statSync(p).isFile()) assert.doesNotMatch(fs.readFileSync(p, 'latin1'), /eyJ/, p);
        }
      }
    });
  }

  test('a wrong client secret exits 3 without a browser', async (t) => {
    const o = await setupOAuth({
      t,
      asArgs: ['--client', 'cc-x:right-secret:client_secret_basic'],
      auth: {
        grant_type: tomlStr('client_credentials'),
        client_id: '{ value = "cc-x" }',
        client_secret: '{ value = "wrong-secret" }',
        token_endpoint_auth_method: tomlStr('client_secret_basic'),
      },
    });
    const call = await o.run(['call', 's', 'echo', '{"text":"cc"}']);
    assert.equal(call.code, 3, o.explain(call));
    assert.ok(!(call.stdout + call.stderr).includes('wrong-secret'));
    assert.equal(o.browserRuns().length, 0);
  });
});
