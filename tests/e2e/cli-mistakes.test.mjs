// SPDX-License-Identifier: Apache-2.0
// Every command-line mistake names itself: the exact first line of stderr and the exit code of
// each, from a table (issue 11's first step: unknown commands and flags with a did-you-mean, help
// for bare groups and `fracta help`, one phrasing for an unknown server).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { fracta, show, tmpdir, writeConfig } from './lib/harness.mjs';

const CONFIG = `[mcp.servers.notion.remote]
url = "https://mcp.example.com/mcp"

[mcp.servers.github.remote]
url = "https://api.example.com/mcp"
`;

// [args, exit code, first line of stderr] — `CFG` is replaced by the config file's path.
const MISTAKES = [
  [['confg'], 2, "fracta: unknown command 'confg' for 'fracta'; did you mean 'config'? Commands: version, plugins, config, mcp, call, tools, proxy, gateway, completion (`fracta --help`)"],
  [['config', 'mcp', 'lst'], 2, "fracta: unknown command 'lst' for 'fracta config mcp'; did you mean 'list'? Commands: add, list, show, remove, set, validate, auth (`fracta config mcp --help`)"],
  [['config', 'mcp', 'auth', 'logn', 'notion'], 2, "fracta: unknown command 'logn' for 'fracta config mcp auth'; did you mean 'login'? Commands: login, status, logout, export (`fracta config mcp auth --help`)"],
  [['xyzzy'], 2, "fracta: unknown command 'xyzzy' for 'fracta'. Commands: version, plugins, config, mcp, call, tools, proxy, gateway, completion (`fracta --help`)"],
  [['help', 'confg'], 2, "fracta: unknown command 'confg' for 'fracta'; did you mean 'config'? Commands: version, plugins, config, mcp, call, tools, proxy, gateway, completion (`fracta --help`)"],
  [['config', 'mcp', 'add', 'x', '--URL', 'https://a.example.com/mcp'], 2, "fracta: unknown flag '--URL' for 'fracta config mcp add'; did you mean '--url'? See `fracta config mcp add --help`"],
  [['call', 'notion', 'echo', '{}', '--timout', '5'], 2, "fracta: unknown flag '--timout' for 'fracta call'; did you mean '--timeout'? See `fracta call --help`"],
  [['tools', 'notion', '--bogus'], 2, "fracta: unknown flag '--bogus' for 'fracta tools'. See `fracta tools --help`"],
  [['call'], 2, 'fracta: `fracta call`: server is required; see `fracta call --help`'],
  [['config', 'mcp', 'add', 'x'], 2, 'fracta: `fracta config mcp add`: --url is required; see `fracta config mcp add --help`'],
  [['call', 'notoin', 'echo'], 2, "fracta: no server named 'notoin' in CFG; did you mean 'notion'? Configured servers: notion, github (`fracta config mcp list`)"],
  [['tools', 'gihtub'], 2, "fracta: no server named 'gihtub' in CFG; did you mean 'github'? Configured servers: notion, github (`fracta config mcp list`)"],
  [['config', 'mcp', 'show', 'nope'], 2, "fracta: no server named 'nope' in CFG. Configured servers: notion, github (`fracta config mcp list`)"],
  [['config', 'mcp', 'auth', 'status', 'notoin'], 2, "fracta: no server named 'notoin' in CFG; did you mean 'notion'? Configured servers: notion, github (`fracta config mcp list`)"],
  [['config', 'mcp', 'auth', 'export', 'notoin', '--format', 'env'], 2, "fracta: no server named 'notoin' in CFG; did you mean 'notion'? Configured servers: notion, github (`fracta config mcp list`)"],
  [['config', 'mcp', 'auth', 'export', 'notion', '--format', 'yaml'], 2, 'fracta: --format must be env, files or k8s-secret, not "yaml"'],
  [['config', 'mcp', 'auth', 'export', 'notion', '--format', 'files'], 2, 'fracta: --format files needs --out DIR (the directory to write token.json into)'],
  [['config', 'mcp', 'auth', 'export', 'notion', '--format', 'k8s-secret', '--namespace', 'Tools'], 2, 'fracta: --namespace "Tools" is not a Kubernetes namespace name (lower-case letters, digits and \'-\', at most 63)'],
  [['config', 'mcp', 'auth', 'export', 'notion', '--format', 'env', '--namespace', 'tools'], 2, 'fracta: --namespace applies to --format k8s-secret only'],
  [['config', 'mcp', 'auth', 'export', 'notion', '--format', 'env'], 2, "fracta: server 'notion' (https://mcp.example.com/mcp) uses auth type 'none', whose secrets are in the config itself (SecretValues); there is nothing to export: give the other machine the same secret source"],
  [['completion', 'tcsh'], 2, "fracta: unknown shell 'tcsh' for 'fracta completion'. Shells: bash, zsh, fish (`fracta completion --help`)"],
  [['config', 'mcp', 'set', 'notion', 'ulr=https://a.example.com/mcp'], 2, "fracta: CFG: server 'notion': ulr: unknown key. Did you mean 'url'? Use url, ca_bundle, timeout_seconds, allow_insecure_http, allow_private_network, protocol, headers.NAME or auth.KEY (a key of the auth type, e.g. auth.type, auth.token, auth.client_id)."],
  [['config', 'mcp', 'set', 'notoin', 'url=https://a.example.com/mcp'], 2, "fracta: no server named 'notoin' in CFG; did you mean 'notion'? Configured servers: notion, github (`fracta config mcp list`)"],
  [['call', 'notion', 'echo', '@/nonexistent/args.json'], 2, "fracta: cannot read the arguments file '/nonexistent/args.json': No such file or directory"],
  [['tools', 'notion', '--al'], 2, "fracta: unknown flag '--al' for 'fracta tools'; did you mean '--all'? See `fracta tools --help`"],
  [['-vx', 'tools', 'notion'], 2, "fracta: unknown flag '-vx' for 'fracta'. See `fracta --help`"],
];

// [args, what stdout starts with] — help, exit 0, nothing on stderr.
const HELP = [
  [[], 'fracta: credentials for MCP clients.'],
  [['help'], 'fracta: credentials for MCP clients.'],
  [['help', 'call'], 'Call a tool on a server'],
  [['help', 'config', 'mcp', 'auth', 'export'], "Export a server's stored credentials for a headless machine"],
  [['config'], 'Edit and check the configuration'],
  [['config', 'mcp', 'auth'], 'Log in to OAuth servers; inspect, export and remove stored credentials'],
  [['mcp'], 'Deprecated: use `fracta config mcp auth …`'],
];

describe('CLI mistakes', () => {
  const dir = tmpdir();
  const cfg = writeConfig(dir, CONFIG);

  for (const [args, code, first] of MISTAKES) {
    test(`fracta ${args.join(' ')} → exit ${code}: ${first.slice(0, 60)}…`, async () => {
      const r = await fracta(['--config', cfg, ...args]);
      assert.equal(r.code, code, show(r));
      assert.equal(r.stderr.split('\n')[0], first.replaceAll('CFG', cfg), show(r));
    });
  }

  for (const [args, start] of HELP) {
    test(`fracta ${args.join(' ') || '(nothing)'} prints help and exits 0`, async () => {
      const r = await fracta(args.length ? ['--config', cfg, ...args] : []);
      assert.equal(r.code, 0, show(r));
      assert.ok(r.stdout.startsWith(start), show(r));
      assert.equal(r.stderr, '', show(r));
    });
  }
});
