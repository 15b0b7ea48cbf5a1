// SPDX-License-Identifier: Apache-2.0
// Ends an HTTP peer on SIGTERM/SIGINT and, unless told not to, when its stdin closes (so it never
// outlives the test that spawned it): closes the server and its connections, runs `onClose`, exits 0.
export function exitWithParent(httpServer, { onClose = () => {}, watchStdin = true } = {}) {
  const shutdown = () => {
    httpServer.close();
    httpServer.closeAllConnections();
    onClose();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  if (watchStdin) {
    process.stdin.on('end', shutdown);
    process.stdin.on('error', shutdown);
    process.stdin.resume();
  }
}
