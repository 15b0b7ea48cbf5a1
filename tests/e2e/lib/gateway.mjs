// SPDX-License-Identifier: Apache-2.0
// `fracta gateway` as the end-to-end tests start it: a child process on an ephemeral loopback
// port, ready once it printed where it listens and `ready: N server(s)`, stopped after the test.
import { spawn } from 'node:child_process';

import { cleanEnv, fractaBin, tmpdir } from './harness.mjs';

const START_MS = 20_000;

/**
 * Starts `fracta [--config <config>] gateway --listen <listen> [--threads N]` (no --config when
 * `config` is null: the one `env` or `home` names); resolves once it printed `ready: N
 * server(s)`, to { base, url, port, child, exited, stderr(), stdout(), signal(s), waitLine(re) }.
 * Stopped (SIGTERM, then SIGKILL) after the test.
 */
export async function startGateway(t, config, { listen = '127.0.0.1:0', env = {}, home, threads } = {}) {
  const args = [...(config ? ['--config', config] : []), 'gateway', '--listen', listen];
  if (threads) args.push('--threads', String(threads));
  const child = spawn(fractaBin(), args,
    { env: cleanEnv(home ?? tmpdir('fracta-e2e-home-'), env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  const waiters = new Set();
  child.stderr.setEncoding('utf8');
  child.stdout.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr += d;
    for (const w of waiters) w();
  });
  child.stdout.on('data', (d) => { stdout += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    resolve({ code, signal });
    for (const w of waiters) w();
  }));
  const gw = {
    child,
    exited,
    stderr: () => stderr,
    stdout: () => stdout,
    signal: (s) => child.kill(s),
    /** Resolves to the match of `re` in stderr, waiting at most `ms`. */
    waitLine(re, ms = START_MS) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(stderr);
          if (m) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`the gateway exited (${child.exitCode ?? child.signalCode}) before ${re}; stderr:\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${re} on the gateway's stderr within ${ms} ms; stderr:\n${stderr}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
  };
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const k = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(k);
    }
  });
  const m = await gw.waitLine(/listening on (http:\/\/127\.0\.0\.1:(\d+))\/mcp \(aggregated\)/);
  gw.base = m[1];
  gw.port = Number(m[2]);
  gw.url = `${gw.base}/mcp`;
  await gw.waitLine(/ready: \d+ server\(s\)/);
  return gw;
}
