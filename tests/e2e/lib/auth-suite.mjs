// SPDX-License-Identifier: Apache-2.0
// One shared scenario set for every static credential type (bearer, header, basic, the example
// HMAC plugin): success with exactly the expected credential on every request, an unresolvable
// secret (exit 2, names the variable, sends nothing), and a wrong credential (exit 3, shows the
// server's error_description, at most one retry).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { fracta, rpcSeq, serverConfig, show, startServer, tmpdir, withRpc, writeConfig } from './harness.mjs';

export const SUCCESS_TEXT = 'echo: hi';

/**
 * spec = {
 *   name,                       // suite title
 *   serverArgs(secret) → [],    // mcp-server.mjs args that accept `secret`
 *   authToml,                   // the [remote.auth] body; reads the secret from env `envVar`
 *   envVar,                     // the variable holding the secret
 *   secret, wrongSecret,        // what to put in envVar
 *   extraEnv,                   // more env for fracta (e.g. FRACTA_PLUGIN_PATH), or null to skip
 *   skip,                       // a reason to skip (string) or false
 *   expectCredential(entry, secret), // asserts the log entry carries exactly the credential
 *   rejectDescription,          // the server's error_description for the wrong secret
 *   secretsNeverShown,          // strings that must never appear in fracta's output
 * }
 */
export function authSuite(spec) {
  const extraEnv = spec.extraEnv ?? {};
  const opts = spec.skip ? { skip: spec.skip } : {};

  async function setup(t, secret) {
    const srv = await startServer(spec.serverArgs(secret), { t });
    const dir = tmpdir();
    const cfg = writeConfig(dir, serverConfig('demo', srv.url, spec.authToml));
    return { srv, cfg };
  }

  function assertNoSecrets(r, secrets) {
    for (const s of secrets) {
      assert.ok(!r.stdout.includes(s), `secret ${JSON.stringify(s)} leaked on stdout\n${show(r)}`);
      assert.ok(!r.stderr.includes(s), `secret ${JSON.stringify(s)} leaked on stderr\n${show(r)}`);
    }
  }

  describe(spec.name, opts, () => {
    test('call succeeds and every request carries exactly the credential', async (t) => {
      const { srv, cfg } = await setup(t, spec.secret);
      const r = await fracta(['--config', cfg, 'call', 'demo', 'echo', '{"text":"hi"}'],
        { env: { ...extraEnv, [spec.envVar]: spec.secret } });
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout.trimEnd(), SUCCESS_TEXT, show(r));
      assertNoSecrets(r, spec.secretsNeverShown);

      const log = srv.log();
      const seq = rpcSeq(log);
      for (const m of ['initialize', 'notifications/initialized', 'tools/call']) {
        assert.equal(withRpc(log, m).length, 1, `expected one ${m}; saw ${seq.join(', ')}`);
      }
      assert.ok(seq.indexOf('initialize') < seq.indexOf('notifications/initialized')
        && seq.indexOf('notifications/initialized') < seq.indexOf('tools/call'), seq.join(', '));
      for (const e of log) {
        assert.ok(e.status !== 401 && e.status !== 403, `request rejected: ${JSON.stringify(e)}`);
        spec.expectCredential(e, spec.secret);
      }
      assert.equal(withRpc(log, 'initialize')[0].status, 200);
      assert.equal(withRpc(log, 'notifications/initialized')[0].status, 202);
      assert.equal(withRpc(log, 'tools/call')[0].status, 200);
    });

    test(`unset ${spec.envVar} → exit 2 naming the variable, nothing sent`, async (t) => {
      const { srv, cfg } = await setup(t, spec.secret);
      const r = await fracta(['--config', cfg, 'call', 'demo', 'echo', '{"text":"hi"}'],
        { env: { ...extraEnv, [spec.envVar]: undefined } });
      assert.equal(r.code, 2, show(r));
      assert.ok(r.stderr.includes(spec.envVar), `stderr should name ${spec.envVar}\n${show(r)}`);
      assertNoSecrets(r, spec.secretsNeverShown);
      assert.deepEqual(srv.log(), [], 'no request may be sent when the credential cannot be resolved');
    });

    test('wrong credential → exit 3 with the server\'s error_description, at most one retry', async (t) => {
      const { srv, cfg } = await setup(t, spec.secret);
      const r = await fracta(['--config', cfg, 'call', 'demo', 'echo', '{"text":"hi"}'],
        { env: { ...extraEnv, [spec.envVar]: spec.wrongSecret } });
      assert.equal(r.code, 3, show(r));
      assert.ok(r.stderr.includes(spec.rejectDescription),
        `stderr should contain the server's error_description ${JSON.stringify(spec.rejectDescription)}\n${show(r)}`);
      assert.ok(r.stderr.includes('demo'), `stderr should name the server "demo"\n${show(r)}`);
      assert.equal(r.stdout, '', show(r));
      assertNoSecrets(r, [...spec.secretsNeverShown, spec.wrongSecret]);
      const log = srv.log();
      assert.ok(log.length >= 1 && log.length <= 2, `expected 1 or 2 requests (one retry at most), got ${log.length}`);
      assert.ok(log.every((e) => e.status === 401), JSON.stringify(log));
      for (const e of log) spec.expectCredential(e, spec.wrongSecret);
    });
  });
}
