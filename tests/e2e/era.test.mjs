// SPDX-License-Identifier: Apache-2.0
// fracta against servers of both MCP eras: the TS SDK v2 server (2026-07-28, modern only and
// dual era) and the reference server-everything (2025, legacy only). fracta picks the era per
// server, reports it in `tools --json` ("protocol": {version, era}), sends the modern headers
// (MCP-Protocol-Version = _meta, Mcp-Method, Mcp-Name, Mcp-Param-*), never initializes a modern
// server, and answers elicitation (MRTR or a server request) on a terminal.
// The peers alone are checked by era-peers.test.mjs.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import {
  fracta, fractaPty, serverConfig, show, startEverything, startV2Server, tmpdir, writeConfig,
} from './lib/harness.mjs';

const MODERN = '2026-07-28';
const V2_TOOLS = ['add', 'confirm', 'echo', 'headers'];

function configFor(name, url, authLines = null) {
  return writeConfig(tmpdir(), serverConfig(name, url, authLines));
}

async function toolsJson(cfg, name, opts) {
  const r = await fracta(['--config', cfg, 'tools', name, '--json'], opts);
  assert.equal(r.code, 0, show(r));
  return JSON.parse(r.stdout);
}

/** Asserts the modern wire in a v2server log: no initialize, and every request carries
 *  MCP-Protocol-Version 2026-07-28 equal to its _meta, Mcp-Method equal to the method. */
function assertModernWire(log) {
  assert.ok(log.length > 0, 'the server saw no request');
  assert.deepEqual(log.filter((e) => e.rpc_method === 'initialize'), [], JSON.stringify(log));
  for (const e of log.filter((x) => x.rpc_id !== null)) {
    assert.equal(e.protocol_version, MODERN, JSON.stringify(e));
    assert.equal(e.meta_protocol_version, e.protocol_version, JSON.stringify(e));
    assert.equal(e.mcp_method, e.rpc_method, JSON.stringify(e));
    if (e.rpc_method === 'tools/call') assert.ok(e.mcp_name, JSON.stringify(e));
  }
}

// The confirm tool's form (peers/v2server.mjs), answered on a terminal: a name, then Enter
// for the boolean's default (n).
const CONFIRM_DIALOGUE = [
  { expect: /Your name \(required\) \[Ada\]: $/, send: 'Grace\n' },
  { expect: /Proceed \(required, y\/n\) \[n\]: $/, send: '\n' },
];

for (const legacy of ['reject', 'stateless']) {
  describe(`fracta against v2server --legacy ${legacy}`, () => {
    let srv;
    let cfg;
    before(async () => {
      srv = await startV2Server({ legacy });
      cfg = configFor('v2', srv.url);
    });

    test('tools --json lists the tools and reports protocol 2026-07-28, era modern', async () => {
      const out = await toolsJson(cfg, 'v2');
      assert.deepEqual(out.tools.map((x) => x.name).sort(), V2_TOOLS);
      assert.deepEqual(out.protocol, { version: MODERN, era: 'modern' });
    });

    test('call echo prints the text', async () => {
      const r = await fracta(['--config', cfg, 'call', 'v2', 'echo', '{"text":"hi"}']);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout.trimEnd(), 'echo: hi');
    });

    test('the server saw only the modern wire: no initialize, versions and methods in headers', async () => {
      const fresh = await startV2Server({ legacy });
      const c = configFor('v2', fresh.url);
      const a = await fracta(['--config', c, 'tools', 'v2', '--json']);
      assert.equal(a.code, 0, show(a));
      const b = await fracta(['--config', c, 'call', 'v2', 'add', '{"a":2,"b":3}']);
      assert.equal(b.code, 0, show(b));
      assert.equal(b.stdout.trimEnd(), '5');
      const log = fresh.log();
      assertModernWire(log);
      assert.ok(log.some((e) => e.rpc_method === 'tools/call' && e.mcp_name === 'add'), JSON.stringify(log));
      await fresh.stop();
    });

    test('headers: the x-mcp-header argument arrives as Mcp-Param-Region', async () => {
      const r = await fracta(['--config', cfg, 'call', 'v2', 'headers', '{"region":"eu-west"}']);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout.trimEnd(), 'region header: eu-west');
      const calls = srv.log().filter((e) => e.mcp_name === 'headers');
      assert.deepEqual(calls.map((e) => e.mcp_param_region), ['eu-west']);
    });

    test('confirm (MRTR): the form is answered on a terminal and the retry carries the answers', async () => {
      const r = await fractaPty(['--config', cfg, 'call', 'v2', 'confirm'], CONFIRM_DIALOGUE);
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /Confirm the deployment\n/);
      assert.ok(!r.output.includes('\u001b[31m'), 'the server message reached the terminal unsanitised');
      assert.match(r.output, /confirmed: name=Grace ok=false/);
      const calls = srv.log().filter((e) => e.mcp_name === 'confirm');
      assert.deepEqual(calls.map((e) => e.input_responses), [null, ['confirm']]);
      assertModernWire(srv.log());
    });

    test('confirm: !decline on the terminal sends a declined response', async () => {
      const r = await fractaPty(['--config', cfg, 'call', 'v2', 'confirm'], [
        { expect: /Your name \(required\) \[Ada\]: $/, send: '!decline\n' },
      ]);
      assert.match(r.output, /confirm: decline/);
    });
  });
}

describe('fracta with bearer auth against v2server --auth bearer', () => {
  test('the token is sent on the modern wire and the tools are listed', async (t) => {
    const token = 'era-bearer-1b7c';
    const srv = await startV2Server({ legacy: 'reject', auth: `bearer:${token}`, t });
    const cfg = configFor('v2', srv.url, 'type = "bearer"\ntoken = { env = "V2_TOKEN" }');
    const out = await toolsJson(cfg, 'v2', { env: { V2_TOKEN: token } });
    assert.deepEqual(out.tools.map((x) => x.name).sort(), V2_TOOLS);
    assert.deepEqual(out.protocol, { version: MODERN, era: 'modern' });
    const log = srv.log();
    assert.ok(log.every((e) => e.auth_present && e.status === 200), JSON.stringify(log));
    assertModernWire(log);
    const bad = await fracta(['--config', cfg, 'tools', 'v2', '--json'], { env: { V2_TOKEN: 'wrong' } });
    assert.equal(bad.code, 3, show(bad));
    assert.ok(!bad.stdout.includes('wrong') && !bad.stderr.includes('wrong'), show(bad));
  });
});

describe('fracta against server-everything (legacy only)', () => {
  let ev;
  let cfg;
  before(async () => {
    ev = await startEverything();
    cfg = configFor('ev', ev.url);
  });

  test('tools --json lists its tools and reports era legacy', async () => {
    const out = await toolsJson(cfg, 'ev');
    const names = out.tools.map((x) => x.name);
    for (const n of ['echo', 'get-sum', 'trigger-long-running-operation']) assert.ok(names.includes(n), names.join(','));
    assert.equal(out.protocol.era, 'legacy');
    assert.match(out.protocol.version, /^2025-/);
    // A session: initialize answered with an Mcp-Session-Id that later requests carry.
    const posts = ev.log().filter((e) => e.http_method === 'POST');
    const sid = posts.find((e) => e.response_session_id)?.response_session_id;
    assert.ok(sid, JSON.stringify(posts));
    assert.ok(posts.some((e) => e.mcp_session_id === sid), JSON.stringify(posts));
  });

  test('call echo prints the text', async () => {
    const r = await fracta(['--config', cfg, 'call', 'ev', 'echo', '{"message":"hi"}']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trimEnd(), 'Echo: hi');
  });

  test('a progress-reporting tool call completes', async () => {
    const r = await fracta(['--config', cfg, 'call', 'ev', 'trigger-long-running-operation', '{"duration":1,"steps":3}']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Long running operation completed\. Duration: 1 seconds, Steps: 3\./);
  });

  test('trigger-elicitation-request: the server request is answered on a terminal', async () => {
    const enter = (label) => ({ expect: new RegExp(`${label}: $`), send: '\n' });
    const r = await fractaPty(['--config', cfg, 'call', 'ev', 'trigger-elicitation-request'], [
      { expect: /String \(required\): $/, send: 'Grace\n' },
      { expect: /Boolean \(y\/n\): $/, send: 'y\n' },
      enter('String with default \\[It was a dark and stormy night\\.\\]'),
      enter('String with email format \\(email\\)'),
      enter('String with uri format \\(uri\\)'),
      enter('String with date format \\(date\\)'),
      { expect: /Integer \(integer, 1\.\.100\) \[42\]: $/, send: '7\n' },
      enter('Number in range 1-1000 \\(number, 0\\.\\.1000\\) \\[3\\.14\\]'),
      enter('Untitled Single Select Enum \\(1-6\\) \\[1\\]'),
      enter('Untitled Multiple Select Enum \\(1-5, comma-separated\\) \\[1\\]'),
      { expect: /Titled Single Select Enum \(1-3\) \[1\]: $/, send: '2\n' },
      enter('Titled Multiple Select Enum \\(1-3, comma-separated\\) \\[1\\]'),
      enter('Legacy Titled Single Select Enum \\(1-5\\) \\[1\\]'),
    ]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Please provide inputs for the following fields:/);
    assert.match(r.output, /- Name: Grace/);
    assert.match(r.output, /- Agreed to terms: true/);
    assert.match(r.output, /- Favorite Integer: 7/);
    assert.match(r.output, /"titledSingleSelectEnum": "hero-2"/);
    assert.match(r.output, /"firstLine": "It was a dark and stormy night\."/);
  });
});
