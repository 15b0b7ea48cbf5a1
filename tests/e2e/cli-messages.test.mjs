// SPDX-License-Identifier: Apache-2.0
// Messages that lead to the fix, and durations as people write them: a timeout names its
// setting, a TLS failure names ca_bundle, a refused proxy is named; --timeout, --request-timeout
// take 90, 60s, 5m; `add --request-timeout` writes timeout_seconds.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';

import { closedPort, fracta, serverConfig, show, tmpdir, writeConfig } from './lib/harness.mjs';

/** A loopback TCP server that accepts connections and never answers. */
async function silentServer(t) {
  const sockets = new Set();
  const srv = net.createServer((s) => { sockets.add(s); s.on('error', () => {}); });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => { for (const s of sockets) s.destroy(); srv.close(); });
  return `http://127.0.0.1:${srv.address().port}/mcp`;
}

/** A loopback HTTPS server with a self-signed certificate no trust store knows. */
async function selfSignedServer(t, dir) {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
  { stdio: 'ignore' });
  const srv = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
    res.writeHead(500).end();
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => srv.close());
  return `https://127.0.0.1:${srv.address().port}/mcp`;
}

describe('messages that lead to the fix', () => {
  test('a request that times out names timeout_seconds and --request-timeout', async (t) => {
    const url = await silentServer(t);
    const dir = tmpdir();
    const cfg = writeConfig(dir, serverConfig('slow', url));
    const r = await fracta(['--config', cfg, 'call', 'slow', 'echo', '{}', '--request-timeout', '1s']);
    assert.equal(r.code, 4, show(r));
    assert.match(r.stderr, /timed out/, show(r));
    assert.match(r.stderr, /the deadline is mcp\.servers\.slow\.remote\.timeout_seconds = 1; raise it there, or per command with --request-timeout/, show(r));
  });

  test('a certificate no trust store knows names ca_bundle', async (t) => {
    const dir = tmpdir();
    const url = await selfSignedServer(t, dir);
    const cfg = writeConfig(dir, serverConfig('tls', url));
    const r = await fracta(['--config', cfg, 'tools', 'tls']);
    assert.equal(r.code, 4, show(r));
    assert.match(r.stderr, /if the server's certificate comes from a private CA, set mcp\.servers\.tls\.remote\.ca_bundle to that CA's PEM file/, show(r));
  });

  test('the same server with its CA as ca_bundle gets past TLS', async (t) => {
    const dir = tmpdir();
    const url = await selfSignedServer(t, dir);
    const cfg = writeConfig(dir, serverConfig('tls', url, null, `ca_bundle = "${path.join(dir, 'cert.pem')}"\n`));
    const r = await fracta(['--config', cfg, 'tools', 'tls']);
    assert.doesNotMatch(r.stderr, /ca_bundle|TLS/, show(r));
    assert.match(r.stderr, /HTTP 500/, show(r));
  });

  test('a proxy that refuses the connection is named, without its credentials', async () => {
    const port = await closedPort();
    const dir = tmpdir();
    const cfg = writeConfig(dir, serverConfig('px', 'http://127.0.0.1:9/mcp'));
    const r = await fracta(['--config', cfg, 'tools', 'px'], { env: { http_proxy: `http://user:pw@127.0.0.1:${port}` } });
    assert.equal(r.code, 4, show(r));
    assert.match(r.stderr, new RegExp(`through the proxy http://127\\.0\\.0\\.1:${port} \\(from http_proxy\\): check it, or list the host in no_proxy`), show(r));
    assert.doesNotMatch(r.stderr, /pw/, show(r));
  });
});

describe('the OAuth store, read or not', () => {
  const OAUTH = '[mcp.servers.n.remote]\nurl = "https://mcp.example.com/mcp"\n\n'
    + '[mcp.servers.n.remote.auth]\ntype = "oauth"\nclient_id = { value = "c" }\ntoken_store = "file"\n';
  const env = { FRACTA_STORE_PASSPHRASE: 'e2e-passphrase' };

  test('status of a store that is not a fracta store says so, with the recovery, and exits 3', async () => {
    const dir = tmpdir();
    const home = tmpdir('fracta-e2e-home-');
    const cfg = writeConfig(dir, OAUTH);
    const store = path.join(home, '.local', 'state', 'fracta', 'tokens.enc');
    fs.mkdirSync(path.dirname(store), { recursive: true });
    fs.writeFileSync(store, 'not a store, just forty bytes of text...');
    const r = await fracta(['--config', cfg, 'config', 'mcp', 'auth', 'status', 'n'], { env, home });
    assert.equal(r.code, 3, show(r));
    assert.match(r.stdout, /^n: the stored credentials cannot be read: .*is not a fracta credential store.*move it aside/, show(r));
    assert.doesNotMatch(r.stdout, /needs login/, show(r));
    const j = await fracta(['--config', cfg, 'config', 'mcp', 'auth', 'status', 'n', '--json'], { env, home });
    assert.equal(j.code, 3, show(j));
    assert.match(JSON.parse(j.stdout)[0].store_error, /is not a fracta credential store/, show(j));
    assert.equal(fs.readFileSync(store, 'utf8'), 'not a store, just forty bytes of text...');  // left untouched
  });

  test('logout with nothing stored says so', async () => {
    const dir = tmpdir();
    const cfg = writeConfig(dir, OAUTH);
    const r = await fracta(['--config', cfg, 'config', 'mcp', 'auth', 'logout', 'n'], { env });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Not logged in to n: nothing stored in file /, show(r));
  });
});

describe('durations as people write them', () => {
  const CASES = [['90', '90'], ['60s', '60'], ['5m', '300'], ['1m30s', '90']];
  for (const [typed, seconds] of CASES) {
    test(`config mcp add --request-timeout ${typed} writes timeout_seconds = ${seconds}`, async () => {
      const dir = tmpdir();
      const cfg = path.join(dir, 'config.toml');
      const r = await fracta(['--config', cfg, 'config', 'mcp', 'add', 's', '--url', 'https://mcp.example.com/mcp',
        '--request-timeout', typed]);
      assert.equal(r.code, 0, show(r));
      assert.match(fs.readFileSync(cfg, 'utf8'), new RegExp(`^timeout_seconds = ${seconds}$`, 'm'));
      const shown = await fracta(['--config', cfg, 'config', 'mcp', 'show', 's', '--json']);
      assert.equal(JSON.parse(shown.stdout).timeout_seconds, Number(seconds), show(shown));
    });
  }

  test('a login wait that is not a duration is refused with what is accepted', async () => {
    const dir = tmpdir();
    const cfg = writeConfig(dir, '[mcp.servers.o.remote]\nurl = "http://127.0.0.1:9/mcp"\n');
    const r = await fracta(['--config', cfg, 'config', 'mcp', 'auth', 'login', 'o', '--timeout', 'soon']);
    assert.equal(r.code, 2, show(r));
    assert.equal(r.stderr.split('\n')[0],
      "fracta: `fracta config mcp auth login`: --timeout: 'soon' is not a duration: write 90 (seconds), 60s, 5m or 1h30m (at most 30d); see `fracta config mcp auth login --help`", show(r));
  });

  for (const bad of ['0', '5x', '1m30', '31d']) {
    test(`--request-timeout ${bad} is refused with what is accepted`, async () => {
      const dir = tmpdir();
      const cfg = writeConfig(dir, serverConfig('s', 'http://127.0.0.1:9/mcp'));
      const r = await fracta(['--config', cfg, 'call', 's', 'echo', '--request-timeout', bad]);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr.split('\n')[0], new RegExp(`'${bad}' is not a duration: write 90 \\(seconds\\), 60s, 5m or 1h30m`), show(r));
    });
  }
});
