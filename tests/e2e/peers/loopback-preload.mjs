// SPDX-License-Identifier: Apache-2.0
// A `node --import` preload that keeps a third-party server (server-everything binds every
// interface) on loopback: every TCP listen goes to 127.0.0.1, the bound address is printed as
// `LOOPBACK_LISTENING 127.0.0.1:<port>`, and the process exits when its stdin closes.
// With LOOPBACK_LOG=<file>, one JSON line per HTTP request (written when the response ends):
// http_method, path, status, protocol_version, mcp_method, mcp_name, mcp_session_id (request
// headers), response_session_id, auth_present. Never a header value of Authorization.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';

const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function listen(...args) {
  const cb = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
  let port = 0;
  if (typeof args[0] === 'object' && args[0] !== null) port = Number(args[0].port ?? 0);
  else if (args[0] !== undefined) port = Number(args[0]);
  if (!Number.isInteger(port)) throw new Error(`loopback-preload: refusing to listen on ${String(args[0])}`);
  this.once('listening', () => {
    const a = this.address();
    process.stdout.write(`LOOPBACK_LISTENING 127.0.0.1:${a.port}\n`);
  });
  return originalListen.call(this, { port, host: '127.0.0.1' }, cb);
};

const logPath = process.env.LOOPBACK_LOG;
if (logPath) {
  const originalEmit = http.Server.prototype.emit;
  http.Server.prototype.emit = function emit(event, req, res, ...rest) {
    if (event === 'request') {
      res.once('finish', () => {
        const h = req.headers;
        fs.appendFileSync(logPath, `${JSON.stringify({
          http_method: req.method,
          path: req.url,
          status: res.statusCode,
          protocol_version: h['mcp-protocol-version'] ?? null,
          mcp_method: h['mcp-method'] ?? null,
          mcp_name: h['mcp-name'] ?? null,
          mcp_session_id: h['mcp-session-id'] ?? null,
          response_session_id: res.getHeader('mcp-session-id') ?? null,
          auth_present: h.authorization !== undefined,
          time: new Date().toISOString(),
        })}\n`);
      });
    }
    return originalEmit.call(this, event, req, res, ...rest);
  };
}

if (!process.env.LOOPBACK_IGNORE_STDIN) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
