// SPDX-License-Identifier: Apache-2.0
// The C example plugin (`type = "hmac-example"`, loaded from FRACTA_EXAMPLE_PLUGIN_DIR): every
// request is signed with X-Fracta-Date + X-Fracta-Signature; the server verifies each signature
// over method, target and body (peers/hmac.mjs), so a 2xx in the log is a correct signature.
import assert from 'node:assert/strict';

import { authSuite } from './lib/auth-suite.mjs';
import { examplePluginPath } from './lib/harness.mjs';

const SECRET = 'hmac-e2e-key-4e6a0d';
const WRONG = 'hmac-e2e-wrong-b19c72';
const pluginPath = examplePluginPath();

authSuite({
  name: 'auth: hmac-example plugin',
  skip: pluginPath ? false : 'FRACTA_EXAMPLE_PLUGIN_DIR is not set (run through meson test)',
  serverArgs: (secret) => ['--auth', 'hmac', '--expect', secret],
  authToml: 'type = "hmac-example"\nkey = { env = "HMAC_KEY" }',
  envVar: 'HMAC_KEY',
  secret: SECRET,
  wrongSecret: WRONG,
  extraEnv: pluginPath ? { FRACTA_PLUGIN_PATH: pluginPath } : {},
  expectCredential(e) {
    assert.equal(e.authorization, null, JSON.stringify(e));
    assert.deepEqual(Object.keys(e.x_headers).sort(), ['x-fracta-date', 'x-fracta-signature'], JSON.stringify(e));
    assert.match(e.x_headers['x-fracta-date'], /^[0-9]+$/);
    assert.ok(Math.abs(Number(e.x_headers['x-fracta-date']) - Date.now() / 1000) < 120, JSON.stringify(e));
    assert.match(e.x_headers['x-fracta-signature'], /^v1=[0-9a-f]{64}$/);
  },
  rejectDescription: 'the request signature does not match',
  secretsNeverShown: [SECRET],
});
