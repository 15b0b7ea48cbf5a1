#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The benchmark's upstream: one MCP TS SDK v1 `Server` with an `echo` tool, behind a small
// stateless Streamable HTTP front (POST with JSON answers, static bearer check) on 127.0.0.1,
// kept cheap so that the proxies in front of it, not the upstream, set the pace.
//
// Why not tests/e2e/peers/mcp-server.mjs: its stateless mode builds an McpServer and an SDK
// transport for every request (about 1 ms of CPU each), which caps the calls/s any proxy can
// show below three times mcp-remote's; its stateful JSON mode leaks memory per request.
//
// Usage: node upstream.mjs --token TOKEN  (prints `LISTENING <port>`; exits when stdin closes)
import crypto from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const { values: opts } = parseArgs({ options: { token: { type: 'string' } } });
if (!opts.token) throw new Error('upstream.mjs: --token is required');
const expected = Buffer.from(`Bearer ${opts.token}`);

// An SDK transport for many HTTP exchanges at once: each incoming request gets an id of our own
// (hosts behind different proxies reuse the same ids), and its answer goes back to its exchange.
class ExchangeTransport {
  constructor() {
    this.next_ = 0;
    this.waiting_ = new Map(); // our id -> { id: theirs, exchange }
  }

  async start() {}

  async close() {
    this.onclose?.();
  }

  async send(message) {
    const w = this.waiting_.get(message.id);
    if (!w) return; // a server-to-client request or notification: there is no stream for it
    this.waiting_.delete(message.id);
    w.exchange.answer({ ...message, id: w.id });
  }

  deliver(message, exchange) {
    const ours = ++this.next_;
    this.waiting_.set(ours, { id: message.id, exchange });
    this.onmessage?.({ ...message, id: ours });
  }
}

const transport = new ExchangeTransport();
const server = new Server({ name: 'fracta-bench-upstream', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [{
    name: 'echo',
    description: 'Echoes the text back, prefixed with "echo: "',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  }],
}));
server.setRequestHandler(CallToolRequestSchema, async (req) => {
  if (req.params.name !== 'echo') return { content: [{ type: 'text', text: `unknown tool ${req.params.name}` }], isError: true };
  return { content: [{ type: 'text', text: `echo: ${String(req.params.arguments?.text ?? '')}` }] };
});
await server.connect(transport);

function reply(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...(text ? { 'content-type': 'application/json' } : {}), 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const rpcError = (code, message) => ({ jsonrpc: '2.0', id: null, error: { code, message } });

function authorised(req) {
  const got = Buffer.from(req.headers.authorization ?? '');
  return got.length === expected.length && crypto.timingSafeEqual(got, expected);
}

function onPost(req, res, body) {
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch {
    return reply(res, 400, rpcError(-32700, 'Parse error'));
  }
  const batch = Array.isArray(parsed);
  const messages = batch ? parsed : [parsed];
  const requests = messages.filter((m) => m && typeof m === 'object' && m.method !== undefined && m.id !== undefined);
  const answers = [];
  const exchange = {
    answer(message) {
      answers.push(message);
      if (answers.length === requests.length) reply(res, 200, batch ? answers : answers[0]);
    },
  };
  for (const m of messages) {
    if (m && typeof m === 'object' && m.method !== undefined && m.id !== undefined) transport.deliver(m, exchange);
    else transport.onmessage?.(m); // notifications (and stray responses) need no answer
  }
  if (requests.length === 0) reply(res, 202);
}

const httpServer = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (new URL(req.url, 'http://127.0.0.1').pathname !== '/mcp') return reply(res, 404, rpcError(-32000, 'Not found'));
    if (!authorised(req)) {
      return reply(res, 401, { error: 'invalid_token', error_description: 'the bearer token is missing or invalid' },
        { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    if (req.method !== 'POST') return reply(res, 405, rpcError(-32000, 'Method not allowed'), { allow: 'POST' });
    onPost(req, res, Buffer.concat(chunks).toString('utf8'));
  });
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
httpServer.listen(0, '127.0.0.1', () => process.stdout.write(`LISTENING ${httpServer.address().port}\n`));
