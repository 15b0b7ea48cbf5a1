#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The fracta client for @modelcontextprotocol/conformance client scenarios (run through
// client.sh by the suite: `client.sh <serverUrl>`, env MCP_CONFORMANCE_SCENARIO and, for some
// scenarios, MCP_CONFORMANCE_CONTEXT JSON with client credentials, and
// MCP_CONFORMANCE_PROTOCOL_VERSION, the wire the scenario runs at).
//
// 1. A private temp dir (HOME, XDG_*), a fracta config for one server `conf` at <serverUrl> with
//    `remote.protocol = "<wire>"` (pinned: the suite checks messages against that revision), and
//    `type = "oauth"`, token_store "file" + passphrase from env, and keys from the scenario:
//      auth/pre-registration           client_id + client_secret (from the context)
//      auth/basic-cimd                 client_metadata_url = https://conformance-test.local/client-metadata.json
//      auth/client-credentials-basic   grant_type client_credentials, client_secret_basic
//      auth/client-credentials-jwt     grant_type client_credentials, private_key_jwt (context key)
//      everything else                 nothing more (discovery + dynamic registration)
// 2. BROWSER=curl-browser.sh (GETs the authorize URL, follows the mock's 302 to the loopback
//    redirect by hand).
// 3. `fracta -v tools conf --json --login`, then `fracta -v call conf <first tool> <args> --json
//    --login` (arguments: placeholders for the required properties of its inputSchema; in
//    json-schema-2020-12-preservation, json_schema_echo with {schema: <the focal tool's
//    inputSchema>}). `initialize` lists no tools and calls none.
// Exit 0 only when both succeed. Env: FRACTA_BIN (required), FRACTA_PLUGIN_PATH (passed on),
// FRACTA_CONFORMANCE_STATUS_DIR (optional: writes <scenario with / as __>.rc = the exit code,
// so the runner can check exit codes that the suite mode does not look at),
// FRACTA_CONFORMANCE_KEEP_TMP=1 keeps the temp dir.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const serverUrl = process.argv[process.argv.length - 1];
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
let context = {};
try {
  context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT || '{}');
} catch {
  context = {};
}
const CIMD_URL = 'https://conformance-test.local/client-metadata.json';
const wire = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION ?? '';

const log = (s) => process.stderr.write(`conformance-client[${scenario}]: ${s}\n`);

function finish(code) {
  const dir = process.env.FRACTA_CONFORMANCE_STATUS_DIR;
  if (dir && scenario) {
    try {
      fs.writeFileSync(path.join(dir, `${scenario.replaceAll('/', '__')}.rc`), `${code}\n`);
    } catch { /* best effort */ }
  }
  if (!process.env.FRACTA_CONFORMANCE_KEEP_TMP && tmp) fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(code);
}

let tmp = null;
const bin = process.env.FRACTA_BIN;
if (!bin || !fs.existsSync(bin)) {
  log(`FRACTA_BIN is not set or does not exist (${bin})`);
  finish(2);
}
if (!/^https?:\/\//.test(serverUrl)) {
  log(`usage: client.sh <serverUrl> (got ${serverUrl})`);
  finish(2);
}

tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fracta-conformance-'));
fs.chmodSync(tmp, 0o700);
const toml = (s) => JSON.stringify(String(s));
const secret = (v) => `{ value = ${toml(v)} }`;

const auth = [
  'type = "oauth"',
  'token_store = "file"',
  'passphrase = { env = "FRACTA_TEST_PASSPHRASE" }',
];
switch (scenario) {
  case 'auth/pre-registration':
    auth.push(`client_id = ${secret(context.client_id)}`, `client_secret = ${secret(context.client_secret)}`);
    break;
  case 'auth/basic-cimd':
    auth.push(`client_metadata_url = ${toml(CIMD_URL)}`);
    break;
  case 'auth/client-credentials-basic':
    auth.push(
      'grant_type = "client_credentials"',
      `client_id = ${secret(context.client_id)}`,
      `client_secret = ${secret(context.client_secret)}`,
      'token_endpoint_auth_method = "client_secret_basic"',
    );
    break;
  case 'auth/client-credentials-jwt': {
    const keyFile = path.join(tmp, 'client-key.pem');
    fs.writeFileSync(keyFile, context.private_key_pem ?? '', { mode: 0o600 });
    auth.push(
      'grant_type = "client_credentials"',
      `client_id = ${secret(context.client_id)}`,
      `private_key = { file = ${toml(keyFile)} }`,
      'token_endpoint_auth_method = "private_key_jwt"',
    );
    if (context.signing_algorithm && context.signing_algorithm !== 'ES256') log(`note: signing_algorithm ${context.signing_algorithm}`);
    break;
  }
  case 'auth/cross-app-access-complete-flow':
    log('cross-app access (SEP-990 token exchange + jwt-bearer) is not supported by fracta');
    finish(1);
    break;
  default:
    break;
}
const configPath = path.join(tmp, 'config.toml');
// The wire the scenario runs at pins the server's protocol (the suite checks every message
// against that revision's schema, so a probe of another era would count against it).
const protocolLine = wire ? `protocol = ${toml(wire)}\n` : '';
fs.writeFileSync(configPath, `[mcp.servers.conf.remote]\nurl = ${toml(serverUrl)}\n${protocolLine}\n`
  + `[mcp.servers.conf.remote.auth]\n${auth.join('\n')}\n`, { mode: 0o600 });

const env = {};
for (const k of ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'FRACTA_PLUGIN_PATH', 'LD_LIBRARY_PATH', 'ASAN_OPTIONS', 'UBSAN_OPTIONS']) {
  if (process.env[k] !== undefined) env[k] = process.env[k];
}
Object.assign(env, {
  HOME: tmp,
  XDG_CONFIG_HOME: path.join(tmp, '.config'),
  XDG_STATE_HOME: path.join(tmp, '.local', 'state'),
  XDG_DATA_HOME: path.join(tmp, '.local', 'share'),
  XDG_CACHE_HOME: path.join(tmp, '.cache'),
  FRACTA_CONFIG: configPath,
  FRACTA_TEST_PASSPHRASE: 'conformance passphrase',
  BROWSER: path.join(here, 'curl-browser.sh'),
  NO_PROXY: '*',
});

function fracta(args) {
  log(`$ fracta ${args.join(' ')}`);
  const r = spawnSync(bin, ['-v', ...args], { env, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  log(`exit ${r.status}${r.signal ? ` (signal ${r.signal})` : ''}`);
  return r;
}

// A placeholder value for a JSON schema.
function placeholder(schema = {}) {
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': return 'test';
    case 'number': return 1;
    case 'integer': return 1;
    case 'boolean': return true;
    case 'array': return [];
    case 'object': return argsFor(schema);
    case 'null': return null;
    default: return 'test';
  }
}
function argsFor(schema = {}) {
  const out = {};
  for (const name of schema.required ?? []) out[name] = placeholder(schema.properties?.[name]);
  return out;
}

// What each scenario calls, as the suite's own reference client does: most call their first tool
// with placeholder arguments; some only list; some call named tools, answering the server's
// questions from --answers (no terminal here); the context may name the calls (toolCalls).
const LIST_ONLY = new Set(['initialize', 'request-metadata', 'json-schema-ref-no-deref']);
const NAMED_CALLS = {
  'sep-2322-client-request-state': ['test_mrtr_echo_state', 'test_mrtr_unrelated', 'test_mrtr_no_state',
    'test_mrtr_no_result_type'],
  'elicitation-sep1034-client-defaults': ['test_client_elicitation_defaults'],
};
const ANSWERS = {
  'sep-2322-client-request-state': '{"confirmed":true}',
  'elicitation-sep1034-client-defaults': '{}', // SEP-1034: every default applied
};
// The authorization server changes under the first command; the CLI logs in once per command,
// so the next command is the one that registers at the new one.
const CONTINUE_AFTER_FAILED_LIST = new Set(['auth/authorization-server-migration']);

const listed = fracta(['tools', 'conf', '--json', '--login']);
let tools = [];
if (listed.status !== 0) {
  if (!CONTINUE_AFTER_FAILED_LIST.has(scenario)) finish(listed.status || 1);
} else {
  try {
    tools = JSON.parse(listed.stdout).tools;
  } catch (e) {
    log(`tools --json did not print the MCP result object: ${e.message}`);
    finish(1);
  }
  if (!Array.isArray(tools)) {
    log('tools --json printed no tools array');
    finish(1);
  }
  if (LIST_ONLY.has(scenario)) finish(0);
}
let calls;
if (Array.isArray(context.toolCalls)) {
  calls = context.toolCalls.map((c) => ({ name: c.name, args: c.arguments ?? {} }));
} else if (NAMED_CALLS[scenario]) {
  calls = NAMED_CALLS[scenario].map((name) => ({ name, args: argsFor(tools.find((t) => t.name === name)?.inputSchema) }));
} else if (scenario === 'json-schema-2020-12-preservation') {
  // Round-trip the focal tool's inputSchema, as `tools --json` printed it, through the echo tool.
  const focal = tools.find((t) => t.name === 'json_schema_2020_12_tool');
  calls = [{ name: 'json_schema_echo', args: { schema: focal?.inputSchema ?? {} } }];
} else if (tools.length) {
  calls = [{ name: tools[0].name, args: argsFor(tools[0].inputSchema) }];
} else if (CONTINUE_AFTER_FAILED_LIST.has(scenario)) {
  calls = [{ name: 'test-tool', args: {} }];
} else {
  log('the server listed no tools');
  finish(1);
}
let status = listed.status === 0 ? 0 : listed.status;
for (const c of calls) {
  const answers = ANSWERS[scenario] ? ['--answers', ANSWERS[scenario]] : [];
  const called = fracta(['call', 'conf', c.name, JSON.stringify(c.args), '--json', '--login', ...answers]);
  if (called.status !== 0) {
    status = called.status || 1;
    break;
  }
  if (CONTINUE_AFTER_FAILED_LIST.has(scenario)) status = 0; // the call healed what the list could not
}
finish(status);
