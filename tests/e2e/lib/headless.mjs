// SPDX-License-Identifier: Apache-2.0
// Helpers for headless.test.mjs: a "laptop" that logged in with a browser, "containers" (fresh
// HOMEs with no token store) that run from what the laptop exported, a long-running
// `fracta proxy` host, and a record of every output for the no-secret checks.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { fracta, oauthConfig, show, tmpdir, tomlStr, writeConfig } from './harness.mjs';
import { decodeJwt } from './oauth-client.mjs';
import { setupOAuth } from './oauth-fracta.mjs';
import { proxyCommand, waitFor } from './proxy-host.mjs';

/** Every fracta output of this test file: { what, stdout, stderr, stdoutMaySecret }. */
export const outputs = [];
/** Every token value seen in an export (access and refresh tokens). */
export const secrets = new Set();

export function recordOutput(what, r, { stdoutMaySecret = false } = {}) {
  outputs.push({ what, stdout: r.stdout ?? '', stderr: r.stderr ?? '', stdoutMaySecret });
  return r;
}

/** Remembers the token values of a token.json text (for the no-secret checks). */
export function noteTokens(tokenJsonText) {
  const j = JSON.parse(tokenJsonText);
  for (const k of ['access_token', 'refresh_token']) if (typeof j[k] === 'string' && j[k]) secrets.add(j[k]);
  return j;
}

const isExport = (args) => args.includes('export');

/**
 * A laptop: the OAuth peers, a HOME with the encrypted file store, one browser login of
 * `server`. Resolves to setupOAuth's context; its run() records every output.
 */
export async function laptop(t, { server, asArgs = [], mcpArgs = [] }) {
  const o = await setupOAuth({ t, asArgs, mcpArgs, name: server });
  const run = o.run;
  o.run = async (args, opts) => recordOutput(`laptop: fracta ${args.join(' ')}`, await run(args, opts),
    { stdoutMaySecret: isExport(args) });
  const login = await o.run(['config', 'mcp', 'auth', 'login', server, '--timeout', '60']);
  assert.equal(login.code, 0, o.explain(login));
  return o;
}

/**
 * A container: a fresh HOME with no token store (no keyring, no store key, no browser), a
 * config for `server` at `url` whose auth table is `auth` (TOML values, see oauthConfig).
 * { home, config, env, run(args, {env}) }.
 */
export function container(server, url, auth, { env: baseEnv = {} } = {}) {
  const home = tmpdir('fracta-e2e-container-');
  const config = writeConfig(tmpdir('fracta-e2e-container-cfg-'), oauthConfig(server, url, auth));
  const env = { FRACTA_CONFIG: config, BROWSER: '/bin/false', ...baseEnv };
  return {
    home,
    config,
    env,
    run: async (args, { env: more = {}, timeoutMs } = {}) => recordOutput(`container: fracta ${args.join(' ')}`,
      await fracta(args, { home, env: { ...env, ...more }, timeoutMs }), { stdoutMaySecret: isExport(args) }),
    /** Files under HOME (a container must not get a token store). */
    files: () => listFiles(home),
  };
}

/** Every regular file under `dir`, relative paths, sorted. */
export function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

/** A hash of the bytes, mode, times and inode of each file, to show a mount was never written. */
export function snapshot(paths) {
  return Object.fromEntries(paths.map((p) => {
    const st = fs.statSync(p);
    const sha256 = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex'); // not the secret itself
    return [p, { sha256, mode: st.mode & 0o777, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino }];
  }));
}

/** The auth table lines for a mounted export. */
export function mountedAuth(dir, { registration = true } = {}) {
  const auth = { token_file: tomlStr(path.join(dir, 'token.json')) };
  if (registration) auth.client_registration_file = tomlStr(path.join(dir, 'client-registration.json'));
  return auth;
}

/** The jti of a JWT access token. */
export const jtiOf = (accessToken) => decodeJwt(accessToken).payload.jti;

/** The token identity the resource server saw on its last tools/call. */
export function lastCallJti(mcp) {
  const calls = mcp.log().filter((e) => (e.rpc_methods ?? []).includes('tools/call'));
  return calls.at(-1)?.token_jti ?? null;
}

export const refreshGrants = (as) => as.log().filter((e) => e.event === 'token' && e.grant_type === 'refresh_token');

/**
 * A long-running `fracta proxy <server> --no-login` driven by an MCP SDK host over stdio, in
 * `home` with `env` and config `cfg`. { call(tool, args) → text, stderr(), stop() }.
 */
export async function startProxy(t, cfg, server, { home, env, args = [] }) {
  const cmd = proxyCommand(cfg, server, { home, env, args: ['--no-login', ...args] });
  const transport = new StdioClientTransport({ ...cmd, stderr: 'pipe' });
  let stderr = '';
  transport.stderr.setEncoding('utf8');
  transport.stderr.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'e2e-headless-host', version: '1.0.0' }, { capabilities: {} });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await client.close();
    recordOutput(`proxy ${server} (${cfg})`, { stdout: '', stderr });
  };
  t.after(stop);
  await client.connect(transport);
  return {
    async call(tool, args = {}) {
      const r = await client.callTool({ name: tool, arguments: args });
      const text = r.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
      if (r.isError) throw new Error(`tool ${tool} failed: ${text}`);
      return text;
    },
    stderr: () => stderr,
    stop,
  };
}

/** Resolves once the wall clock is past unix time `s` (an expiry: the clock is the event). */
export async function pastUnixTime(s) {
  await waitFor(() => Date.now() / 1000 > s, `unix time ${s}`, Math.max(0, s * 1000 - Date.now()) + 5000);
}

/** The first line of a stderr text. */
export const firstLine = (text) => text.split('\n')[0];

export { show, waitFor };
