// SPDX-License-Identifier: Apache-2.0
// OAuth tokens in the OS keyring: gnome-keyring's Secret Service on a private D-Bus session
// (meson runs this file through tests/unit/store/with-keyring.sh; FRACTA_KEYRING_COLLECTION=
// session uses the in-memory collection, no unlock). token_store = "keyring": login stores,
// status shows the keyring, logout clears. token_store = "auto" with a dead bus: the encrypted
// file, and fracta says so. Skipped when no session bus is there (run outside with-keyring.sh).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { tmpdir, tomlStr } from './lib/harness.mjs';
import { setupOAuth, statusFor } from './lib/oauth-fracta.mjs';

const BUS = process.env.DBUS_SESSION_BUS_ADDRESS;
const skip = BUS ? false : 'no D-Bus session (run through tests/unit/store/with-keyring.sh)';
const busEnv = () => ({
  DBUS_SESSION_BUS_ADDRESS: BUS,
  XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR,
  FRACTA_KEYRING_COLLECTION: 'session',
});

describe('oauth: keyring token store', { skip }, () => {
  test('token_store = "keyring": login stores, status says keyring, logout clears', async (t) => {
    const o = await setupOAuth({ t, auth: { token_store: tomlStr('keyring'), passphrase: undefined } });
    const env = { env: busEnv() };
    const login = await o.run(['config', 'mcp', 'auth', 'login', 's', '--timeout', '60'], env);
    assert.equal(login.code, 0, o.explain(login));
    assert.ok(!fs.existsSync(o.tokenFile), 'no token file with the keyring store');
    const st = statusFor((await o.run(['config', 'mcp', 'auth', 'status', 's', '--json'], env)).stdout, 's');
    assert.equal(st.logged_in, true);
    assert.equal(st.store, 'keyring');
    const call = await o.run(['call', 's', 'echo', '{"text":"kr"}'], env);
    assert.equal(call.code, 0, o.explain(call));
    const logout = await o.run(['config', 'mcp', 'auth', 'logout', 's'], env);
    assert.equal(logout.code, 0, o.explain(logout));
    const after = await o.run(['call', 's', 'echo', '{"text":"kr"}'], env);
    assert.equal(after.code, 3, o.explain(after));
  });

  test('token_store = "auto" with a dead session bus falls back to the encrypted file and says so', async (t) => {
    const o = await setupOAuth({ t, auth: { token_store: tomlStr('auto') } });
    const dead = path.join(tmpdir('fracta-e2e-deadbus-'), 'bus');
    const env = { env: { ...busEnv(), DBUS_SESSION_BUS_ADDRESS: `unix:path=${dead}` } };
    const login = await o.run(['-v', 'config', 'mcp', 'auth', 'login', 's', '--timeout', '60'], env);
    assert.equal(login.code, 0, o.explain(login));
    assert.match(login.stdout + login.stderr, /encrypted file|tokens\.enc/i, o.explain(login));
    assert.ok(fs.existsSync(o.tokenFile));
    const st = statusFor((await o.run(['config', 'mcp', 'auth', 'status', 's', '--json'], env)).stdout, 's');
    assert.match(st.store, /^file /, 'auto fell back to the encrypted file');
    const call = await o.run(['call', 's', 'echo', '{"text":"file"}'], env);
    assert.equal(call.code, 0, o.explain(call));
  });
});
