// SPDX-License-Identifier: Apache-2.0
// Bearer: `token` from an env var → `Authorization: Bearer <token>` on every request.
import assert from 'node:assert/strict';

import { authSuite } from './lib/auth-suite.mjs';

const SECRET = 'tok-e2e-bearer-5f1c9a';
const WRONG = 'tok-e2e-wrong-77d0b2';

authSuite({
  name: 'auth: bearer',
  serverArgs: (secret) => ['--auth', 'bearer', '--expect', secret],
  authToml: 'type = "bearer"\ntoken = { env = "DEMO_TOKEN" }',
  envVar: 'DEMO_TOKEN',
  secret: SECRET,
  wrongSecret: WRONG,
  expectCredential(e, secret) {
    assert.equal(e.authorization, `Bearer ${secret}`, JSON.stringify(e));
    assert.deepEqual(e.x_headers, {}, JSON.stringify(e));
  },
  rejectDescription: 'the bearer token is invalid or has been revoked',
  secretsNeverShown: [SECRET],
});
