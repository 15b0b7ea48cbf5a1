#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// A dual-era MCP server with the tools, resources and prompts the conformance suite's server
// scenarios call (@modelcontextprotocol/conformance 0.2.0-alpha.12), built on the TS SDK v2:
// 2026-07-28 requests go to createMcpHandler (stateless, server/discover, MRTR: the sampling and
// elicitation tools ask through input_required), 2025 traffic to a sessionful streamable HTTP
// transport per Mcp-Session-Id (server→client requests on the call's stream, a GET stream, DELETE).
//
// The upstream for tests/e2e/conformance/run-server-conformance.mjs. Binds 127.0.0.1 (port 0,
// or --port), checks Host/Origin (loopback only), prints `LISTENING <port>` on stdout when
// ready. Exits on SIGTERM/SIGINT and when stdin closes.
//
// Usage: node conformance-server.mjs [--port N] [--ignore-stdin]
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

import {
  McpServer, ResourceTemplate, WebStandardStreamableHTTPServerTransport, acceptedContent, completable,
  createMcpHandler, createRequestStateCodec, hostHeaderValidationResponse, inputRequired, inputResponse, isLegacyRequest,
  localhostAllowedHostnames, localhostAllowedOrigins, originValidationResponse,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

import { exitWithParent } from './lifecycle.mjs';

const opts = parseArgs({
  options: { port: { type: 'string', default: '0' }, 'ignore-stdin': { type: 'boolean', default: false } },
}).values;

// A 1×1 PNG and a short silent WAV, base64.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=';

const text = (s) => ({ content: [{ type: 'text', text: s }] });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Subscriptions are process state: the modern leg makes a server per request.
const subscribed = new Set();

// One question put to the client in the era of the request: a 2025 session gets a request of
// the server's own (`ask`); a 2026-07-28 request gets input_required (`question`), and the
// retry carries the answer under `key`. { answer } once answered, else { pending: the result }.
async function askOnce(c, legacy, key, ask, question) {
  if (legacy) return { answer: await ask() };
  const answer = c.mcpReq.inputResponses?.[key];
  if (answer !== undefined) return { answer };
  return { pending: inputRequired({ inputRequests: { [key]: question() }, requestState: await codec.mint({ key }, c) }) };
}

function addTools(server, legacy) {
  server.registerTool('test_simple_text', { description: 'Answers one text block', inputSchema: {} },
    async () => text('This is a simple text response for testing.'));
  server.registerTool('test_image_content', { description: 'Answers one PNG image', inputSchema: {} },
    async () => ({ content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] }));
  server.registerTool('test_audio_content', { description: 'Answers one WAV clip', inputSchema: {} },
    async () => ({ content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] }));
  server.registerTool('test_embedded_resource', { description: 'Answers an embedded text resource', inputSchema: {} },
    async () => ({
      content: [{
        type: 'resource',
        resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' },
      }],
    }));
  server.registerTool('test_multiple_content_types', { description: 'Answers text, an image and a resource', inputSchema: {} },
    async () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: PNG, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data","value":123}' },
        },
      ],
    }));
  server.registerTool('test_tool_with_logging', { description: 'Logs three messages while it runs', inputSchema: {} },
    async (_args, c) => {
      for (const step of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) {
        await c.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', data: step } });
        await sleep(20);
      }
      return text('Tool with logging executed successfully');
    });
  server.registerTool('test_tool_with_progress', { description: 'Reports progress 0, 50, 100 of 100', inputSchema: {} },
    async (_args, c) => {
      const token = c.mcpReq._meta?.progressToken ?? 0;
      for (const progress of [0, 50, 100]) {
        await c.mcpReq.notify({
          method: 'notifications/progress',
          params: { progressToken: token, progress, total: 100, message: `step ${progress} of 100` },
        });
        await sleep(20);
      }
      return text(String(token));
    });
  server.registerTool('test_error_handling', { description: 'Always fails', inputSchema: {} }, async () => {
    throw new Error('This tool intentionally returns an error for testing');
  });
  server.registerTool('test_sampling', {
    description: 'Asks the client for a completion (sampling/createMessage)',
    inputSchema: { prompt: z.string() },
  }, async ({ prompt }, c) => {
    const request = { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 };
    const got = await askOnce(c, legacy, 'sampling', () => c.mcpReq.requestSampling(request),
      () => inputRequired.createMessage(request));
    if (got.pending) return got.pending;
    return text(`LLM response: ${got.answer.content?.text ?? 'No response'}`);
  });
  const elicitTool = (name, description, message, requestedSchema, label) => {
    server.registerTool(name, { description, inputSchema: name === 'test_elicitation' ? { message: z.string() } : {} },
      async (args, c) => {
        const request = { message: args.message ?? message, requestedSchema };
        const got = await askOnce(c, legacy, 'elicitation', () => c.mcpReq.elicitInput(request),
          () => inputRequired.elicit(request));
        if (got.pending) return got.pending;
        return text(`${label}: action=${got.answer.action}, content=${JSON.stringify(got.answer.content ?? {})}`);
      });
  };
  elicitTool('test_elicitation', 'Asks the user one question (elicitation/create)', '', {
    type: 'object', properties: { response: { type: 'string', description: 'Your answer' } }, required: ['response'],
  }, 'User response');
  elicitTool('test_elicitation_sep1034_defaults', 'Asks with a default for every primitive type',
    'Please review the defaults', {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Name', default: 'John Doe' },
        age: { type: 'integer', description: 'Age', default: 30 },
        score: { type: 'number', description: 'Score', default: 95.5 },
        status: { type: 'string', description: 'Status', enum: ['active', 'inactive', 'pending'], default: 'active' },
        verified: { type: 'boolean', description: 'Verified', default: true },
      },
      required: [],
    }, 'Elicitation completed');
  elicitTool('test_elicitation_sep1330_enums', 'Asks with each enum form of SEP-1330', 'Pick options', {
    type: 'object',
    properties: {
      untitledSingle: { type: 'string', description: 'One of three', enum: ['option1', 'option2', 'option3'] },
      titledSingle: {
        type: 'string', description: 'One of three, titled',
        oneOf: [{ const: 'value1', title: 'First' }, { const: 'value2', title: 'Second' }, { const: 'value3', title: 'Third' }],
      },
      legacyEnum: { type: 'string', description: 'Legacy titles', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['One', 'Two', 'Three'] },
      untitledMulti: {
        type: 'array', description: 'Several', minItems: 1, maxItems: 3,
        items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
      },
      titledMulti: {
        type: 'array', description: 'Several, titled', minItems: 1, maxItems: 3,
        items: { anyOf: [{ const: 'value1', title: 'First' }, { const: 'value2', title: 'Second' }, { const: 'value3', title: 'Third' }] },
      },
    },
    required: [],
  }, 'Elicitation completed');
}

// The 2026-07-28 tools: multi round-trip (input-required-result-*; request state is signed by
// `codec`, so a tampered one is refused) and server-stateless's diagnostics.
const codec = createRequestStateCodec({ key: randomUUID() });

function addModernTools(server) {
  const clientCaps = () => server.server.getClientCapabilities() ?? {};
  const answered = (responses) => Object.keys(responses ?? {}).sort().join(',');
  const form = (message, field) => inputRequired.elicit({
    message, requestedSchema: { type: 'object', properties: { [field]: { type: 'string' } }, required: [field] },
  });
  const sample = (question) => inputRequired.createMessage({
    messages: [{ role: 'user', content: { type: 'text', text: question } }], maxTokens: 50,
  });
  const confirm = () => inputRequired.elicit({
    message: 'Please confirm', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
  });
  const tool = (name, description, handler) => server.registerTool(name, { description, inputSchema: {} }, handler);
  const ask = async (c, kind, inputRequests, extra = {}) =>
    inputRequired({ inputRequests, requestState: await codec.mint({ kind, ...extra }, c) });
  // One question per kind; complete once every key is answered.
  const simple = (name, description, requests) => tool(name, description, async (_args, c) => {
    const responses = c.mcpReq.inputResponses;
    const missing = Object.keys(requests).filter((k) => inputResponse(responses, k).kind === 'missing');
    if (missing.length === 0) return text(`completed: ${answered(responses)}`);
    return ask(c, name, Object.fromEntries(missing.map((k) => [k, requests[k]()])));
  });
  simple('test_input_required_result_elicitation', 'Asks for a name (elicitation)',
    { user_name: () => form('What is your name?', 'name') });
  simple('test_input_required_result_sampling', 'Asks for a completion (sampling)',
    { capital: () => sample('What is the capital of France?') });
  simple('test_input_required_result_list_roots', 'Asks for the roots', { roots: () => inputRequired.listRoots() });
  simple('test_input_required_result_multiple_inputs', 'Asks for a name, a completion and the roots at once', {
    user_name: () => form('What is your name?', 'name'),
    capital: () => sample('What is the capital of France?'),
    roots: () => inputRequired.listRoots(),
  });
  const confirmed = (name, description, done) => tool(name, description, async (_args, c) => {
    const state = c.mcpReq.requestState();
    if (state?.kind === name && inputResponse(c.mcpReq.inputResponses, 'confirm').kind !== 'missing') return text(done);
    return ask(c, name, { confirm: confirm() });
  });
  confirmed('test_input_required_result_request_state', 'Asks once and checks its request state comes back',
    'state-ok: requestState validated');
  confirmed('test_input_required_result_tampered_state', 'Refuses a request state it did not sign',
    'integrity-ok: state verified');
  tool('test_input_required_result_multi_round', 'Asks a name, then a colour, then answers', async (_args, c) => {
    const state = c.mcpReq.requestState();
    const responses = c.mcpReq.inputResponses;
    if (state?.round === 1 && inputResponse(responses, 'step1').kind === 'elicit') {
      const name = acceptedContent(responses, 'step1')?.name ?? 'friend';
      return ask(c, 'multi', { step2: form('Step 2: What is your favorite color?', 'color') }, { round: 2, name });
    }
    if (state?.round === 2 && inputResponse(responses, 'step2').kind === 'elicit') {
      return text(`Multi-round complete for ${state.name} who likes ${acceptedContent(responses, 'step2')?.color}`);
    }
    return ask(c, 'multi', { step1: form('Step 1: What is your name?', 'name') }, { round: 1 });
  });
  tool('test_input_required_result_capabilities', 'Asks only what the client declared it can answer', async (_args, c) => {
    const caps = clientCaps();
    if (Object.keys(c.mcpReq.inputResponses ?? {}).length > 0) return text(`capabilities-ok: received ${answered(c.mcpReq.inputResponses)}`);
    const requests = {};
    if (caps.elicitation) requests.elicit_input = form('Elicitation input', 'value');
    if (caps.sampling) requests.sample_input = sample('Sample request');
    if (Object.keys(requests).length === 0) return text('No supported capabilities declared');
    return ask(c, 'capabilities', requests);
  });
  server.registerPrompt('test_input_required_result_prompt', { description: 'A prompt that first asks for context' },
    async (c) => {
      const got = acceptedContent(c.mcpReq.inputResponses, 'user_context');
      if (got) return { messages: [{ role: 'user', content: { type: 'text', text: `Prompt with context: ${got.context}` } }] };
      return ask(c, 'prompt', { user_context: form('What context should the prompt use?', 'context') });
    });
  // Without the sampling capability serve() refuses the call (the SDK would answer isError).
  tool('test_missing_capability', 'Needs the sampling capability', async () => text('Success'));
  tool('test_streaming_elicitation', 'Reports progress, then answers', async (_args, c) => {
    const token = c.mcpReq._meta?.progressToken;
    if (token !== undefined) await c.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: 50, total: 100 } });
    return text('Streaming complete');
  });
  tool('test_logging_tool', 'Logs one message (only when the request asked for logging)', async (_args, c) => {
    await c.mcpReq.log('info', 'Diagnostic trace logging activated');
    return text('Logging evaluated');
  });
  tool('test_trigger_tool_change', 'Says the tool list changed', async () => { modern.notify.toolsChanged(); return text('Mutation triggered'); });
  tool('test_trigger_prompt_change', 'Says the prompt list changed', async () => { modern.notify.promptsChanged(); return text('Mutation triggered'); });
}

function addResources(server) {
  server.registerResource('static-text', 'test://static-text',
    { title: 'Static text', description: 'A fixed text resource', mimeType: 'text/plain' },
    async () => ({ contents: [{ uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] }));
  server.registerResource('static-binary', 'test://static-binary',
    { title: 'Static binary', description: 'A fixed PNG', mimeType: 'image/png' },
    async () => ({ contents: [{ uri: 'test://static-binary', mimeType: 'image/png', blob: PNG }] }));
  server.registerResource('template', new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    { title: 'Template', description: 'Data for an id', mimeType: 'application/json' },
    async (uri, { id }) => ({
      contents: [{ uri: uri.toString(), mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }],
    }));
  server.registerResource('watched-resource', 'test://watched-resource',
    { title: 'Watched', description: 'A resource one can subscribe to', mimeType: 'text/plain' },
    async () => ({ contents: [{ uri: 'test://watched-resource', mimeType: 'text/plain', text: 'Watched resource content' }] }));
}

function addPrompts(server) {
  const user = (content) => ({ role: 'user', content });
  server.registerPrompt('test_simple_prompt', { title: 'Simple', description: 'No arguments' },
    async () => ({ messages: [user({ type: 'text', text: 'This is a simple prompt for testing.' })] }));
  server.registerPrompt('test_prompt_with_arguments', {
    title: 'With arguments', description: 'Two arguments',
    argsSchema: {
      arg1: completable(z.string().describe('First argument'), (v) => ['paris', 'park', 'party'].filter((x) => x.startsWith(v ?? ''))),
      arg2: z.string().describe('Second argument'),
    },
  }, async ({ arg1, arg2 }) => ({ messages: [user({ type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` })] }));
  server.registerPrompt('test_prompt_with_embedded_resource', {
    title: 'With a resource', description: 'Embeds the resource named', argsSchema: { resourceUri: z.string().describe('Resource URI') },
  }, async ({ resourceUri }) => ({
    messages: [
      user({ type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } }),
      user({ type: 'text', text: 'Please process the embedded resource above.' }),
    ],
  }));
  server.registerPrompt('test_prompt_with_image', { title: 'With an image', description: 'A PNG and a question' },
    async () => ({
      messages: [
        user({ type: 'image', data: PNG, mimeType: 'image/png' }),
        user({ type: 'text', text: 'Please analyze the image above.' }),
      ],
    }));
}

function makeServer(ctx) {
  const server = new McpServer({ name: 'fracta-e2e-conformance-server', version: '1.0.0' }, {
    capabilities: {
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      prompts: { listChanged: true },
      logging: {},
      completions: {},
    },
    requestState: { verify: (state, c) => codec.verify(state, c) },
  });
  addTools(server, ctx?.era === 'legacy');
  addResources(server);
  addPrompts(server);
  if (ctx?.era !== 'legacy') addModernTools(server);
  const raw = server.server;
  raw.setRequestHandler('resources/subscribe', async (request) => { subscribed.add(request.params.uri); return {}; });
  raw.setRequestHandler('resources/unsubscribe', async (request) => { subscribed.delete(request.params.uri); return {}; });
  return server;
}

const modern = createMcpHandler(makeServer, {
  legacy: 'reject',
  onerror: (e) => process.stderr.write(`conformance-server: ${e.message}\n`),
});

// 2025 sessions: one transport and server per Mcp-Session-Id.
const sessions = new Map();

async function legacy(request, parsed) {
  const id = request.headers.get('mcp-session-id');
  if (id) {
    const transport = sessions.get(id);
    if (!transport) return json(404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
    return transport.handleRequest(request, { parsedBody: parsed });
  }
  if (request.method !== 'POST' || parsed?.method !== 'initialize') {
    return json(400, { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: no session' }, id: null });
  }
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (sid) => { sessions.set(sid, transport); },
  });
  transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
  await makeServer({ era: 'legacy' }).connect(transport);
  return transport.handleRequest(request, { parsedBody: parsed });
}

function json(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const allowedHosts = localhostAllowedHostnames();
const allowedOrigins = localhostAllowedOrigins();

async function serve(req, body, signal) {
  const url = new URL(req.url, `http://${req.headers.host ?? '127.0.0.1'}`);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else if (v !== undefined) headers.set(k, v);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'DELETE';
  const request = new Request(url, { method: req.method, headers, body: hasBody ? body : undefined, signal });
  const refused = hostHeaderValidationResponse(request, allowedHosts) ?? originValidationResponse(request, allowedOrigins);
  if (refused) return refused;
  if (url.pathname !== '/mcp') return json(404, { error: 'not found' });
  let parsed;
  if (hasBody) {
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      parsed = undefined;
    }
  }
  if (await isLegacyRequest(request.clone(), parsed)) return legacy(request, parsed);
  const caps = parsed?.params?._meta?.['io.modelcontextprotocol/clientCapabilities'];
  if (parsed?.method === 'tools/call' && parsed.params?.name === 'test_missing_capability' && !caps?.sampling) {
    return json(400, {
      jsonrpc: '2.0', id: parsed.id,
      error: { code: -32021, message: 'Missing required client capability', data: { requiredCapabilities: { sampling: {} } } },
    });
  }
  return modern.fetch(request);
}

const httpServer = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const aborter = new AbortController();
    res.on('close', () => { if (!res.writableFinished) aborter.abort(); });
    const response = await serve(req, Buffer.concat(chunks), aborter.signal);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.flushHeaders();
    if (response.body) {
      for await (const chunk of response.body) res.write(chunk);
    }
    res.end();
  } catch (e) {
    process.stderr.write(`conformance-server: request failed: ${e.stack ?? e}\n`);
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end('{"error":"internal"}');
  }
});

exitWithParent(httpServer, { onClose: () => modern.close?.(), watchStdin: !opts['ignore-stdin'] });

httpServer.listen(Number(opts.port), '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});
