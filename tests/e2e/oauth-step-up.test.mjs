// SPDX-License-Identifier: Apache-2.0
// Step-up: the MCP server's `admin` tool needs mcp:admin and answers 403 insufficient_scope
// (scope="mcp:read mcp:admin"). fracta exits 3 naming the login command with the extra scope;
// after that login (or with call --login) the admin call works.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { namedLoginCommand, setupOAuth } from './lib/oauth-fracta.mjs';

const READ_ONLY = { scopes: '["mcp:read"]' };

describe('oauth: step-up (403 insufficient_scope)', () => {
  test('admin → exit 3 naming the login with the extra scope; that login makes it work', async (t) => {
    const o = await setupOAuth({ t, asArgs: ['--extra-scope', 'mcp:admin'], auth: READ_ONLY });
    const login = await o.run(['config', 'mcp', 'auth', 'login', 's', '--timeout', '60']);
    assert.equal(login.code, 0, o.explain(login));
    const firstScope = o.as.log().find((e) => e.event === 'authorization').scope;
    assert.deepEqual(firstScope.split(' ').filter((s) => s.startsWith('mcp:')), ['mcp:read']);

    const echo = await o.run(['call', 's', 'echo', '{"text":"ro"}']);
    assert.equal(echo.code, 0, o.explain(echo));

    const denied = await o.run(['call', 's', 'admin', '{}']);
    assert.equal(denied.code, 3, o.explain(denied));
    assert.match(denied.stderr, /fracta config mcp auth login s\b/);
    assert.match(denied.stderr, /--scope/);
    assert.match(denied.stderr, /mcp:admin/);
    const cmd = namedLoginCommand(denied.stderr, 's');
    assert.ok(cmd, `a runnable login command in: ${denied.stderr}`);
    assert.equal(o.browserRuns().length, 1, 'no browser without --login');

    const again = await o.run([...cmd, '--timeout', '60']);
    assert.equal(again.code, 0, o.explain(again));
    const second = o.as.log().filter((e) => e.event === 'authorization' && e.method === 'GET').at(-1);
    const scopes = second.scope.split(' ');
    assert.ok(scopes.includes('mcp:admin') && scopes.includes('mcp:read'), `union of the scopes: ${second.scope}`);

    const admin = await o.run(['call', 's', 'admin', '{}']);
    assert.equal(admin.code, 0, o.explain(admin));
    assert.match(admin.stdout, /admin ok/);
    const echo2 = await o.run(['call', 's', 'echo', '{"text":"still"}']);
    assert.equal(echo2.code, 0, o.explain(echo2));
  });

  test('call admin --login: steps up through $BROWSER and retries once', async (t) => {
    const o = await setupOAuth({ t, asArgs: ['--extra-scope', 'mcp:admin'], auth: READ_ONLY });
    const login = await o.run(['config', 'mcp', 'auth', 'login', 's', '--timeout', '60']);
    assert.equal(login.code, 0, o.explain(login));
    const admin = await o.run(['call', 's', 'admin', '{}', '--login']);
    assert.equal(admin.code, 0, o.explain(admin));
    assert.match(admin.stdout, /admin ok/);
    assert.equal(o.browserRuns().length, 2);
  });

  test('a scope the server can never grant: one login attempt, then exit 3 (no loop)', async (t) => {
    // Without --extra-scope the provider does not know mcp:admin.
    const o = await setupOAuth({ t, auth: READ_ONLY });
    const login = await o.run(['config', 'mcp', 'auth', 'login', 's', '--timeout', '60']);
    assert.equal(login.code, 0, o.explain(login));
    const admin = await o.run(['call', 's', 'admin', '{}', '--login']);
    assert.notEqual(admin.code, 0, o.explain(admin));
    assert.ok(o.browserRuns().length <= 2, `at most one more browser login, got ${o.browserRuns().length}`);
  });
});
