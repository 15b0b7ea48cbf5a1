// SPDX-License-Identifier: Apache-2.0
// docs/cli.md, run: every code block is either marked <!-- test: NAME --> and checked here
// against the built binary, or marked <!-- not-run: reason -->. Transcripts (`$ command` and
// what it prints) are run in order in one temporary HOME and directory, against loopback MCP
// peers, stdout and stderr together, and compared exactly; a message block is compared with
// what the command named in this file prints; a synopsis names only flags `--help` knows.
//
// What the comparison substitutes, and nothing else (exact strings, both ways):
//   http://127.0.0.1:41453 (open), :34485 (github, bearer), :44803 (internal, header),
//   :43893 (legacy, basic) → the peers' loopback origins; https://mcp.notion.com/mcp → the
//   OAuth peer's resource; /tmp/docs-run → the working directory; /home/me → HOME;
//   /opt/fracta/plugins → a directory under it; /tmp/build-lead/plugins and
//   /tmp/build-lead/docs/examples → the build's plugin directories.
//   `after N ms` (curl's connect time) reads as `after 0 ms`. `…` in a block stands for any text.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import {
  binDir, block, checkEveryBlock, outputDiff, pageRunner, transcript,
} from './lib/doc-blocks.mjs';
import {
  fractaBin, fractaPty, shellQuote, startOAuthPair, startServer, startV2Server, tmpdir,
} from './lib/harness.mjs';

const PAGE = 'cli.md';
const PLUGIN_DIR = process.env.FRACTA_PLUGIN_PATH;
const EXAMPLES_DIR = process.env.FRACTA_EXAMPLE_PLUGIN_DIR;

const open = await startServer(['--mode', 'stateful']);
const github = await startServer(['--mode', 'stateful', '--auth', 'bearer', '--expect', 'placeholder-token']);
const internal = await startServer(['--mode', 'stateful', '--auth', 'header', '--header-name', 'X-Api-Key', '--expect', 'placeholder-api-key']);
const legacy = await startServer(['--mode', 'stateful', '--auth', 'basic', '--expect', 'alice:placeholder-password']);
const cwd = tmpdir('fracta-e2e-docs-cwd-');
const home = tmpdir('fracta-e2e-docs-home-');
// `kubectl` is a stand-in that accepts only `apply -f -` and keeps what it was given.
const bin = binDir({
  kubectl: `#!/bin/sh
[ "$*" = "apply -f -" ] || { echo "kubectl stand-in: only 'apply -f -'" >&2; exit 1; }
cat > "$FRACTA_TEST_KUBECTL_OUT"
`,
});

const toReal = {
  'http://127.0.0.1:41453': open.origin,
  'http://127.0.0.1:34485': github.origin,
  'http://127.0.0.1:44803': internal.origin,
  'http://127.0.0.1:43893': legacy.origin,
  '/tmp/docs-run': cwd,
  '/home/me': home,
  '/opt/fracta/plugins': path.join(cwd, 'opt', 'fracta', 'plugins'),
};
const {
  doc: DOC, tested, normal, sh, runTranscript, expectBlock, check, uses,
} = pageRunner(PAGE, {
  cwd, home, bin, toReal,
  toPage: { [PLUGIN_DIR]: '/tmp/build-lead/plugins', [EXAMPLES_DIR]: '/tmp/build-lead/docs/examples' },
  env: { FRACTA_CONFIG: path.join(cwd, 'cli.toml') },
  normalise: (out) => out.replace(/ after \d+ ms/g, ' after 0 ms').replace(/ in \d+ ms$/gm, ' in 1 ms'),
});

/** Runs a setup command of this test (not from the page); it must succeed. */
async function setup(script, env = {}) {
  const r = await sh(`set -e\n${script}`, env);
  assert.equal(r.code, 0, `setup:\n${r.script}\n${r.out}`);
}

/** The page's toml block `name` appears, as it is, in `file` (in the page's placeholders). */
function fileHolds(name, file) {
  const text = normal(fs.readFileSync(path.join(cwd, file), 'utf8'));
  assert.ok(text.includes(block(DOC, name, 'toml')), `${file} does not hold block '${name}':\n${text}`);
}


check('the servers the samples use: open, github (bearer), then the page adds internal (header)', async () => {
  uses('add-internal', 'add-internal-toml');
  await setup(`fracta config mcp add open --url http://127.0.0.1:41453/mcp >/dev/null
fracta config mcp add github --url http://127.0.0.1:34485/mcp --auth bearer --secret token=env:DEMO_TOKEN >/dev/null
printf placeholder-api-key > api-key`);
  await runTranscript('add-internal');
  fileHolds('add-internal-toml', 'cli.toml');
  await setup(`fracta config mcp add legacy --url http://127.0.0.1:43893/mcp --auth basic \\
  --secret username=value:alice --secret password=env:DEMO_PASSWORD >/dev/null
fracta --config good.toml config mcp add open --url http://127.0.0.1:41453/mcp >/dev/null`);
});

check('add: the OAuth examples, one per type, a type typo and the usage errors', async () => {
  uses('add-oauth', 'add-oauth-toml', 'add-types', 'add-typo', 'add-errors');
  await runTranscript('add-oauth', { FRACTA_CONFIG: path.join(cwd, 'oauth-add.toml') });
  fileHolds('add-oauth-toml', 'oauth-add.toml');
  const types = await sh(`set -e\n${block(DOC, 'add-types', 'sh')}`, {
    FRACTA_CONFIG: path.join(cwd, 'types.toml'), FRACTA_PLUGIN_PATH: `${EXAMPLES_DIR}:${PLUGIN_DIR}`,
  });
  assert.equal(types.code, 0, types.out);
  await setup('cp good.toml cfg.toml');
  await expectBlock('add-typo', 'fracta --config cfg.toml config mcp add x --url https://mcp.example.com/mcp --auth beaer', 2);
  const errors = [
    'add github --url http://127.0.0.1:41453/mcp',
    "add 'my server' --url http://127.0.0.1:41453/mcp",
    'add x --url http://127.0.0.1:41453/mcp --set a=b',
    'add x --url http://127.0.0.1:41453/mcp --auth bearer --secret token',
    'add x --url http://127.0.0.1:41453/mcp --auth bearer --secret token=vault:x',
    'add x --url http://127.0.0.1:41453/mcp --header X-Team',
    'add x --url http://127.0.0.1:41453/mcp --auth bearer',
    'add x --url http://127.0.0.1:41453/mcp --auth bearer --set token=abc',
  ];
  await expectBlock('add-errors', errors.map((e) => `fracta config mcp ${e} || [ $? -eq 2 ]`).join('\n'), 0);
});

check('list, show, validate: the samples', async () => {
  uses('list', 'show', 'show-hidden', 'show-unknown', 'validate', 'validate-note', 'validate-missing');
  await runTranscript('list');
  await setup(`mkdir -p secrets
cat > oauth.toml <<'EOF'
# OAuth servers of docs/cli.md
[mcp.servers.notion.remote]
url = "https://mcp.notion.com/mcp"

[mcp.servers.notion.remote.auth]
type = "oauth"

[mcp.servers.svc.remote]
url = "https://mcp.example.com/mcp"

[mcp.servers.svc.remote.auth]
type = "oauth"
grant_type = "client_credentials"
token_store = "keyring"
metadata_url = "https://auth.example.com/.well-known/oauth-authorization-server"
client_id = { env = "SVC_CLIENT_ID" }
client_secret = { file = "/tmp/docs-run/secrets/svc-client-secret" }
EOF`);
  await runTranscript('show');
  await setup(`fracta --config hidden.toml config mcp add h --url http://127.0.0.1:41453/mcp \\
  --header X-Api-Key=placeholder --header X-Team=platform >/dev/null`);
  await expectBlock('show-hidden', 'fracta --config hidden.toml config mcp show h | grep ^header:', 0);
  await expectBlock('show-unknown', 'fracta --config good.toml config mcp show nope', 2);
  await runTranscript('validate');
  await setup(`mkdir -p /opt/fracta/plugins && cp ${shellQuote(path.join(EXAMPLES_DIR, 'fracta-hmac-example.so'))} /opt/fracta/plugins/
cat > v.toml <<'EOF'
[plugins]
paths = ["/opt/fracta/plugins"]

[mcp.servers.signed.remote]
url = "https://mcp.internal.example/mcp"

[mcp.servers.signed.remote.auth]
type = "hmac-example"
key = { env = "HMAC_KEY" }
EOF
grep -v '^\\[plugins\\]\\|^paths' v.toml > types-missing.toml
cat >> types-missing.toml <<'EOF'

[mcp.servers.api.remote]
url = "https://api.internal.example/mcp"

[mcp.servers.api.remote.auth]
type = "example-api-key"
key = { env = "API_KEY" }
EOF`);
  await runTranscript('validate-note');
  await expectBlock('validate-missing', 'fracta --config /tmp/docs-run/types-missing.toml config mcp validate --json', 2);
});

check('remove: what it refuses, and a store it cannot open', async () => {
  uses('remove-refuses', 'remove-store-error');
  await expectBlock('remove-refuses', `fracta config mcp remove nope || [ $? -eq 2 ]
fracta --config /tmp/docs-run/missing.toml config mcp remove x || [ $? -eq 2 ]`, 0);
  await setup('fracta config mcp add notion --url https://mcp.notion.com/mcp --oauth >/dev/null');
  await expectBlock('remove-store-error', 'fracta config mcp remove notion', 2);
});

check('call and tools against the peers: results, errors and exit codes', async () => {
  uses('call', 'tools', 'mistakes', 'duration', 'verbose');
  await setup(`cat > down.toml <<'EOF'
[mcp.servers.down.remote]
url = "http://127.0.0.1:9/mcp"
EOF
cat > wrongpath.toml <<'EOF'
[mcp.servers.open.remote]
url = "http://127.0.0.1:41453/not-mcp"
EOF
mkdir -p /home/me/.config/fracta
cat > /home/me/.config/fracta/config.toml <<'EOF'
[mcp.servers.notion.remote]
url = "https://mcp.notion.com/mcp"

[mcp.servers.github.remote]
url = "https://api.githubcopilot.com/mcp/"
EOF`);
  await runTranscript('call');
  await runTranscript('verbose');
  await runTranscript('tools');
  await runTranscript('mistakes', { FRACTA_CONFIG: undefined }, 2);
  await expectBlock('duration', "fracta call open echo '{}' --request-timeout 5x", 2);
});

check('version, plugins list (plain, with refused files, --json)', async () => {
  uses('version', 'plugins-list', 'plugins-refused', 'plugins-json');
  await runTranscript('version');
  await runTranscript('plugins-list');
  await setup(`mkdir -p pl/extra && printf 'not a plugin' > pl/extra/bogus.so
cp ${shellQuote(path.join(PLUGIN_DIR, 'fracta-bearer.so'))} pl/extra/my-bearer.so
printf '[plugins]\\npaths = ["/tmp/docs-run/pl/extra"]\\n' > pl.toml`);
  await expectBlock('plugins-refused', 'fracta --config pl.toml plugins list', 0, { FRACTA_PLUGIN_PATH: `${EXAMPLES_DIR}:${PLUGIN_DIR}` });
  await expectBlock('plugins-json', 'fracta plugins list --json', 0);
});

check('auth status of a store that cannot be read', async () => {
  uses('status-unreadable');
  await setup(`cat > corp.toml <<'EOF'
[mcp.servers.corp.remote]
url = "https://mcp.corp.example/mcp"

[mcp.servers.corp.remote.auth]
type = "oauth"
token_store = "file"
EOF
mkdir -p /home/me/.local/state/fracta && printf 'not a store' > /home/me/.local/state/fracta/tokens.enc`);
  await expectBlock('status-unreadable', 'fracta --config corp.toml config mcp auth status corp', 3, { FRACTA_STORE_PASSPHRASE: 'docs test passphrase' });
  fs.rmSync(path.join(home, '.local', 'state', 'fracta', 'tokens.enc'));
});

check('auth export of a mounted token file: k8s-secret to kubectl, files, env', async () => {
  uses('export');
  await setup(`printf '{"access_token": "placeholder-access", "issuer": "https://auth.example.com"}\\n' > acme-token.json
cat > acme.toml <<'EOF'
[mcp.servers.acme-crm.remote]
url = "https://mcp.example.com/mcp"

[mcp.servers.acme-crm.remote.auth]
type = "oauth"
token_file = "acme-token.json"
EOF`);
  await runTranscript('export', { FRACTA_CONFIG: path.join(cwd, 'acme.toml'), FRACTA_TEST_KUBECTL_OUT: path.join(cwd, 'applied.yaml') });
  const applied = fs.readFileSync(path.join(cwd, 'applied.yaml'), 'utf8');
  assert.match(applied, /^kind: Secret$/m, applied);
  assert.match(applied, /^ {2}namespace: mcp$/m, applied);
  assert.ok(fs.existsSync(path.join(cwd, 'secrets', 'acme-crm', 'token.json')));
  assert.match(fs.readFileSync(path.join(cwd, 'acme-crm.env'), 'utf8'), /^export FRACTA_MCP_ACME_CRM_ACCESS_TOKEN=/m);
});

check('call of an OAuth server with no login yet names the login (the OAuth peers)', async () => {
  uses('call-needs-login');
  const pair = await startOAuthPair();
  toReal['https://mcp.notion.com/mcp'] = pair.resource;
  try {
    await setup(`printf '[mcp.servers.notion.remote]\\nurl = "%s"\\n\\n[mcp.servers.notion.remote.auth]\\ntype = "oauth"\\n' https://mcp.notion.com/mcp > notion.toml`);
    await runTranscript('call-needs-login', { FRACTA_CONFIG: path.join(cwd, 'notion.toml'), FRACTA_STORE_PASSPHRASE: 'docs test passphrase' });
  } finally {
    delete toReal['https://mcp.notion.com/mcp'];
  }
});

check('questions from the server: --answers, and the form on a terminal (v2server)', async () => {
  uses('answers', 'form');
  const v2 = await startV2Server();
  await setup(`printf '[mcp.servers.demo.remote]\\nurl = "%s"\\n' ${shellQuote(v2.url)} > demo.toml`);
  await runTranscript('answers', { FRACTA_CONFIG: path.join(cwd, 'demo.toml') });
  const [{ cmd, expected }] = transcript(block(DOC, 'form'));
  assert.equal(cmd, 'fracta call demo confirm');
  const dialogue = [...expected.matchAll(/^(.*\]: )(.*)$/gm)].map(([, prompt, typed]) => ({
    expect: new RegExp(`${prompt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`), send: `${typed}\n`,
  }));
  const r = await fractaPty(['--config', path.join(cwd, 'demo.toml'), 'call', 'demo', 'confirm'], dialogue, { home });
  assert.equal(outputDiff(expected, r.output), null, outputDiff(expected, r.output));
  assert.equal(r.code, 0);
});

check('config mcp set: a change, an --unset, its refusals, the note on a moved OAuth server; completion of an unknown shell', async () => {
  uses('set', 'set-errors', 'set-url-note', 'completion-unknown-shell');
  const file = path.join(cwd, 'cli.toml');
  const saved = fs.readFileSync(file);
  try {
    fs.writeFileSync(file, `[mcp.servers.github.remote]
url = "https://api.githubcopilot.com/mcp/"

[mcp.servers.notion.remote]
url = "https://mcp.notion.com/mcp"

[mcp.servers.notion.remote.auth]
type = "oauth"
`);
    await runTranscript('set');
    await expectBlock('set-errors', `for change in 'githb url=https://x.example/mcp' 'github ulr=https://x.example/mcp' 'github url=ftp://x.example'; do
  (fracta config mcp set $change 2>&1 || true) | head -n 1
done`, 0);
    await runTranscript('set-url-note');
  } finally {
    fs.writeFileSync(file, saved);
  }
  await runTranscript('completion-unknown-shell', {}, 2);
});

// Synopsis blocks: the command words, then every --flag shown must be one `--help` lists.
const SYNOPSES = {
  'synopsis': [], 'synopsis-add': ['config', 'mcp', 'add'], 'synopsis-list': ['config', 'mcp', 'list'],
  'synopsis-show': ['config', 'mcp', 'show'], 'synopsis-remove': ['config', 'mcp', 'remove'],
  'synopsis-validate': ['config', 'mcp', 'validate'], 'synopsis-plugins': ['plugins', 'list'],
  'synopsis-login': ['config', 'mcp', 'auth', 'login'], 'synopsis-status': ['config', 'mcp', 'auth', 'status'],
  'synopsis-logout': ['config', 'mcp', 'auth', 'logout'], 'synopsis-export': ['config', 'mcp', 'auth', 'export'],
  'synopsis-call': ['call'], 'synopsis-tools': ['tools'], 'synopsis-set': ['config', 'mcp', 'set'],
};
check('every synopsis names its command and only flags its --help lists', async () => {
  uses(...Object.keys(SYNOPSES));
  for (const [name, words] of Object.entries(SYNOPSES)) {
    const text = block(DOC, name);
    assert.ok(text.startsWith(['fracta', ...words].join(' ')), `${name}: ${text}`);
    const r = await sh(`fracta ${words.join(' ')} --help`);
    assert.equal(r.code, 0, r.out);
    for (const [flag] of text.matchAll(/--[a-z][a-z-]*/g)) {
      assert.ok(r.out.includes(flag), `${PAGE} block '${name}' shows ${flag}, which \`fracta ${words.join(' ')} --help\` does not list:\n${r.out}`);
    }
  }
});

test('every code block of docs/cli.md is tested here or marked not-run with a reason', () => {
  assert.ok(fs.existsSync(fractaBin()));
  const exempt = checkEveryBlock(PAGE, tested);
  assert.ok(exempt.length <= 6, `few exemptions: ${JSON.stringify(exempt)}`);
});
