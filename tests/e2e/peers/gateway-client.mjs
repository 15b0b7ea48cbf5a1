#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// An MCP client for `fracta gateway`, as an application would be one: the reference TS SDK's
// Client over Streamable HTTP, pointed at the gateway's aggregated endpoint. It lists the tools
// of every server behind the gateway, then calls each `<server>__echo` it finds. Used by
// scripts/demo.sh. The client holds no credential of any server: the gateway adds them.
//
// Usage: node gateway-client.mjs URL [TEXT]
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, text = 'hello through fracta gateway'] = process.argv.slice(2);
if (!url) {
  console.error('usage: gateway-client.mjs URL [TEXT]');
  process.exit(2);
}
const client = new Client({ name: 'demo-app', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
const { tools } = await client.listTools();
console.log(`tools (${tools.length}): ${tools.map((t) => t.name).join(', ')}`);
for (const tool of tools.filter((t) => t.name.endsWith('__echo'))) {
  const result = await client.callTool({ name: tool.name, arguments: { text } });
  const said = result.content.filter((c) => c.type === 'text').map((c) => c.text).join(' ');
  console.log(`${tool.name}: ${said}${result.isError ? ' (tool error)' : ''}`);
}
await client.close();
