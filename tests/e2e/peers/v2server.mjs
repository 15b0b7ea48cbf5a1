#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// An MCP 2026-07-28 ("modern") server for fracta's end-to-end tests, built on the TS SDK v2
// (@modelcontextprotocol/server 2.4.0, createMcpHandler) behind a small node:http adapter on
// 127.0.0.1 (port 0), with loopback Host/Origin checks, optional bearer auth and a request log.
//
// Prints exactly one line `LISTENING <port>` on stdout when ready; everything else goes to stderr.
// Exits on SIGTERM/SIGINT and when stdin closes (so it never outlives the test that spawned it).
//
// Usage: node v2server.mjs [--legacy reject|stateless] [--auth bearer:TOKEN] [--log PATH]
//          [--path /mcp] [--proxy-tools] [--page-size N] [--ignore-stdin]
//
//   --legacy stateless  (default) dual era: 2026-07-28 requests, and 2025 clients served
//                       statelessly per request (no Mcp-Session-Id, GET/DELETE → 405).
//   --legacy reject     modern only: an `initialize` gets 400 -32022 (supported: 2026-07-28).
//   --auth bearer:TOKEN every POST needs `Authorization: Bearer TOKEN`, else 401
//                       `WWW-Authenticate: Bearer error="invalid_token"`.
//   --log PATH          one JSON line per HTTP request, written when the response is ready:
//                       http_method, path, status, rpc_method, rpc_id, protocol_version (the
//                       MCP-Protocol-Version header), mcp_method, mcp_name (headers),
//                       mcp_param_region, meta_present, meta_protocol_version (the body's
//                       _meta io.modelcontextprotocol/protocolVersion), input_responses (keys),
//                       auth_present, meta_log_level (_meta io.modelcontextprotocol/logLevel).
//                       Never an Authorization value. With --proxy-tools also event lines:
//                       {event: "aborted", tool: "slow", rpc_id} when a slow call was cancelled
//                       (its HTTP exchange closed before the answer), {event: "started", tool:
//                       "slow", rpc_id} when one began, {event: "grown"}.
//   --page-size N       tools/list answers in pages of N tools: cursor "offset:K", nextCursor
//                       on every page but the last (a cursor it did not hand out: -32602).
//   --proxy-tools       adds the tools the proxy's tests drive: progress {steps, ms?} (one
//                       notifications/progress per step to the request's progressToken, ms apart,
//                       then "progressed <steps>"); slow {ms} (answers "slow done <ms>" after ms, or logs
//                       its cancellation); grow (adds the tool `grown` to every later list, then
//                       publishes tools/list_changed to the open subscriptions/listen streams:
//                       "grown"); chatty (a notifications/message at level info, sent only when
//                       the request asked for logging, then "chatted"); bad_header (its
//                       x-mcp-header "Bad Header" is not an HTTP token: a client drops it); touch
//                       (changes the resource note://one, whose subscribers hear
//                       notifications/resources/updated: "touched <version>"); the
//                       unlisted pushy (input_required for sampling/createMessage, whatever the
//                       client declared — a server breaking the MRTR rule; the retry → "pushy done").
// Tools: echo {text} → "echo: <text>"; add {a,b: integer} → "<a+b>"; headers {region, with
// x-mcp-header Region} → "region header: <Mcp-Param-Region received>"; confirm → MRTR: first
// input_required with an elicitation/create form (name: string, default "Ada"; ok: boolean),
// then, on the retry with inputResponses.confirm, "confirmed: name=<name> ok=<ok>" (or
// "confirm: <action>" when declined or cancelled).
import http from 'node:http';
import fs from 'node:fs';
import { parseArgs } from 'node:util';

import {
  McpServer, acceptedContent, createMcpHandler, fromJsonSchema, hostHeaderValidationResponse,
  inputRequired, inputResponse, localhostAllowedHostnames, localhostAllowedOrigins,
  originValidationResponse,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

import { exitWithParent } from './lifecycle.mjs';

const USAGE = 'usage: v2server.mjs [--legacy reject|stateless] [--auth bearer:TOKEN] [--log PATH] [--path /mcp] [--proxy-tools] [--page-size N] [--ignore-stdin]';
const META_VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';

function die(msg) {
  process.stderr.write(`v2server: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

let opts;
try {
  opts = parseArgs({
    options: {
      legacy: { type: 'string', default: 'stateless' },
      auth: { type: 'string' },
      log: { type: 'string' },
      path: { type: 'string', default: '/mcp' },
      'ignore-stdin': { type: 'boolean', default: false },
      'proxy-tools': { type: 'boolean', default: false },
      'page-size': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (e) {
  die(e.message);
}
if (opts.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const pageSize = opts['page-size'] === undefined ? 0 : Number(opts['page-size']);
if (!Number.isInteger(pageSize) || pageSize < 0) die('--page-size must be a whole number');
if (!['reject', 'stateless'].includes(opts.legacy)) die(`--legacy must be reject or stateless, not ${opts.legacy}`);
let bearer = null;
if (opts.auth !== undefined) {
  const m = /^bearer:(.+)$/.exec(opts.auth);
  if (!m) die('--auth must be bearer:TOKEN');
  bearer = m[1];
}

// ---------------------------------------------------------------------------------------------
// The MCP server: one fresh McpServer per HTTP request (the factory sees that request).

const CONFIRM_SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', title: 'Your name', description: 'Who confirms', default: 'Ada' },
    ok: { type: 'boolean', title: 'Proceed', default: false },
  },
  required: ['name', 'ok'],
};

const HEADERS_INPUT = fromJsonSchema({
  type: 'object',
  properties: {
    region: { type: 'string', description: 'Region, mirrored into Mcp-Param-Region', 'x-mcp-header': 'Region' },
  },
  required: ['region'],
});

function text(s) {
  return { content: [{ type: 'text', text: s }] };
}

function makeServer(ctx) {
  const req = ctx.requestInfo;
  const server = new McpServer({ name: 'fracta-e2e-v2server', version: '1.0.0' },
    opts['proxy-tools'] ? { capabilities: { logging: {}, resources: { subscribe: true, listChanged: true } } } : undefined);
  server.registerTool('echo', {
    description: 'Returns its text argument',
    inputSchema: { text: z.string() },
  }, async ({ text: t }) => text(`echo: ${t}`));
  server.registerTool('add', {
    description: 'Adds two integers',
    inputSchema: { a: z.number().int(), b: z.number().int() },
  }, async ({ a, b }) => text(String(a + b)));
  server.registerTool('headers', {
    description: 'Returns the Mcp-Param-Region header it received',
    inputSchema: HEADERS_INPUT,
  }, async () => text(`region header: ${req?.headers.get('mcp-param-region') ?? '<none>'}`));
  server.registerTool('confirm', {
    description: 'Asks the user (elicitation, multi round-trip) and reports the answers',
    inputSchema: {},
  }, async (_args, c) => {
    const responses = c.mcpReq.inputResponses;
    const view = inputResponse(responses, 'confirm');
    if (view.kind === 'elicit' && view.action !== 'accept') return text(`confirm: ${view.action}`);
    const got = acceptedContent(responses, 'confirm');
    if (got) return text(`confirmed: name=${got.name} ok=${got.ok}`);
    return inputRequired({
      inputRequests: {
        confirm: inputRequired.elicit({ message: 'Confirm the \u001b[31mdeployment\u001b[0m', requestedSchema: CONFIRM_SCHEMA }),
      },
    });
  });
  if (opts['proxy-tools']) addProxyTools(server);
  return server;
}

// The tools for the proxy's tests (--proxy-tools). `grown` is process state: the factory makes
// a server per request, and every later one lists the new tool.
let grown = false;
const NOTE_URI = 'note://one';
let noteVersion = 1;

function logEvent(entry) {
  if (opts.log) fs.appendFileSync(opts.log, `${JSON.stringify({ ...entry, time: new Date().toISOString() })}\n`);
}

function addProxyTools(server) {
  server.registerTool('progress', {
    description: 'Reports one progress notification per step, then answers',
    inputSchema: { steps: z.number().int().min(1).max(20), ms: z.number().int().min(0).max(1000).optional() },
  }, async ({ steps, ms = 0 }, c) => {
    const token = c.mcpReq._meta?.progressToken;
    for (let i = 1; i <= steps; i += 1) {
      if (token !== undefined) {
        await c.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
      }
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    }
    return text(`progressed ${steps}`);
  });
  server.registerTool('slow', {
    description: 'Answers after ms milliseconds, unless the call is cancelled first (logged)',
    inputSchema: { ms: z.number().int().min(0) },
  }, async ({ ms }, c) => new Promise((resolve) => {
    const signal = c.mcpReq.signal;
    logEvent({ event: 'started', tool: 'slow', rpc_id: c.mcpReq.id });
    const onAbort = () => {
      clearTimeout(timer);
      logEvent({ event: 'aborted', tool: 'slow', rpc_id: c.mcpReq.id });
      resolve(text('slow aborted'));
    };
    // Once answered, a later teardown of the exchange is no cancellation.
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(text(`slow done ${ms}`));
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  }));
  server.registerTool('grow', {
    description: 'Adds the tool `grown` and says so on the subscription streams',
    inputSchema: {},
  }, async () => {
    grown = true;
    logEvent({ event: 'grown' });
    handler.notify.toolsChanged();
    return text('grown');
  });
  if (grown) {
    server.registerTool('grown', { description: 'Exists once grow was called', inputSchema: {} },
      async () => text('i am new'));
  }
  server.registerResource('note', NOTE_URI, { description: 'A note that `touch` changes', mimeType: 'text/plain' },
    async () => ({ contents: [{ uri: NOTE_URI, mimeType: 'text/plain', text: `note, version ${noteVersion}` }] }));
  server.registerTool('touch', {
    description: 'Changes the note resource and says so to the streams subscribed to it',
    inputSchema: {},
  }, async () => {
    noteVersion += 1;
    handler.notify.resourceUpdated(NOTE_URI);
    return text(`touched ${noteVersion}`);
  });
  server.registerTool('bad_header', {
    description: 'Declares an invalid x-mcp-header (not an HTTP token): clients must not list it',
    inputSchema: fromJsonSchema({
      type: 'object',
      properties: { where: { type: 'string', 'x-mcp-header': 'Bad Header' } },
    }),
  }, async () => text('bad header called'));
  server.registerTool('chatty', {
    description: 'Logs one message at level info (when the request asked for logging)',
    inputSchema: {},
  }, async (_args, c) => {
    await c.mcpReq.log('info', 'chatty says hello');
    return text('chatted');
  });
}

const handler = createMcpHandler(makeServer, {
  legacy: opts.legacy,
  onerror: (e) => process.stderr.write(`v2server: ${e.message}\n`),
});

// ---------------------------------------------------------------------------------------------
// node:http ↔ web Request/Response, with the checks and the log in front.

const allowedHosts = localhostAllowedHostnames();
const allowedOrigins = localhostAllowedOrigins();

function summarise(bodyText) {
  let msg = null;
  try {
    msg = JSON.parse(bodyText);
  } catch {
    return {
      rpc_method: null, rpc_id: null, meta_present: false, meta_protocol_version: null, meta_log_level: null,
      input_responses: null,
    };
  }
  const first = Array.isArray(msg) ? msg[0] : msg;
  const meta = first?.params?._meta;
  const ir = first?.params?.inputResponses;
  return {
    rpc_method: first?.method ?? null,
    rpc_id: first?.id ?? null,
    meta_present: meta !== undefined,
    meta_protocol_version: meta?.[META_VERSION_KEY] ?? null,
    meta_log_level: meta?.['io.modelcontextprotocol/logLevel'] ?? null,
    input_responses: ir && typeof ir === 'object' ? Object.keys(ir) : null,
  };
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

function plain(status, body, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

async function serve(req, body, url, signal) {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else if (v !== undefined) headers.set(k, v);
  }
  const request = new Request(url, {
    method: req.method,
    headers,
    body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
    signal,
  });
  const refused = hostHeaderValidationResponse(request, allowedHosts) ?? originValidationResponse(request, allowedOrigins);
  if (refused) return refused;
  if (url.pathname !== opts.path) return plain(404, { error: 'not found' });
  if (bearer !== null && req.headers.authorization !== `Bearer ${bearer}`) {
    return plain(401, { error: 'invalid_token', error_description: 'missing or wrong bearer token' },
      { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="missing or wrong bearer token"' });
  }
  if (opts['proxy-tools']) {
    const pushy = pushyAnswer(body);
    if (pushy) return pushy;
  }
  if (pageSize > 0) {
    const page = await pagedList(body, request);
    if (page) return page;
  }
  return handler.fetch(request);
}

// --page-size: the SDK lists every tool; this hands them out a page at a time.
async function pagedList(body, request) {
  let msg;
  try {
    msg = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (msg?.method !== 'tools/list') return null;
  const cursor = msg.params?.cursor;
  const offset = cursor === undefined ? 0 : Number(/^offset:(\d+)$/.exec(cursor)?.[1] ?? NaN);
  if (!Number.isInteger(offset)) {
    return plain(200, { jsonrpc: '2.0', id: msg.id, error: { code: -32602, message: `unknown cursor ${cursor}` } });
  }
  const whole = { ...msg, params: { ...msg.params } };
  delete whole.params.cursor;
  const response = await handler.fetch(new Request(request.url, { method: 'POST', headers: request.headers, body: JSON.stringify(whole) }));
  const textBody = await response.text();
  const sse = (response.headers.get('content-type') ?? '').includes('text/event-stream');
  const answer = JSON.parse(sse ? textBody.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).pop() : textBody);
  if (!answer.result) return plain(200, answer);
  const tools = answer.result.tools ?? [];
  answer.result.tools = tools.slice(offset, offset + pageSize);
  delete answer.result.nextCursor;
  if (offset + pageSize < tools.length) answer.result.nextCursor = `offset:${offset + pageSize}`;
  return plain(200, answer);
}

// The unlisted tool `pushy` (--proxy-tools), answered here rather than by the SDK (which would
// refuse): a server that breaks the MRTR rule and asks for sampling whatever the client
// declared; the retry with inputResponses completes it ("pushy done").
function pushyAnswer(body) {
  let msg;
  try {
    msg = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (msg?.method !== 'tools/call' || msg.params?.name !== 'pushy') return null;
  const done = msg.params.inputResponses !== undefined;
  const result = done ? { content: [{ type: 'text', text: 'pushy done' }], resultType: 'complete' } : {
    resultType: 'input_required',
    inputRequests: {
      s: { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 } },
    },
    requestState: 'pushy-state',
  };
  return plain(200, { jsonrpc: '2.0', id: msg.id, result });
}

const httpServer = http.createServer(async (req, res) => {
  try {
    const body = await readBody(req);
    const url = new URL(req.url, `http://${req.headers.host ?? '127.0.0.1'}`);
    // The client closing the exchange before the answer is its cancellation (2026-07-28 HTTP):
    // the SDK hears it through the request's signal.
    const aborter = new AbortController();
    res.on('close', () => { if (!res.writableFinished) aborter.abort(); });
    const response = await serve(req, body, url, aborter.signal);
    if (opts.log) {
      // Synchronous, before the response goes out: a client that has its answer finds the line.
      fs.appendFileSync(opts.log, `${JSON.stringify({
        http_method: req.method,
        path: url.pathname,
        status: response.status,
        protocol_version: req.headers['mcp-protocol-version'] ?? null,
        mcp_method: req.headers['mcp-method'] ?? null,
        mcp_name: req.headers['mcp-name'] ?? null,
        mcp_param_region: req.headers['mcp-param-region'] ?? null,
        mcp_session_id: req.headers['mcp-session-id'] ?? null,
        auth_present: req.headers.authorization !== undefined,
        ...summarise(body.toString('utf8')),
        time: new Date().toISOString(),
      })}\n`);
    }
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) {
      for await (const chunk of response.body) res.write(chunk);
    }
    res.end();
  } catch (e) {
    process.stderr.write(`v2server: request failed: ${e.stack ?? e}\n`);
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end('{"error":"internal"}');
  }
});

exitWithParent(httpServer, { onClose: () => handler.close?.(), watchStdin: !opts['ignore-stdin'] });

httpServer.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});
