#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Writes gateway.mjs's results into a page (docs/performance.md): the text between the
// `<!-- bench:gateway -->` and `<!-- /bench:gateway -->` markers is replaced, the rest is kept.
//
// Usage: node gateway-report.mjs --results results.json --page docs/performance.md [--commit REV]
import fs from 'node:fs';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: { results: { type: 'string' }, page: { type: 'string' }, commit: { type: 'string', default: 'unknown' } },
});
if (!opts.results || !opts.page) throw new Error('gateway-report.mjs: --results and --page are required');
const r = JSON.parse(fs.readFileSync(opts.results, 'utf8'));
const BEGIN = '<!-- bench:gateway -->';
const END = '<!-- /bench:gateway -->';
const TARGET = { pass_vs_hop: 1, agg_vs_pass: 0.8 };

const fixed = (x, digits) => (x === undefined || x === null || Number.isNaN(x) ? '—' : x.toFixed(digits));
const ms = (x) => fixed(x, x < 10 ? 2 : 1);
const ratio = (x) => `${fixed(x, 2)}×`;
const met = (ok) => (ok ? 'met' : '**missed**');
const row = (key) => r.rows.find((x) => x.key === key);
const threads = r.rows.filter((x) => x.key.startsWith('pass_')).map((x) => Number(x.key.slice(5)));

function results() {
  const lines = [
    '| endpoint | connections | requests/s | p50 latency (ms) | p99 latency (ms) | CPU µs/request | failed requests |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const x of r.rows) {
    for (const c of r.connections) {
      const m = x.by_connections[c];
      lines.push(`| ${x.name} | ${c} | ${fixed(m.rps, 0)} | ${ms(m.p50_ms)} | ${ms(m.p99_ms)} | ${fixed(m.cpu_us_per_request, 1)} | ${m.errors} |`);
    }
  }
  return lines;
}

function verdicts() {
  const lines = [
    '| target | connections | fracta gateway | reference | ratio | verdict |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
  ];
  const hop = row('hop');
  for (const t of threads) {
    const pass = row(`pass_${t}`);
    const agg = row(`agg_${t}`);
    for (const c of r.connections) {
      const p = pass.by_connections[c];
      const h = hop.by_connections[c];
      lines.push(`| pass-through requests/s ≥ the nginx hop's (--threads ${t}) | ${c} | ${fixed(p.rps, 0)} | ${fixed(h.rps, 0)} | ${ratio(p.rps / h.rps)} | ${met(p.rps >= TARGET.pass_vs_hop * h.rps)} |`);
    }
    for (const c of r.connections) {
      const a = agg.by_connections[c];
      const p = pass.by_connections[c];
      lines.push(`| aggregated tools/call requests/s ≥ 80% of pass-through (--threads ${t}) | ${c} | ${fixed(a.rps, 0)} | ${fixed(p.rps, 0)} | ${ratio(a.rps / p.rps)} | ${met(a.rps >= TARGET.agg_vs_pass * p.rps)} |`);
    }
    for (const c of r.connections) {
      const p = pass.by_connections[c];
      const h = hop.by_connections[c];
      lines.push(`| pass-through CPU per request, against the nginx hop's (--threads ${t}; no target) | ${c} | ${fixed(p.cpu_us_per_request, 1)} µs | ${fixed(h.cpu_us_per_request, 1)} µs | ${ratio(p.cpu_us_per_request / h.cpu_us_per_request)} | reported |`);
    }
  }
  for (const s of r.streams) {
    lines.push(`| ${s.streams} of 1000 SSE streams open with a bounded number of threads (--threads ${s.threads}) | | ${s.threads_during} threads | ${s.threads_before} threads before | | ${met(s.streams === 1000 && s.threads_during <= s.threads_before)} |`);
  }
  return lines;
}

function streams() {
  return r.streams.map((s) => `With --threads ${s.threads}, ${s.streams} streams open through \`/mcp/sse\` (${s.failed} refused, `
    + `${s.upstream_open} held by the upstream): ${s.threads_before} threads before, ${s.threads_during} while open; resident memory `
    + `${fixed(s.rss_before_kb / 1024, 1)} MB before, ${fixed(s.rss_during_kb / 1024, 1)} MB while open, `
    + `**${fixed(s.kb_per_stream, 1)} kB per stream** (both of its connections: the client's and the upstream's).`);
}

function block() {
  const mc = r.machine;
  const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
  const coarse = r.rows.filter((x) => Object.values(x.by_connections).some((m) => m.fewest_cpu_ticks < 20)).map((x) => x.name);
  return [
    BEGIN,
    `Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC at commit ${opts.commit}: ${mc.cpu_model}, ${mc.cpus} CPUs (nproc), `
      + `${mc.memory_gb.toFixed(1)} GB, Linux ${mc.kernel}; ${r.versions.nginx}, ${r.versions.wrk.replace(/ Copyright.*/, '')}. `
      + `Load average before/after: ${load(mc.load_before)} / ${load(mc.load_after)}. `
      + `Medians of ${r.reps} repetition${r.reps === 1 ? '' : 's'}, ${r.seconds} s per run.`,
    '',
    ...results(),
    '',
    ...verdicts(),
    '',
    ...streams(),
    ...(coarse.length ? ['', `CPU per request of ${coarse.join(', ')} rests on fewer than 20 clock ticks in some run: run longer (--seconds).`] : []),
    END,
  ].join('\n');
}

const page = fs.readFileSync(opts.page, 'utf8');
const a = page.indexOf(BEGIN);
const b = page.indexOf(END);
if (a < 0 || b < a) throw new Error(`gateway-report.mjs: ${opts.page} has no ${BEGIN} … ${END} block`);
fs.writeFileSync(opts.page, page.slice(0, a) + block() + page.slice(b + END.length));
