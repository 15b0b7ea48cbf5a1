// SPDX-License-Identifier: Apache-2.0
// Headless deployments against the real peers (oidc-provider, the JWT-checking MCP SDK server,
// chromium as $BROWSER): a laptop logs in and exports; "containers" with no token store run
// from the k8s Secret, a read-only files mount (refreshed in memory, swapped like Kubernetes
// swaps a Secret volume), or inline tokens from env; conflicting configs are refused with
// file:line; the deprecated `fracta mcp …` aliases; no secret in any output but an export's.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import YAML from 'yaml';

import { closedPort, fracta, fractaPty, tmpdir, tomlStr, writeConfig } from './lib/harness.mjs';
import {
  container, firstLine, jtiOf, lastCallJti, laptop, mountedAuth, noteTokens, outputs,
  pastUnixTime, recordOutput, refreshGrants, secrets, show, snapshot, startProxy, waitFor,
} from './lib/headless.mjs';
import { secretLeak, statusFor } from './lib/oauth-fracta.mjs';

// A server name that needs sanitising for Kubernetes and for environment variable names.
const S = 'My_Server-Prod';
const SECRET_NAME = 'fracta-mcp-my-server-prod';
const ENV_PREFIX = 'FRACTA_MCP_MY_SERVER_PROD_';
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

const exportCmd = (...rest) => ['config', 'mcp', 'auth', 'export', S, ...rest];
const readJson = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));

/** `export --format files --out dir` from the laptop; returns { tokens, registration, dir }. */
async function exportFiles(o, dir, extra = []) {
  const r = await o.run(exportCmd('--format', 'files', '--out', dir, ...extra));
  assert.equal(r.code, 0, o.explain(r));
  const tokens = noteTokens(fs.readFileSync(path.join(dir, 'token.json'), 'utf8'));
  return { tokens, registration: readJson(path.join(dir, 'client-registration.json')), dir, result: r };
}

/** Makes an exported directory read-only, as a Secret or Compose mount is. */
function mountReadOnly(dir) {
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o444);
  fs.chmodSync(dir, 0o555);
}

describe('headless: k8s-secret export', () => {
  test('the Secret parses as YAML with the expected name, type and keys, and its token.json authenticates a container with no store', async (t) => {
    const o = await laptop(t, { server: S });
    const r = await o.run(exportCmd('--format', 'k8s-secret', '--stdout'));
    assert.equal(r.code, 0, o.explain(r));
    const docs = YAML.parseAllDocuments(r.stdout);
    assert.equal(docs.length, 1, `one YAML document:\n${r.stdout.replace(/data:[\s\S]*/, 'data: …')}`);
    assert.deepEqual(docs[0].errors, []);
    const secret = docs[0].toJS();
    assert.deepEqual(Object.keys(secret).sort(), ['apiVersion', 'data', 'kind', 'metadata', 'type']);
    assert.equal(secret.apiVersion, 'v1');
    assert.equal(secret.kind, 'Secret');
    assert.equal(secret.type, 'Opaque');
    assert.equal(secret.metadata.name, SECRET_NAME);
    assert.match(secret.metadata.name, DNS_1123_SUBDOMAIN);
    assert.equal(secret.metadata.namespace, undefined, 'no namespace unless --namespace');
    assert.equal(secret.metadata.labels?.['app.kubernetes.io/managed-by'], 'fracta');
    assert.deepEqual(Object.keys(secret.data).sort(), ['client-registration.json', 'token.json']);
    for (const [k, v] of Object.entries(secret.data)) {
      assert.match(v, /^[A-Za-z0-9+/]+={0,2}$/, `data.${k} is base64`);
    }

    // Decoded into the directory a volume mount would give a container.
    const mount = tmpdir('fracta-e2e-secret-volume-');
    for (const [k, v] of Object.entries(secret.data)) fs.writeFileSync(path.join(mount, k), Buffer.from(v, 'base64'), { mode: 0o400 });
    const tokens = noteTokens(fs.readFileSync(path.join(mount, 'token.json'), 'utf8'));
    const registration = readJson(path.join(mount, 'client-registration.json'));
    assert.equal(tokens.issuer, o.issuer);
    assert.equal(typeof tokens.refresh_token, 'string');
    const reg = o.as.log().find((e) => e.event === 'registration' && e.status === 201);
    assert.equal(registration.client_id, reg.client_id, 'the dynamic registration the laptop made');

    // The same bytes as a files export of the same login (one source, three formats).
    const files = tmpdir('fracta-e2e-files-');
    await exportFiles(o, path.join(files, 'out'));
    for (const k of Object.keys(secret.data)) {
      const same = fs.readFileSync(path.join(mount, k), 'utf8') === fs.readFileSync(path.join(files, 'out', k), 'utf8');
      assert.ok(same, `${k}: the Secret's bytes are the files export's`); // (not printed: secrets)
    }

    // --namespace goes into metadata.
    const ns = await o.run(exportCmd('--format', 'k8s-secret', '--stdout', '--namespace', 'mcp-gateways'));
    assert.equal(ns.code, 0, o.explain(ns));
    assert.equal(YAML.parse(ns.stdout).metadata.namespace, 'mcp-gateways');

    const c = container(S, o.resource, mountedAuth(mount));
    const call = await c.run(['call', S, 'whoami', '{}']);
    assert.equal(call.code, 0, show(call));
    assert.match(call.stdout, /authenticated/);
    assert.equal(lastCallJti(o.mcp), jtiOf(tokens.access_token), 'the resource server saw the exported token');
    assert.deepEqual(c.files().filter((f) => /token|\.enc$/.test(f)), [], 'no token store in the container');
  });

  test('auth status of a mounted token_file names the live source, its path and when it was read', async (t) => {
    const o = await laptop(t, { server: S });
    const mount = path.join(tmpdir('fracta-e2e-mount-'), 'secret');
    await exportFiles(o, mount);
    const c = container(S, o.resource, mountedAuth(mount));
    const st = await c.run(['config', 'mcp', 'auth', 'status', S, '--json']);
    assert.equal(st.code, 0, show(st));
    const entry = statusFor(st.stdout, S);
    assert.equal(entry.source, 'token_file', st.stdout);
    assert.equal(entry.source_path, path.join(mount, 'token.json'), st.stdout);
    assert.equal(typeof entry.source_read_at, 'number', st.stdout);
    assert.ok(Math.abs(entry.source_read_at - Date.now() / 1000) < 120, st.stdout);
    const text = await c.run(['config', 'mcp', 'auth', 'status', S]);
    assert.equal(text.code, 0, show(text));
    assert.match(text.stdout, /source: token_file/);
    assert.ok(text.stdout.includes(path.join(mount, 'token.json')), text.stdout);
  });

  test('a server name that ends in an underscore still gives a valid DNS-1123 Secret name', async (t) => {
    const o = await laptop(t, { server: 'Edge_' });
    const r = await o.run(['config', 'mcp', 'auth', 'export', 'Edge_', '--format', 'k8s-secret', '--stdout']);
    assert.equal(r.code, 0, o.explain(r));
    const name = YAML.parse(r.stdout).metadata.name;
    assert.match(name, /^fracta-mcp-edge/);
    assert.match(name, DNS_1123_SUBDOMAIN, `kubectl refuses ${name}`);
  });
});

/** Calls `whoami` through `proxy` every ~500 ms for `ms`: every call must succeed. */
async function callsAcross(proxy, ms) {
  const failures = [];
  let n = 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const text = await proxy.call('echo', { text: `n${n}` });
      if (text !== `echo: n${n}`) failures.push(`call ${n}: ${text}`);
    } catch (e) {
      failures.push(`call ${n}: ${e.message}`);
    }
    n += 1;
    await new Promise((r) => setTimeout(r, 500)); // pacing of the load, not synchronisation
  }
  return { n, failures };
}

describe('headless: a files export mounted read-only', () => {
  test('files are 0600, a second export needs --force (exit 2 naming it), --force overwrites', async (t) => {
    const o = await laptop(t, { server: S });
    const out = path.join(tmpdir('fracta-e2e-files-'), 'fracta');
    const first = await exportFiles(o, out);
    assert.equal(fs.statSync(out).mode & 0o777, 0o700, 'the directory is created 0700');
    for (const f of ['token.json', 'client-registration.json']) {
      assert.equal(fs.statSync(path.join(out, f)).mode & 0o777, 0o600, f);
    }
    assert.deepEqual(fs.readdirSync(out).sort(), ['client-registration.json', 'token.json'], 'no temporary left behind');
    assert.match(first.result.stderr, new RegExp(`token_file = ${tomlStr(path.join(out, 'token.json')).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(first.result.stderr, /client_registration_file = /);

    const before = snapshot([path.join(out, 'token.json')]);
    const again = await o.run(exportCmd('--format', 'files', '--out', out));
    assert.equal(again.code, 2, o.explain(again));
    assert.match(again.stderr, /--force/);
    assert.deepEqual(snapshot([path.join(out, 'token.json')]), before, 'the refused export changed nothing');
    const forced = await o.run(exportCmd('--format', 'files', '--out', out, '--force'));
    assert.equal(forced.code, 0, o.explain(forced));
    assert.equal(fs.statSync(path.join(out, 'token.json')).mode & 0o777, 0o600);
  });

  test('with rotating refresh tokens: refreshed in memory across expiries and never written; after a restart the spent mount says to re-export', async (t) => {
    const o = await laptop(t, { server: S, asArgs: ['--access-ttl', '4'] });
    const mount = path.join(tmpdir('fracta-e2e-mount-'), 'secret');
    const { tokens } = await exportFiles(o, mount);
    mountReadOnly(mount);
    const files = fs.readdirSync(mount).map((f) => path.join(mount, f));
    const before = snapshot(files);
    const grantsBefore = refreshGrants(o.as).length;

    const c = container(S, o.resource, mountedAuth(mount));
    const proxy = await startProxy(t, c.config, S, { home: c.home, env: c.env });
    const { n, failures } = await callsAcross(proxy, 13_000);
    assert.deepEqual(failures, [], `failed calls through the proxy:\nproxy stderr:\n${proxy.stderr()}`);
    const grants = refreshGrants(o.as).slice(grantsBefore);
    t.diagnostic(`${n} calls, ${grants.length} refresh_token grants`);
    assert.ok(grants.length >= 2, `refreshed across expiries: ${JSON.stringify(grants)}`);
    for (const g of grants) assert.equal(g.status, 200, JSON.stringify(g));
    assert.ok(!o.as.log().some((e) => e.event === 'refresh_token_reuse'), 'one process never reuses a refresh token');
    assert.notEqual(lastCallJti(o.mcp), jtiOf(tokens.access_token), 'the last calls carried a refreshed token');
    await proxy.stop();
    assert.deepEqual(snapshot(files), before, 'the mounted files were never written');
    assert.deepEqual(fs.readdirSync(mount).sort(), ['client-registration.json', 'token.json']);
    assert.deepEqual(c.files().filter((f) => /token|\.enc$/.test(f)), [], 'no token store in the container');

    // Restart: the mount still holds the refresh token the first process spent.
    await pastUnixTime(tokens.expires_at);
    const restarted = await c.run(['call', S, 'whoami', '{}']);
    assert.notEqual(restarted.code, 0, show(restarted));
    assert.match(restarted.stderr, /export/, `the error says to re-export:\n${show(restarted)}`);
    assert.match(restarted.stderr, /fracta config mcp auth export/, `and names the command:\n${show(restarted)}`);
    assert.match(restarted.stderr, /--format (files|k8s-secret)/, show(restarted));
    assert.deepEqual(snapshot(files), before, 'the restart did not write the mount either');
  });

  test('with non-rotating refresh tokens: a restarted process works from the same read-only mount', async (t) => {
    const o = await laptop(t, { server: S, asArgs: ['--access-ttl', '4', '--no-rotate'] });
    const mount = path.join(tmpdir('fracta-e2e-mount-'), 'secret');
    const { tokens } = await exportFiles(o, mount);
    mountReadOnly(mount);
    const files = fs.readdirSync(mount).map((f) => path.join(mount, f));
    const before = snapshot(files);

    const c = container(S, o.resource, mountedAuth(mount));
    const proxy = await startProxy(t, c.config, S, { home: c.home, env: c.env });
    const { failures } = await callsAcross(proxy, 9_000);
    assert.deepEqual(failures, [], `failed calls:\nproxy stderr:\n${proxy.stderr()}`);
    await proxy.stop();
    await pastUnixTime(tokens.expires_at);
    const grantsBefore = refreshGrants(o.as).length;
    const restarted = await c.run(['call', S, 'whoami', '{}']);
    assert.equal(restarted.code, 0, show(restarted));
    assert.match(restarted.stdout, /authenticated/);
    assert.equal(refreshGrants(o.as).slice(grantsBefore).filter((g) => g.status === 200).length, 1,
      'the restarted process refreshed from the mounted refresh token');
    assert.deepEqual(snapshot(files), before, 'the mounted files were never written');
  });
});

describe('headless: a Kubernetes Secret volume swapped while fracta runs', () => {
  test('after the ..data symlink swap the running proxy sends the new token (seen by the resource server)', async (t) => {
    const o = await laptop(t, { server: S }); // 1 h access tokens: only the swap can change the token
    const vol = tmpdir('fracta-e2e-volume-');
    const a = await exportFiles(o, path.join(vol, '..2026_12_01_18_00_00.000000001'));
    fs.symlinkSync(path.basename(a.dir), path.join(vol, '..data'));
    for (const f of ['token.json', 'client-registration.json']) fs.symlinkSync(path.join('..data', f), path.join(vol, f));

    const c = container(S, o.resource, mountedAuth(vol));
    const proxy = await startProxy(t, c.config, S, { home: c.home, env: c.env });
    assert.equal(await proxy.call('whoami'), 'authenticated');
    assert.equal(lastCallJti(o.mcp), jtiOf(a.tokens.access_token), 'token A first');

    // A second login on the laptop, exported as kubelet would write the updated Secret.
    const relogin = await o.run(['config', 'mcp', 'auth', 'login', S, '--timeout', '60']);
    assert.equal(relogin.code, 0, o.explain(relogin));
    const b = await exportFiles(o, path.join(vol, '..2026_12_01_18_05_00.000000002'));
    assert.notEqual(jtiOf(b.tokens.access_token), jtiOf(a.tokens.access_token));
    fs.symlinkSync(path.basename(b.dir), path.join(vol, '..data_tmp'));
    fs.renameSync(path.join(vol, '..data_tmp'), path.join(vol, '..data'));
    fs.rmSync(a.dir, { recursive: true }); // kubelet removes the old timestamped directory

    const grantsBefore = refreshGrants(o.as).length;
    const logBefore = o.mcp.log().length;
    await waitFor(async () => {
      assert.equal(await proxy.call('whoami'), 'authenticated', proxy.stderr());
      return lastCallJti(o.mcp) === jtiOf(b.tokens.access_token);
    }, `the proxy's calls carrying token B after the swap\nproxy stderr:\n${proxy.stderr()}`, 15_000);
    assert.equal(refreshGrants(o.as).length, grantsBefore, 'switched by watching the mount, not by a refresh');
    const refused = o.mcp.log().slice(logBefore).filter((e) => e.status === 401);
    assert.deepEqual(refused, [], 'token A was never refused: the switch came from the file');
  });
});

/** Parses `export NAME='value'` lines; fails on anything else that is not a comment. */
function parseEnvExport(text) {
  const vars = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    // One POSIX shell word: single-quoted, or plain when nothing in it is special to a shell.
    const m = /^export ([A-Z][A-Z0-9_]*)=(?:'((?:[^']|'\\'')*)'|([A-Za-z0-9@%+=:,./_-]+))$/.exec(line);
    assert.ok(m, `not a shell-safe export line: ${line.split('=')[0]}=…`);
    vars[m[1]] = m[2] !== undefined ? m[2].replaceAll("'\\''", "'") : m[3];
  }
  return vars;
}

describe('headless: inline tokens from env', () => {
  let inlineContainerFiles; // what the container's HOME held after the test below
  // Non-rotating refresh tokens: inline tokens cannot be written back, so every process started
  // from the same variables refreshes with the same refresh token (the rotation caveat).
  test('the env export is shell-safe; a config reading it works in a HOME with no store and refreshes in memory after expiry', async (t) => {
    const o = await laptop(t, { server: S, asArgs: ['--access-ttl', '6', '--no-rotate'] });
    const r = await o.run(exportCmd('--format', 'env', '--stdout'));
    assert.equal(r.code, 0, o.explain(r));
    const vars = parseEnvExport(r.stdout);
    assert.deepEqual(Object.keys(vars).sort(),
      ['ACCESS_TOKEN', 'CLIENT_ID', 'EXPIRES_AT', 'REFRESH_TOKEN'].map((f) => ENV_PREFIX + f).sort());
    for (const v of Object.values(vars)) secrets.add(v);
    secrets.delete(vars[`${ENV_PREFIX}EXPIRES_AT`]);
    secrets.delete(vars[`${ENV_PREFIX}CLIENT_ID`]);

    // bash reads back exactly these values, from the file --out writes (mode 0600).
    const envFile = path.join(tmpdir('fracta-e2e-envfile-'), 'server.env');
    const written = await o.run(exportCmd('--format', 'env', '--out', envFile));
    assert.equal(written.code, 0, o.explain(written));
    assert.equal(fs.statSync(envFile).mode & 0o777, 0o600);
    assert.ok(fs.readFileSync(envFile, 'utf8') === r.stdout, '--out FILE holds what --stdout prints');
    const sourced = execFileSync('bash', ['--norc', '--noprofile', '-c', 'source "$1"; env -0', 'bash', envFile],
      { env: { PATH: process.env.PATH } });
    const env = Object.fromEntries(sourced.toString('utf8').split('\0').filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]).filter(([k]) => k.startsWith('FRACTA_MCP_')));
    // (compared without printing: the values are tokens)
    assert.deepEqual(Object.keys(env).sort(), Object.keys(vars).sort());
    for (const k of Object.keys(vars)) assert.ok(env[k] === vars[k], `bash reads ${k} back unchanged`);

    // The same values as the files export of this login.
    const files = await exportFiles(o, path.join(tmpdir('fracta-e2e-files-'), 'out'));
    assert.ok(vars[`${ENV_PREFIX}ACCESS_TOKEN`] === files.tokens.access_token, 'ACCESS_TOKEN is token.json\'s');
    assert.ok(vars[`${ENV_PREFIX}REFRESH_TOKEN`] === files.tokens.refresh_token, 'REFRESH_TOKEN is token.json\'s');
    assert.equal(Number(vars[`${ENV_PREFIX}EXPIRES_AT`]), files.tokens.expires_at);
    assert.equal(vars[`${ENV_PREFIX}CLIENT_ID`], files.registration.client_id);

    // The comments show the auth table that reads them back.
    const auth = {
      access_token: `{ env = "${ENV_PREFIX}ACCESS_TOKEN" }`,
      refresh_token: `{ env = "${ENV_PREFIX}REFRESH_TOKEN" }`,
      expires_at: `{ env = "${ENV_PREFIX}EXPIRES_AT" }`,
      client_id: `{ env = "${ENV_PREFIX}CLIENT_ID" }`,
      issuer: tomlStr(o.issuer),
    };
    const comments = r.stdout.split('\n').filter((l) => l.startsWith('#')).join('\n');
    for (const [k, v] of Object.entries(auth)) {
      assert.ok(comments.includes(`${k} = ${v}`), `the comments show ${k} = ${v}:\n${comments}`);
    }

    const c = container(S, o.resource, auth, { env });
    const first = await c.run(['call', S, 'whoami', '{}']);
    assert.equal(first.code, 0, show(first));
    assert.match(first.stdout, /authenticated/);

    await pastUnixTime(Number(vars[`${ENV_PREFIX}EXPIRES_AT`]));
    const grantsBefore = refreshGrants(o.as).length;
    const later = await c.run(['call', S, 'whoami', '{}']);
    assert.equal(later.code, 0, show(later));
    assert.match(later.stdout, /authenticated/);
    const grants = refreshGrants(o.as).slice(grantsBefore);
    assert.equal(grants.filter((g) => g.status === 200).length, 1, `one refresh after expiry: ${JSON.stringify(grants)}`);
    assert.notEqual(lastCallJti(o.mcp), jtiOf(vars[`${ENV_PREFIX}ACCESS_TOKEN`]), 'the refreshed token was sent');
    assert.deepEqual(c.files().filter((f) => /token|\.enc$/.test(f)), [], 'nothing was written: refreshed in memory');
    inlineContainerFiles = c.files();
  });

  test('the container HOME stays empty: in-memory tokens take no store and no refresh lock', () => {
    assert.ok(inlineContainerFiles !== undefined, 'the test above ran to its end');
    assert.deepEqual(inlineContainerFiles, []);
  });
});

/** A config for server `demo` whose auth table is `lines`; returns { path, lineOf(key) }. */
function badConfig(lines, url) {
  const text = `# conflicting settings\n[mcp.servers.demo.remote]\nurl = ${tomlStr(url)}\n\n[mcp.servers.demo.remote.auth]\n${lines.join('\n')}\n`;
  const p = writeConfig(tmpdir('fracta-e2e-bad-'), text, 'fracta.toml');
  return { path: p, lineOf: (key) => text.split('\n').findIndex((l) => l.startsWith(`${key} =`)) + 1 };
}

describe('headless: conflicting settings are refused with file:line', () => {
  const reg = () => {
    const d = tmpdir('fracta-e2e-reg-');
    fs.writeFileSync(path.join(d, 'token.json'), '{"access_token":"e2e-not-a-real-token"}', { mode: 0o600 });
    return d;
  };
  const fifoDir = () => {
    const d = tmpdir('fracta-e2e-fifo-');
    execFileSync('mkfifo', [path.join(d, 'token.json')]);
    return d;
  };
  const cases = [
    { name: 'access_token together with token_file', key: 'access_token', why: /mutually exclusive|token_file/,
      lines: (d) => ['type = "oauth"', `token_file = ${tomlStr(path.join(d, 'token.json'))}`, 'access_token = { value = "e2e-inline" }'] },
    { name: 'a client_registration_file that does not exist', key: 'client_registration_file', why: /does not exist/,
      lines: (d) => ['type = "oauth"', `client_registration_file = ${tomlStr(path.join(d, 'missing', 'client-registration.json'))}`] },
    { name: 'refresh_token without issuer or metadata_url', key: 'refresh_token', why: /issuer|metadata_url/,
      lines: () => ['type = "oauth"', 'access_token = { value = "e2e-inline" }', 'refresh_token = { value = "e2e-inline-refresh" }'] },
    { name: 'client_credentials without client_secret', key: 'client_secret', at: 'grant_type', why: /requires client_id and client_secret/,
      lines: () => ['type = "oauth"', 'grant_type = "client_credentials"', 'client_id = { value = "svc" }'] },
    { name: '${CREDENTIALS_DIRECTORY} in token_file with the variable unset', key: 'token_file', why: /CREDENTIALS_DIRECTORY/,
      lines: () => ['type = "oauth"', 'token_file = "${CREDENTIALS_DIRECTORY}/token.json"'] },
    { name: '$CREDENTIALS_DIRECTORY in a SecretValue file with the variable unset', key: 'client_secret', why: /CREDENTIALS_DIRECTORY/,
      lines: () => ['type = "oauth"', 'grant_type = "client_credentials"', 'client_id = { value = "svc" }',
        'client_secret = { file = "$CREDENTIALS_DIRECTORY/client-secret" }'] },
    { name: 'a token_file that is a directory', key: 'token_file', why: /directory/,
      lines: (d) => ['type = "oauth"', `token_file = ${tomlStr(d)}`] },
    { name: 'a token_file that is a FIFO', key: 'token_file', why: /regular file|FIFO|pipe|not a file/i, dir: fifoDir,
      lines: (d) => ['type = "oauth"', `token_file = ${tomlStr(path.join(d, 'token.json'))}`] },
  ];
  for (const k of cases) {
    test(`${k.name}: validate and call exit 2, the first stderr line names file:line and ${k.key}`, async () => {
      const d = (k.dir ?? reg)();
      const cfg = badConfig(k.lines(d), `http://127.0.0.1:${await closedPort()}/mcp`);
      const line = cfg.lineOf(k.at ?? k.key); // a missing key is reported where the rule comes from
      assert.ok(line > 0);
      const where = new RegExp(`${cfg.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}(:\\d+)?: .*\\b${k.key}\\b`);
      const problems = [];
      for (const args of [['config', 'mcp', 'validate'], ['call', 'demo', 'whoami', '{}']]) {
        const r = recordOutput(`bad config: fracta ${args.join(' ')}`,
          await fracta(['--config', cfg.path, ...args], { timeoutMs: 10_000 }));
        if (r.code !== 2 || !where.test(firstLine(r.stderr)) || !k.why.test(r.stderr)) {
          problems.push(`fracta ${args.join(' ')}: want exit 2, first line ~ ${where}, text ~ ${k.why}; got ${show(r)}`);
        }
      }
      assert.deepEqual(problems, []);
    });
  }
});

describe('headless: deprecated aliases', () => {
  /** The stderr lines of `alias` less exactly one line naming `replacement`, which must be there. */
  function withoutDeprecation(alias, replacement) {
    const lines = alias.stderr.split('\n');
    const dep = lines.filter((l) => l.includes(replacement) && /deprecat/i.test(l));
    assert.equal(dep.length, 1, `exactly one deprecation line naming ${replacement}:\n${alias.stderr}`);
    return lines.filter((l) => l !== dep[0]).join('\n');
  }
  // A login's text varies with time (the browser URL's state, "expires in N min").
  const loginText = (s) => s.replace(/https?:\/\/\S+/g, '<url>').replace(/\d+/g, 'N');

  test('fracta mcp login, mcp export and mcp auth-status: the same stdout and exit code as their replacements, plus one stderr line', async (t) => {
    const o = await laptop(t, { server: S });
    const pairs = [
      [['mcp', 'login', S, '--timeout', '60'], ['config', 'mcp', 'auth', 'login', S, '--timeout', '60'], 'fracta config mcp auth login', loginText],
      [['mcp', 'export', S, '--format', 'env', '--stdout'], exportCmd('--format', 'env', '--stdout'), 'fracta config mcp auth export'],
      [['mcp', 'export', S, '--format', 'k8s-secret', '--stdout'], exportCmd('--format', 'k8s-secret', '--stdout'), 'fracta config mcp auth export'],
      [['mcp', 'export', 'nosuch', '--format', 'env', '--stdout'], ['config', 'mcp', 'auth', 'export', 'nosuch', '--format', 'env', '--stdout'], 'fracta config mcp auth export'],
      [['mcp', 'auth-status', S], ['config', 'mcp', 'auth', 'status', S], 'fracta config mcp auth status'],
      [['mcp', 'auth-status', '--json'], ['config', 'mcp', 'auth', 'status', '--json'], 'fracta config mcp auth status'],
    ];
    for (const [aliasArgs, newArgs, replacement, norm = (x) => x] of pairs) {
      await t.test(`fracta ${aliasArgs.join(' ')} = fracta ${newArgs.join(' ')} + one line`, async () => {
        const now = await o.run(newArgs);
        const old = await o.run(aliasArgs);
        assert.equal(old.code, now.code, `${show(old)}\n${show(now)}`);
        assert.equal(norm(old.stdout), norm(now.stdout));
        assert.equal(norm(withoutDeprecation(old, replacement)), norm(now.stderr));
      });
    }
  });
});

describe('headless: no secret in any output', () => {
  test('status (text and --json), errors, verbose calls and proxy stderr never show a token; env and k8s-secret refuse a terminal', async (t) => {
    const o = await laptop(t, { server: S, asArgs: ['--access-ttl', '4'] });
    const mount = path.join(tmpdir('fracta-e2e-mount-'), 'secret');
    const { tokens } = await exportFiles(o, mount);
    for (const args of [['config', 'mcp', 'auth', 'status'], ['config', 'mcp', 'auth', 'status', '--json'], ['-v', 'call', S, 'whoami', '{}']]) {
      const r = await o.run(args);
      assert.equal(r.code, 0, o.explain(r));
    }
    const c = container(S, o.resource, mountedAuth(mount));
    const proxy = await startProxy(t, c.config, S, { home: c.home, env: c.env, args: ['-v'] });
    await callsAcross(proxy, 6_000); // across an expiry: the refresh is logged too
    await proxy.stop();
    for (const args of [['config', 'mcp', 'auth', 'status'], ['config', 'mcp', 'auth', 'status', '--json'], ['-v', 'call', S, 'whoami', '{}']]) {
      await c.run(args); // after a rotation elsewhere this may fail: its message must not leak either
    }
    // A refused export (the files exist).
    const exists = await o.run(exportCmd('--format', 'files', '--out', mount));
    assert.equal(exists.code, 2, o.explain(exists));
    // To a terminal, env and k8s-secret print nothing without --stdout or --out.
    for (const format of ['env', 'k8s-secret']) {
      const pty = await fractaPty(exportCmd('--format', format), [], { home: o.home, env: o.env });
      recordOutput(`pty: export --format ${format}`, { stdout: pty.output, stderr: '' });
      assert.notEqual(pty.code, 0, pty.output);
      assert.match(pty.output, /--stdout/, pty.output);
      assert.ok(!pty.output.includes(tokens.access_token), 'no token on the terminal');
    }
  });

  test('after a logout there is nothing to export: exit 3, naming the login command', async (t) => {
    const o = await laptop(t, { server: S });
    const out = await o.run(['config', 'mcp', 'auth', 'logout', S]);
    assert.equal(out.code, 0, o.explain(out));
    const nothing = await o.run(exportCmd('--format', 'env', '--stdout'));
    assert.equal(nothing.code, 3, o.explain(nothing));
    assert.match(nothing.stderr, new RegExp(`fracta config mcp auth login ${S}`));
    assert.equal(nothing.stdout, '');
  });

  // Runs last: every command this file ran, in every test above.
  test('no command of this file printed a token, except an export on its stdout', () => {
    assert.ok(outputs.length > 0 && secrets.size > 0, 'outputs and tokens were recorded');
    const leaks = [];
    for (const o of outputs) {
      const texts = [['stderr', o.stderr], ...(o.stdoutMaySecret ? [] : [['stdout', o.stdout]])];
      for (const [stream, text] of texts) {
        for (const s of secrets) if (text.includes(s)) leaks.push(`${o.what}: a token value in ${stream}`);
        const leak = stream === 'stderr' ? secretLeak(text) : null;
        if (leak) leaks.push(`${o.what}: ${leak} (${stream})`);
      }
    }
    assert.deepEqual(leaks, []);
  });
});
