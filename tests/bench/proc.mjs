// SPDX-License-Identifier: Apache-2.0
// Reads a process tree's CPU time and peak resident memory from /proc (Linux), for bench.mjs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** USER_HZ, the unit of the CPU times in /proc/<pid>/stat. */
export function clockTicksPerSecond() {
  return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
}

function read(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null; // the process has just exited
  }
}

/** `pid` and its live descendants, from /proc/<pid>/task/<tid>/children. */
export function tree(pid) {
  const out = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop();
    out.push(p);
    let tids = [];
    try {
      tids = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tids) {
      const kids = read(`/proc/${p}/task/${t}/children`);
      if (kids) for (const k of kids.trim().split(/\s+/)) if (k) todo.push(Number(k));
    }
  }
  return out;
}

// utime + stime + cutime + cstime: a descendant that has exited and been reaped inside the
// tree is counted once, in its parent's c-times.
function cpuTicks(pid) {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === null) return 0;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
}

/** CPU time used so far by the tree under `pid`, in clock ticks. */
export function treeCpuTicks(pid) {
  return tree(pid).reduce((sum, p) => sum + cpuTicks(p), 0);
}

/** Peak resident memory (VmHWM) of the tree under `pid`: the sum, the largest, the count. */
export function treePeakResident(pid) {
  let total = 0;
  let largest = 0;
  let processes = 0;
  for (const p of tree(pid)) {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(read(`/proc/${p}/status`) ?? '');
    if (!m) continue;
    const kb = Number(m[1]);
    total += kb;
    largest = Math.max(largest, kb);
    processes++;
  }
  return { total_kb: total, largest_kb: largest, processes };
}
