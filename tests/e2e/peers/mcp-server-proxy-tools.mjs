// SPDX-License-Identifier: Apache-2.0
// The tools peers/mcp-server.mjs adds with --proxy-tools, for fracta proxy's tests: a slow tool
// whose cancellation is logged, a tool that changes the tool list, one that asks the client
// (elicitation/create), and a subscribable resource with a tool that changes it.
import { ElicitResultSchema, SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * Registers on `mcp` (an McpServer, before connect); `logEvent(entry)` appends to the --log:
 * slow {ms} → "slow done <ms>" after ms, logging {event: "started", tool, rpc_id} when it begins
 * and {event: "cancelled", tool, rpc_id, reason} on notifications/cancelled; grow → registers
 * `grown` on this session (the SDK sends tools/list_changed on its GET stream) → "grown"; ask
 * {timeoutMs?} → an elicitation/create request (a string `name`) → "asked: <action> <name>"
 * (the SDK cancels the request with notifications/cancelled after timeoutMs); the resource
 * note://one, subscribable (log: {event: "subscribed", uri}); touch → resources/updated to this
 * session's subscriptions → "touched <n>".
 */
export function addProxyTools(mcp, logEvent) {
  mcp.registerTool('slow', {
    description: 'Answers after ms milliseconds, unless the call is cancelled first (logged)',
    inputSchema: { ms: z.number().int().min(0) },
  }, async ({ ms }, extra) => new Promise((resolve) => {
    logEvent({ event: 'started', tool: 'slow', rpc_id: extra.requestId });
    const onAbort = () => {
      clearTimeout(timer);
      logEvent({ event: 'cancelled', tool: 'slow', rpc_id: extra.requestId, reason: String(extra.signal.reason ?? '') });
      resolve({ content: [{ type: 'text', text: 'slow aborted' }] });
    };
    // Once answered, a later teardown of the exchange is no cancellation.
    const timer = setTimeout(() => {
      extra.signal.removeEventListener('abort', onAbort);
      resolve({ content: [{ type: 'text', text: `slow done ${ms}` }] });
    }, ms);
    extra.signal.addEventListener('abort', onAbort, { once: true });
  }));
  mcp.registerTool('grow', { description: 'Adds the tool `grown` to this session' }, async () => {
    if (!mcp._registeredTools?.grown) {
      mcp.registerTool('grown', { description: 'Exists once grow was called' },
        async () => ({ content: [{ type: 'text', text: 'i am new' }] }));
    }
    logEvent({ event: 'grown' });
    return { content: [{ type: 'text', text: 'grown' }] };
  });
  // A resource clients may subscribe to; `touch` changes it and tells the subscribers.
  const subscribed = new Set();
  mcp.server.registerCapabilities({ resources: { subscribe: true } });
  mcp.registerResource('note', 'note://one', { mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'a note' }] }));
  mcp.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    subscribed.add(req.params.uri);
    logEvent({ event: 'subscribed', uri: req.params.uri });
    return {};
  });
  mcp.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    subscribed.delete(req.params.uri);
    return {};
  });
  mcp.registerTool('touch', { description: 'Changes note://one (resources/updated to its subscribers)' }, async () => {
    for (const uri of subscribed) await mcp.server.sendResourceUpdated({ uri });
    return { content: [{ type: 'text', text: `touched ${subscribed.size}` }] };
  });
  mcp.registerTool('ask', {
    description: 'Asks the client for a name (elicitation/create), giving up after timeoutMs if given',
    inputSchema: { timeoutMs: z.number().int().min(1).optional() },
  }, async ({ timeoutMs }, extra) => {
    const r = await extra.sendRequest({
      method: 'elicitation/create',
      params: {
        message: 'Your name?',
        requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
      },
    }, ElicitResultSchema, timeoutMs === undefined ? undefined : { timeout: timeoutMs });
    return { content: [{ type: 'text', text: `asked: ${r.action} ${r.content?.name ?? ''}` }] };
  });
}
