// SPDX-License-Identifier: Apache-2.0
// `fracta call <server> <tool> [json-args]`: output (text / --json) and the exit-code contract:
// 0 ok; 1 tool isError or JSON-RPC error; 2 usage/config; 3 auth; 4 network/transport.
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import { closedPort, fracta, fractaPty, serverConfig, show, startServer, tmpdir, writeConfig } from './lib/harness.mjs';

describe('fracta call against an unauthenticated server', () => {
  let srv;
  let cfg;
  before(async () => {
    srv = await startServer(['--auth', 'none']);
    cfg = writeConfig(tmpdir(), serverConfig('demo', srv.url));
  });
  const call = (args, o) => fracta(['--config', cfg, 'call', ...args], o);

  test('echo prints the text content', async () => {
    const r = await call(['demo', 'echo', '{"text":"hi"}']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trimEnd(), 'echo: hi');
  });

  test('add with numbers', async () => {
    const r = await call(['demo', 'add', '{"a":2,"b":3}']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trimEnd(), '5');
  });

  test('json-args are optional (tool without input)', async () => {
    const r = await call(['demo', 'whoami']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trimEnd(), 'authenticated');
  });

  test('--json prints the whole MCP result object', async () => {
    const r = await call(['--json', 'demo', 'echo', '{"text":"hi"}']);
    assert.equal(r.code, 0, show(r));
    const result = JSON.parse(r.stdout);
    assert.deepEqual(result.content, [{ type: 'text', text: 'echo: hi' }]);
    assert.notEqual(result.isError, true);
  });

  test('a tool result with isError → exit 1, text still on stdout', async () => {
    const r = await call(['demo', 'fail']);
    assert.equal(r.code, 1, show(r));
    assert.ok(r.stdout.includes('tool failed on purpose'), show(r));
  });

  test('--json with isError → exit 1, isError true in the printed result', async () => {
    const r = await call(['--json', 'demo', 'fail']);
    assert.equal(r.code, 1, show(r));
    const result = JSON.parse(r.stdout);
    assert.equal(result.isError, true);
    assert.deepEqual(result.content, [{ type: 'text', text: 'tool failed on purpose' }]);
  });

  test('an unknown tool (the SDK answers isError) → exit 1', async () => {
    const r = await call(['demo', 'no_such_tool']);
    assert.equal(r.code, 1, show(r));
    assert.ok(r.stdout.includes('no_such_tool'), show(r));
  });

  test('a JSON-RPC error from the server → exit 1, message on stderr', async () => {
    const r = await call(['demo', 'jsonrpc_error']);
    assert.equal(r.code, 1, show(r));
    assert.ok(r.stderr.includes('internal error on purpose'), show(r));
  });

  test('invalid json-args → exit 2', async () => {
    const r = await call(['demo', 'echo', '{not json']);
    assert.equal(r.code, 2, show(r));
  });

  test('json-args that are not an object → exit 2', async () => {
    const r = await call(['demo', 'echo', '[1,2]']);
    assert.equal(r.code, 2, show(r));
  });

  test('missing arguments → exit 2 (usage)', async () => {
    const r = await call([]);
    assert.equal(r.code, 2, show(r));
    assert.ok(r.stderr.length > 0, show(r));
  });

  test('an unknown server → exit 2 naming it', async () => {
    const r = await call(['nosuchserver', 'echo', '{"text":"hi"}']);
    assert.equal(r.code, 2, show(r));
    assert.ok(r.stderr.includes('nosuchserver'), show(r));
  });

  test('auth type "none" is accepted explicitly', async () => {
    const c = writeConfig(tmpdir(), serverConfig('demo', srv.url, 'type = "none"'));
    const r = await fracta(['--config', c, 'call', 'demo', 'whoami']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trimEnd(), 'authenticated');
  });

  test('remote.headers are sent on every request', async () => {
    const before = srv.log().length;
    const c = writeConfig(tmpdir(), serverConfig('demo', srv.url, null, 'headers = { "X-Team" = "platform" }\n'));
    const r = await fracta(['--config', c, 'call', 'demo', 'whoami']);
    assert.equal(r.code, 0, show(r));
    const mine = srv.log().slice(before);
    assert.ok(mine.length >= 3);
    for (const e of mine) assert.equal(e.x_headers['x-team'], 'platform', JSON.stringify(e));
  });
});

describe('where the config comes from', () => {
  let srv;
  before(async () => { srv = await startServer([]); });

  test('FRACTA_CONFIG', async () => {
    const c = writeConfig(tmpdir(), serverConfig('viaenv', srv.url));
    const r = await fracta(['call', 'viaenv', 'whoami'], { env: { FRACTA_CONFIG: c } });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trimEnd(), 'authenticated');
  });

  test('--config wins over FRACTA_CONFIG', async () => {
    const good = writeConfig(tmpdir(), serverConfig('pick', srv.url));
    const other = writeConfig(tmpdir(), serverConfig('other', srv.url));
    const r = await fracta(['--config', good, 'call', 'pick', 'whoami'], { env: { FRACTA_CONFIG: other } });
    assert.equal(r.code, 0, show(r));
  });

  test('$XDG_CONFIG_HOME/fracta/config.toml by default', async () => {
    const home = tmpdir();
    writeConfig(path.join(home, '.config', 'fracta'), serverConfig('xdg', srv.url));
    const r = await fracta(['call', 'xdg', 'whoami'], { home });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trimEnd(), 'authenticated');
  });

  test('a missing config file → exit 2 naming it', async () => {
    const missing = path.join(tmpdir(), 'nope.toml');
    const r = await fracta(['--config', missing, 'call', 'demo', 'whoami']);
    assert.equal(r.code, 2, show(r));
    assert.ok(r.stderr.includes(missing), show(r));
  });
});

describe('transport failures', () => {
  test('connection refused → exit 4', async () => {
    const port = await closedPort();
    const c = writeConfig(tmpdir(), serverConfig('down', `http://127.0.0.1:${port}/mcp`));
    const r = await fracta(['--config', c, 'call', 'down', 'whoami']);
    assert.equal(r.code, 4, show(r));
    assert.ok(r.stderr.length > 0, show(r));
  });

  test('an HTTP 404 endpoint → exit 4', async () => {
    const srv = await startServer([]);
    const c = writeConfig(tmpdir(), serverConfig('wrongpath', `${srv.url.replace(/\/mcp$/, '')}/not-mcp`));
    const r = await fracta(['--config', c, 'call', 'wrongpath', 'whoami']);
    assert.equal(r.code, 4, show(r));
    await srv.stop();
  });
});

describe('a server that sends terminal escapes in tool descriptions and results', () => {
  let cfg;
  before(async () => {
    const srv = await startServer(['--auth', 'none', '--hostile-tool']);
    cfg = writeConfig(tmpdir(), serverConfig('demo', srv.url));
  });
  // ESC, BEL, BS and CR must not reach the terminal; line feeds in a result may.
  const controls = /[\u0000-\u0009\u000b-\u001f\u007f\u0080-\u009f]/;

  test('tools prints descriptions without escapes or control characters', async () => {
    const r = await fracta(['--config', cfg, 'tools', 'demo']);
    assert.equal(r.code, 0, show(r));
    const line = r.stdout.split('\n').find((l) => l.startsWith('hostile'));
    assert.ok(line, show(r));
    assert.ok(!controls.test(line), JSON.stringify(line));
    assert.match(line, /Clears .*the screen/);
  });

  // On a terminal (a pseudo-terminal here, which turns each \n into \r\n).
  const shown = (r) => r.output.replace(/\r\n/g, '\n');

  test('call prints the result text to a terminal without escapes, keeping its lines', async () => {
    const r = await fractaPty(['--config', cfg, 'call', 'demo', 'hostile']);
    assert.equal(r.code, 0, r.output);
    assert.ok(!controls.test(shown(r).replace(/\n/g, '')), JSON.stringify(r.output));
    assert.match(shown(r), /line one.*red/);
    assert.match(shown(r), /\nline two/);
  });

  test('echoed arguments come back to a terminal stripped too', async () => {
    const r = await fractaPty(['--config', cfg, 'call', 'demo', 'echo', JSON.stringify({ text: '\u001b[2J\u0007hi' })]);
    assert.equal(r.code, 0, r.output);
    assert.ok(!controls.test(shown(r).replace(/\n/g, '')), JSON.stringify(r.output));
    assert.match(shown(r), /echo: .*hi/);
  });

  test('piped to a program, the result text is left as the server sent it', async () => {
    const r = await fracta(['--config', cfg, 'call', 'demo', 'hostile']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, 'line one\u001b[31m red\u001b[0m\r\nline two\b\b\n');
  });
});
