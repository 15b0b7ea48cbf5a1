// SPDX-License-Identifier: Apache-2.0
// Shared setup for the fracta OAuth end-to-end tests (oauth-*.test.mjs): the OAuth peer pair,
// one private HOME (so the encrypted token file persists across fracta runs), a config for
// server `s`, and the environment (passphrase, $BROWSER = peers/browser.sh).
import fs from 'node:fs';
import path from 'node:path';

import {
  BROWSER_HOOK, fracta, oauthConfig, oauthEnv, show, startOAuthPair, tmpdir, tomlStr, writeConfig,
} from './harness.mjs';

export const PASSPHRASE_ENV = '{ env = "FRACTA_TEST_PASSPHRASE" }';
export const LOGIN_TIMEOUT_MS = 90_000;

/**
 * Starts the peers and writes the config. `auth`: extra auth keys (TOML values, see oauthConfig);
 * defaults: token_store "file", passphrase from FRACTA_TEST_PASSPHRASE.
 * Resolves to { as, mcp, resource, issuer, home, config, env, browserLog, run(args, opts),
 * tokenFile, browserRuns() }.
 */
export async function setupOAuth({ t, asArgs = [], mcpArgs = [], auth = {}, name = 's' } = {}) {
  const pair = await startOAuthPair({ t, asArgs, mcpArgs });
  const home = tmpdir('fracta-e2e-home-');
  const cfgDir = tmpdir('fracta-e2e-cfg-');
  const config = writeConfig(cfgDir, oauthConfig(name, pair.resource, {
    token_store: tomlStr('file'),
    passphrase: PASSPHRASE_ENV,
    ...auth,
  }));
  const browserLog = path.join(cfgDir, 'browser.jsonl');
  // The browser gets no FRACTA_* variables from fracta: its log goes on its command line.
  const env = oauthEnv({ FRACTA_CONFIG: config, BROWSER: `${BROWSER_HOOK} --log ${browserLog}` });
  const ctx = {
    ...pair,
    home,
    config,
    env,
    browserLog,
    tokenFile: path.join(home, '.local', 'state', 'fracta', 'tokens.enc'),
    run: (args, opts = {}) => fracta(args, { env: { ...env, ...(opts.env ?? {}) }, home, timeoutMs: opts.timeoutMs ?? LOGIN_TIMEOUT_MS, input: opts.input }),
    browserRuns() {
      if (!fs.existsSync(browserLog)) return [];
      return fs.readFileSync(browserLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
    /** Everything useful for an assertion message. */
    explain(r) {
      return `${show(r)}\n--- browser runs ---\n${JSON.stringify(ctx.browserRuns(), null, 1)}\n`
        + `--- AS log (last 8) ---\n${ctx.as.log().slice(-8).map((e) => JSON.stringify(e)).join('\n')}\n`
        + `--- MCP log (last 5) ---\n${ctx.mcp.log().slice(-5).map((e) => JSON.stringify(e)).join('\n')}\n`
        + `--- AS stderr (tail) ---\n${ctx.as.stderr().split('\n').slice(-10).join('\n')}`;
    },
  };
  return ctx;
}

/** The status entry for `server` from `fracta config mcp auth status [server] --json` output
 *  (accepts an object, an array of objects, or { servers: [...] / {name: {...}} }). */
export function statusFor(stdout, server) {
  const j = JSON.parse(stdout);
  const pick = (arr) => arr.find((e) => e?.server === server) ?? (arr.length === 1 ? arr[0] : undefined);
  if (Array.isArray(j)) return pick(j);
  if (Array.isArray(j.servers)) return pick(j.servers);
  if (j.servers && typeof j.servers === 'object') return j.servers[server];
  if (j[server] && typeof j[server] === 'object') return j[server];
  return j;
}

/** Asserts-friendly: a reason string when `text` looks like it holds a token, else null. */
export function secretLeak(text) {
  // The authorization request URL is public by design (state and code_challenge are not
  // secrets; the verifier never leaves fracta): fracta prints it so people can open it by hand.
  text = text.replace(/https?:\/\/\S*code_challenge=\S*/g, '<authorization URL>');
  if (/eyJ[A-Za-z0-9_-]{10,}/.test(text)) return 'a JWT (eyJ…) is in the output';
  const long = /[A-Za-z0-9_-]{43,}/.exec(text);
  if (long) return `a token-like string is in the output: ${long[0].slice(0, 6)}…`;
  return null;
}

/** The `fracta config mcp auth login …` command named in a message, as argv (without "fracta"). */
export function namedLoginCommand(message, server = 's') {
  const m = new RegExp(`fracta (config mcp auth login ${server}(?: +--?[A-Za-z][\\w-]*(?:[ =](?!-)[^\\s'"\`]+)?)*)`).exec(message);
  return m ? m[1].trim().replace(/[.,;)]+$/, '').split(/\s+/) : null;
}
