// SPDX-License-Identifier: Apache-2.0
// The HMAC request-signing scheme of fracta's C example plugin (`hmac-example`), shared by the
// test server (verifier) and the tests (reference signer):
//   X-Fracta-Date: <unix seconds, decimal>
//   X-Fracta-Signature: v1=<hex HMAC-SHA256(key, METHOD "\n" target "\n" date "\n" hex(SHA-256(body)))>
// target = the request target's path + query exactly as sent; body = raw bytes (empty for GET).
import crypto from 'node:crypto';

export const HMAC_WINDOW_S = 300;

export function hmacSignature(key, method, target, date, body = Buffer.alloc(0)) {
  const bodyHash = crypto.createHash('sha256').update(body).digest('hex');
  const msg = `${method.toUpperCase()}\n${target}\n${date}\n${bodyHash}`;
  return crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(msg, 'utf8').digest('hex');
}

export function hmacHeaders(key, method, target, body = Buffer.alloc(0), now = Date.now()) {
  const date = String(Math.floor(now / 1000));
  return {
    'X-Fracta-Date': date,
    'X-Fracta-Signature': `v1=${hmacSignature(key, method, target, date, body)}`,
  };
}
