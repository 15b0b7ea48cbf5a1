// SPDX-License-Identifier: Apache-2.0
// A small reference OAuth client (no fracta) used by oauth-peers.test.mjs to prove the OAuth
// peers work: dynamic registration, authorization code + PKCE with a loopback redirect and
// peers/browser.sh as the user agent, refresh, device flow, client_credentials; and an MCP SDK
// client session carrying a bearer token.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { BROWSER_HOOK } from './harness.mjs';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export async function asMetadata(issuer) {
  const r = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
  if (!r.ok) throw new Error(`AS metadata: HTTP ${r.status}`);
  return r.json();
}

/** Runs the $BROWSER hook on `url`; resolves to { code, stderr }. */
export function runBrowser(url, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(BROWSER_HOOK, [url], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** A loopback listener for one redirect: { redirectUri, result: Promise<URLSearchParams>, close() }. */
export async function callbackListener(port = 0) {
  let resolveResult;
  const result = new Promise((r) => { resolveResult = r; });
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    if (u.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><title>done</title><body>You can close this page.</body></html>');
    resolveResult(u.searchParams);
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    redirectUri: `http://127.0.0.1:${server.address().port}/callback`,
    result,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

/** Dynamic client registration as a native public client. */
export async function register(meta, redirectUris, extra = {}) {
  const r = await fetch(meta.registration_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      application_type: 'native',
      client_name: 'peer-selftest',
      redirect_uris: redirectUris,
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...extra,
    }),
  });
  const body = await r.json();
  if (r.status !== 201) throw new Error(`registration: HTTP ${r.status} ${JSON.stringify(body)}`);
  return body;
}

export async function tokenRequest(meta, params, { basic } = {}) {
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (basic) headers.Authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64')}`;
  const r = await fetch(meta.token_endpoint, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
  return { status: r.status, body: await r.json() };
}

/**
 * Authorization code + PKCE through the browser hook. Resolves to
 * { tokens, callback (URLSearchParams), redirectUri }. `redirectPort` forces the listener port.
 */
export async function authCodeLogin({ meta, clientId, scope, resource, redirectPort = 0, sendResource = true }) {
  const cb = await callbackListener(redirectPort);
  try {
    const verifier = b64url(crypto.randomBytes(32));
    const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
    const state = b64url(crypto.randomBytes(16));
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: cb.redirectUri,
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    if (scope) q.set('scope', scope);
    if (sendResource) q.set('resource', resource);
    const browser = runBrowser(`${meta.authorization_endpoint}?${q}`);
    const cbParams = await Promise.race([
      cb.result,
      browser.then((b) => new Promise((_, rej) => setTimeout(() => rej(new Error(`browser exited ${b.code} without a callback: ${b.stderr}`)), 2000))),
    ]);
    const b = await browser;
    if (b.code !== 0) throw new Error(`browser exited ${b.code}: ${b.stderr}`);
    if (cbParams.get('state') !== state) throw new Error('state mismatch');
    if (cbParams.get('error')) throw new Error(`callback error ${cbParams.get('error')}: ${cbParams.get('error_description')}`);
    const params = {
      grant_type: 'authorization_code',
      code: cbParams.get('code'),
      redirect_uri: cb.redirectUri,
      client_id: clientId,
      code_verifier: verifier,
    };
    if (sendResource) params.resource = resource;
    const tokens = await tokenRequest(meta, params);
    return { tokens, callback: cbParams, redirectUri: cb.redirectUri };
  } finally {
    await cb.close();
  }
}

/** An MCP SDK client session with `Authorization: Bearer <token>`. */
export async function mcpSession(url, token) {
  const client = new Client({ name: 'peer-selftest', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: token ? { Authorization: `Bearer ${token}` } : {} },
  });
  await client.connect(transport);
  return client;
}

export function decodeJwt(token) {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
}

/** Raw MCP POST (initialize) with an optional bearer token: { status, wwwAuthenticate, body }. */
export async function rawMcpPost(url, token, message) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify(message ?? {
      jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  return { status: r.status, wwwAuthenticate: r.headers.get('www-authenticate'), body: await r.text() };
}
