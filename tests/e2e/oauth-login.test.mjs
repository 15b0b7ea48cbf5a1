// SPDX-License-Identifier: Apache-2.0
// fracta's OAuth authorization-code login against real peers: oidc-provider (dynamic client
// registration, PKCE, JWT access tokens for the resource), the JWT-checking MCP server, and
// headless chromium as $BROWSER. Token store: the encrypted file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';

import { secretLeak, setupOAuth, statusFor } from './lib/oauth-fracta.mjs';
import { fractaPty, isEraProbe } from './lib/harness.mjs';

describe('oauth: authorization code login (DCR, file store)', () => {
  test('login, status without secrets, call, logout → needs login', async (t) => {
    const o = await setupOAuth({ t });

    const login = await o.run(['config', 'mcp', 'auth', 'login', 's', '--timeout', '60']);
    assert.equal(login.code, 0, o.explain(login));
    assert.ok(fs.existsSync(o.tokenFile), `the encrypted token file exists at ${o.tokenFile}`);
    assert.equal(fs.statSync(o.tokenFile).mode & 0o077, 0, 'tokens.enc is private (0600)');
    assert.equal(secretLeak(login.stdout + login.stderr), null, 'login prints no token');

    // The peers saw a proper flow: DCR (native), PKCE S256, resource on both requests.
    const asLog = o.as.log();
    const reg = asLog.find((e) => e.event === 'registration' && e.method === 'POST');
    assert.ok(reg && reg.status === 201, `dynamic registration happened: ${JSON.stringify(reg)}`);
    assert.equal(reg.application_type, 'native');
    const authz = asLog.filter((e) => e.event === 'authorization' && e.method === 'GET');
    assert.ok(authz.length >= 1);
    assert.equal(authz[0].code_challenge_method, 'S256');
    assert.equal(authz[0].resource_sent, true, 'resource on the authorization request');
    assert.equal(authz[0].resource, o.resource);
    const tok = asLog.filter((e) => e.event === 'token');
    assert.equal(tok.length, 1, JSON.stringify(tok));
    assert.equal(tok[0].grant_type, 'authorization_code');
    assert.equal(tok[0].status, 200);
    assert.equal(tok[0].resource_sent, true, 'resource on the token request');
    assert.equal(tok[0].access_token_aud, o.resource);
    assert.equal(o.browserRuns().at(-1)?.outcome, 'ok');

    const status = await o.run(['config', 'mcp', 'auth', 'status', 's', '--json']);
    assert.equal(status.code, 0, o.explain(status));
    const st = statusFor(status.stdout, 's');
    assert.equal(st.logged_in, true, status.stdout);
    assert.equal(st.needs_login, false, status.stdout);
    assert.equal(st.issuer, o.issuer);
    assert.match(st.store, /^file /);
    assert.equal(st.refresh_token, true);
    assert.equal(st.client, 'registered');
    assert.equal(secretLeak(status.stdout + status.stderr), null, `status prints no secret:\n${status.stdout}`);
    const statusText = await o.run(['config', 'mcp', 'auth', 'status']);
    assert.equal(statusText.code, 0, o.explain(statusText));
    assert.equal(secretLeak(statusText.stdout + statusText.stderr), null);

    const call = await o.run(['call', 's', 'echo', '{"text":"hi"}']);
    assert.equal(call.code, 0, o.explain(call));
    assert.match(call.stdout, /echo: hi/);
    const posts = o.mcp.log().filter((e) => e.method === 'POST');
    // The login asked the server once without a credential, to read its challenge
    // (resource_metadata, scope); everything the call sent afterwards carried the token.
    assert.equal(posts[0].auth_present, false, JSON.stringify(posts[0]));
    assert.equal(posts[0].status, 401);
    const mcpLog = posts.slice(1);
    assert.ok(mcpLog.length > 0 && mcpLog.every((e) => e.auth_present && (e.status < 400 || isEraProbe(e))), JSON.stringify(mcpLog));
    assert.equal(mcpLog[0].token_jti, tok[0].access_token_jti, 'the stored access token was used');
    assert.equal(o.browserRuns().length, 1, 'no second browser login');

    const logout = await o.run(['config', 'mcp', 'auth', 'logout', 's']);
    assert.equal(logout.code, 0, o.explain(logout));
    const after = await o.run(['call', 's', 'echo', '{"text":"hi"}']);
    assert.equal(after.code, 3, o.explain(after));
    assert.match(after.stderr, /fracta config mcp auth login s\b/);
    const st2 = statusFor((await o.run(['config', 'mcp', 'auth', 'status', 's', '--json'])).stdout, 's');
    assert.equal(st2.logged_in, false);
  });

  test('call --login: a call that needs a login runs it through $BROWSER and retries once', async (t) => {
    const o = await setupOAuth({ t });
    const call = await o.run(['call', 's', 'echo', '{"text":"auto"}', '--login']);
    assert.equal(call.code, 0, o.explain(call));
    assert.match(call.stdout, /echo: auto/);
    // Nothing fatal-looking before the login that fixes it.
    assert.equal(call.stderr.split('\n')[0], 's needs a login first; logging in, then retrying the request', o.explain(call));
    assert.ok(!call.stderr.includes('config mcp auth login'), o.explain(call)); // no error naming the fix it is running
    assert.equal(o.browserRuns().length, 1);
    const tools = await o.run(['tools', 's', '--json']);
    assert.equal(tools.code, 0, o.explain(tools));
    assert.ok(JSON.parse(tools.stdout).tools.some((x) => x.name === 'echo'));
    assert.equal(o.browserRuns().length, 1, 'the stored tokens were reused');
  });

  test('on a terminal the browser wait counts down, and its line is cleared before the outcome', async (t) => {
    const o = await setupOAuth({ t });
    const r = await fractaPty(['config', 'mcp', 'auth', 'login', 's', '--timeout', '2m'], [], { env: o.env, home: o.home, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\rWaiting for the browser: (2:00|1:59) left \(Ctrl-C to stop\) /, r.output);
    const cleared = r.output.lastIndexOf('\r\x1b[K');
    const logged = r.output.indexOf('Logged in to s');
    assert.ok(logged > 0 && cleared >= 0 && cleared < logged, JSON.stringify(r.output));
  });

  test('without --login a call that needs a login exits 3 and names the login command', async (t) => {
    const o = await setupOAuth({ t });
    const call = await o.run(['call', 's', 'echo', '{"text":"x"}']);
    assert.equal(call.code, 3, o.explain(call));
    assert.match(call.stderr, /fracta config mcp auth login s\b/);
    assert.equal(o.browserRuns().length, 0, 'no browser without --login');
  });
});
