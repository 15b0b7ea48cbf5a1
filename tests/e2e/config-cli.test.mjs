// SPDX-License-Identifier: Apache-2.0
// `fracta config mcp add|list|show|remove|validate`: a round trip through a real server, the
// user's comments preserved byte for byte, and validation errors that point at file:line,
// server and key.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import { fracta, show, startServer, tmpdir, writeConfig, writeSecret } from './lib/harness.mjs';

const TOKEN = 'tok-e2e-config-0b5e93';
const HEADER_SECRET = 'key-e2e-config-7a31c2';
const PASSWORD = 'pw-e2e-config-d0e8f4';
const LEADING = '# fracta e2e — the user\'s own words; keep them byte for byte.\n#   (indented, with a tab:\t and unicode: ✓)\n';

function noSecrets(r, secrets = [TOKEN, HEADER_SECRET, PASSWORD]) {
  for (const s of secrets) assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `secret leaked\n${show(r)}`);
}

describe('config mcp round trip', () => {
  let srv;
  before(async () => { srv = await startServer(['--auth', 'bearer', '--expect', TOKEN]); });

  test('add → list → show → validate → call → remove, keeping the leading comment', async () => {
    const dir = tmpdir();
    const cfg = writeConfig(dir, LEADING);
    const run = (args, o) => fracta(['--config', cfg, ...args], o);

    let r = await run(['config', 'mcp', 'add', 'demo', '--url', srv.url, '--header', 'X-Team=platform',
      '--auth', 'bearer', '--secret', 'token=env:DEMO_TOKEN']);
    assert.equal(r.code, 0, show(r));
    const written = fs.readFileSync(cfg, 'utf8');
    assert.ok(written.startsWith(LEADING), `leading comment not preserved:\n${written}`);
    assert.ok(written.includes('DEMO_TOKEN'), written);

    r = await run(['config', 'mcp', 'list']);
    assert.equal(r.code, 0, show(r));
    assert.ok(r.stdout.includes('demo'), show(r));

    r = await run(['config', 'mcp', 'list', '--json']);
    assert.equal(r.code, 0, show(r));
    const listed = JSON.stringify(JSON.parse(r.stdout));
    assert.ok(listed.includes('"demo"') && listed.includes(srv.url), listed);

    r = await run(['config', 'mcp', 'show', 'demo']);
    assert.equal(r.code, 0, show(r));
    assert.ok(r.stdout.includes(srv.url), show(r));
    assert.ok(r.stdout.includes('bearer'), show(r));
    assert.ok(r.stdout.includes('DEMO_TOKEN'), `show names where the secret comes from\n${show(r)}`);
    assert.ok(r.stdout.includes('X-Team'), show(r));

    r = await run(['config', 'mcp', 'show', 'demo', '--json']);
    assert.equal(r.code, 0, show(r));
    const shown = JSON.stringify(JSON.parse(r.stdout));
    assert.ok(shown.includes(srv.url) && shown.includes('DEMO_TOKEN'), shown);

    r = await run(['config', 'mcp', 'validate']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout + r.stderr, /valid/i);

    const before = srv.log().length;
    r = await run(['call', 'demo', 'echo', '{"text":"hi"}'], { env: { DEMO_TOKEN: TOKEN } });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trimEnd(), 'echo: hi');
    for (const e of srv.log().slice(before)) {
      assert.equal(e.authorization, `Bearer ${TOKEN}`);
      assert.deepEqual(e.x_headers, { 'x-team': 'platform' });
    }
    noSecrets(r);

    r = await run(['config', 'mcp', 'remove', 'demo']);
    assert.equal(r.code, 0, show(r));
    const after = fs.readFileSync(cfg, 'utf8');
    assert.ok(after.startsWith(LEADING), `leading comment not preserved after remove:\n${after}`);
    assert.ok(!after.includes('demo'), after);

    r = await run(['config', 'mcp', 'list']);
    assert.equal(r.code, 0, show(r));
    assert.ok(!r.stdout.includes('demo'), show(r));
    r = await run(['config', 'mcp', 'show', 'demo']);
    assert.equal(r.code, 2, show(r));
  });

  test('add keeps other servers and their comments untouched', async () => {
    const dir = tmpdir();
    const original = `${LEADING}# the keeper\n[mcp.servers.keeper.remote]\nurl = "http://127.0.0.1:1/mcp"  # trailing comment\n`;
    const cfg = writeConfig(dir, original);
    let r = await fracta(['--config', cfg, 'config', 'mcp', 'add', 'demo', '--url', srv.url]);
    assert.equal(r.code, 0, show(r));
    assert.ok(fs.readFileSync(cfg, 'utf8').startsWith(original), fs.readFileSync(cfg, 'utf8'));
    r = await fracta(['--config', cfg, 'config', 'mcp', 'remove', 'demo']);
    assert.equal(r.code, 0, show(r));
    assert.equal(fs.readFileSync(cfg, 'utf8').trimEnd(), original.trimEnd());
  });

  test('add --auth header with --set and a file secret, then call', async (t) => {
    const hsrv = await startServer(['--auth', 'header', '--header-name', 'X-Api-Key', '--expect', HEADER_SECRET], { t });
    const dir = tmpdir();
    const secretFile = writeSecret(dir, 'api-key', `${HEADER_SECRET}\n`);
    const cfg = path.join(dir, 'config.toml');
    let r = await fracta(['--config', cfg, 'config', 'mcp', 'add', 'hdr', '--url', hsrv.url, '--auth', 'header',
      '--set', 'header_name=X-Api-Key', '--secret', `header_value=file:${secretFile}`]);
    assert.equal(r.code, 0, show(r));
    noSecrets(r);
    r = await fracta(['--config', cfg, 'call', 'hdr', 'whoami']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trimEnd(), 'authenticated');
    for (const e of hsrv.log()) assert.deepEqual(e.x_headers, { 'x-api-key': HEADER_SECRET });
  });

  test('add --auth basic with value: and env: secrets, then call', async (t) => {
    const bsrv = await startServer(['--auth', 'basic', '--expect', `alice:${PASSWORD}`], { t });
    const cfg = path.join(tmpdir(), 'config.toml');
    let r = await fracta(['--config', cfg, 'config', 'mcp', 'add', 'bas', '--url', bsrv.url, '--auth', 'basic',
      '--secret', 'username=value:alice', '--secret', 'password=env:DEMO_PASSWORD']);
    assert.equal(r.code, 0, show(r));
    r = await fracta(['--config', cfg, 'call', 'bas', 'whoami'], { env: { DEMO_PASSWORD: PASSWORD } });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trimEnd(), 'authenticated');
  });

  test('without --config, add writes $XDG_CONFIG_HOME/fracta/config.toml', async () => {
    const home = tmpdir();
    const r = await fracta(['config', 'mcp', 'add', 'demo', '--url', srv.url], { home });
    assert.equal(r.code, 0, show(r));
    const p = path.join(home, '.config', 'fracta', 'config.toml');
    assert.ok(fs.existsSync(p), `expected ${p}`);
    const l = await fracta(['config', 'mcp', 'list'], { home });
    assert.equal(l.code, 0, show(l));
    assert.ok(l.stdout.includes('demo'), show(l));
  });

  test('a malformed --secret source → exit 2', async () => {
    const cfg = writeConfig(tmpdir(), LEADING);
    const r = await fracta(['--config', cfg, 'config', 'mcp', 'add', 'demo', '--url', srv.url, '--auth', 'bearer',
      '--secret', 'token=somewhere:else']);
    assert.equal(r.code, 2, show(r));
    assert.equal(fs.readFileSync(cfg, 'utf8'), LEADING, 'a failed add must not modify the file');
  });

  test('remove of an unknown server fails and leaves the file alone', async () => {
    const cfg = writeConfig(tmpdir(), LEADING);
    const r = await fracta(['--config', cfg, 'config', 'mcp', 'remove', 'ghost']);
    assert.equal(r.code, 2, show(r));
    assert.ok(r.stderr.includes('ghost'), show(r));
    assert.equal(fs.readFileSync(cfg, 'utf8'), LEADING);
  });
});

describe('config mcp validate', () => {
  // Each case: [title, toml, the 1-based line of the offending key, the key name]
  const cases = [
    ['a SecretValue with two sources',
      '# header\n[mcp.servers.demo.remote]\nurl = "http://127.0.0.1:9/mcp"\n\n[mcp.servers.demo.remote.auth]\ntype = "bearer"\ntoken = { value = "tok-e2e-config-0b5e93", env = "DEMO_TOKEN" }\n',
      7, 'token'],
    ['a SecretValue with no source',
      '[mcp.servers.demo.remote]\nurl = "http://127.0.0.1:9/mcp"\n[mcp.servers.demo.remote.auth]\ntype = "bearer"\ntoken = { }\n',
      5, 'token'],
    ['an unknown auth type',
      '[mcp.servers.demo.remote]\nurl = "http://127.0.0.1:9/mcp"\n[mcp.servers.demo.remote.auth]\ntype = "no-such-type"\n',
      4, 'type'],
    ['remote.headers.Authorization with bearer',
      '[mcp.servers.demo.remote]\nurl = "http://127.0.0.1:9/mcp"\nheaders = { Authorization = "Bearer x" }\n[mcp.servers.demo.remote.auth]\ntype = "bearer"\ntoken = { env = "DEMO_TOKEN" }\n',
      3, 'Authorization'],
    ['a header type colliding with remote.headers (case-insensitive)',
      '[mcp.servers.demo.remote]\nurl = "http://127.0.0.1:9/mcp"\nheaders = { "x-api-key" = "x" }\n[mcp.servers.demo.remote.auth]\ntype = "header"\nheader_name = "X-Api-Key"\nheader_value = { env = "K" }\n',
      null, 'X-Api-Key'],
  ];
  for (const [title, toml, line, key] of cases) {
    test(`${title} → exit 2 naming file:line, server and key`, async () => {
      const cfg = writeConfig(tmpdir(), toml);
      const r = await fracta(['--config', cfg, 'config', 'mcp', 'validate']);
      assert.equal(r.code, 2, show(r));
      if (line !== null) assert.ok(r.stderr.includes(`${cfg}:${line}`), `expected ${cfg}:${line}\n${show(r)}`);
      else assert.ok(r.stderr.includes(cfg), show(r));
      assert.ok(r.stderr.includes('demo'), show(r));
      assert.ok(r.stderr.toLowerCase().includes(key.toLowerCase()), show(r));
      noSecrets(r);
    });
  }

  test('a TOML syntax error → exit 2 with file:line', async () => {
    const cfg = writeConfig(tmpdir(), '[mcp.servers.demo.remote]\nurl = "http://127.0.0.1:9/mcp\n');
    const r = await fracta(['--config', cfg, 'config', 'mcp', 'validate']);
    assert.equal(r.code, 2, show(r));
    assert.ok(r.stderr.includes(`${cfg}:2`), show(r));
  });

  test('call refuses an invalid config with exit 2', async () => {
    const cfg = writeConfig(tmpdir(), cases[0][1]);
    const r = await fracta(['--config', cfg, 'call', 'demo', 'whoami'], { env: { DEMO_TOKEN: TOKEN } });
    assert.equal(r.code, 2, show(r));
    noSecrets(r);
  });
});

describe('config mcp set', () => {
  let srv;
  before(async () => { srv = await startServer(['--auth', 'bearer', '--expect', TOKEN]); });
  const KEEPER = '# the keeper\n[mcp.servers.keeper.remote]\nurl = "http://127.0.0.1:1/mcp"  # trailing comment\n';
  const demo = (url) => `\n# demo, by hand\n[mcp.servers.demo.remote]\nurl = "${url}"   # where it lives\n\n` +
    '[mcp.servers.demo.remote.auth]\ntype = "bearer"\ntoken = { env = "DEMO_TOKEN" }  # never inline\n';

  test('set url and a header, then show, validate and call: every other byte stays', async () => {
    const cfg = writeConfig(tmpdir(), LEADING + KEEPER + demo('http://127.0.0.1:1/old'));
    const run = (args, o) => fracta(['--config', cfg, ...args], o);
    let r = await run(['config', 'mcp', 'set', 'demo', `url=${srv.url}`, 'headers.X-Team=platform']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, `set mcp.servers.demo.remote.url in ${cfg}\nset mcp.servers.demo.remote.headers.X-Team in ${cfg}\n`);
    const moved = LEADING + KEEPER + demo(srv.url);
    const withHeader = moved.replace('# where it lives\n', '# where it lives\n\n[mcp.servers.demo.remote.headers]\nX-Team = "platform"\n');
    assert.equal(fs.readFileSync(cfg, 'utf8'), withHeader);

    r = await run(['config', 'mcp', 'show', 'demo']);
    assert.equal(r.code, 0, show(r));
    assert.ok(r.stdout.includes(`url:        ${srv.url}`) && r.stdout.includes('header:     X-Team: platform'), show(r));
    r = await run(['config', 'mcp', 'validate']);
    assert.equal(r.code, 0, show(r));

    const seen = srv.log().length;
    r = await run(['call', 'demo', 'echo', '{"text":"hi"}'], { env: { DEMO_TOKEN: TOKEN } });
    assert.equal(r.code, 0, show(r));
    for (const e of srv.log().slice(seen)) assert.deepEqual(e.x_headers, { 'x-team': 'platform' });
    noSecrets(r);

    r = await run(['config', 'mcp', 'set', 'demo', '--unset', 'headers.X-Team', '--json']);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(JSON.parse(r.stdout), { path: cfg, server: 'demo', set: [], unset: ['mcp.servers.demo.remote.headers.X-Team'],
      stored_credentials_left_behind: false });
    assert.equal(fs.readFileSync(cfg, 'utf8'), moved, 'set then --unset gives the file back');
  });

  for (const [title, args, first] of [
    ['an unknown server', ['dmeo', 'url=https://x.example/mcp'], "fracta: no server named 'dmeo' in CFG; did you mean 'demo'?"],
    ['a key typo', ['demo', 'ulr=https://x.example/mcp'], "fracta: CFG: server 'demo': ulr: unknown key. Did you mean 'url'?"],
    ['a result the parser rejects', ['demo', 'url=ftp://x.example'], 'fracta: CFG:6:7: server \'demo\': mcp.servers.demo.remote.url: must be'],
    ['a secret given as plain text', ['demo', 'auth.token=tok-plain'], "fracta: CFG: server 'demo': mcp.servers.demo.remote.auth.token: expected env:NAME, file:PATH or value:TEXT"],
  ]) {
    test(`${title} → exit 2, the file untouched`, async () => {
      const original = LEADING + demo(srv.url);
      const cfg = writeConfig(tmpdir(), original);
      const r = await fracta(['--config', cfg, 'config', 'mcp', 'set', ...args]);
      assert.equal(r.code, 2, show(r));
      assert.ok(r.stderr.split('\n')[0].startsWith(first.replace('CFG', cfg)), show(r));
      assert.ok(r.stderr.includes(`nothing was written to ${cfg}`), show(r));
      assert.ok(!r.stderr.includes('tok-plain'), show(r));
      assert.equal(fs.readFileSync(cfg, 'utf8'), original);
    });
  }

  test('moving an OAuth server to another URL says its stored credentials stay behind', async () => {
    const cfg = writeConfig(tmpdir(), '[mcp.servers.o.remote]\nurl = "https://mcp.one.example/mcp"\n\n[mcp.servers.o.remote.auth]\ntype = "oauth"\n');
    const r = await fracta(['--config', cfg, 'config', 'mcp', 'set', 'o', 'url=https://mcp.two.example/mcp']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /credentials stored for 'o' belong to its old URL https:\/\/mcp\.one\.example\/mcp .* no longer used and never sent to the new one\. Log in again with `fracta config mcp auth login o`/);
  });
});
