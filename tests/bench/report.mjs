#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Writes bench.mjs's results into a page (docs/performance.md): the text between the
// `<!-- bench:results -->` and `<!-- /bench:results -->` markers is replaced, the rest is kept.
//
// Usage: node report.mjs --results results.json --page docs/performance.md [--commit REV]
import fs from 'node:fs';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: { results: { type: 'string' }, page: { type: 'string' }, commit: { type: 'string', default: 'unknown' } },
});
if (!opts.results || !opts.page) throw new Error('report.mjs: --results and --page are required');
const r = JSON.parse(fs.readFileSync(opts.results, 'utf8'));
const BEGIN = '<!-- bench:results -->';
const END = '<!-- /bench:results -->';

const TARGET = { first_call_ms: 50, throughput_ratio: 3, cpu_ratio: 1 / 20, rss_mb: 20 };

const fixed = (x, digits) => (x === undefined || x === null || Number.isNaN(x) ? '—' : x.toFixed(digits));
const ms = (x) => fixed(x, x < 10 ? 2 : 0);
const cpu = (x) => fixed(x, 3);
const rate = (x) => fixed(x, 0);
const mb = (x) => fixed(x, 1);
const ratio = (x) => (x === undefined ? '—' : `${x < 0.1 ? x.toFixed(3) : x.toFixed(2)}×`);

function row(p) {
  if (p.error) return `| ${p.name} | failed: ${p.error.replaceAll('|', '\\|')} | | | | | | |`;
  return `| ${p.name} | ${ms(p.first_call_ms)} | ${rate(p.calls_per_s_1)} | ${rate(p.calls_per_s_32)} | `
    + `${cpu(p.cpu_ms_per_call_1)} | ${cpu(p.cpu_ms_per_call_32)} | ${mb(p.peak_rss_mb)} | ${p.processes} |`;
}

function table() {
  const lines = [
    '| proxy | first call (ms) | calls/s, 1 in flight | calls/s, 32 in flight | CPU ms/call, 1 in flight | CPU ms/call, 32 in flight | peak resident (MB) | processes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const key of ['mcp_remote_npx', 'mcp_remote']) lines.push(row(r.proxies[key]));
  if (r.proxies.fracta) lines.push(row(r.proxies.fracta));
  else lines.push(`| fracta proxy | not available: the fracta built at ${opts.commit} has no \`proxy\` command | | | | | | |`);
  const d = r.direct;
  lines.push(`| *no proxy: the driver's own HTTP client straight to the upstream* | | ${rate(d.one.calls_per_s)} | ${rate(d.wide.calls_per_s)} | | | | |`);
  return lines;
}

function verdicts() {
  const f = r.proxies.fracta?.error ? undefined : r.proxies.fracta;
  const m = r.proxies.mcp_remote;
  const met = (ok) => (f ? (ok ? 'met' : '**missed**') : 'not measured');
  const lines = [
    '| target | fracta proxy | mcp-remote (node) | fracta / mcp-remote | verdict |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  const add = (what, fv, mv, rv, ok) => lines.push(`| ${what} | ${fv} | ${mv} | ${rv} | ${met(ok)} |`);
  add(`first successful tools/call < ${TARGET.first_call_ms} ms`, f ? `${ms(f.first_call_ms)} ms` : '—', `${ms(m.first_call_ms)} ms`,
    f ? ratio(f.first_call_ms / m.first_call_ms) : '—', f && f.first_call_ms < TARGET.first_call_ms);
  for (const [w, k] of [['1', 'calls_per_s_1'], ['32', 'calls_per_s_32']]) {
    add(`calls/s with ${w} in flight ≥ ${TARGET.throughput_ratio}× mcp-remote`, f ? rate(f[k]) : '—', rate(m[k]),
      f ? ratio(f[k] / m[k]) : '—', f && f[k] >= TARGET.throughput_ratio * m[k]);
  }
  for (const [w, k] of [['1', 'cpu_ms_per_call_1'], ['32', 'cpu_ms_per_call_32']]) {
    add(`CPU per call with ${w} in flight ≤ 1/20 of mcp-remote's`, f ? `${cpu(f[k])} ms` : '—', `${cpu(m[k])} ms`,
      f ? ratio(f[k] / m[k]) : '—', f && f[k] <= TARGET.cpu_ratio * m[k]);
  }
  add(`peak resident memory < ${TARGET.rss_mb} MB`, f ? `${mb(f.peak_rss_mb)} MB` : '—', `${mb(m.peak_rss_mb)} MB`,
    f ? ratio(f.peak_rss_mb / m.peak_rss_mb) : '—', f && f.peak_rss_mb < TARGET.rss_mb);
  return lines;
}

function block() {
  const mc = r.machine;
  const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
  const up = r.proxies.mcp_remote;
  const fr = r.proxies.fracta?.error ? undefined : r.proxies.fracta;
  const measuredRows = Object.values(r.proxies).filter((p) => !p.error);
  const eof = measuredRows.filter((p) => !p.exited_on_eof).map((p) => p.name);
  // CPU times come in clock ticks (10 ms at USER_HZ 100): a phase of few ticks is a coarse figure.
  const coarse = measuredRows.filter((p) => p.fewest_cpu_ticks < 20).map((p) => p.name);
  return [
    BEGIN,
    `Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC at commit ${opts.commit}: ${mc.cpu_model}, `
      + `${mc.cpus} CPUs (nproc), ${mc.memory_gb.toFixed(1)} GB, Linux ${mc.kernel}, Node ${mc.node}. `
      + `Load average before/after: ${load(mc.load_before)} / ${load(mc.load_after)}. `
      + `Medians of ${r.reps} repetition${r.reps === 1 ? '' : 's'}, ${r.seconds} s per load phase.`,
    '',
    ...table(),
    '',
    ...verdicts(),
    '',
    `The upstream spent a median ${cpu(up.upstream_cpu_ms_per_call_32)} ms of CPU per call behind mcp-remote `
      + `(32 in flight)${fr ? ` and ${cpu(fr.upstream_cpu_ms_per_call_32)} ms behind fracta proxy` : ''}; `
      + `the driver ${cpu(up.driver_cpu_ms_per_call_32)} ms (mcp-remote)`
      + `${fr ? ` and ${cpu(fr.driver_cpu_ms_per_call_32)} ms (fracta proxy)` : ''}; `
      + `the last row is the most any proxy can reach here.`
      + (eof.length ? ` Did not exit within 5 s of stdin closing: ${eof.join(', ')}.` : '')
      + (coarse.length ? ` CPU per call of ${coarse.join(', ')} rests on fewer than 20 clock ticks in some phase: run longer phases (--seconds).` : ''),
    END,
  ].join('\n');
}

if ((r.proxies.fracta?.standin || r.perf) && /(^|\/)docs\/performance\.md$/.test(opts.page)) {
  throw new Error('report.mjs: these results ran a stand-in or perf in the fracta row; they never go into docs/performance.md');
}
const page = fs.readFileSync(opts.page, 'utf8');
const a = page.indexOf(BEGIN);
const b = page.indexOf(END);
if (a < 0 || b < a) throw new Error(`report.mjs: ${opts.page} has no ${BEGIN} … ${END} block`);
fs.writeFileSync(opts.page, page.slice(0, a) + block() + page.slice(b + END.length));
