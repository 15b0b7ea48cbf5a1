// SPDX-License-Identifier: Apache-2.0
// Self-test of the OAuth peers (no fracta involved): oidc-provider (peers/oidc-provider.mjs),
// the JWT resource server (peers/mcp-server.mjs --auth jwt) and the browser hook
// (peers/browser.sh, headless chromium), driven by a small reference client (lib/oauth-client.mjs).
// If this file fails, the fracta OAuth e2e failures are not fracta's.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { startOAuthPair } from './lib/harness.mjs';
import {
  asMetadata, authCodeLogin, callbackListener, decodeJwt, mcpSession, rawMcpPost, register, runBrowser, tokenRequest,
} from './lib/oauth-client.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const text = (result) => result.content.map((c) => c.text).join('');

describe('oauth peers', () => {
  test('discovery: AS metadata, RFC 9728 metadata, 401 challenge', async (t) => {
    const { as, mcp, issuer, resource } = await startOAuthPair({ t });
    const meta = await asMetadata(issuer);
    assert.equal(meta.issuer, issuer);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
    assert.ok(meta.registration_endpoint && meta.device_authorization_endpoint);
    for (const g of ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']) {
      assert.ok(meta.grant_types_supported.includes(g), g);
    }
    const oidc = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
    assert.equal(oidc.issuer, issuer);

    const prmUrl = `${mcp.origin ?? `http://127.0.0.1:${mcp.port}`}/.well-known/oauth-protected-resource/mcp`;
    const prm = await (await fetch(prmUrl)).json();
    assert.deepEqual(prm, {
      resource, authorization_servers: [issuer], scopes_supported: ['mcp:read', 'mcp:write'], bearer_methods_supported: ['header'],
    });
    const root = await fetch(`http://127.0.0.1:${mcp.port}/.well-known/oauth-protected-resource`);
    assert.equal(root.status, 404);

    const r = await rawMcpPost(resource, null);
    assert.equal(r.status, 401);
    assert.match(r.wwwAuthenticate, /^Bearer /);
    assert.match(r.wwwAuthenticate, /error="invalid_token"/);
    assert.match(r.wwwAuthenticate, /scope="mcp:read mcp:write"/);
    assert.ok(r.wwwAuthenticate.includes(`resource_metadata="${prmUrl}"`), r.wwwAuthenticate);
    const bad = await rawMcpPost(resource, 'not-a-jwt');
    assert.equal(bad.status, 401);
    const log = mcp.log();
    assert.equal(log.at(-1).authorization, '<redacted>');
    assert.equal(log.at(-1).auth_present, true);
    assert.ok(!JSON.stringify(log).includes('not-a-jwt'));
    void as;
  });

  test('DCR (native) + authorization code + PKCE via the browser → JWT for the resource → MCP call', async (t) => {
    const { as, mcp, issuer, resource } = await startOAuthPair({ t });
    const meta = await asMetadata(issuer);
    const first = await callbackListener();
    const registeredUri = first.redirectUri;
    await first.close();
    const client = await register(meta, [registeredUri]);
    assert.equal(client.application_type, 'native');

    // The listener now gets another port: loopback port flexibility (RFC 8252 7.3).
    const { tokens, callback } = await authCodeLogin({ meta, clientId: client.client_id, scope: 'mcp:read mcp:write', resource });
    assert.equal(callback.get('iss'), issuer, 'RFC 9207 iss on the callback');
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(typeof tokens.body.refresh_token, 'string', 'a refresh token for a client registered with the refresh_token grant');
    const { header, payload } = decodeJwt(tokens.body.access_token);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(payload.aud, resource);
    assert.equal(payload.iss, issuer);
    assert.equal(payload.scope, 'mcp:read mcp:write');

    const session = await mcpSession(resource, tokens.body.access_token);
    const tools = await session.listTools();
    assert.ok(tools.tools.some((x) => x.name === 'admin'));
    assert.equal(text(await session.callTool({ name: 'echo', arguments: { text: 'hi' } })), 'echo: hi');
    await session.close();

    const tokenLog = as.log().filter((e) => e.event === 'token');
    assert.equal(tokenLog.length, 1);
    assert.equal(tokenLog[0].grant_type, 'authorization_code');
    assert.equal(tokenLog[0].resource_sent, true);
    assert.equal(tokenLog[0].access_token_jwt, true);
    const authLog = as.log().filter((e) => e.event === 'authorization');
    assert.equal(authLog[0].resource_sent, true);
    assert.equal(authLog[0].code_challenge_method, 'S256');
    const raw = JSON.stringify(as.log()) + JSON.stringify(mcp.log());
    assert.ok(!raw.includes(tokens.body.access_token) && !raw.includes(tokens.body.refresh_token), 'no token in any log');
    assert.ok(mcp.log().some((e) => e.token_jti === payload.jti));
  });

  test('PKCE is required for every client', async (t) => {
    const { issuer } = await startOAuthPair({ t });
    const meta = await asMetadata(issuer);
    const cb = await callbackListener();
    const client = await register(meta, [cb.redirectUri]);
    await cb.close();
    const q = new URLSearchParams({ response_type: 'code', client_id: client.client_id, redirect_uri: cb.redirectUri, state: 'x', scope: 'mcp:read' });
    const r = await fetch(`${meta.authorization_endpoint}?${q}`, { redirect: 'manual' });
    assert.equal(r.status, 303);
    const loc = new URL(r.headers.get('location'));
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
    assert.match(loc.searchParams.get('error_description'), /PKCE/);
  });

  test('refresh: rotation, expiry at the resource server, reuse detection revokes the grant', async (t) => {
    const { as, mcp, issuer, resource } = await startOAuthPair({ t, asArgs: ['--access-ttl', '2'] });
    const meta = await asMetadata(issuer);
    const cb = await callbackListener();
    const client = await register(meta, [cb.redirectUri]);
    await cb.close();
    const { tokens } = await authCodeLogin({ meta, clientId: client.client_id, scope: 'mcp:read', resource });
    assert.equal(tokens.status, 200);
    const rt1 = tokens.body.refresh_token;
    assert.ok(rt1);
    await sleep(3100);
    const expired = await rawMcpPost(resource, tokens.body.access_token);
    assert.equal(expired.status, 401);
    assert.match(expired.wwwAuthenticate, /error="invalid_token"/);
    assert.match(expired.wwwAuthenticate, /expired/);

    const r2 = await tokenRequest(meta, { grant_type: 'refresh_token', refresh_token: rt1, client_id: client.client_id });
    assert.equal(r2.status, 200, JSON.stringify(r2.body));
    assert.notEqual(r2.body.refresh_token, rt1, 'rotated');
    assert.equal(decodeJwt(r2.body.access_token).payload.aud, resource, 'refresh keeps the granted resource');
    const session = await mcpSession(resource, r2.body.access_token);
    assert.equal(text(await session.callTool({ name: 'whoami' })), 'authenticated');
    await session.close();

    const last = as.log().filter((e) => e.event === 'token').at(-1);
    assert.equal(last.grant_type, 'refresh_token');
    assert.equal(last.refresh_token_rotated, true);
    assert.equal(last.resource_sent, false);
    assert.ok(!as.log().some((e) => e.event === 'refresh_token_reuse'));

    // Presenting the rotated-out token: invalid_grant, logged loudly, and the grant is gone.
    const reuse = await tokenRequest(meta, { grant_type: 'refresh_token', refresh_token: rt1, client_id: client.client_id });
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
    assert.ok(as.log().some((e) => e.event === 'refresh_token_reuse'));
    assert.match(as.stderr(), /REFRESH TOKEN REUSE DETECTED/);
    const after = await tokenRequest(meta, { grant_type: 'refresh_token', refresh_token: r2.body.refresh_token, client_id: client.client_id });
    assert.equal(after.status, 400, 'the whole grant was revoked');
    void mcp;
  });

  test('device flow: verification_uri_complete through the browser, then polling', async (t) => {
    const { issuer, resource } = await startOAuthPair({ t });
    const meta = await asMetadata(issuer);
    const client = await register(meta, [], { grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], response_types: [] });
    const r = await fetch(meta.device_authorization_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: client.client_id, scope: 'mcp:read', resource }).toString(),
    });
    const dev = await r.json();
    assert.equal(r.status, 200, JSON.stringify(dev));
    assert.ok(dev.verification_uri_complete);
    const pending = await tokenRequest(meta, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: dev.device_code, client_id: client.client_id });
    assert.equal(pending.body.error, 'authorization_pending');
    const b = await runBrowser(dev.verification_uri_complete);
    assert.equal(b.code, 0, b.stderr);
    const done = await tokenRequest(meta, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: dev.device_code, client_id: client.client_id });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(decodeJwt(done.body.access_token).payload.aud, resource);
    const session = await mcpSession(resource, done.body.access_token);
    assert.equal(text(await session.callTool({ name: 'echo', arguments: { text: 'dev' } })), 'echo: dev');
    await session.close();
  });

  test('client_credentials: client_secret_basic and client_secret_post static clients', async (t) => {
    const { as, issuer, resource } = await startOAuthPair({
      t, asArgs: ['--client', 'cc-basic:s3cret-basic:client_secret_basic', '--client', 'cc-post:s3cret-post:client_secret_post'],
    });
    const meta = await asMetadata(issuer);
    const basic = await tokenRequest(meta, { grant_type: 'client_credentials', scope: 'mcp:read', resource }, { basic: ['cc-basic', 's3cret-basic'] });
    assert.equal(basic.status, 200, JSON.stringify(basic.body));
    assert.equal(basic.body.refresh_token, undefined);
    const post = await tokenRequest(meta, {
      grant_type: 'client_credentials', scope: 'mcp:read', resource, client_id: 'cc-post', client_secret: 's3cret-post',
    });
    assert.equal(post.status, 200, JSON.stringify(post.body));
    const wrong = await tokenRequest(meta, { grant_type: 'client_credentials', scope: 'mcp:read', resource }, { basic: ['cc-post', 'wrong'] });
    assert.equal(wrong.status, 401);
    // No resource: the default resource still gives a JWT for the MCP server.
    const noRes = await tokenRequest(meta, { grant_type: 'client_credentials', scope: 'mcp:read' }, { basic: ['cc-basic', 's3cret-basic'] });
    assert.equal(decodeJwt(noRes.body.access_token).payload.aud, resource);
    for (const tok of [basic, post]) {
      const session = await mcpSession(resource, tok.body.access_token);
      assert.equal(text(await session.callTool({ name: 'echo', arguments: { text: 'cc' } })), 'echo: cc');
      await session.close();
    }
    const log = as.log().filter((e) => e.event === 'token');
    assert.deepEqual(log.map((e) => e.client_auth_used), ['client_secret_basic', 'client_secret_post', 'client_secret_basic', 'client_secret_basic']);
    assert.deepEqual(log.map((e) => e.resource_sent), [true, true, true, false]);
    assert.ok(!JSON.stringify(as.log()).includes('s3cret'), 'no client secret in the log');
  });

  test('step-up: admin needs mcp:admin → 403 insufficient_scope, then a wider login works', async (t) => {
    const { issuer, resource } = await startOAuthPair({ t, asArgs: ['--extra-scope', 'mcp:admin'] });
    const meta = await asMetadata(issuer);
    const cb = await callbackListener();
    const client = await register(meta, [cb.redirectUri]);
    await cb.close();
    const first = await authCodeLogin({ meta, clientId: client.client_id, scope: 'mcp:read', resource });
    const callAdmin = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'admin', arguments: {} } };
    const denied = await rawMcpPost(resource, first.tokens.body.access_token, callAdmin);
    assert.equal(denied.status, 403);
    assert.match(denied.wwwAuthenticate, /error="insufficient_scope"/);
    assert.match(denied.wwwAuthenticate, /scope="mcp:read mcp:admin"/);
    assert.match(denied.wwwAuthenticate, /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/);
    const second = await authCodeLogin({ meta, clientId: client.client_id, scope: 'mcp:read mcp:admin', resource });
    assert.equal(second.tokens.status, 200, JSON.stringify(second.tokens.body));
    const session = await mcpSession(resource, second.tokens.body.access_token);
    assert.equal(text(await session.callTool({ name: 'admin' })), 'admin ok');
    await session.close();
  });

  test('browser hook: refuses a non-loopback URL; an error callback fails', async () => {
    const b = await runBrowser('https://example.com/authorize');
    assert.notEqual(b.code, 0);
    assert.match(b.stderr, /non-loopback/);
  });
});
