// SPDX-License-Identifier: Apache-2.0
// What `call` and `tools` users of gh, kubectl and mcp-remote expect: `tools --all` follows the
// server's pages, `call` takes its arguments from @FILE or -, and -v shows each HTTP exchange
// (method, URL, JSON-RPC method, MCP version, status, time) without a secret; -vv says more.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { closedPort, fracta, serverConfig, show, startServer, startV2Server, tmpdir, writeConfig } from './lib/harness.mjs';

const names = (stdout) => stdout.trimEnd().split('\n').map((l) => l.split(/\s+/)[0]);

describe('tools --all and pages', () => {
  test('tools shows the first page and says there is more; --all lists every page', async (t) => {
    const srv = await startV2Server({ args: ['--page-size', '2'], t });
    const cfg = writeConfig(tmpdir(), serverConfig('paged', srv.url));
    const first = await fracta(['--config', cfg, 'tools', 'paged']);
    assert.equal(first.code, 0, show(first));
    assert.deepEqual(names(first.stdout), ['echo', 'add']);
    assert.equal(first.stderr, "fracta: the server has more tools than this page; `fracta tools paged --all` lists them all\n");

    const all = await fracta(['--config', cfg, 'tools', 'paged', '--all']);
    assert.equal(all.code, 0, show(all));
    assert.deepEqual(names(all.stdout), ['echo', 'add', 'headers', 'confirm']);
    assert.equal(all.stderr, '');
    const cursors = srv.log().filter((e) => e.rpc_method === 'tools/list');
    assert.equal(cursors.length, 3, JSON.stringify(cursors)); // one page, then two pages

    const json = await fracta(['--config', cfg, 'tools', 'paged', '--all', '--json']);
    assert.equal(json.code, 0, show(json));
    const doc = JSON.parse(json.stdout);
    assert.deepEqual(doc.tools.map((x) => x.name), ['echo', 'add', 'headers', 'confirm']);
    assert.equal(doc.nextCursor, undefined);
    assert.equal(doc.protocol.version, '2026-07-28');
    assert.equal(doc.tools[2].inputSchema.properties.region['x-mcp-header'], 'Region');
  });

  test('a call to a tool listed on a later page finds its schema there', async (t) => {
    const srv = await startV2Server({ args: ['--page-size', '2'], t });
    const cfg = writeConfig(tmpdir(), serverConfig('paged', srv.url));
    const r = await fracta(['--config', cfg, 'call', 'paged', 'headers', '{"region":"eu-west"}']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trimEnd(), 'region header: eu-west'); // the Mcp-Param-Region header of page 2's schema
  });
});

describe('call arguments from a file or standard input', () => {
  const setup = async (t) => {
    const srv = await startServer(['--auth', 'none'], { t });
    const dir = tmpdir();
    return { dir, cfg: writeConfig(dir, serverConfig('demo', srv.url)) };
  };

  test('@FILE, @~/FILE and - read the arguments; the tool sees them', async (t) => {
    const { dir, cfg } = await setup(t);
    const file = path.join(dir, 'args.json');
    fs.writeFileSync(file, '{"text":"from a file"}\n');
    const fromFile = await fracta(['--config', cfg, 'call', 'demo', 'echo', `@${file}`]);
    assert.equal(fromFile.code, 0, show(fromFile));
    assert.equal(fromFile.stdout.trimEnd(), 'echo: from a file');

    const home = tmpdir('fracta-e2e-home-');
    fs.writeFileSync(path.join(home, 'mine.json'), '{"text":"from home"}');
    const fromHome = await fracta(['--config', cfg, 'call', 'demo', 'echo', '@~/mine.json'], { home });
    assert.equal(fromHome.code, 0, show(fromHome));
    assert.equal(fromHome.stdout.trimEnd(), 'echo: from home');

    const fromStdin = await fracta(['--config', cfg, 'call', 'demo', 'echo', '-'], { input: '{"text":"from stdin"}' });
    assert.equal(fromStdin.code, 0, show(fromStdin));
    assert.equal(fromStdin.stdout.trimEnd(), 'echo: from stdin');
  });

  test('a missing file, a directory and a file that is not a JSON object are usage errors', async (t) => {
    const { dir, cfg } = await setup(t);
    const missing = path.join(dir, 'nope.json');
    const r1 = await fracta(['--config', cfg, 'call', 'demo', 'echo', `@${missing}`]);
    assert.equal(r1.code, 2, show(r1));
    assert.equal(r1.stderr, `fracta: cannot read the arguments file '${missing}': No such file or directory\n`);

    const r2 = await fracta(['--config', cfg, 'call', 'demo', 'echo', `@${dir}`]);
    assert.equal(r2.code, 2, show(r2));
    assert.equal(r2.stderr, `fracta: arguments file '${dir}' is a directory; give a file holding a JSON object\n`);

    const list = path.join(dir, 'list.json');
    fs.writeFileSync(list, '[1, 2]');
    const r3 = await fracta(['--config', cfg, 'call', 'demo', 'echo', `@${list}`]);
    assert.equal(r3.code, 2, show(r3));
    assert.equal(r3.stderr, `fracta: the tool arguments from '${list}' are not a JSON object; write one, e.g. {"text":"hi"}\n`);

    const r4 = await fracta(['--config', cfg, 'call', 'demo', 'echo', '-'], { input: 'text=hi' });
    assert.equal(r4.code, 2, show(r4));
    assert.equal(r4.stderr, 'fracta: the tool arguments from standard input are not a JSON object; write one, e.g. {"text":"hi"}\n');
  });
});

describe('-v shows each HTTP exchange, never a secret', () => {
  const exchange = (server, purpose, version, status) => new RegExp(
    `^fracta: ${server}: (POST|GET|DELETE) http://127\\.0\\.0\\.1:\\d+/mcp ${purpose.replace(/[()/]/g, '\\$&')}` +
    `${version ? ` \\(MCP ${version}\\)` : ''} → ${status} in \\d+ ms$`, 'm');

  test('a 2026-07-28 server: the probe and the call, with their version and status', async (t) => {
    const token = 'v-flag-secret-token-5b1e';
    const srv = await startV2Server({ auth: `bearer:${token}`, t });
    const cfg = writeConfig(tmpdir(), serverConfig('modern', srv.url, `type = "bearer"\ntoken = { value = "${token}" }`));
    const r = await fracta(['--config', cfg, '-v', 'call', 'modern', 'echo', '{"text":"hi"}']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, exchange('modern', 'server/discover', '2026-07-28', 200));
    assert.match(r.stderr, exchange('modern', 'tools/list', '2026-07-28', 200));
    assert.match(r.stderr, exchange('modern', 'tools/call', '2026-07-28', 200));
    assert.ok(!r.stderr.includes(token), 'the bearer token must not reach -v');
    assert.ok(!/attempt \d/.test(r.stderr), `-v leaves out the debug log:\n${r.stderr}`);

    const vv = await fracta(['--config', cfg, '-vv', 'call', 'modern', 'echo', '{"text":"hi"}']);
    assert.equal(vv.code, 0, show(vv));
    assert.match(vv.stderr, /^fracta: server 'modern': POST attempt 1$/m);
    assert.match(vv.stderr, exchange('modern', 'tools/call', '2026-07-28', 200));
    assert.ok(!vv.stderr.includes(token), 'the bearer token must not reach -vv');
  });

  test('a 2025 server: initialize, the initialized notification, the call and the end of the session', async (t) => {
    const srv = await startServer(['--auth', 'none'], { t });
    const cfg = writeConfig(tmpdir(), serverConfig('legacy', srv.url, null, 'protocol = "2025-06-18"\n'));
    const r = await fracta(['--config', cfg, '-v', 'call', 'legacy', 'echo', '{"text":"hi"}']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, exchange('legacy', 'initialize', '', 200));
    assert.match(r.stderr, exchange('legacy', 'notifications/initialized (notification)', '2025-06-18', 202));
    assert.match(r.stderr, exchange('legacy', 'tools/call', '2025-06-18', 200));
    assert.match(r.stderr, exchange('legacy', 'end of session', '2025-06-18', '\\d+'));
  });

  test('an exchange that fails says so, with its time', async () => {
    const port = await closedPort();
    const cfg = writeConfig(tmpdir(), serverConfig('down', `http://127.0.0.1:${port}/mcp`));
    const r = await fracta(['--config', cfg, '-v', 'tools', 'down']);
    assert.equal(r.code, 4, show(r));
    assert.match(r.stderr, new RegExp(`^fracta: down: POST http://127\\.0\\.0\\.1:${port}/mcp server/discover \\(MCP 2026-07-28\\) → failed after \\d+ ms: .+$`, 'm'));
  });
});
