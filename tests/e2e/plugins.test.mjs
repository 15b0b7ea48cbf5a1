// SPDX-License-Identifier: Apache-2.0
// `fracta plugins list [--json]` (path, ABI version, provider types) and `fracta version`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import { examplePluginPath, fracta, show } from './lib/harness.mjs';

function strings(v, out = []) {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => { out.push(k); strings(x, out); });
  return out;
}

test('plugins list shows the built-in providers', async () => {
  const r = await fracta(['plugins', 'list']);
  assert.equal(r.code, 0, show(r));
  for (const type of ['bearer', 'header', 'basic']) assert.ok(r.stdout.includes(type), `${type} missing\n${show(r)}`);
  assert.ok(r.stdout.includes('.so'), `the plugin paths are listed\n${show(r)}`);
});

test('plugins list --json: paths exist, ABI version, provider types', async () => {
  const r = await fracta(['plugins', 'list', '--json']);
  assert.equal(r.code, 0, show(r));
  const parsed = JSON.parse(r.stdout);
  const all = strings(parsed);
  const paths = all.filter((s) => s.endsWith('.so'));
  assert.ok(paths.length >= 3, `plugin paths expected\n${r.stdout}`);
  for (const p of paths) assert.ok(fs.existsSync(p), `listed plugin path does not exist: ${p}`);
  for (const type of ['bearer', 'header', 'basic']) assert.ok(all.includes(type), `${type} missing\n${r.stdout}`);
  assert.match(r.stdout, /abi/i, `an ABI version is reported\n${r.stdout}`);
});

test('plugins list finds the example plugin on FRACTA_PLUGIN_PATH',
  { skip: examplePluginPath() ? false : 'FRACTA_EXAMPLE_PLUGIN_DIR is not set (run through meson test)' },
  async () => {
    const r = await fracta(['plugins', 'list', '--json'], { env: { FRACTA_PLUGIN_PATH: examplePluginPath() } });
    assert.equal(r.code, 0, show(r));
    const all = strings(JSON.parse(r.stdout));
    assert.ok(all.includes('hmac-example'), r.stdout);
    assert.ok(all.some((s) => s.endsWith('fracta-hmac-example.so')), r.stdout);
  });

test('version', async () => {
  const r = await fracta(['version']);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /\b\d+\.\d+\.\d+\b/);
});
