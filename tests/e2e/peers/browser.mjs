#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The "browser" for fracta's OAuth end-to-end tests ($BROWSER hook, via browser.sh): headless
// Debian chromium driven by playwright-core. Opens the URL (the last argument), then walks
// oidc-provider's devInteractions pages until the flow is over:
//   - login page (input[name=login]): any login/password, "Sign-in";
//   - consent page (hidden prompt=consent): "Continue";
//   - device flow: the confirm page (verification_uri_complete pre-fills the code): "Continue";
//     a plain user-code input page is filled from FRACTA_TEST_USER_CODE when set;
//   - done when the browser is sent to a URL outside the authorization server's origin that
//     carries `code`/`error` (the client's loopback redirect), or on the device flow's
//     "Sign-in Success" page.
// Every request to a non-loopback address is aborted (the pages import web fonts).
// Exit 0 on success; 1 with a message on stderr otherwise (an `error=` callback, an error page,
// no progress); gives up after BROWSER_TIMEOUT_MS (default 60000).
// Optional env: FRACTA_TEST_BROWSER_LOG=<file> appends one JSON line per run (URLs without
// query strings, outcome); FRACTA_TEST_LOGIN=<name> is the login to type (default "e2e-user").
// It never relies on its parent: fracta may start it and not wait.
import fs from 'node:fs';

import { chromium } from 'playwright-core';

const CHROMIUM = process.env.FRACTA_TEST_CHROMIUM || '/usr/bin/chromium';
const TIMEOUT_MS = Number(process.env.BROWSER_TIMEOUT_MS || 60000);
const LOGIN = process.env.FRACTA_TEST_LOGIN || 'e2e-user';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

const startUrl = process.argv[process.argv.length - 1];
const steps = [];
const t0 = Date.now();

function note(s) {
  steps.push(s);
  if (process.env.FRACTA_TEST_BROWSER_DEBUG) process.stderr.write(`browser: ${s}\n`);
}

function stripQuery(u) {
  try {
    const x = new URL(u);
    return `${x.origin}${x.pathname}`;
  } catch {
    return '<bad url>';
  }
}

function finish(code, message) {
  const entry = { start: stripQuery(startUrl), outcome: code === 0 ? 'ok' : 'failed', message, steps, ms: Date.now() - t0 };
  if (process.env.FRACTA_TEST_BROWSER_LOG) {
    try {
      fs.appendFileSync(process.env.FRACTA_TEST_BROWSER_LOG, `${JSON.stringify(entry)}\n`);
    } catch { /* best effort */ }
  }
  if (code !== 0) process.stderr.write(`browser.mjs: ${message}\n  steps: ${steps.join(' -> ')}\n`);
  process.exit(code);
}

if (process.argv.length < 3 || !/^https?:\/\//.test(startUrl)) finish(2, 'usage: browser.mjs <http(s) URL>');
const asOrigin = new URL(startUrl).origin;
if (!LOOPBACK.has(new URL(startUrl).hostname)) finish(1, `refusing a non-loopback URL ${stripQuery(startUrl)}`);

const hardStop = setTimeout(() => finish(1, `timed out after ${TIMEOUT_MS} ms`), TIMEOUT_MS);
hardStop.unref();

let browser;
let outcome = null; // { ok: bool, message }

function checkRedirect(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return;
  }
  if (u.origin === asOrigin || outcome) return;
  if (!LOOPBACK.has(u.hostname)) return;
  const err = u.searchParams.get('error');
  if (err) outcome = { ok: false, message: `the authorization server redirected with error=${err} (${u.searchParams.get('error_description') ?? ''})` };
  else if (u.searchParams.get('code')) outcome = { ok: true, message: `redirected to ${stripQuery(url)} with a code` };
}

async function main() {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
    ],
    timeout: 30000,
  });
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    let host;
    try {
      host = new URL(route.request().url()).hostname;
    } catch {
      return route.abort();
    }
    if (LOOPBACK.has(host)) return route.continue();
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('request', (req) => {
    if (req.isNavigationRequest()) checkRedirect(req.url());
  });
  page.setDefaultTimeout(30000);

  try {
    await page.goto(startUrl, { waitUntil: 'domcontentloaded' });
  } catch (e) {
    if (!outcome) throw e;
  }

  const KNOWN_FORMS = 'input[name=login], input[name=prompt][value=consent], '
    + 'button[form="op.deviceConfirmForm"][autofocus], input[name=user_code]';
  let lastAction = '';
  let repeats = 0;
  while (!outcome) {
    checkRedirect(page.url());
    if (outcome) break;
    // A page still being rendered may not show its form yet: wait (bounded) for one the hook
    // knows before judging it.
    await page.waitForFunction((sel) => /Sign-in Success/i.test(document.title) || document.querySelector(sel) !== null,
      KNOWN_FORMS, { timeout: 5000 }).catch(() => {});
    const title = await page.title().catch(() => '');
    let action;
    if (/Sign-in Success/i.test(title)) {
      outcome = { ok: true, message: 'device flow: sign-in success page' };
      break;
    } else if (await page.locator('input[name=login]').count()) {
      action = 'login';
      await page.fill('input[name=login]', LOGIN);
      await page.fill('input[name=password]', 'e2e-password');
      await clickAndWait(page, 'button[type=submit]');
    } else if (await page.locator('input[name=prompt][value=consent]').count()) {
      action = 'consent';
      await clickAndWait(page, 'button[type=submit]');
    } else if (await page.locator('button[form="op.deviceConfirmForm"][autofocus]').count()) {
      action = 'device-confirm';
      await clickAndWait(page, 'button[form="op.deviceConfirmForm"][autofocus]');
    } else if (await page.locator('input[name=user_code]').count()) {
      action = 'device-user-code';
      const code = process.env.FRACTA_TEST_USER_CODE;
      const current = await page.inputValue('input[name=user_code]');
      if (!current && !code) throw new Error('the device flow asks for a user code and none was given (FRACTA_TEST_USER_CODE)');
      if (!current) await page.fill('input[name=user_code]', code);
      await clickAndWait(page, 'button[form="op.deviceInputForm"]');
    } else {
      const text = (await page.locator('body').innerText().catch(() => '')).replace(/\s+/g, ' ').slice(0, 300);
      throw new Error(`unexpected page at ${stripQuery(page.url())} (title "${title}"): ${text}`);
    }
    note(`${action}@${stripQuery(page.url())}`);
    repeats = action === lastAction ? repeats + 1 : 0;
    lastAction = action;
    if (repeats >= 3) {
      const text = (await page.locator('body').innerText().catch(() => '')).replace(/\s+/g, ' ').slice(0, 300);
      throw new Error(`no progress: ${action} page shown ${repeats + 1} times: ${text}`);
    }
  }
  return outcome;
}

async function clickAndWait(page, selector) {
  const nav = page.waitForNavigation({ waitUntil: 'domcontentloaded', timeout: 30000 }).catch((e) => {
    if (!outcome) throw e;
  });
  await page.click(selector);
  await nav;
}

main().then(async (o) => {
  await browser?.close().catch(() => {});
  finish(o.ok ? 0 : 1, o.message);
}, async (e) => {
  // A redirect the client's listener closed at once still counts when it carried a code.
  await browser?.close().catch(() => {});
  if (outcome) finish(outcome.ok ? 0 : 1, outcome.message);
  finish(1, e?.message ?? String(e));
});
