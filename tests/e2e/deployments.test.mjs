// SPDX-License-Identifier: Apache-2.0
// docs/deployments.md, run: every block marked <!-- test: NAME --> is taken from the page and
// run against the real peers (oidc-provider, the JWT-checking MCP SDK server, chromium as
// $BROWSER). The laptop's login runs the page's shell blocks under bash with `fracta` on PATH;
// each deployment then runs from a fresh HOME with no store, from what the export produced,
// laid out as the platform would (a Secret volume, Compose secrets, a CREDENTIALS_DIRECTORY).
//
// What the test substitutes, and nothing else (exact strings):
//   https://mcp.example.com/mcp → the MCP peer's loopback URL
//   https://auth.example.com    → the authorization server's issuer (loopback)
//   an absolute path of the host or of a container (/etc/fracta, /var/run/secrets/fracta,
//   /run/secrets, …) → the same path under a temporary root directory.
// `kubectl` is a stand-in on PATH that accepts only `apply -f -` and keeps what it was given.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import YAML from 'yaml';

import {
  binDir, block, markedBlocks, runBash, startHost, substitute,
} from './lib/doc-blocks.mjs';
import {
  BROWSER_HOOK, fracta, show, startOAuthPair, tmpdir,
} from './lib/harness.mjs';
import { secretLeak, statusFor } from './lib/oauth-fracta.mjs';

const DOC = markedBlocks('deployments.md');
const URL_PH = 'https://mcp.example.com/mcp';
const ISSUER_PH = 'https://auth.example.com';
const SERVER = 'acme-crm';
const PASSPHRASE = 'e2e laptop store passphrase, not a secret';
const KUBECTL = `#!/bin/sh
[ "$#" -eq 3 ] && [ "$1" = apply ] && [ "$2" = -f ] && [ "$3" = - ] || { echo "kubectl stand-in: only 'apply -f -'" >&2; exit 1; }
cat > "$FRACTA_TEST_KUBECTL_OUT"
`;

const sha = (p) => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
const under = (root, p) => path.join(root, p);

/** The laptop: the peers, a HOME with the encrypted file store, $BROWSER, and the page's
 *  login block run. Returns { pair, home, env, cwd, bin, sh(name, extraMap), explain(r) }. */
async function laptop(t, { asArgs = [], login = true } = {}) {
  const pair = await startOAuthPair({ t, asArgs });
  const home = tmpdir('fracta-e2e-laptop-');
  const cwd = tmpdir('fracta-e2e-project-');
  const browserLog = path.join(cwd, 'browser.jsonl');
  const kubectlOut = path.join(cwd, 'kubectl-applied.yaml');
  const env = {
    FRACTA_CONFIG: path.join(home, 'laptop.toml'),
    FRACTA_STORE_PASSPHRASE: PASSPHRASE,
    BROWSER: `${BROWSER_HOOK} --log ${browserLog}`,
    FRACTA_TEST_KUBECTL_OUT: kubectlOut,
  };
  const bin = binDir({ kubectl: KUBECTL });
  const map = { [URL_PH]: pair.resource, [ISSUER_PH]: pair.issuer };
  const l = {
    pair, home, env, cwd, bin, kubectlOut,
    explain: (r) => `${show(r)}\n--- AS log (last 6) ---\n${pair.as.log().slice(-6).map((e) => JSON.stringify(e)).join('\n')}`
      + `\n--- MCP log (last 4) ---\n${pair.mcp.log().slice(-4).map((e) => JSON.stringify(e)).join('\n')}`,
    /** Runs the page's shell block `name` on the laptop (placeholders and `paths` replaced). */
    async sh(name, paths = {}) {
      const script = substitute(block(DOC, name, 'sh'), { ...map, ...paths });
      const r = await runBash(script, { cwd, home, env, bin });
      assert.equal(r.code, 0, `block '${name}':\n${script}\n${l.explain(r)}`);
      assert.equal(secretLeak(r.stdout + r.stderr), null, `block '${name}' printed a secret`);
      return r;
    },
  };
  if (login) await l.sh('laptop-login');
  return l;
}

/** The deployment side: a fresh HOME, no store, no browser, no passphrase. */
function deployed(config, env = {}) {
  const home = tmpdir('fracta-e2e-deployed-');
  return (args) => fracta(args, { home, env: { FRACTA_CONFIG: config, ...env }, timeoutMs: 60_000 });
}

/** `fracta config mcp validate`, then a real `fracta call`: the MCP server saw an accepted token. */
async function validateAndCall(run, l, what) {
  const v = await run(['config', 'mcp', 'validate']);
  assert.equal(v.code, 0, `${what}: validate\n${l.explain(v)}`);
  const before = l.pair.mcp.log().length;
  const text = `${what} works`;
  const c = await run(['call', SERVER, 'echo', JSON.stringify({ text })]);
  assert.equal(c.code, 0, `${what}: call\n${l.explain(c)}`);
  assert.match(c.stdout, new RegExp(`echo: ${text}`));
  assert.equal(secretLeak(c.stdout + c.stderr), null);
  const posts = l.pair.mcp.log().slice(before).filter((e) => e.method === 'POST');
  assert.ok(posts.length > 0 && posts.every((e) => e.auth_present), `${what}: every request carried a token: ${JSON.stringify(posts)}`);
  return c;
}

/** Replaces every path in `prefixes` (absolute, host or container) by the same under `root`. */
const rooted = (root, prefixes) => Object.fromEntries(prefixes.map((p) => [p, under(root, p)]));

/** Lays out `files` (name → Buffer) the way the kubelet fills a Secret or ConfigMap volume:
 *  a timestamped directory, `..data` pointing at it, one symlink per key through `..data`. */
function kubeletVolume(dir, files, mode = 0o644) {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = `..${new Date().toISOString().replace(/[-:.TZ]/g, '_')}${crypto.randomBytes(3).toString('hex')}`;
  fs.mkdirSync(path.join(dir, stamp));
  for (const [k, v] of Object.entries(files)) fs.writeFileSync(path.join(dir, stamp, k), v, { mode });
  const dataLink = path.join(dir, '..data');
  const old = fs.existsSync(dataLink) ? fs.readlinkSync(dataLink) : null;
  const tmpLink = path.join(dir, '..data_tmp');
  fs.symlinkSync(stamp, tmpLink);
  fs.renameSync(tmpLink, dataLink); // the atomic swap Kubernetes does
  if (old) fs.rmSync(path.join(dir, old), { recursive: true, force: true });
  for (const k of Object.keys(files)) {
    if (!fs.existsSync(path.join(dir, k))) fs.symlinkSync(path.join('..data', k), path.join(dir, k));
  }
}

/** The Secret `kubectl apply -f -` received: checked against the contract, keys decoded. */
function appliedSecret(l) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(l.kubectlOut, 'utf8')).map((d) => d.toJS());
  assert.equal(docs.length, 1, 'one YAML document');
  const s = docs[0];
  assert.equal(s.apiVersion, 'v1');
  assert.equal(s.kind, 'Secret');
  assert.equal(s.type, 'Opaque');
  assert.equal(s.metadata.name, `fracta-mcp-${SERVER}`);
  assert.equal(s.metadata.labels['app.kubernetes.io/managed-by'], 'fracta');
  assert.deepEqual(Object.keys(s.data).sort(), ['client-registration.json', 'token.json'], 'a DCR login exports both files');
  const files = Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  assert.ok(JSON.parse(files['token.json']).access_token, 'token.json holds an access token');
  return { secret: s, files };
}

/** Polls `fn` (async → truthy when done) every 300 ms until `ms` have passed. */
async function eventually(fn, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.fail(`${what} did not happen within ${ms} ms`);
}

/** Calls echo through `host` until `done()` (checked after each call), at most `ms`. */
async function callUntil(host, label, done, ms, what) {
  let n = 0;
  await eventually(async () => {
    const text = `${label}-${n}`;
    n += 1;
    assert.equal(await host.call(text), `echo: ${text}`, host.stderr());
    return done();
  }, ms, what);
}

const refreshGrants = (l) => l.pair.as.log().filter((e) => e.event === 'token' && e.grant_type === 'refresh_token');
const reuse = (l) => l.pair.as.log().filter((e) => e.event === 'refresh_token_reuse');

describe('docs/deployments.md', () => {
  test('every marked block is present', () => {
    for (const name of ['laptop-login', 'local-host-config', 'k8s-export', 'k8s-manifests', 'compose-export',
      'compose-file', 'compose-config', 'systemd-export', 'systemd-unit', 'systemd-config',
      'systemd-client-secret-unit', 'systemd-client-secret-config', 'inline-export', 'inline-config',
      'inline-run', 'client-credentials-config', 'rotation-forget', 'rotation-reexport']) {
      assert.ok(DOC.has(name), `docs/deployments.md has no block marked <!-- test: ${name} -->`);
    }
  });

  test('local: the host config starts `fracta proxy`, whose refreshed tokens are written back to the store', async (t) => {
    const l = await laptop(t, { asArgs: ['--access-ttl', '4'] });
    const entry = JSON.parse(block(DOC, 'local-host-config', 'json')).mcpServers[SERVER];
    assert.equal(entry.command, 'fracta');
    assert.deepEqual(entry.args, ['proxy', SERVER]);
    const host = await startHost(t, entry, l);
    await callUntil(host, 'local', () => refreshGrants(l).some((e) => e.status === 200), 30_000, 'a refresh by the proxy');
    await host.client.close();
    // A new process reads the store and sends the refreshed token: had the rotated tokens not
    // been written back, it would send the login's token or present a spent refresh token.
    const loginJti = l.pair.as.log().find((e) => e.event === 'token' && e.grant_type === 'authorization_code').access_token_jti;
    const before = l.pair.mcp.log().length;
    const r = await fracta(['call', SERVER, 'echo', '{"text":"after the proxy"}'], { home: l.home, env: l.env });
    assert.equal(r.code, 0, l.explain(r));
    const sent = l.pair.mcp.log().slice(before).filter((e) => e.method === 'POST' && e.auth_present);
    assert.ok(sent.length > 0 && sent.every((e) => e.token_jti !== loginJti), `the stored token is a refreshed one: ${JSON.stringify(sent)}`);
    assert.deepEqual(reuse(l), [], 'no spent refresh token was presented');
  });

  /** The laptop's export applied with `kubectl`, checked against the page's ConfigMap and
   *  Deployment, and mounted as the kubelet would under a temporary root. */
  async function k8sPod(t) {
    const l = await laptop(t);
    await l.sh('k8s-export');
    const { secret, files } = appliedSecret(l);

    // Kubernetes reads manifests as YAML 1.1: `defaultMode: 0400` is octal there.
    const docs = YAML.parseAllDocuments(block(DOC, 'k8s-manifests', 'yaml'), { version: '1.1' }).map((d) => d.toJS());
    const cm = docs.find((d) => d.kind === 'ConfigMap');
    const dep = docs.find((d) => d.kind === 'Deployment');
    assert.ok(cm && dep, 'the manifests have a ConfigMap and a Deployment');
    assert.equal(secret.metadata.namespace, dep.metadata.namespace, 'the Secret is in the Deployment\'s namespace');
    assert.equal(cm.metadata.namespace, dep.metadata.namespace);
    const pod = dep.spec.template.spec;
    const secretVol = pod.volumes.find((v) => v.secret?.secretName === secret.metadata.name);
    assert.ok(secretVol, `a volume mounts Secret ${secret.metadata.name}`);
    const cmVol = pod.volumes.find((v) => v.configMap?.name === cm.metadata.name);
    assert.ok(cmVol, 'a volume mounts the ConfigMap');
    const c = pod.containers[0];
    const mountOf = (vol) => c.volumeMounts.find((m) => m.name === vol.name);
    const secretMount = mountOf(secretVol);
    assert.equal(secretMount.readOnly, true, 'the Secret is mounted read-only');
    assert.equal(secretMount.subPath, undefined, 'no subPath (it would never be updated)');
    const cmMount = mountOf(cmVol);

    const root = tmpdir('fracta-e2e-pod-');
    const paths = rooted(root, [secretMount.mountPath, cmMount.mountPath]);
    const toml = substitute(cm.data['config.toml'], { [URL_PH]: l.pair.resource, ...paths }, [URL_PH]);
    const mountDir = under(root, secretMount.mountPath);
    assert.match(toml, new RegExp(`token_file = "${mountDir}/token.json"`), toml);
    const mode = secretVol.secret.defaultMode ?? 0o644;
    kubeletVolume(mountDir, files, mode);
    kubeletVolume(under(root, cmMount.mountPath), { 'config.toml': toml });
    const configEnv = c.env.find((e) => e.name === 'FRACTA_CONFIG').value;
    const config = substitute(configEnv, paths);
    assert.ok(fs.existsSync(config), `FRACTA_CONFIG (${configEnv}) is a file of the ConfigMap volume`);
    return {
      l, config, tokenPath: path.join(mountDir, 'token.json'),
      /** Re-runs the export on the laptop and swaps the volume's data, as the kubelet does. */
      async reapply() {
        await l.sh('k8s-export');
        kubeletVolume(mountDir, appliedSecret(l).files, mode);
      },
    };
  }

  test('kubernetes: the exported Secret, mounted as the Deployment says, serves the ConfigMap\'s config; status names the file', async (t) => {
    const { l, config, tokenPath } = await k8sPod(t);
    const tokenHash = sha(tokenPath);
    const run = deployed(config);
    await validateAndCall(run, l, 'kubernetes');
    const st = await run(['config', 'mcp', 'auth', 'status', SERVER, '--json']);
    assert.equal(st.code, 0, l.explain(st));
    const s = statusFor(st.stdout, SERVER);
    assert.equal(s.source, 'token_file', st.stdout);
    assert.equal(s.source_path, tokenPath, st.stdout);
    assert.equal(sha(tokenPath), tokenHash, 'the mounted token.json is never written');
  });

  test('kubernetes: a re-exported Secret is adopted by the running process without a restart', async (t) => {
    const pod = await k8sPod(t);
    const { l, config, tokenPath } = pod;
    const tokenHash = sha(tokenPath);
    const host = await startHost(t, { command: 'fracta', args: ['proxy', SERVER] },
      { home: tmpdir('fracta-e2e-deployed-'), env: { FRACTA_CONFIG: config }, bin: l.bin });
    assert.equal(await host.call('before'), 'echo: before', host.stderr());
    const relogin = await fracta(['config', 'mcp', 'auth', 'login', SERVER], { home: l.home, env: l.env, timeoutMs: 90_000 });
    assert.equal(relogin.code, 0, l.explain(relogin));
    const newJti = l.pair.as.log().filter((e) => e.event === 'token' && e.grant_type === 'authorization_code').at(-1).access_token_jti;
    await pod.reapply();
    assert.notEqual(sha(tokenPath), tokenHash, 'the volume now holds the new export');
    await callUntil(host, 'after', () => l.pair.mcp.log().filter((e) => e.method === 'POST').at(-1)?.token_jti === newJti,
      20_000, 'the running proxy sending the re-exported token');
  });

  test('docker compose: the files export, mounted as compose.yaml\'s secrets, serves fracta.toml; never written', async (t) => {
    const l = await laptop(t);
    const exportLine = block(DOC, 'compose-export', 'sh');
    const out = /--out (\S+)/.exec(exportLine)[1];
    await l.sh('compose-export');
    const outDir = path.resolve(l.cwd, out);
    assert.equal(fs.statSync(outDir).mode & 0o777, 0o700);
    for (const f of ['token.json', 'client-registration.json']) assert.equal(fs.statSync(path.join(outDir, f)).mode & 0o777, 0o600, f);

    const compose = YAML.parse(block(DOC, 'compose-file', 'yaml'));
    const [svcName, svc] = Object.entries(compose.services)[0];
    const root = tmpdir('fracta-e2e-container-');
    const mounted = [];
    for (const ref of svc.secrets) {
      const source = typeof ref === 'string' ? ref : ref.source;
      const target = typeof ref === 'string' ? source : (ref.target ?? source);
      const file = path.resolve(l.cwd, compose.secrets[source].file);
      assert.equal(path.dirname(file), outDir, `secret ${source} comes from the export's --out ${out}`);
      const dest = target.startsWith('/') ? under(root, target) : under(root, `/run/secrets/${target}`);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(file, dest); // a bind mount of the file, read-only
      fs.chmodSync(dest, 0o400);
      mounted.push(dest);
    }
    const cfgRef = svc.configs[0];
    const cfgHost = path.resolve(l.cwd, compose.configs[cfgRef.source].file);
    const toml = block(DOC, 'compose-config', 'toml');
    fs.writeFileSync(cfgHost, toml);
    const paths = rooted(root, ['/run/secrets', cfgRef.target]);
    const config = under(root, cfgRef.target);
    fs.mkdirSync(path.dirname(config), { recursive: true });
    fs.writeFileSync(config, substitute(toml, { [URL_PH]: l.pair.resource, ...paths }, [URL_PH, '/run/secrets/']));
    assert.equal(svc.environment.FRACTA_CONFIG, cfgRef.target, `${svcName}: FRACTA_CONFIG is the mounted config`);

    const hashes = mounted.map(sha);
    await validateAndCall(deployed(config), l, 'compose');
    assert.deepEqual(mounted.map(sha), hashes, 'the mounted files are never written');
  });

  test('systemd: LoadCredential= files in $CREDENTIALS_DIRECTORY serve the config; without it the config is refused', async (t) => {
    const l = await laptop(t);
    const root = tmpdir('fracta-e2e-host-');
    await l.sh('systemd-export', rooted(root, ['/etc/fracta']));
    const unit = block(DOC, 'systemd-unit', 'ini');
    const creds = [...unit.matchAll(/^LoadCredential=([^:\n]+):(\S+)$/gm)].map((m) => ({ id: m[1], file: m[2] }));
    assert.ok(creds.length >= 1, 'the unit has LoadCredential= lines');
    const credDir = path.join(tmpdir('fracta-e2e-run-'), 'credentials', 'my-agent.service');
    fs.mkdirSync(credDir, { recursive: true });
    for (const { id, file } of creds) {
      fs.copyFileSync(under(root, file), path.join(credDir, id));
      fs.chmodSync(path.join(credDir, id), 0o400);
    }
    fs.chmodSync(credDir, 0o500);
    t.after(() => fs.chmodSync(credDir, 0o700));
    const configPath = /^Environment=FRACTA_CONFIG=(\S+)$/m.exec(unit)[1];
    const toml = block(DOC, 'systemd-config', 'toml');
    for (const m of toml.matchAll(/\$\{CREDENTIALS_DIRECTORY\}\/([^"]+)"/g)) {
      assert.ok(creds.some((c) => c.id === m[1]), `the config's ${m[1]} is loaded by a LoadCredential= line`);
    }
    const config = under(root, configPath);
    fs.writeFileSync(config, substitute(toml, { [URL_PH]: l.pair.resource }, [URL_PH, '${CREDENTIALS_DIRECTORY}/']));
    await validateAndCall(deployed(config, { CREDENTIALS_DIRECTORY: credDir }), l, 'systemd');
    const bare = await deployed(config)(['call', SERVER, 'echo', '{"text":"x"}']);
    assert.equal(bare.code, 2, l.explain(bare));
    assert.match(bare.stderr, /CREDENTIALS_DIRECTORY/);
  });

  test('inline: the env export, sourced, feeds the auth table that reads the variables', async (t) => {
    const l = await laptop(t);
    await l.sh('inline-export');
    const out = /--out (\S+)/.exec(block(DOC, 'inline-export', 'sh'))[1];
    const envFile = path.resolve(l.cwd, out);
    assert.equal(fs.statSync(envFile).mode & 0o777, 0o600);
    const lines = fs.readFileSync(envFile, 'utf8').split('\n').filter(Boolean);
    const exported = lines.filter((x) => !x.startsWith('#')).map((x) => /^export (FRACTA_MCP_ACME_CRM_[A-Z_]+)=/.exec(x)?.[1]);
    assert.ok(exported.every(Boolean), `every line is a comment or export NAME=…:\n${lines.map((x) => x.replace(/=.*/, '=…')).join('\n')}`);
    const toml = block(DOC, 'inline-config', 'toml');
    const wanted = [...toml.matchAll(/\{ env = "([A-Z0-9_]+)" \}/g)].map((m) => m[1]);
    for (const v of wanted) assert.ok(exported.includes(v), `the export sets ${v}, which the page's table reads`);
    const comments = lines.filter((x) => x.startsWith('#')).join('\n');
    for (const v of wanted) assert.match(comments, new RegExp(`\\{ env = "${v}" \\}`), 'the comment lines show the table');

    const config = path.join(tmpdir('fracta-e2e-ci-'), 'config.toml');
    fs.writeFileSync(config, substitute(toml, { [URL_PH]: l.pair.resource, [ISSUER_PH]: l.pair.issuer }, [URL_PH, ISSUER_PH]));
    const script = `source ${envFile}\n${block(DOC, 'inline-run', 'sh')}fracta call ${SERVER} echo '{"text":"inline works"}'\n`;
    const r = await runBash(script, { cwd: l.cwd, home: tmpdir('fracta-e2e-ci-home-'), env: { FRACTA_CONFIG: config }, bin: l.bin });
    assert.equal(r.code, 0, l.explain(r));
    assert.match(r.stdout, /echo: inline works/);
    assert.equal(secretLeak(r.stdout + r.stderr), null);
  });

  const CC_ID = 'acme-crm-service';
  const CC_SECRET = 'e2e-client-secret-value-1234';
  /** The authorization server with the static client, and the page's client-credentials table. */
  async function clientCredentials(t) {
    const l = await laptop(t, { asArgs: ['--client', `${CC_ID}:${CC_SECRET}:client_secret_basic`], login: false });
    const toml = substitute(block(DOC, 'client-credentials-config', 'toml'),
      { [URL_PH]: l.pair.resource, [ISSUER_PH]: l.pair.issuer }, [URL_PH, ISSUER_PH]);
    assert.match(toml, /grant_type = "client_credentials"/);
    return { l, toml, dir: tmpdir('fracta-e2e-svc-') };
  }
  const onlyClientCredentials = (l) => assert.ok(l.pair.as.log().filter((e) => e.event === 'token').every((e) => e.grant_type === 'client_credentials'));

  test('client credentials: no login, the id and secret from env vars', async (t) => {
    const { l, toml, dir } = await clientCredentials(t);
    const config = path.join(dir, 'config.toml');
    fs.writeFileSync(config, toml);
    await validateAndCall(deployed(config, { ACME_CRM_CLIENT_ID: CC_ID, ACME_CRM_CLIENT_SECRET: CC_SECRET }), l, 'client credentials');
    onlyClientCredentials(l);
  });

  test('client credentials: the secret from a systemd credential (LoadCredential=, ${CREDENTIALS_DIRECTORY})', async (t) => {
    const { l, toml, dir } = await clientCredentials(t);
    const [, credId] = /^LoadCredential=([^:\n]+):(\S+)$/m.exec(block(DOC, 'systemd-client-secret-unit', 'ini'));
    const line = block(DOC, 'systemd-client-secret-config', 'toml').trim();
    assert.ok(line.includes(`\${CREDENTIALS_DIRECTORY}/${credId}`), `the config line reads the credential ${credId}`);
    const credDir = path.join(dir, 'credentials');
    fs.mkdirSync(credDir);
    fs.writeFileSync(path.join(credDir, credId), CC_SECRET, { mode: 0o400 });
    const config = path.join(dir, 'systemd.toml');
    fs.writeFileSync(config, toml.replace(/^client_secret = .*$/m, line));
    await validateAndCall(deployed(config, { ACME_CRM_CLIENT_ID: CC_ID, CREDENTIALS_DIRECTORY: credDir }), l, 'client credentials from a credential');
    onlyClientCredentials(l);
  });

  test('rotation caveat: forget on the laptop; a restarted token_file process with a spent refresh token is told to re-export; the re-export works', async (t) => {
    const l = await laptop(t, { asArgs: ['--access-ttl', '4'] });
    await l.sh('compose-export');
    const outDir = path.resolve(l.cwd, /--out (\S+)/.exec(block(DOC, 'compose-export', 'sh'))[1]);
    await l.sh('rotation-forget');
    const laptopStatus = await fracta(['config', 'mcp', 'auth', 'status', SERVER, '--json'], { home: l.home, env: l.env });
    assert.equal(statusFor(laptopStatus.stdout, SERVER).logged_in, false, laptopStatus.stdout);

    // The deployment: the exported files as LoadCredential= would give them (token.json,
    // client-registration.json) and the systemd section's config.
    const config = path.join(tmpdir('fracta-e2e-svc-'), 'config.toml');
    fs.writeFileSync(config, substitute(block(DOC, 'systemd-config', 'toml'), { [URL_PH]: l.pair.resource }));
    const denv = { FRACTA_CONFIG: config, CREDENTIALS_DIRECTORY: outDir };
    const tokenHash = sha(path.join(outDir, 'token.json'));
    const host = await startHost(t, { command: 'fracta', args: ['proxy', SERVER] }, { home: tmpdir('fracta-e2e-deployed-'), env: denv, bin: l.bin });
    await callUntil(host, 'first', () => refreshGrants(l).some((e) => e.status === 200), 30_000, 'a refresh in memory');
    await host.client.close();
    assert.equal(sha(path.join(outDir, 'token.json')), tokenHash, 'token.json was not written');

    // Restarted: once the file's access token has expired, its (spent) refresh token is refused.
    const run = deployed(config, { CREDENTIALS_DIRECTORY: outDir });
    let last;
    await eventually(async () => {
      last = await run(['call', SERVER, 'echo', '{"text":"restarted"}']);
      return last.code !== 0;
    }, 30_000, 'the restarted process needing the file\'s refresh token');
    assert.equal(last.code, 3, l.explain(last));
    assert.match(last.stderr, /spent/, last.stderr);
    assert.match(last.stderr, new RegExp(`fracta config mcp auth login ${SERVER}\\b`), last.stderr);
    assert.match(last.stderr, new RegExp(`fracta config mcp auth export ${SERVER} --format files`), last.stderr);
    assert.equal(secretLeak(last.stderr), null);

    await l.sh('rotation-reexport');
    assert.notEqual(sha(path.join(outDir, 'token.json')), tokenHash, 'the re-export replaced token.json');
    await validateAndCall(run, l, 're-exported');
  });
});
