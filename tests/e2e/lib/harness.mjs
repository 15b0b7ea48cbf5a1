// SPDX-License-Identifier: Apache-2.0
// Helpers for fracta's end-to-end tests (node:test): start the real MCP peer, make temporary
// directories and config files, run the built `fracta` binary in a clean environment.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SERVER_SCRIPT = path.resolve(here, '..', 'peers', 'mcp-server.mjs');

const START_TIMEOUT_MS = 10_000;
const FRACTA_TIMEOUT_MS = 30_000;

// Everything started or created here is cleaned up when the test file ends, whatever happens.
const liveServers = new Set();
const tempDirs = [];
after(async () => {
  await Promise.all([...liveServers].map((s) => s.stop()));
  if (!process.env.FRACTA_E2E_KEEP_TMP) {
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  }
});
process.on('exit', () => {
  for (const s of liveServers) s.kill();
});

/** A fresh private temporary directory, removed after the test file (FRACTA_E2E_KEEP_TMP=1 keeps it). */
export function tmpdir(prefix = 'fracta-e2e-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(d, 0o700);
  tempDirs.push(d);
  return d;
}

/** Writes `tomlText` to `<dir>/<name>` (default config.toml) and returns its path. */
export function writeConfig(dir, tomlText, name = 'config.toml') {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, tomlText, { mode: 0o600 });
  return p;
}

/** Writes a secret file (mode 0600) and returns its path. */
export function writeSecret(dir, name, content) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content, { mode: 0o600 });
  return p;
}

/**
 * Starts peers/mcp-server.mjs with `args` (see its --help). A request log is always written
 * (to a temp file) unless args already has --log. Resolves to
 * { port, url, logPath, log(): parsed JSON lines, stderr(): text, stop(): Promise }.
 * The server is stopped after the test file in any case; pass a test context `t` to stop it
 * after that test instead.
 */
export async function startServer(args = [], { t } = {}) {
  const peer = await startPeer(SERVER_SCRIPT, args, { t, name: 'mcp-server' });
  peer.url = `${peer.origin}/mcp`;
  return peer;
}

const PASS_THROUGH_ENV = [
  'PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR',
  'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'TSAN_OPTIONS', 'MSAN_OPTIONS', 'LD_LIBRARY_PATH',
];

/** The fracta binary under test (meson sets FRACTA_BIN); throws a clear error when unset. */
export function fractaBin() {
  const bin = process.env.FRACTA_BIN;
  if (!bin) {
    throw new Error('FRACTA_BIN is not set: run these tests with `meson test -C <builddir> --suite e2e` '
      + '(or set FRACTA_BIN=<builddir>/cli/fracta and FRACTA_PLUGIN_PATH=<builddir>/plugins)');
  }
  if (!fs.existsSync(bin)) throw new Error(`FRACTA_BIN=${bin} does not exist: build it first`);
  return bin;
}

/**
 * Runs `fracta ...args` and resolves to { code, signal, stdout, stderr, home }.
 * Environment: a clean one (PATH, locale, sanitizer options), HOME and the XDG dirs in a fresh
 * temp dir (or `home`), FRACTA_PLUGIN_PATH from this process's env, no FRACTA_CONFIG;
 * `env` adds or (with undefined) removes variables. `input` is written to stdin.
 * Killed after 30 s (then code is null and signal is SIGKILL).
 */
export async function fracta(args, opts = {}) {
  return runProgram(fractaBin(), args, opts);
}

/** Runs `bin ...args` as fracta() runs fracta (the same environment, options and result);
 *  `cwd` is the working directory (default: this process's). */
export async function runProgram(bin, args, { env = {}, input, home, timeoutMs = FRACTA_TIMEOUT_MS, cwd } = {}) {
  home ??= tmpdir('fracta-e2e-home-');
  const childEnv = cleanEnv(home, env);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: childEnv, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${bin}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, home });
    });
    child.stdin.on('error', () => {}); // fracta may exit without reading stdin
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** The environment fracta runs in (see fracta()): pass-through variables, HOME and the XDG dirs
 *  under `home`, FRACTA_PLUGIN_PATH; `env` adds or (with undefined) removes variables. */
export function cleanEnv(home, env = {}) {
  const childEnv = {};
  for (const k of PASS_THROUGH_ENV) if (process.env[k] !== undefined) childEnv[k] = process.env[k];
  Object.assign(childEnv, {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
  });
  if (process.env.FRACTA_PLUGIN_PATH !== undefined) childEnv.FRACTA_PLUGIN_PATH = process.env.FRACTA_PLUGIN_PATH;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = String(v);
  }
  return childEnv;
}

/** A readable summary of a fracta run, for assertion messages. */
export function show(r) {
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** TOML basic string literal. */
export function tomlStr(s) {
  return JSON.stringify(s); // JSON string escapes are valid TOML basic-string escapes for our inputs
}

/** A config with one server `name` at `url`, with the given auth block body (TOML lines). */
export function serverConfig(name, url, authLines = null, extra = '') {
  let t = `[mcp.servers.${name}.remote]\nurl = ${tomlStr(url)}\n${extra}`;
  if (authLines !== null) t += `\n[mcp.servers.${name}.remote.auth]\n${authLines.trim()}\n`;
  return t;
}

/** FRACTA_PLUGIN_PATH with the example plugin dir first (or null when the build did not give it). */
export function examplePluginPath() {
  const dir = process.env.FRACTA_EXAMPLE_PLUGIN_DIR;
  if (!dir) return null;
  return [dir, process.env.FRACTA_PLUGIN_PATH].filter(Boolean).join(':');
}

/** Requests in a server log that carry JSON-RPC method `m`. */
export function withRpc(entries, m) {
  return entries.filter((e) => Array.isArray(e.rpc_methods) && e.rpc_methods.includes(m));
}

/** Asserts-friendly: the JSON-RPC methods seen, flattened, in order. */
export function rpcSeq(entries) {
  return entries.flatMap((e) => e.rpc_methods ?? [`<${e.method}>`]);
}

/** An unused loopback port (listen on 0, close): for "connection refused" tests. */
export async function closedPort() {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// OAuth peers: oidc-provider (authorization server), mcp-server --auth jwt (resource server),
// the $BROWSER hook.

export const PEERS_DIR = path.resolve(here, '..', 'peers');
export const OIDC_SCRIPT = path.join(PEERS_DIR, 'oidc-provider.mjs');
export const BROWSER_HOOK = path.join(PEERS_DIR, 'browser.sh');

/**
 * Starts `node <script> ...args` (a peer that prints `LISTENING <port>` and exits when its stdin
 * closes). Resolves to { port, origin, logPath, log(), stderr(), kill(), stop() }; a request log
 * is passed as --log unless args has one. Stopped after the test file (or after test `t`).
 * For peers that are not ours: `nodeArgs` go before the script (e.g. an --import preload),
 * `env` is added to this process's environment, `listening` is the readiness line (its group 1
 * is the port), and `logEnv` names the variable that gets the log path instead of --log.
 */
export async function startPeer(script, args = [], {
  t, name = path.basename(script), nodeArgs = [], env, listening = /^LISTENING (\d+)\n/m, logEnv,
} = {}) {
  args = [...args];
  let logPath;
  const li = args.indexOf('--log');
  if (li >= 0) logPath = args[li + 1];
  else {
    logPath = path.join(tmpdir('fracta-e2e-log-'), `${name}.jsonl`);
    if (logEnv) env = { ...env, [logEnv]: logPath };
    else args.push('--log', logPath);
  }
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not print ${listening} within ${START_TIMEOUT_MS} ms; stderr:\n${stderr}`));
    }, START_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const m = listening.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before listening (code ${code}, signal ${signal}); stderr:\n${stderr}`));
    });
  });
  let stopped = null;
  const handle = {
    port,
    origin: `http://127.0.0.1:${port}`,
    logPath,
    log() {
      if (!fs.existsSync(logPath)) return [];
      return fs.readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
    stderr: () => stderr,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    stop() {
      if (!stopped) {
        stopped = (async () => {
          liveServers.delete(handle);
          if (child.exitCode === null && child.signalCode === null) {
            child.stdin.end();
            child.kill('SIGTERM');
            const t2 = setTimeout(() => handle.kill(), 3000);
            await exited;
            clearTimeout(t2);
          }
        })();
      }
      return stopped;
    },
  };
  liveServers.add(handle);
  if (t) t.after(() => handle.stop());
  return handle;
}

/**
 * Starts the OAuth pair: the MCP resource server (mcp-server.mjs --auth jwt, `mcpArgs` added)
 * and oidc-provider for its URL (`asArgs` added, e.g. ['--access-ttl', '5']).
 * Resolves to { as, mcp, issuer, resource } (as: startPeer handle with .issuer; mcp: startServer
 * handle with .url = the resource).
 */
export async function startOAuthPair({ asArgs = [], mcpArgs = [], t } = {}) {
  const issuerFile = path.join(tmpdir('fracta-e2e-issuer-'), 'issuer');
  const mcp = await startServer(['--mode', 'stateless', '--auth', 'jwt', '--issuer-file', issuerFile, ...mcpArgs], { t });
  const as = await startPeer(OIDC_SCRIPT, ['--resource', mcp.url, ...asArgs], { t, name: 'oidc-provider' });
  as.issuer = as.origin;
  fs.writeFileSync(issuerFile, `${as.issuer}\n`);
  return { as, mcp, issuer: as.issuer, resource: mcp.url };
}

/** A config for one OAuth server `name` at `url`: `auth` is an object of TOML values (already
 *  formatted: strings via tomlStr, arrays like '["a", "b"]', inline tables). */
export function oauthConfig(name, url, auth = {}) {
  const lines = ['type = "oauth"'];
  for (const [k, v] of Object.entries(auth)) if (v !== undefined) lines.push(`${k} = ${v}`);
  return serverConfig(name, url, lines.join('\n'));
}

/** Environment for OAuth fracta runs: the file-store passphrase and the $BROWSER hook. */
export function oauthEnv(extra = {}) {
  return { FRACTA_TEST_PASSPHRASE: 'e2e passphrase, not a secret', BROWSER: BROWSER_HOOK, ...extra };
}

// ---------------------------------------------------------------------------------------------
// MCP 2026-07-28 peers: the TS SDK v2 server (peers/v2server.mjs) and the reference
// server-everything (legacy era only), kept on loopback by peers/loopback-preload.mjs.

export const V2_SERVER_SCRIPT = path.join(PEERS_DIR, 'v2server.mjs');
export const LOOPBACK_PRELOAD = path.join(PEERS_DIR, 'loopback-preload.mjs');
export const EVERYTHING_SCRIPT = path.resolve(here, '..', 'node_modules', '@modelcontextprotocol',
  'server-everything', 'dist', 'index.js');

/**
 * Starts peers/v2server.mjs: `legacy` 'reject' (modern only) or 'stateless' (dual era, the
 * default); `auth` 'bearer:TOKEN'; `log` a path (default: a temp file); `args` more flags
 * (e.g. ['--proxy-tools']). Resolves to the
 * startPeer handle with .url (http://127.0.0.1:<port>/mcp) and .log() (parsed JSON lines).
 */
export async function startV2Server({ legacy = 'stateless', auth, log, args: more = [], t } = {}) {
  const args = ['--legacy', legacy, ...more];
  if (auth) args.push('--auth', auth);
  if (log) args.push('--log', log);
  const peer = await startPeer(V2_SERVER_SCRIPT, args, { t, name: `v2server-${legacy}` });
  peer.url = `${peer.origin}/mcp`;
  return peer;
}

/**
 * Starts @modelcontextprotocol/server-everything in streamableHttp mode on 127.0.0.1 with an
 * ephemeral port (PORT=0 + the loopback preload). Resolves to the startPeer handle with .url,
 * .log() (the preload's per-request JSON lines: headers and status, no bodies) and
 * .logLines() (the same).
 */
export async function startEverything({ t } = {}) {
  const peer = await startPeer(EVERYTHING_SCRIPT, ['streamableHttp'], {
    t,
    name: 'server-everything',
    nodeArgs: ['--import', LOOPBACK_PRELOAD],
    env: { PORT: '0' },
    listening: /^LOOPBACK_LISTENING 127\.0\.0\.1:(\d+)\n/m,
    logEnv: 'LOOPBACK_LOG',
  });
  peer.url = `${peer.origin}/mcp`;
  peer.logLines = peer.log;
  return peer;
}

/** POSIX shell quoting of one word. */
export function shellQuote(s) {
  return `'${String(s).replaceAll("'", "'\\''")}'`;
}

/**
 * Runs `fracta ...args` on a pseudo-terminal (util-linux `script -qefc CMD /dev/null`), in the
 * same clean environment as fracta(). `dialogue` is a list of { expect: RegExp, send: string }:
 * each step waits until the terminal output after the previous match matches `expect` (within
 * `stepTimeoutMs`), then types `send`. Resolves to { code, signal, output, transcript, home }
 * (output: all terminal bytes, CRLF → LF; transcript: the steps matched). A step that does not
 * match in time kills the run and rejects with the output so far.
 */
export async function fractaPty(args, dialogue = [], { env = {}, home, timeoutMs = FRACTA_TIMEOUT_MS, stepTimeoutMs = 10_000 } = {}) {
  const bin = fractaBin();
  home ??= tmpdir('fracta-e2e-home-');
  const childEnv = cleanEnv(home, env);
  const cmd = [bin, ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-qefc', cmd, '/dev/null'], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let seen = 0; // output before this offset was matched by an earlier step
  const transcript = [];
  let step = 0;
  let stepTimer = null;
  let failed = null;
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const killTimer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const armStep = () => {
    clearTimeout(stepTimer);
    if (step >= dialogue.length) return;
    stepTimer = setTimeout(() => {
      failed = new Error(`pty: no ${dialogue[step].expect} within ${stepTimeoutMs} ms; output:\n${output}`);
      child.kill('SIGKILL');
    }, stepTimeoutMs);
  };
  const advance = () => {
    while (step < dialogue.length) {
      const m = dialogue[step].expect.exec(output.slice(seen));
      if (!m) return;
      seen += m.index + m[0].length;
      transcript.push({ expect: String(dialogue[step].expect), matched: m[0], sent: dialogue[step].send });
      child.stdin.write(dialogue[step].send);
      step += 1;
      armStep();
    }
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    output += d.replaceAll('\r\n', '\n');
    advance();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { output += d; });
  child.stdin.on('error', () => {});
  armStep();
  const { code, signal } = await exited;
  clearTimeout(killTimer);
  clearTimeout(stepTimer);
  if (failed) throw failed;
  if (step < dialogue.length) {
    throw new Error(`pty: fracta exited (code ${code}, signal ${signal}) before ${dialogue[step].expect}; output:\n${output}`);
  }
  return { code, signal, output, transcript, home };
}

/** The era probe (server/discover) a 2025 server refuses with a 4xx: how fracta learns its era. */
export const isEraProbe = (e) => (e.rpc_methods ?? []).includes('server/discover');
