// SPDX-License-Identifier: Apache-2.0
// Basic: `username` + `password` → `Authorization: Basic base64(user:password)` (UTF-8).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { authSuite } from './lib/auth-suite.mjs';
import { fracta, serverConfig, show, startServer, tmpdir, writeConfig } from './lib/harness.mjs';

const USER = 'alice';
const SECRET = 'pw-e2e-basic-9a27de';
const WRONG = 'pw-e2e-wrong-18c3f5';
const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');

authSuite({
  name: 'auth: basic',
  serverArgs: (secret) => ['--auth', 'basic', '--expect', `${USER}:${secret}`],
  authToml: `type = "basic"\nusername = { value = "${USER}" }\npassword = { env = "DEMO_PASSWORD" }`,
  envVar: 'DEMO_PASSWORD',
  secret: SECRET,
  wrongSecret: WRONG,
  expectCredential(e, secret) {
    assert.equal(e.authorization, `Basic ${b64(`${USER}:${secret}`)}`, JSON.stringify(e));
    assert.deepEqual(e.x_headers, {}, JSON.stringify(e));
  },
  rejectDescription: 'the username or password is incorrect',
  secretsNeverShown: [SECRET, b64(`${USER}:${SECRET}`)],
});

test('auth: basic encodes a non-ASCII password containing ":" as UTF-8', async (t) => {
  const user = 'bjørn';
  const password = 'pä55:wörd-e2e';
  const srv = await startServer(['--auth', 'basic', '--expect', `${user}:${password}`], { t });
  const cfg = writeConfig(tmpdir(), serverConfig('demo', srv.url,
    `type = "basic"\nusername = { value = "${user}" }\npassword = { env = "DEMO_PASSWORD" }`));
  const r = await fracta(['--config', cfg, 'call', 'demo', 'whoami'], { env: { DEMO_PASSWORD: password } });
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout.trimEnd(), 'authenticated');
  for (const e of srv.log()) assert.equal(e.authorization, `Basic ${b64(`${user}:${password}`)}`);
});
