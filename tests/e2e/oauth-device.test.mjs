// SPDX-License-Identifier: Apache-2.0
// fracta's device-code login (RFC 8628, a fracta extension where the authorization server
// advertises device_authorization_endpoint): $BROWSER (headless chromium) opens the
// verification URI, confirms the code, logs in and consents; fracta polls and stores the tokens.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { setupOAuth, statusFor } from './lib/oauth-fracta.mjs';

function checkDeviceFlow(o) {
  const log = o.as.log();
  const dev = log.filter((e) => e.event === 'device_authorization');
  assert.ok(dev.length >= 1 && dev[0].status === 200, JSON.stringify(dev));
  assert.equal(dev[0].resource_sent, true, 'resource on the device authorization request');
  const ok = log.filter((e) => e.event === 'token' && e.grant_type === 'urn:ietf:params:oauth:grant-type:device_code' && e.status === 200);
  assert.equal(ok.length, 1, JSON.stringify(log.filter((e) => e.event === 'token')));
  assert.equal(ok[0].access_token_aud, o.resource);
  assert.equal(o.browserRuns().at(-1)?.outcome, 'ok', JSON.stringify(o.browserRuns()));
}

describe('oauth: device code', () => {
  test('grant_type = "device_code": login through the user-code page, then call', async (t) => {
    const o = await setupOAuth({ t, auth: { grant_type: '"device_code"' } });
    const login = await o.run(['config', 'mcp', 'auth', 'login', 's', '--timeout', '60']);
    assert.equal(login.code, 0, o.explain(login));
    checkDeviceFlow(o);
    const st = statusFor((await o.run(['config', 'mcp', 'auth', 'status', 's', '--json'])).stdout, 's');
    assert.equal(st.logged_in, true);
    const call = await o.run(['call', 's', 'echo', '{"text":"device"}']);
    assert.equal(call.code, 0, o.explain(call));
    assert.match(call.stdout, /echo: device/);
  });

  test('login --device with an authorization_code server', async (t) => {
    const o = await setupOAuth({ t });
    const login = await o.run(['config', 'mcp', 'auth', 'login', 's', '--device', '--timeout', '60']);
    assert.equal(login.code, 0, o.explain(login));
    checkDeviceFlow(o);
    assert.ok(!o.as.log().some((e) => e.event === 'authorization'), 'no authorization-code request');
    const call = await o.run(['call', 's', 'echo', '{"text":"device2"}']);
    assert.equal(call.code, 0, o.explain(call));
    assert.match(call.stdout, /echo: device2/);
  });
});
