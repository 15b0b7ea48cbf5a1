// SPDX-License-Identifier: Apache-2.0
// `fracta gateway` with JWT front-end authentication ([gateway.auth.jwt]) against real peers: two
// oidc-provider instances issuing client_credentials JWT access tokens for https://gw.test/mcp
// (one signs RS256, the other ES256) and a static-bearer MCP server upstream. A valid token
// reaches the aggregated /mcp (SDK client) and /mcp/<server> (raw POST), and the upstream only
// ever sees its own bearer; no token gets 401 with the metadata URL; a changed signature byte or
// payload, alg none, HS256, an unknown kid, an opaque token, another issuer's token, another
// issuer or audience in the config get 401 invalid_token; a missing scope gets 403
// insufficient_scope naming it; static tokens and JWTs together; the RFC 9728 metadata document
// (gateway.resource, or the listen address); an unreachable JWKS gives 503 naming its URL while
// /healthz answers; no token or secret on the gateway's stderr or in a response.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import * as jose from 'jose';

import {
  OIDC_SCRIPT, closedPort, serverConfig, startPeer, startServer, tmpdir, tomlStr, withRpc,
  writeConfig,
} from './lib/harness.mjs';
import { asMetadata, decodeJwt, tokenRequest } from './lib/oauth-client.mjs';
import { startGateway as startGatewayProcess } from './lib/gateway.mjs';
import { secretLeak } from './lib/oauth-fracta.mjs';

// The public URL clients use (as behind a TLS-terminating proxy; gateway.resource must be
// https:// for a host that is not loopback): the tokens' audience and the metadata's resource.
const PUBLIC_BASE = 'https://gw.test';
const RESOURCE = `${PUBLIC_BASE}/mcp`;
const METADATA = `${PUBLIC_BASE}/.well-known/oauth-protected-resource/mcp`;
const CLIENT_ID = 'gw-app';
const CLIENT_SECRET = 'gw-jwt-client-secret-7c3a90';
const UPSTREAM_TOKEN = 'gw-jwt-upstream-token-e41b';
const FRONT_TOKEN = 'gw-jwt-static-front-token-2d9f';

/** The shared start (lib/gateway.mjs), with two loop threads. */
const startGateway = (t, config) => startGatewayProcess(t, config, { threads: 2 });

const tomlList = (xs) => `[${xs.map(tomlStr).join(', ')}]`;

/**
 * A gateway config in front of the upstream (server `up`, static bearer): [gateway.auth.jwt]
 * with `issuer`, `jwksUrl`, `audience` (a string or a list), `scopes` when given;
 * gateway.resource = `resource` unless null; [gateway.auth] tokens when given.
 */
function gatewayConfig(upstream, { issuer, jwksUrl, audience = RESOURCE, scopes, resource = PUBLIC_BASE, tokens }) {
  const lines = [];
  if (resource !== null) lines.push('[gateway]', `resource = ${tomlStr(resource)}`, '');
  if (tokens) lines.push('[gateway.auth]', `tokens = [${tokens.map((x) => `{ value = ${tomlStr(x)} }`).join(', ')}]`, '');
  lines.push('[gateway.auth.jwt]', `issuer = ${tomlStr(issuer)}`,
    `audience = ${Array.isArray(audience) ? tomlList(audience) : tomlStr(audience)}`, `jwks_url = ${tomlStr(jwksUrl)}`);
  if (scopes) lines.push(`scopes = ${tomlList(scopes)}`);
  lines.push('', serverConfig('up', upstream.url, `type = "bearer"\ntoken = { value = ${tomlStr(UPSTREAM_TOKEN)} }`));
  return writeConfig(tmpdir(), lines.join('\n'));
}

/**
 * Starts oidc-provider signing with `alg` for RESOURCE, with the static client gw-app. Resolves
 * to its handle with .issuer, .jwksUrl and .token(scope) (a client_credentials access token).
 */
async function startIssuer(alg) {
  const as = await startPeer(OIDC_SCRIPT, [
    '--resource', RESOURCE, '--client', `${CLIENT_ID}:${CLIENT_SECRET}:client_secret_basic`, '--sign-alg', alg,
  ], { name: `oidc-provider-${alg}` });
  const meta = await asMetadata(as.origin);
  as.issuer = as.origin;
  as.jwksUrl = `${as.origin}/jwks`;
  assert.equal(meta.jwks_uri, as.jwksUrl);
  as.token = async (scope = 'mcp:read') => {
    const r = await tokenRequest(meta, { grant_type: 'client_credentials', scope, resource: RESOURCE },
      { basic: [CLIENT_ID, CLIENT_SECRET] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { header, payload } = decodeJwt(r.body.access_token);
    assert.equal(header.alg, alg);
    assert.equal(payload.iss, as.issuer);
    assert.equal(payload.aud, RESOURCE);
    assert.equal(payload.scope, scope);
    return r.body.access_token;
  };
  return as;
}

/** The JSON-RPC messages of a response body (JSON or SSE). */
function messagesOf(contentType, body) {
  if ((contentType ?? '').includes('text/event-stream')) {
    return body.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).filter(Boolean)
      .map((l) => JSON.parse(l));
  }
  return body.trim() ? [JSON.parse(body)] : [];
}

/**
 * POSTs a 2025-06-18 tools/call of `name` (echo {text}) to `url`, with `Authorization: Bearer
 * <token>` when a token is given. Resolves to { status, www, contentType, body, message }.
 */
async function callTool(url, name, text, { token } = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-06-18' };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { text } } }),
  });
  const body = await res.text();
  const contentType = res.headers.get('content-type');
  let message;
  try {
    message = messagesOf(contentType, body).find((m) => m.id === 1);
  } catch { /* not JSON-RPC: the assertion shows the body */ }
  return { status: res.status, www: res.headers.get('www-authenticate'), contentType, body, message };
}

const textOf = (result) => (result?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

/**
 * Asserts a refusal: `status`, a Bearer challenge naming `metadata`, with `error` (or none when
 * null), a JSON body {"error": "..."}, and neither the token nor its signature echoed.
 */
function assertRefused(r, { status = 401, error = 'invalid_token', metadata = METADATA, token, label = '' }) {
  const what = `${label}: ${r.status} ${r.www} ${r.body}`;
  assert.equal(r.status, status, what);
  const www = r.www ?? '';
  assert.match(www, /^Bearer /, what);
  assert.ok(www.includes(`resource_metadata="${metadata}"`), what);
  if (error) assert.ok(www.includes(`error="${error}"`), what);
  else assert.doesNotMatch(www, /error=/, what);
  assert.match(r.contentType ?? '', /application\/json/, what);
  assert.equal(typeof JSON.parse(r.body).error, 'string', what);
  if (token) {
    for (const part of [token, ...token.split('.').filter((p) => p.length >= 16)]) {
      assert.ok(!r.body.includes(part) && !www.includes(part), `${label}: the response echoes the token`);
    }
  }
}

/** Asserts that no secret and no JWT is in anything the gateway printed. */
function assertNoSecrets(gw, tokens = []) {
  for (const s of [CLIENT_SECRET, UPSTREAM_TOKEN, FRONT_TOKEN, ...tokens]) {
    assert.ok(!gw.stderr().includes(s), `a secret is on the gateway's stderr:\n${gw.stderr()}`);
    assert.ok(!gw.stdout().includes(s), 'a secret is on the gateway\'s stdout');
  }
  assert.equal(secretLeak(gw.stderr()), null, gw.stderr());
}

// Forged and damaged tokens, made from a good one.
const b64json = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const partsOf = (token) => token.split('.');

/** The token with one byte in the middle of its signature changed. */
function withSignatureByteChanged(token) {
  const [h, p, s] = partsOf(token);
  const sig = Buffer.from(s, 'base64url');
  sig[sig.length >> 1] ^= 0x01;
  return `${h}.${p}.${sig.toString('base64url')}`;
}

/** The token with claims changed in its payload and the original signature. */
function withPayloadChanged(token, claims) {
  const [h, p, s] = partsOf(token);
  return `${h}.${b64json({ ...decodeJwt(token).payload, ...claims })}.${s}`;
}

/** The token's claims, unsigned (alg "none"). */
function unsigned(token) {
  return `${b64json({ alg: 'none', typ: 'at+jwt' })}.${partsOf(token)[1]}.`;
}

/** The token's claims signed HS256 with the issuer's public JWK as the secret (alg confusion). */
async function hmacWithPublicKey(token, jwk) {
  const secret = new TextEncoder().encode(JSON.stringify(jwk));
  return new jose.SignJWT(decodeJwt(token).payload).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid }).sign(secret);
}

/** The token's claims signed RS256 by a key of our own whose kid the issuer never published. */
async function signedByStranger(token) {
  const { privateKey } = await jose.generateKeyPair('RS256');
  return new jose.SignJWT(decodeJwt(token).payload)
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'a-key-nobody-published' }).sign(privateKey);
}

describe('gateway: JWT front-end authentication', () => {
  let rs;
  let es;
  let upstream;
  before(async () => {
    [rs, es, upstream] = await Promise.all([
      startIssuer('RS256'),
      startIssuer('ES256'),
      startServer(['--mode', 'stateless', '--auth', 'bearer', '--expect', UPSTREAM_TOKEN]),
    ]);
  });
  const rsConfig = (extra = {}) => gatewayConfig(upstream, { issuer: rs.issuer, jwksUrl: rs.jwksUrl, scopes: ['mcp:read'], ...extra });
  const toolCalls = () => withRpc(upstream.log(), 'tools/call').length;

  test('an RS256 token: an SDK client lists and calls tools on /mcp, a raw POST passes through; the upstream sees only its own bearer', async (t) => {
    const gw = await startGateway(t, rsConfig());
    const token = await rs.token();
    const seenBefore = upstream.log().length;

    const client = new Client({ name: 'gw-jwt-e2e', version: '1.0.0' });
    t.after(() => client.close());
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.url),
      { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const names = (await client.listTools()).tools.map((x) => x.name);
    assert.ok(names.includes('up__echo') && names.includes('up__whoami'), names.join(', '));
    assert.equal(textOf(await client.callTool({ name: 'up__echo', arguments: { text: 'via jwt' } })), 'echo: via jwt');

    const pass = await callTool(`${gw.url}/up`, 'echo', 'passed through', { token });
    assert.equal(pass.status, 200, pass.body);
    assert.equal(textOf(pass.message?.result), 'echo: passed through', pass.body);

    const seen = upstream.log().slice(seenBefore).filter((e) => e.method);
    assert.ok(withRpc(seen, 'tools/call').length >= 2, 'both calls reached the upstream');
    for (const e of seen) assert.equal(e.authorization, `Bearer ${UPSTREAM_TOKEN}`, JSON.stringify(e));
    assert.ok(!JSON.stringify(upstream.log()).includes(token), 'the client\'s JWT reached the upstream');
    assertNoSecrets(gw, [token]);
  });

  test('an ES256 token is admitted by a gateway for its issuer (the audience one of a list); an RS256 one is not', async (t) => {
    const gw = await startGateway(t, gatewayConfig(upstream, {
      issuer: es.issuer, jwksUrl: es.jwksUrl, audience: ['https://other.test/mcp', RESOURCE],
    }));
    const token = await es.token();
    const client = new Client({ name: 'gw-jwt-e2e-es', version: '1.0.0' });
    t.after(() => client.close());
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.url),
      { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    assert.equal(textOf(await client.callTool({ name: 'up__echo', arguments: { text: 'es256' } })), 'echo: es256');
    const pass = await callTool(`${gw.url}/up`, 'echo', 'es256 passed', { token });
    assert.equal(pass.status, 200, pass.body);
    assert.equal(textOf(pass.message?.result), 'echo: es256 passed', pass.body);

    const rsToken = await rs.token();
    assertRefused(await callTool(`${gw.url}/up`, 'echo', 'x', { token: rsToken }), { token: rsToken, label: 'RS256 issuer' });
    assert.ok(!JSON.stringify(upstream.log()).includes(token), 'the client\'s JWT reached the upstream');
    assertNoSecrets(gw, [token, rsToken]);
  });

  test('no token → 401 with the metadata URL; damaged, forged and foreign tokens → 401 invalid_token; none reaches the upstream', async (t) => {
    const gw = await startGateway(t, rsConfig());
    const good = await rs.token();
    const jwks = await (await fetch(rs.jwksUrl)).json();
    const refused = [
      ['a changed signature byte', withSignatureByteChanged(good)],
      ['a changed payload (sub)', withPayloadChanged(good, { sub: 'someone-else' })],
      ['alg none', unsigned(good)],
      ['HS256 keyed with the public key', await hmacWithPublicKey(good, jwks.keys[0])],
      ['an unknown kid', await signedByStranger(good)],
      ['another issuer (ES256)', await es.token()],
      ['not a JWT', 'an-opaque-token-this-gateway-never-issued'],
    ];
    const callsBefore = toolCalls();
    for (const url of [gw.url, `${gw.url}/up`]) {
      assertRefused(await callTool(url, 'echo', 'none'), { error: null, label: `no token on ${url}` });
      for (const [label, token] of refused) {
        assertRefused(await callTool(url, 'echo', label, { token }), { token, label: `${label} on ${url}` });
      }
    }
    assert.equal(toolCalls(), callsBefore, 'a refused call reached the upstream');
    // The good token still passes: the refusals were about the tokens, not the gateway.
    const ok = await callTool(`${gw.url}/up`, 'echo', 'good', { token: good });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(textOf(ok.message?.result), 'echo: good', ok.body);
    assertNoSecrets(gw, [good, ...refused.map(([, token]) => token)]);
  });

  test('the issuer and the audience must match the config: a good token is refused by a gateway for another of either', async (t) => {
    const good = await rs.token();
    const otherAudience = await startGateway(t, rsConfig({ audience: ['https://other.test/mcp', `${PUBLIC_BASE}/other`] }));
    // The same keys, another issuer: the signature checks out, the iss does not.
    const otherIssuer = await startGateway(t, rsConfig({ issuer: es.issuer }));
    for (const [label, gw] of [['another audience', otherAudience], ['another issuer', otherIssuer]]) {
      assertRefused(await callTool(`${gw.url}/up`, 'echo', label, { token: good }), { token: good, label });
      assertRefused(await callTool(gw.url, 'echo', label, { token: good }), { token: good, label });
      assertNoSecrets(gw, [good]);
    }
  });

  test('a token without a required scope → 403 insufficient_scope naming it; with it, 200 (metadata at the listen address)', async (t) => {
    // No gateway.resource: the metadata and the challenges name the address the gateway listens on.
    const gw = await startGateway(t, rsConfig({ scopes: ['mcp:write'], resource: null }));
    const metadata = `${gw.base}/.well-known/oauth-protected-resource/mcp`;
    const readOnly = await rs.token('mcp:read');
    const callsBefore = toolCalls();
    for (const url of [gw.url, `${gw.url}/up`]) {
      const r = await callTool(url, 'echo', 'read only', { token: readOnly });
      assertRefused(r, { status: 403, error: 'insufficient_scope', metadata, token: readOnly, label: `mcp:read on ${url}` });
      assert.ok(r.www.includes('scope="mcp:write"'), r.www);
    }
    assert.equal(toolCalls(), callsBefore, 'a refused call reached the upstream');
    assertRefused(await callTool(gw.url, 'echo', 'none'), { error: null, metadata, label: 'no token' });

    const both = await rs.token('mcp:read mcp:write');
    const ok = await callTool(`${gw.url}/up`, 'echo', 'writer', { token: both });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(textOf(ok.message?.result), 'echo: writer', ok.body);

    const doc = await (await fetch(metadata)).json();
    assert.deepEqual(doc, {
      resource: gw.url, authorization_servers: [rs.issuer], scopes_supported: ['mcp:write'], bearer_methods_supported: ['header'],
    });
    assertNoSecrets(gw, [readOnly, both]);
  });

  test('the protected-resource metadata: gateway.resource\'s /mcp, the issuer, the scopes, header bearer; no auth needed', async (t) => {
    const gw = await startGateway(t, rsConfig());
    const challenge = await callTool(gw.url, 'echo', 'none');
    assertRefused(challenge, { error: null, label: 'no token' });
    // The challenge names the public URL; the gateway serves that path itself.
    const res = await fetch(`${gw.base}${new URL(METADATA).pathname}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await res.json(), {
      resource: RESOURCE, authorization_servers: [rs.issuer], scopes_supported: ['mcp:read'], bearer_methods_supported: ['header'],
    });
  });

  test('static tokens and JWTs together: either is accepted, anything else is refused', async (t) => {
    const gw = await startGateway(t, rsConfig({ tokens: [FRONT_TOKEN] }));
    const token = await rs.token();
    for (const [label, bearer] of [['the static token', FRONT_TOKEN], ['a JWT', token]]) {
      const r = await callTool(`${gw.url}/up`, 'echo', label, { token: bearer });
      assert.equal(r.status, 200, `${label}: ${r.body}`);
      assert.equal(textOf(r.message?.result), `echo: ${label}`, r.body);
    }
    const wrong = 'not-the-static-token-either';
    assertRefused(await callTool(`${gw.url}/up`, 'echo', 'wrong', { token: wrong }), { token: wrong, label: 'a wrong token' });
    assertRefused(await callTool(gw.url, 'echo', 'none'), { error: null, label: 'no token' });
    assertNoSecrets(gw, [token]);
  });

  test('an unreachable JWKS: the gateway starts, a token gets 503 naming the jwks_url, /healthz answers 200', async (t) => {
    const jwksUrl = `http://127.0.0.1:${await closedPort()}/jwks`;
    const gw = await startGateway(t, rsConfig({ jwksUrl }));
    const token = await rs.token();
    const callsBefore = toolCalls();
    for (const url of [gw.url, `${gw.url}/up`]) {
      const r = await callTool(url, 'echo', 'no keys', { token });
      assert.equal(r.status, 503, `${url}: ${r.status} ${r.body}`);
      assert.match(r.contentType ?? '', /application\/json/);
      const { error } = JSON.parse(r.body);
      assert.ok(typeof error === 'string' && error.includes(jwksUrl), r.body);
      assert.ok(!r.body.includes(token) && !r.body.includes(partsOf(token)[2]), 'the response echoes the token');
    }
    assert.equal(toolCalls(), callsBefore, 'an unchecked call reached the upstream');
    // Without a token there is nothing to check: the challenge, as always.
    assertRefused(await callTool(gw.url, 'echo', 'none'), { error: null, label: 'no token' });
    const hz = await fetch(`${gw.base}/healthz`);
    assert.equal(hz.status, 200);
    await hz.text();
    assertNoSecrets(gw, [token]);
  });
});
