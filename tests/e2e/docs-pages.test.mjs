// SPDX-License-Identifier: Apache-2.0
// docs/configuration.md, oauth.md, proxy.md, security.md, plugin-abi.md, embedding.md,
// architecture.md, dependencies.md, performance.md, the examples' READMEs and README.md,
// checked against the built binary (proxy.md's host configs run by the MCP SDK's stdio client,
// embedding.md's output by the embedding example, the hmac example's against a verifying
// peer): every code block is either marked <!-- test: NAME --> and run or checked here, or
// marked <!-- not-run: reason -->. A code excerpt must be, modulo
// indentation, a part of the compiled source it quotes. A TOML block is loaded with `fracta
// config mcp validate` (a fragment `[mcp.servers.X.remote.auth]` gets the
// `[mcp.servers.X.remote]` table it needs in front) or `plugins list`; a message block is
// compared exactly with what the command named here prints (stdout and stderr together) and
// its exit code.
//
// What the comparison substitutes, and nothing else (exact strings, both ways):
//   /tmp/docs-run → the working directory; /home/me → HOME; /opt/ → <working directory>/opt/;
//   /run/k and /tmp/huge → files in the working directory; http://127.0.0.1:34485 → the
//   bearer peer. `…` in a block stands for any text.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import {
  binDir, block, checkEveryBlock, DOCS_DIR, markedBlocks, outputDiff, pageRunner, startHost, substitute,
} from './lib/doc-blocks.mjs';
import {
  runProgram, show, startEverything, startServer, tmpdir,
} from './lib/harness.mjs';
import { hmacHeaders } from './peers/hmac.mjs';

const PAGE = 'configuration.md';
const PLUGIN_DIR = process.env.FRACTA_PLUGIN_PATH;
const EXAMPLES_DIR = process.env.FRACTA_EXAMPLE_PLUGIN_DIR;

const github = await startServer(['--mode', 'stateful', '--auth', 'bearer', '--expect', 'placeholder-token']);
const cwd = tmpdir('fracta-e2e-docs-cwd-');
const home = tmpdir('fracta-e2e-docs-home-');
const bin = binDir();
const toReal = {
  '/tmp/docs-run': cwd,
  '/home/me': home,
  '/opt/': `${cwd}/opt/`,
  '/run/k': `${cwd}/run/k`,
  '/tmp/huge': `${cwd}/huge`,
  'http://127.0.0.1:34485': github.origin,
};
const {
  doc: DOC, tested, sh, expectBlock, check, uses,
} = pageRunner(PAGE, { cwd, home, bin, toReal });

/** Writes `text` (placeholders made real) to `file` under the working directory. */
function write(file, text) {
  const p = path.join(cwd, file);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, substitute(text, toReal), { mode: 0o600 });
  return file;
}

/** The toml block `name`, with the `[mcp.servers.X.remote]` table of every auth-only server. */
function asFile(name) {
  const text = block(DOC, name, 'toml');
  const servers = new Set([...text.matchAll(/^\[mcp\.servers\.([a-z-]+)\.remote\.auth\]$/gm)].map((m) => m[1]));
  const remotes = [...servers].filter((s) => !text.includes(`[mcp.servers.${s}.remote]`))
    .map((s) => `[mcp.servers.${s}.remote]\nurl = "https://${s}.example.com/mcp"\n\n`);
  return `${remotes.join('')}${text}`;
}


check('every TOML example of configuration.md loads and validates', async () => {
  const names = ['complete', 'insecure-http', 'replace-builtin', 'auth-none', 'auth-bearer', 'auth-header', 'auth-basic',
    'auth-oauth', 'auth-oauth-refresh', 'auth-plugin'];
  uses(...names);
  for (const name of names) {
    const file = write(`${name}.toml`, asFile(name));
    const r = await sh(`fracta --config ${file} config mcp validate`, { FRACTA_PLUGIN_PATH: `${EXAMPLES_DIR}:${PLUGIN_DIR}` });
    assert.equal(r.code, 0, `${PAGE} block '${name}':\n${asFile(name)}\n${r.out}`);
    assert.match(r.out, /is valid \(\d+ servers?\)\n$/, `${name}: ${r.out}`);
  }
});

check('where the file is, and what is refused before reading it', async () => {
  uses('no-config', 'not-regular', 'unknown-top');
  await expectBlock('no-config', 'fracta config mcp validate', 2);
  write('big.toml', `# ${'x'.repeat(1024 * 1024)}\n`);
  await expectBlock('not-regular', 'fracta --config /dev/null config mcp validate; fracta --config big.toml config mcp validate', 2);
  write('bad.toml', '[plugin]\n');
  await expectBlock('unknown-top', 'fracta --config bad.toml config mcp validate', 2);
});

check('plugins: refused directories and files, a shipped type from elsewhere', async () => {
  uses('plugins-refused', 'plugins-shipped');
  await sh('set -e; mkdir -p /home/me/team-plugins /home/me/plugins; chmod 775 /home/me/team-plugins; chmod 755 /home/me/plugins');
  fs.copyFileSync(path.join(PLUGIN_DIR, 'fracta-header.so'), path.join(home, 'plugins', 'x.so'));
  fs.chownSync(path.join(home, 'plugins', 'x.so'), 1001, 1001);
  await expectBlock('plugins-refused', 'fracta plugins list | grep ^refused:', 0,
    { FRACTA_PLUGIN_PATH: `${home}/team-plugins:${home}/plugins:${PLUGIN_DIR}` });
  fs.mkdirSync(path.join(cwd, 'opt', 'x'), { recursive: true });
  fs.copyFileSync(path.join(PLUGIN_DIR, 'fracta-bearer.so'), path.join(cwd, 'opt', 'x', 'sso.so'));
  await expectBlock('plugins-shipped', 'fracta plugins list 2>&1 >/dev/null', 0,
    { FRACTA_PLUGIN_PATH: `${cwd}/opt/x:${PLUGIN_DIR}` });
});

const CLI_TOML = `[mcp.servers.open.remote]
url = "http://127.0.0.1:41453/mcp"

[mcp.servers.github.remote]
url = "http://127.0.0.1:34485/mcp"

[mcp.servers.github.remote.auth]
type = "bearer"
token = { env = "DEMO_TOKEN" }
`;
const headerToml = (value) => `[mcp.servers.internal.remote]
url = "http://127.0.0.1:34485/mcp"

[mcp.servers.internal.remote.auth]
type = "header"
header_name = "X-Api-Key"
header_value = ${value}
`;

check('secrets: a plugin\'s error, a refused credential, what cannot be resolved', async () => {
  uses('plugin-error', 'secret-unchanged', 'secret-unresolved', 'secret-not-regular', 'secret-two-newlines');
  write('signed.toml', '[mcp.servers.signed.remote]\nurl = "http://127.0.0.1:34485/mcp"\n\n[mcp.servers.signed.remote.auth]\ntype = "hmac-example"\n');
  await expectBlock('plugin-error', 'fracta --config signed.toml tools signed', 2, { FRACTA_PLUGIN_PATH: `${EXAMPLES_DIR}:${PLUGIN_DIR}` });
  write('cli.toml', CLI_TOML);
  await expectBlock('secret-unchanged', "DEMO_TOKEN=wrong-token fracta --config /tmp/docs-run/cli.toml call github echo '{}'", 3);
  write('sec/missing.toml', headerToml('{ file = "missing" }'));
  write('sec/empty.toml', headerToml('{ file = "empty" }'));
  write('sec/empty', '');
  write('sec/dir.toml', headerToml('{ file = "/tmp" }'));
  await expectBlock('secret-unresolved', `fracta --config /tmp/docs-run/cli.toml tools github
DEMO_TOKEN= fracta --config /tmp/docs-run/cli.toml tools github
for f in missing empty dir; do fracta --config sec/$f.toml tools internal; done`, 2);
  await sh('set -e; mkdir -p /tmp/docs-run/run; mkfifo /run/k; head -c 70000 /dev/zero | tr "\\0" x > /tmp/huge');
  write('sec/fifo.toml', headerToml('{ file = "/run/k" }'));
  write('sec/huge.toml', headerToml('{ file = "/tmp/huge" }'));
  await expectBlock('secret-not-regular', 'fracta --config sec/fifo.toml tools internal; fracta --config sec/huge.toml tools internal', 2);
  write('sec/two', 'key\n\n');
  write('sec/two.toml', headerToml('{ file = "two" }'));
  await expectBlock('secret-two-newlines', 'fracta --config sec/two.toml tools internal', 2);
});

check('the validation examples shown with their file', async () => {
  uses('syntax-toml', 'syntax-error', 'header-name-bad', 'header-name-invalid');
  fs.writeFileSync(path.join(cwd, 'toml_syntax.toml'), block(DOC, 'syntax-toml', 'toml'));
  await expectBlock('syntax-error', 'fracta --config toml_syntax.toml config mcp validate', 2);
  write('header_name_bad.toml', '[mcp.servers.demo.remote]\nurl = "https://mcp.example.com/mcp"\nheaders = { "X Team" = "platform" }\n');
  await expectBlock('header-name-bad', 'fracta --config header_name_bad.toml config mcp validate', 2);
  write('header_name_invalid.toml', '[mcp.servers.demo.remote]\nurl = "https://mcp.example.com/mcp"\n[mcp.servers.demo.remote.auth]\ntype = "header"\nheader_name = "X-Api-Key:"\nheader_value = { env = "K" }\n');
  await expectBlock('header-name-invalid', 'fracta --config header_name_invalid.toml config mcp validate', 2);
});

test('every code block of configuration.md is tested here or marked not-run with a reason', () => {
  assert.ok(checkEveryBlock(PAGE, tested).length <= 3);
});

test('oauth.md: token.json and client-registration.json as shown are read back by a token_file server', async () => {
  const page = markedBlocks('oauth.md');
  fs.writeFileSync(path.join(cwd, 'token.json'), block(page, 'token-json', 'json'));
  fs.writeFileSync(path.join(cwd, 'client-registration.json'), block(page, 'registration-json', 'json'));
  write('mounted.toml', `[mcp.servers.crm.remote]
url = "https://mcp.example.com/mcp"

[mcp.servers.crm.remote.auth]
type = "oauth"
token_file = "token.json"
client_registration_file = "client-registration.json"
`);
  const r = await sh('fracta --config mounted.toml config mcp auth status crm --json');
  assert.equal(r.code, 0, r.out);
  const [st] = JSON.parse(r.out);
  assert.equal(st.issuer, 'https://as.example.com', r.out);
  assert.equal(st.client, 'registered', r.out);
  assert.equal(st.scopes, 'read write', r.out);
  assert.equal(st.source_path, '/tmp/docs-run/token.json', r.out);
  checkEveryBlock('oauth.md', ['token-json', 'registration-json']);
});

check('proxy.md: each form of the command and each host config, run by an MCP host (the SDK client)', async (t) => {
  const page = markedBlocks('proxy.md');
  const open = await startServer(['--mode', 'stateful']);
  write('proxy.toml', CLI_TOML.replace('http://127.0.0.1:41453', open.origin));
  // No keyring here: the one-liner's OAuth store (the encrypted file) needs a passphrase even
  // for a server that never asks for a login.
  const env = {
    FRACTA_CONFIG: path.join(cwd, 'proxy.toml'), DEMO_TOKEN: 'placeholder-token', EXAMPLE_TOKEN: 'placeholder-token',
    FRACTA_STORE_PASSPHRASE: 'docs test passphrase',
  };
  const seen = (peer) => peer.log().filter((e) => e.method === 'POST').map((e) => e.authorization);
  const forms = block(page, 'proxy-forms', 'sh').split('\n').filter(Boolean).map((l) => l.replace(/\s+#.*$/, ''));
  assert.equal(forms.length, 3, forms.join('\n'));
  const targets = [['<server>', 'github', github], ['https://mcp.example.com/mcp', `${open.url}`, open], ['https://mcp.example.com/mcp', `${github.origin}/mcp`, github]];
  for (const [i, line] of forms.entries()) {
    const [ph, real, peer] = targets[i];
    const before = seen(peer).length;
    const host = await startHost(t, { command: 'bash', args: ['-c', line.replace(ph, real)] }, { home, env, bin });
    assert.equal(await host.call(`form ${i}`), `echo: form ${i}`, host.stderr());
    await host.client.close();
    const auth = seen(peer).slice(before);
    if (peer === github) assert.ok(auth.length && auth.every((a) => a === 'Bearer placeholder-token'), JSON.stringify(auth));
  }
  const hosts = { 'host-claude': ['mcpServers', 'github'], 'host-vscode': ['servers', 'github'], 'host-one-liner': ['mcpServers', 'example'] };
  for (const [name, [key, server]] of Object.entries(hosts)) {
    const entry = JSON.parse(block(page, name, 'json'))[key][server];
    const args = entry.args.map((a) => a.replace('https://mcp.example.com/mcp', `${github.origin}/mcp`));
    const host = await startHost(t, { command: entry.command, args }, { home, env: { ...env, ...entry.env, EXAMPLE_TOKEN: 'placeholder-token' }, bin });
    assert.equal(await host.call(name), `echo: ${name}`, host.stderr());
    await host.client.close();
  }
  checkEveryBlock('proxy.md', ['proxy-forms', ...Object.keys(hosts)]);
});

test('gateway.md: the configuration example loads (config mcp validate) and is what fracta gateway reads', async () => {
  const page = markedBlocks('gateway.md');
  write('gateway.toml', block(page, 'gateway-config', 'toml'));
  const r = await sh('fracta --config gateway.toml config mcp validate');
  assert.equal(r.code, 0, r.out);
  // A non-loopback listen needs the tokens the example configures: without the variable the
  // gateway stops before it binds, naming it.
  const g = await sh('fracta --config gateway.toml gateway --listen 0.0.0.0:0');
  assert.equal(g.code, 2, g.out);
  assert.match(g.out, /GATEWAY_TOKEN/);
  // The JWT example loads too; on its wildcard listener it serves its resource's host.
  write('gateway-jwt.toml', block(page, 'gateway-jwt-config', 'toml'));
  const j = await sh('fracta --config gateway-jwt.toml config mcp validate');
  assert.equal(j.code, 0, j.out);
  checkEveryBlock('gateway.md', ['gateway-config', 'gateway-jwt-config']);
});

test('the check itself: an unmarked block, a missing marked block and drifted output all fail', () => {
  const page = path.join(cwd, 'page.md');
  const body = '<!-- test: one -->\n```\n$ fracta version\nfracta 0.1.0\n```\n\n<!-- not-run: a reason of several words -->\n```json\n{}\n```\n';
  fs.writeFileSync(page, body);
  assert.equal(checkEveryBlock(page, ['one']).length, 1);
  assert.throws(() => checkEveryBlock(page, ['one', 'two']), /the block marked <!-- test: two --> is missing/);
  fs.writeFileSync(page, `${body}\n\`\`\`sh\necho new\n\`\`\`\n`);
  assert.throws(() => checkEveryBlock(page, ['one']), /page\.md:12: a code block with neither/);
  fs.writeFileSync(page, body.replace('a reason of several words', 'later'));
  assert.throws(() => checkEveryBlock(page, ['one']), /not-run needs a reason/);
  assert.equal(outputDiff('fracta 0.1.0\n', 'fracta 0.1.0\n'), null);
  assert.notEqual(outputDiff('fracta 0.1.0\n', 'fracta 0.2.0\n'), null);
  assert.equal(outputDiff('a … z\n', 'a b\nc z\n'), null);
});

test('security.md and README.md: every block is marked (README\'s build, GitHub and notion.com examples are exempt)', () => {
  checkEveryBlock('security.md', []);
  assert.equal(checkEveryBlock('README.md', []).length, 3);
});

/** `text` with each line's indentation removed, so an excerpt matches its source at any depth. */
const unindented = (text) => text.split('\n').map((l) => l.trimStart()).join('\n');
const SRC = path.resolve(DOCS_DIR, '..');

/** Asserts that block `name` of `page` is, modulo indentation, a part of `source` (from the
 *  repository root): the page quotes code that is compiled and tested. */
function assertQuoted(page, doc, name, source) {
  const code = unindented(fs.readFileSync(path.join(SRC, source), 'utf8'));
  assert.ok(code.includes(unindented(block(doc, name))), `${page} block '${name}' is no longer a part of ${source}:\n${block(doc, name)}`);
}

test('plugin-abi.md: the [plugins] tables load (plugins list), the SDK provider is its compiled source', async () => {
  const page = markedBlocks('plugin-abi.md');
  fs.mkdirSync(path.join(cwd, 'opt', 'fracta', 'plugins'), { recursive: true, mode: 0o755 });
  for (const name of ['plugins-paths', 'plugins-replace']) {
    const file = write(`abi-${name}.toml`, block(page, name, 'toml'));
    const r = await sh(`fracta --config ${file} plugins list`);
    assert.equal(r.code, 0, `plugin-abi.md block '${name}':\n${r.out}`);
    assert.doesNotMatch(r.out, /error|unknown|refused/i, `plugin-abi.md block '${name}':\n${r.out}`);
  }
  const listed = await sh('fracta --config abi-plugins-paths.toml plugins list');
  assert.match(listed.out, /^searched: .* \/opt\/fracta\/plugins /m, `the [plugins] path is searched:\n${listed.out}`);
  assertQuoted('plugin-abi.md', page, 'sdk-example', 'docs/examples/sdk-example/api_key_example.cpp');
  assert.equal(checkEveryBlock('plugin-abi.md', ['plugins-paths', 'plugins-replace', 'sdk-example']).length, 2);
});

test('architecture.md: the run_on example is the engine\'s code; the diagram is exempt', () => {
  const page = markedBlocks('architecture.md');
  assertQuoted('architecture.md', page, 'run-on', 'engine/src/mcp/session.cpp');
  assert.equal(checkEveryBlock('architecture.md', ['run-on']).length, 1);
});

test('dependencies.md and performance.md: their one command each is exempt (installs packages, runs minutes)', () => {
  assert.equal(checkEveryBlock('dependencies.md', []).length, 1);
  assert.equal(checkEveryBlock('performance.md', []).length, 1);
});

check('embedding.md: its snippets are parts of the example, its output is what the example prints', async () => {
  const page = markedBlocks('embedding.md');
  const snippets = ['embed-config', 'embed-open', 'embed-watch', 'embed-request', 'embed-options', 'embed-post'];
  for (const name of snippets) assertQuoted('embedding.md', page, name, 'docs/examples/embed/embed_example.cpp');
  // Run as the page says (and as embed.test.mjs does) against server-everything. The server
  // sends its own requests (`message:` lines) when it pleases: the page's lines must appear in
  // order, and any other line printed must be such a message.
  const example = process.env.FRACTA_EMBED_EXAMPLE;
  assert.ok(example, 'FRACTA_EMBED_EXAMPLE (the built embedding example) is not set');
  const ev = await startEverything();
  try {
    const r = await runProgram(example,
      ['--url', ev.url, 'trigger-long-running-operation', '{"duration":0.4,"steps":2}']);
    assert.equal(r.code, 0, show(r));
    const expected = block(page, 'embed-output').replace(/\n$/, '').split('\n');
    const actual = r.stdout.replace(/\n$/, '').split('\n');
    let i = 0;
    for (const line of actual) {
      if (i < expected.length && outputDiff(`${expected[i]}\n`, `${line}\n`) === null) i += 1;
      else assert.match(line, /^message: /, `embedding.md block 'embed-output': the example printed a line the page does not show: ${line}\n${show(r)}`);
    }
    assert.equal(i, expected.length, `embedding.md block 'embed-output': the example did not print '${expected[i]}'\n${show(r)}`);
  } finally {
    await ev.stop();
  }
  assert.equal(checkEveryBlock('embedding.md', [...snippets, 'embed-output']).length, 1);
});

test('examples/hmac-example/README.md: configured and used as shown against a peer that verifies each signature; its verifier agrees', async (t) => {
  const page = 'examples/hmac-example/README.md';
  const doc = markedBlocks(page);
  const key = 'the shared secret';
  const peer = await startServer(['--auth', 'hmac', '--expect', key], { t });
  const dir = path.join(cwd, 'hmac');
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.copyFileSync(path.join(EXAMPLES_DIR, 'fracta-hmac-example.so'), path.join(dir, 'fracta-hmac-example.so'));
  const config = substitute(block(doc, 'config', 'toml'), { 'https://mcp.internal.example/mcp': peer.url }, ['https://mcp.internal.example/mcp']);
  write('hmac/config.toml', config);
  const use = block(doc, 'use', 'sh');
  assert.ok(use.includes(`export HMAC_KEY='${key}'`), use);
  const r = await sh(`cd hmac\n${use}`, { FRACTA_CONFIG: path.join(dir, 'config.toml'), FRACTA_PLUGIN_PATH: PLUGIN_DIR });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /fracta-hmac-example\.so\n.*types: hmac-example/, r.out);
  assert.match(r.out, /is valid \(1 server\)/, r.out);
  assert.match(r.out, /\becho\b/, r.out);
  const signed = peer.log().filter((e) => e.method === 'POST' && e.status < 300);
  assert.ok(signed.length > 0, JSON.stringify(peer.log()));
  const h = signed[0].x_headers;
  const sent = `X-Fracta-Date: ${h['x-fracta-date']}\nX-Fracta-Signature: ${h['x-fracta-signature']}\n`;
  const shown = block(doc, 'headers').replace('1700000000', h['x-fracta-date']).replace(/<[^>\n]*>/, '…');
  assert.equal(outputDiff(shown, sent), null, outputDiff(shown, sent));
  // The page's Python verifier computes the signature the test peer accepts.
  const probe = `${block(doc, 'verify', 'python')}\nprint(expected(b"k", "POST", "/mcp?x=1", "1700000000", b"{}"))\n`;
  const py = await runProgram('python3', ['-c', probe], {});
  assert.equal(py.code, 0, show(py));
  assert.equal(py.stdout.trim(), hmacHeaders('k', 'POST', '/mcp?x=1', Buffer.from('{}'), 1700000000000)['X-Fracta-Signature'], show(py));
  assert.equal(checkEveryBlock(page, ['headers', 'config', 'use', 'verify']).length, 1);
  assert.equal(checkEveryBlock('examples/embed/README.md', []).length, 1);
});
