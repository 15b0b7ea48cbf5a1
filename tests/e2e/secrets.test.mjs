// SPDX-License-Identifier: Apache-2.0
// Secret values never reach fracta's stdout/stderr: not in list/show/validate, not in error
// messages (bad config, 401, network failure), not when the secret was given with value:.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { closedPort, fracta, show, startServer, tmpdir, writeConfig } from './lib/harness.mjs';

const TOKEN = 'tok-e2e-SECRET-a9c4f1e7';
const HVAL = 'hdr-e2e-SECRET-5e02b6d3';
const PW = 'pw-e2e-SECRET-c7d91a04';
const ALL = [TOKEN, HVAL, PW];

function inlineConfig(urlFor) {
  return `# inline secrets (for the redaction test only)
[mcp.servers.tok.remote]
url = "${urlFor('tok')}"
[mcp.servers.tok.remote.auth]
type = "bearer"
token = { value = "${TOKEN}" }

[mcp.servers.hdr.remote]
url = "${urlFor('hdr')}"
[mcp.servers.hdr.remote.auth]
type = "header"
header_name = "X-Api-Key"
header_value = { value = "${HVAL}" }

[mcp.servers.bas.remote]
url = "${urlFor('bas')}"
[mcp.servers.bas.remote.auth]
type = "basic"
username = { value = "alice" }
password = { value = "${PW}" }
`;
}

function assertClean(r, what) {
  for (const s of ALL) {
    assert.ok(!r.stdout.includes(s), `${what}: a secret leaked on stdout\n${show(r)}`);
    assert.ok(!r.stderr.includes(s), `${what}: a secret leaked on stderr\n${show(r)}`);
  }
  const b64 = Buffer.from(`alice:${PW}`).toString('base64');
  assert.ok(!r.stdout.includes(b64) && !r.stderr.includes(b64), `${what}: basic credentials leaked\n${show(r)}`);
}

describe('secrets never shown', () => {
  let cfg;
  let srv;
  before(async () => {
    // A server that accepts none of the configured credentials: every call is a 401.
    srv = await startServer(['--auth', 'bearer', '--expect', 'something-else']);
    cfg = writeConfig(tmpdir(), inlineConfig(() => srv.url));
  });

  for (const args of [
    ['config', 'mcp', 'list'],
    ['config', 'mcp', 'list', '--json'],
    ['config', 'mcp', 'show', 'tok'],
    ['config', 'mcp', 'show', 'tok', '--json'],
    ['config', 'mcp', 'show', 'hdr'],
    ['config', 'mcp', 'show', 'hdr', '--json'],
    ['config', 'mcp', 'show', 'bas'],
    ['config', 'mcp', 'show', 'bas', '--json'],
    ['config', 'mcp', 'validate'],
  ]) {
    test(args.join(' '), async () => {
      const r = await fracta(['--config', cfg, ...args]);
      assert.equal(r.code, 0, show(r));
      assertClean(r, args.join(' '));
    });
  }

  for (const name of ['tok', 'hdr', 'bas']) {
    test(`call ${name} rejected by the server (exit 3)`, async () => {
      const r = await fracta(['--config', cfg, 'call', name, 'whoami']);
      assert.equal(r.code, 3, show(r));
      assertClean(r, `call ${name}`);
    });
  }

  test('call against a closed port (exit 4)', async () => {
    const port = await closedPort();
    const c = writeConfig(tmpdir(), inlineConfig(() => `http://127.0.0.1:${port}/mcp`));
    for (const name of ['tok', 'hdr', 'bas']) {
      const r = await fracta(['--config', c, 'call', name, 'whoami']);
      assert.equal(r.code, 4, show(r));
      assertClean(r, `call ${name} (down)`);
    }
  });

  test('validate of an invalid config that contains secrets (exit 2)', async () => {
    const bad = inlineConfig(() => srv.url).replace(`password = { value = "${PW}" }`,
      `password = { value = "${PW}", env = "ALSO" }`);
    const c = writeConfig(tmpdir(), bad);
    const r = await fracta(['--config', c, 'config', 'mcp', 'validate']);
    assert.equal(r.code, 2, show(r));
    assertClean(r, 'validate (invalid)');
  });

  test('successful call with --json', async (t) => {
    const ok = await startServer(['--auth', 'bearer', '--expect', TOKEN], { t });
    const c = writeConfig(tmpdir(), inlineConfig(() => ok.url));
    const r = await fracta(['--config', c, 'call', '--json', 'tok', 'echo', '{"text":"hi"}']);
    assert.equal(r.code, 0, show(r));
    assertClean(r, 'call --json');
  });

  test('config mcp add --secret value:… is not echoed, and list/show hide it', async () => {
    const c = writeConfig(tmpdir(), '');
    let r = await fracta(['--config', c, 'config', 'mcp', 'add', 'added', '--url', srv.url, '--auth', 'bearer',
      '--secret', `token=value:${TOKEN}`]);
    assert.equal(r.code, 0, show(r));
    assertClean(r, 'add');
    for (const args of [['list'], ['list', '--json'], ['show', 'added'], ['show', 'added', '--json'], ['validate']]) {
      r = await fracta(['--config', c, 'config', 'mcp', ...args]);
      assert.equal(r.code, 0, show(r));
      assertClean(r, args.join(' '));
    }
  });
});
