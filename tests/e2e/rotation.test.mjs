// SPDX-License-Identifier: Apache-2.0
// Credential rotation: the bearer token comes from a file that an external rotator rewrites
// (the server simulates it: on its first rejection it atomically replaces the file). fracta
// must re-read the secret once after a 401 and retry once — no more.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { fracta, isEraProbe, rpcSeq, serverConfig, show, startServer, tmpdir, writeConfig } from './lib/harness.mjs';

const OLD = 'tok-e2e-old-2c7d';
const NEW = 'tok-e2e-new-91fa';

async function setup(t, extraArgs = []) {
  const dir = tmpdir();
  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, `${OLD}\n`, { mode: 0o600 });
  const srv = await startServer(['--auth', 'bearer', '--rotate-file', tokenFile, '--rotate-to', NEW, ...extraArgs], { t });
  const cfg = writeConfig(dir, serverConfig('demo', srv.url,
    `type = "bearer"\ntoken = { file = ${JSON.stringify(tokenFile)} }`));
  return { srv, cfg, tokenFile };
}

test('rotation: one 401, re-read the rotated file, retry once with the new token, succeed', async (t) => {
  const { srv, cfg, tokenFile } = await setup(t);
  const r = await fracta(['--config', cfg, 'call', 'demo', 'echo', '{"text":"hi"}']);
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout.trimEnd(), 'echo: hi');
  assert.equal(fs.readFileSync(tokenFile, 'utf8'), `${NEW}\n`, 'the server rotated the file');

  const log = srv.log();
  const rejected = log.filter((e) => e.status === 401);
  assert.equal(rejected.length, 1, `exactly one 401 expected:\n${log.map((e) => JSON.stringify(e)).join('\n')}`);
  assert.equal(log[0].status, 401);
  assert.equal(log[0].authorization, `Bearer ${OLD}`);
  assert.ok(log.length >= 4, `retry + initialize handshake + call expected; saw ${rpcSeq(log).join(', ')}`);
  for (const e of log.slice(1)) {
    assert.equal(e.authorization, `Bearer ${NEW}`, JSON.stringify(e));
    // The era probe is refused by this 2025 server (400), which is how fracta learns its era.
    if (!isEraProbe(e)) assert.ok(e.status < 400, JSON.stringify(e));
  }
  // The retried request is the one that was rejected (initialize), then the session continues.
  assert.deepEqual(log[1].rpc_methods, log[0].rpc_methods);
  assert.ok(rpcSeq(log.slice(1)).includes('tools/call'));
  for (const s of [OLD, NEW]) assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), show(r));
});

test('rotation: the rotated token is rejected too → exit 3 after exactly one retry', async (t) => {
  const { srv, cfg } = await setup(t, ['--rotate-still-reject']);
  const r = await fracta(['--config', cfg, 'call', 'demo', 'echo', '{"text":"hi"}']);
  assert.equal(r.code, 3, show(r));
  assert.ok(r.stderr.includes('the bearer token is invalid or has been revoked'), show(r));
  const log = srv.log();
  assert.deepEqual(log.map((e) => [e.authorization, e.status]),
    [[`Bearer ${OLD}`, 401], [`Bearer ${NEW}`, 401]],
    'one request with the old token, exactly one retry with the re-read token, then give up');
  for (const s of [OLD, NEW]) assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), show(r));
});
