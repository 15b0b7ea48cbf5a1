// SPDX-License-Identifier: Apache-2.0
// The upstreams `fracta proxy` is tested against, with what each offers (tools, the tool that
// reports progress, asks the user, is slow, changes the tool list) and what its answers say:
// shared by the SDK v1 host and SDK v2 host test files.
import assert from 'node:assert/strict';

import { serverConfig, startEverything, startServer, startV2Server, tmpdir, writeConfig } from './harness.mjs';

export const MODERN = '2026-07-28';

/** The host's elicitation answer: its required fields only, "Grace" for strings, true for booleans. */
export function answerForm(params) {
  const content = {};
  const schema = params?.requestedSchema ?? {};
  for (const k of schema.required ?? []) {
    const s = schema.properties?.[k] ?? {};
    if (s.type === 'string') content[k] = 'Grace';
    if (s.type === 'boolean') content[k] = true;
  }
  return { action: 'accept', content };
}

const v2 = (legacy, title) => ({
  title,
  era: 'modern',
  start: () => startV2Server({ legacy, args: ['--proxy-tools'] }),
  serverName: 'fracta-e2e-v2server',
  tools: ['add', 'chatty', 'confirm', 'echo', 'grow', 'headers', 'progress', 'slow'],
  echo: { name: 'echo', args: { text: 'hi' }, text: 'echo: hi' },
  progress: { name: 'progress', args: { steps: 3, ms: 100 }, steps: 3, text: 'progressed 3' },
  elicit: { name: 'confirm', text: 'confirmed: name=Grace ok=true' },
  slow: { name: 'slow', cancelledEvent: 'aborted' },
  grow: { name: 'grow', added: 'grown' },
});

/** The upstreams: two TS SDK v2 servers (modern only, dual era), server-everything (2025), and
 *  our SDK v1 server (2025: cancellation and list changes, which server-everything cannot show). */
export const UPSTREAMS = [
  v2('reject', 'v2server --legacy reject (2026-07-28 only)'),
  v2('stateless', 'v2server --legacy stateless (dual era)'),
  {
    title: 'server-everything (2025 only)',
    era: 'legacy',
    start: () => startEverything(),
    serverName: 'mcp-servers/everything',
    tools: ['echo', 'get-sum', 'trigger-long-running-operation', 'trigger-elicitation-request'],
    echo: { name: 'echo', args: { message: 'hi' }, text: 'Echo: hi' },
    progress: {
      name: 'trigger-long-running-operation',
      args: { duration: 0.3, steps: 3 },
      steps: 3,
      text: 'Long running operation completed. Duration: 0.3 seconds, Steps: 3.',
    },
    elicit: { name: 'trigger-elicitation-request', text: '- Name: Grace' },
  },
  {
    title: 'mcp-server, SDK v1 (2025 only)',
    era: 'legacy',
    start: () => startServer(['--mode', 'stateful', '--proxy-tools']),
    serverName: 'fracta-e2e-peer',
    tools: ['add', 'ask', 'echo', 'grow', 'slow'],
    echo: { name: 'echo', args: { text: 'hi' }, text: 'echo: hi' },
    elicit: { name: 'ask', text: 'asked: accept Grace' },
    slow: { name: 'slow', cancelledEvent: 'cancelled' },
    grow: { name: 'grow', added: 'grown' },
  },
];

/** Starts the upstream and writes a config naming it `up`. */
export async function startUpstream(u) {
  const srv = await u.start();
  const cfg = writeConfig(tmpdir(), serverConfig('up', srv.url));
  return { srv, cfg };
}

/** The text of a tools/call result's content. */
export function resultText(r) {
  return (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

/** A promise and its resolve, rejected after `ms` with `what` (an event to wait for). */
export function eventually(what, ms = 10_000) {
  let resolve;
  let timer;
  const promise = new Promise((res, rej) => {
    resolve = (v) => {
      clearTimeout(timer);
      res(v);
    };
    timer = setTimeout(() => rej(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return { promise, resolve };
}

/** The log's event lines named `event`. */
export const events = (srv, event) => srv.log().filter((e) => e.event === event);

/** Progress seen by an SDK host: at least one, strictly increasing, within 1..steps of `steps`. */
export function assertProgress(got, steps) {
  assert.ok(got.length >= 1, 'no progress reached onprogress');
  for (let i = 0; i < got.length; i += 1) {
    assert.equal(got[i].total, steps, JSON.stringify(got));
    assert.ok(got[i].progress >= 1 && got[i].progress <= steps, JSON.stringify(got));
    if (i > 0) assert.ok(got[i].progress > got[i - 1].progress, JSON.stringify(got));
  }
}
