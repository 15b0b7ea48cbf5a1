// SPDX-License-Identifier: Apache-2.0
// `fracta proxy` driven as a desktop host drives it: the command line for an SDK's stdio client
// transport, and a raw stdio host (write JSON lines, wait for lines with deadlines) for the
// exact checks an SDK hides.
import { spawn } from 'node:child_process';
import { after } from 'node:test';

import { cleanEnv, fractaBin, tmpdir } from './harness.mjs';

const WAIT_MS = 10_000;

const live = new Set();
after(() => {
  for (const p of live) p.kill();
});

/** { command, args, env } that run `fracta --config <cfg> proxy <server>` in fracta's clean
 *  environment: what a host's config holds, for StdioClientTransport. */
export function proxyCommand(cfg, server, { home = tmpdir('fracta-e2e-home-'), env = {}, args = [] } = {}) {
  return { command: fractaBin(), args: ['--config', cfg, 'proxy', server, ...args], env: cleanEnv(home, env) };
}

/**
 * Spawns the proxy as a raw stdio host. Resolves to a handle:
 *   send(obj) / sendLine(text)  write one line to its stdin; write(raw) writes bytes as given
 *   next(pred, what, ms)        the first message not yet taken that matches pred (waits up to ms)
 *   response(id, ms)            next(m => m.id === id && !m.method)
 *   messages                    every message read from stdout, in order
 *   badLines                    stdout lines that were not JSON-RPC objects
 *   stderr()                    its stderr so far
 *   end(ms)                     closes stdin, resolves to { code, signal, ms } (SIGKILL after ms)
 */
export function startRawProxy(cfg, server, opts = {}) {
  const { command, args, env } = proxyCommand(cfg, server, opts);
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const handle = {
    messages: [],
    badLines: [],
    taken: new Set(),
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  live.add(handle);
  let stderr = '';
  let out = '';
  let waiters = [];
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    live.delete(handle);
    resolve({ code, signal });
  }));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    out += d;
    let nl;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      let m;
      try {
        m = JSON.parse(line);
      } catch {
        handle.badLines.push(line);
        continue;
      }
      if (m === null || typeof m !== 'object' || Array.isArray(m) || m.jsonrpc !== '2.0') handle.badLines.push(line);
      else handle.messages.push(m);
    }
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  child.stdin.on('error', () => {});
  const transcript = () => `stdout:\n${handle.messages.map((m) => JSON.stringify(m)).join('\n')}\nstderr:\n${stderr}`;
  handle.stderr = () => stderr;
  handle.transcript = transcript;
  handle.write = (raw) => child.stdin.write(raw);
  handle.sendLine = (text) => child.stdin.write(`${text}\n`);
  handle.send = (obj) => handle.sendLine(JSON.stringify(obj));
  handle.next = (pred, what = 'a matching message', ms = WAIT_MS) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiters = waiters.filter((f) => f !== look);
      reject(new Error(`no ${what} from the proxy within ${ms} ms\n${transcript()}`));
    }, ms);
    function look() {
      for (let i = 0; i < handle.messages.length; i += 1) {
        if (!handle.taken.has(i) && pred(handle.messages[i])) {
          handle.taken.add(i);
          clearTimeout(timer);
          resolve(handle.messages[i]);
          return;
        }
      }
      waiters.push(look);
    }
    look();
  });
  handle.response = (id, ms) => handle.next((m) => m.id === id && m.method === undefined, `the answer to id ${JSON.stringify(id)}`, ms);
  handle.request = async (id, method, params, ms) => {
    handle.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    return handle.response(id, ms);
  };
  handle.end = async (ms = WAIT_MS) => {
    const started = Date.now();
    child.stdin.end();
    const timer = setTimeout(() => handle.kill(), ms);
    const r = await exited;
    clearTimeout(timer);
    return { ...r, ms: Date.now() - started };
  };
  return handle;
}

/** _meta for a 2026-07-28 request from a raw host. */
export function modernMeta(capabilities = {}, extra = {}) {
  return {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': capabilities,
    'io.modelcontextprotocol/clientInfo': { name: 'raw-host', version: '1.0.0' },
    ...extra,
  };
}

/** Resolves when `cond()` holds (polled every 20 ms), rejects after `ms` with `what`. */
export async function waitFor(cond, what, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
