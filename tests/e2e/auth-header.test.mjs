// SPDX-License-Identifier: Apache-2.0
// Header: `header_name` + `header_value` → that header (and no Authorization) on every request.
import assert from 'node:assert/strict';

import { authSuite } from './lib/auth-suite.mjs';

const SECRET = 'key-e2e-header-3b8e41';
const WRONG = 'key-e2e-wrong-c40f17';

authSuite({
  name: 'auth: header',
  serverArgs: (secret) => ['--auth', 'header', '--header-name', 'X-Api-Key', '--expect', secret],
  authToml: 'type = "header"\nheader_name = "X-Api-Key"\nheader_value = { env = "DEMO_API_KEY" }',
  envVar: 'DEMO_API_KEY',
  secret: SECRET,
  wrongSecret: WRONG,
  expectCredential(e, secret) {
    assert.equal(e.authorization, null, JSON.stringify(e));
    assert.deepEqual(e.x_headers, { 'x-api-key': secret }, JSON.stringify(e));
  },
  rejectDescription: 'the X-Api-Key header value is not valid',
  secretsNeverShown: [SECRET],
});
