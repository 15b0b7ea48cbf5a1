#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// A real OAuth 2 / OpenID authorization server for fracta's end-to-end tests: oidc-provider
// (a certified OpenID provider, pinned in package-lock.json) on 127.0.0.1 (port 0).
//
// Prints exactly one line `LISTENING <port>` on stdout when ready (issuer http://127.0.0.1:<port>);
// everything else goes to stderr. Exits on SIGTERM/SIGINT and when stdin closes.
//
// Usage: node oidc-provider.mjs --resource URL [--access-ttl S] [--client id:secret:method]...
//          [--extra-scope SCOPE]... [--refresh-policy grant|offline_access] [--no-rotate]
//          [--sign-alg RS256|ES256] [--log PATH] [--ignore-stdin]
//
//   --resource URL   the MCP server's URL (RFC 8707 resource indicator). The only resource this
//                    server issues tokens for: JWT access tokens (typ at+jwt, --sign-alg) with
//                    aud = URL, scope = the granted resource scopes. Requests without
//                    `resource` get it as the default (so every access token is a JWT for it);
//                    refresh and device/code exchanges use the granted resource.
//   --access-ttl S   access token lifetime in seconds (default 3600).
//   --client id:secret:method  a static client for the client_credentials grant; method is
//                    client_secret_basic or client_secret_post (repeatable).
//   --extra-scope S  an extra resource scope the server can grant (e.g. mcp:admin for step-up).
//   --refresh-policy grant (default): a refresh token whenever the client may use the
//                    refresh_token grant (DCR clients that register it); offline_access: the
//                    stock policy (only when offline_access was granted, which oidc-provider
//                    keeps only with prompt=consent).
//   --no-rotate      keep refresh tokens (no rotation). Default: rotate on every use; presenting
//                    a rotated-out token revokes the whole grant (reuse detection).
//   --sign-alg A     RS256 (default) or ES256: the one signing key (a fresh RSA 2048 or P-256
//                    key, its kid a random UUID, published at /jwks) and so the alg of the access
//                    tokens and of ID tokens.
//   --log PATH       JSON lines, one per request to /token, /auth, /device/auth, /reg:
//                    {event, path, status, grant_type, resource_sent, scope, client_id,
//                    client_auth (registered), client_auth_used (this request), error,
//                    refresh_token_issued, refresh_token_rotated, access_token_jti, time} and
//                    {event:"refresh_token_reuse", level:"ERROR", ...} when a rotated-out
//                    refresh token is presented. Never a secret (token values, client secrets,
//                    codes, verifiers are not logged).
//
// Test hook: POST /test/revoke-grants revokes every grant issued so far ({"revoked": N}).
//
// Features: authorization code + PKCE (S256, required for every client), open dynamic client
// registration (native clients get loopback redirect port flexibility), client_credentials,
// device flow, refresh_token with rotation, resource indicators, introspection, revocation,
// RFC 9207 `iss` on the callback, devInteractions login/consent pages (any login/password).
// Scopes: openid offline_access mcp:read mcp:write [+ --extra-scope]. Metadata at both
// /.well-known/openid-configuration and /.well-known/oauth-authorization-server.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

const USAGE = `usage: oidc-provider.mjs --resource URL [--access-ttl S] [--client id:secret:method]...
  [--extra-scope SCOPE]... [--refresh-policy grant|offline_access] [--no-rotate]
  [--sign-alg RS256|ES256] [--log PATH] [--ignore-stdin]`;

function die(msg) {
  process.stderr.write(`oidc-provider: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

let opts;
try {
  ({ values: opts } = parseArgs({
    strict: true,
    allowPositionals: false,
    options: {
      resource: { type: 'string' },
      'access-ttl': { type: 'string', default: '3600' },
      client: { type: 'string', multiple: true, default: [] },
      'extra-scope': { type: 'string', multiple: true, default: [] },
      'refresh-policy': { type: 'string', default: 'grant' },
      'no-rotate': { type: 'boolean', default: false },
      'sign-alg': { type: 'string', default: 'RS256' },
      log: { type: 'string' },
      'ignore-stdin': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (e) {
  die(e.message);
}
if (opts.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!opts.resource) die('--resource is required');
const RESOURCE = opts.resource;
const ACCESS_TTL = Number(opts['access-ttl']);
if (!Number.isInteger(ACCESS_TTL) || ACCESS_TTL <= 0) die('bad --access-ttl');
if (!['grant', 'offline_access'].includes(opts['refresh-policy'])) die('bad --refresh-policy');
const SIGN_ALG = opts['sign-alg'];
if (!['RS256', 'ES256'].includes(SIGN_ALG)) die(`bad --sign-alg ${SIGN_ALG} (RS256 or ES256)`);
const RESOURCE_SCOPES = ['mcp:read', 'mcp:write', ...opts['extra-scope']];

const staticClients = opts.client.map((spec) => {
  const [id, secret, method] = spec.split(':');
  if (!id || !secret || !['client_secret_basic', 'client_secret_post'].includes(method)) {
    die(`bad --client ${spec} (id:secret:client_secret_basic|client_secret_post)`);
  }
  return {
    client_id: id,
    client_secret: secret,
    token_endpoint_auth_method: method,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  };
});

// ---------------------------------------------------------------------------------------------
// Log (never a secret)

function log(entry) {
  const line = JSON.stringify({ ...entry, time: new Date().toISOString() });
  if (opts.log) fs.appendFileSync(opts.log, `${line}\n`);
}
const sha = (s) => crypto.createHash('sha256').update(String(s)).digest('hex');

// ---------------------------------------------------------------------------------------------
// Provider

const { privateKey } = await jose.generateKeyPair(SIGN_ALG, { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: crypto.randomUUID(), use: 'sig', alg: SIGN_ALG };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const ISSUER = `http://127.0.0.1:${port}`;

const provider = new Provider(ISSUER, {
  clients: staticClients,
  jwks: { keys: [signingJwk] },
  // The only key is of SIGN_ALG, so ID tokens are signed with it too (the stock default is RS256).
  clientDefaults: {
    grant_types: ['authorization_code'],
    id_token_signed_response_alg: SIGN_ALG,
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  scopes: ['openid', 'offline_access', ...RESOURCE_SCOPES],
  claims: { openid: ['sub'] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true, initialAccessToken: false },
    clientCredentials: { enabled: true },
    deviceFlow: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => (oneOf ? oneOf : RESOURCE),
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
        return {
          scope: RESOURCE_SCOPES.join(' '),
          audience: RESOURCE,
          accessTokenTTL: ACCESS_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: SIGN_ALG } },
        };
      },
    },
  },
  ttl: {
    AccessToken: ACCESS_TTL,
    ClientCredentials: ACCESS_TTL,
    RefreshToken: 24 * 3600,
    DeviceCode: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 24 * 3600,
    IdToken: 3600,
    AuthorizationCode: 60,
  },
  rotateRefreshToken: () => !opts['no-rotate'],
  issueRefreshToken: async (_ctx, client, source) => {
    if (!client.grantTypeAllowed('refresh_token')) return false;
    if (opts['refresh-policy'] === 'offline_access') return source.scopes.has('offline_access');
    return true;
  },
});
provider.proxy = false;

// Request log: /token, /auth, /device/auth, /reg.
const LOGGED = new Map([
  ['/token', 'token'], ['/auth', 'authorization'], ['/device/auth', 'device_authorization'], ['/reg', 'registration'],
]);
provider.use(async (ctx, next) => {
  const event = LOGGED.get(ctx.path);
  if (!event) return next();
  try {
    await next();
  } finally {
    // What the client sent (ctx.oidc.params may hold defaults the provider filled in).
    const sent = (ctx.method === 'POST' ? ctx.oidc?.body : ctx.query) ?? {};
    const params = ctx.oidc?.params ?? {};
    const body = ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body) ? ctx.body : {};
    const entry = {
      event,
      method: ctx.method,
      path: ctx.path,
      status: ctx.status,
      client_id: ctx.oidc?.client?.clientId ?? params.client_id ?? null,
      error: body.error ?? null,
      error_description: body.error_description ?? null,
    };
    if (event === 'token') {
      entry.grant_type = sent.grant_type ?? null;
      entry.resource_sent = sent.resource !== undefined;
      entry.resource = sent.resource ?? null;
      entry.scope = sent.scope ?? null;
      // How the client authenticated on this request (the registered method is client_auth;
      // oidc-provider 9 accepts basic and post interchangeably, so tests check this one).
      entry.client_auth = ctx.oidc?.client?.clientAuthMethod ?? null;
      entry.client_auth_used = /^Basic /i.test(ctx.get('authorization')) ? 'client_secret_basic'
        : sent.client_assertion !== undefined ? 'private_key_jwt'
          : sent.client_secret !== undefined ? 'client_secret_post' : 'none';
      entry.access_token_issued = typeof body.access_token === 'string';
      if (typeof body.access_token === 'string') {
        try {
          const claims = jose.decodeJwt(body.access_token);
          entry.access_token_jwt = true;
          entry.access_token_jti = claims.jti ?? null;
          entry.access_token_aud = claims.aud ?? null;
          entry.access_token_scope = claims.scope ?? null;
        } catch {
          entry.access_token_jwt = false;
        }
      }
      entry.refresh_token_issued = typeof body.refresh_token === 'string';
      if (sent.grant_type === 'refresh_token' && typeof sent.refresh_token === 'string') {
        entry.refresh_token_rotated = typeof body.refresh_token === 'string'
          && sha(body.refresh_token) !== sha(sent.refresh_token);
        if (ctx.status === 400 && ctx.state.refreshTokenReuse) {
          const reuse = {
            event: 'refresh_token_reuse',
            level: 'ERROR',
            message: 'a rotated-out refresh token was presented: the whole grant is revoked',
            client_id: entry.client_id,
          };
          log(reuse);
          process.stderr.write(`oidc-provider: !!! REFRESH TOKEN REUSE DETECTED (client ${entry.client_id}): grant revoked\n`);
        }
      }
    } else if (event === 'authorization' || event === 'device_authorization') {
      entry.resource_sent = sent.resource !== undefined;
      entry.resource = sent.resource ?? null;
      entry.scope = sent.scope ?? null;
      entry.prompt = sent.prompt ?? null;
      entry.code_challenge_method = sent.code_challenge_method ?? null;
      entry.redirect_uri = sent.redirect_uri ?? null;
    } else if (event === 'registration' && ctx.method === 'POST') {
      entry.client_id = body.client_id ?? null;
      entry.application_type = body.application_type ?? null;
      entry.grant_types = body.grant_types ?? null;
      entry.token_endpoint_auth_method = body.token_endpoint_auth_method ?? null;
      entry.redirect_uris = body.redirect_uris ?? null;
      entry.registered_scope = body.scope ?? null;
    }
    log(entry);
  }
});

provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider: server_error ${err?.stack ?? err}\n`));
provider.on('grant.error', (ctx, err) => {
  if (/already used/.test(`${err?.error_detail ?? ''} ${err?.message ?? ''}`)) ctx.state.refreshTokenReuse = true;
});
provider.on('grant.revoked', (_ctx, grantId) => log({ event: 'grant_revoked', grant_id_hash: sha(grantId).slice(0, 16) }));

// Test hook: POST /test/revoke-grants revokes every grant issued so far (an administrator
// revoking access): their refresh tokens stop working, their JWT access tokens expire.
const grantIds = new Set();
provider.on('refresh_token.saved', (token) => grantIds.add(token.grantId));
provider.on('access_token.saved', (token) => grantIds.add(token.grantId));
const providerCallback = provider.callback();
server.on('request', async (req, res) => {
  if (req.method === 'POST' && req.url === '/test/revoke-grants') {
    const n = grantIds.size;
    for (const id of grantIds) {
      await provider.RefreshToken.revokeByGrantId(id);
      await provider.AccessToken.revokeByGrantId(id);
      const grant = await provider.Grant.find(id);
      if (grant) await grant.destroy();
      log({ event: 'grant_revoked_by_test', grant_id_hash: sha(id).slice(0, 16) });
    }
    grantIds.clear();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ revoked: n }));
    return;
  }
  providerCallback(req, res);
});

let stopping = false;
function shutdown(why) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`oidc-provider: stopping (${why})\n`);
  const force = setTimeout(() => process.exit(0), 2000);
  force.unref();
  server.closeAllConnections?.();
  server.close(() => process.exit(0));
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (!opts['ignore-stdin']) {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}

process.stdout.write(`LISTENING ${port}\n`);
