// One measurement = one run of bench/load.js (a child process) against one
// target, with the target process's CPU time and RSS read from /proc around
// it. Several targets are measured in interleaved trials (A B A B …) so that
// drift of a shared machine affects them alike; the median trial is reported.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cpuSeconds, memoryMiB } from './proc-stats.js';
import { runJsonChild } from './procs.js';
import { median } from './stats.js';

const BENCH_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const LOAD = path.join(BENCH_DIR, 'load.js');
let argsCounter = 0;

/**
 * Runs load.js with `load` options against `target` ({url, pid}). Large
 * request lists go through a file (command lines are limited to 128 KiB).
 */
export async function runLoad(ctx, target, load, { onSpawn } = {}) {
  const argsFile = path.join(ctx.tmp, `load-args-${process.pid}-${argsCounter++}.json`);
  writeFileSync(argsFile, JSON.stringify({ url: target.url, ...load }));
  const cpuBefore = target.pid ? cpuSeconds(target.pid) : null;
  const result = await runJsonChild(LOAD, `@${argsFile}`, { onSpawn });
  if (target.pid) {
    const cpu = cpuSeconds(target.pid) - cpuBefore;
    result.serverCpuSeconds = cpu;
    result.cpuPerRequestUs = result.completed > 0 ? (cpu / result.completed) * 1e6 : null;
    const mem = memoryMiB(target.pid);
    result.rssMiB = mem.rss;
    result.hwmMiB = mem.hwm;
  }
  return result;
}

/** Median over trials of the figures we report; counts are summed. */
export function summarize(trials) {
  const pick = (f) => median(trials.map(f));
  const statusCodes = {};
  for (const t of trials) {
    for (const [code, n] of Object.entries(t.statusCodes ?? {})) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  }
  return {
    trials: trials.length,
    rps: pick((t) => t.rps),
    p50: pick((t) => t.latencyMs?.p50),
    p99: pick((t) => t.latencyMs?.p99),
    max: pick((t) => t.latencyMs?.max),
    maxOfTrials: Math.max(...trials.map((t) => t.latencyMs?.max ?? 0)),
    cpuPerRequestUs: pick((t) => t.cpuPerRequestUs),
    rssMiB: trials.at(-1)?.rssMiB ?? null,
    hwmMiB: Math.max(...trials.map((t) => t.hwmMiB ?? 0)) || null,
    completed: trials.reduce((n, t) => n + (t.completed ?? 0), 0),
    errors: trials.reduce((n, t) => n + (t.errors ?? 0), 0),
    timeouts: trials.reduce((n, t) => n + (t.timeouts ?? 0), 0),
    non2xx: trials.reduce((n, t) => n + (t.non2xx ?? 0), 0),
    statusCodes,
  };
}

/**
 * cases: [{key, target: {url, pid}, load: {...load.js options}, run?: async () => result}]
 * Each case gets one short warm-up run, then `trials` rounds run every case in
 * turn. Returns {key: {summary…, runs: [...]}}.
 */
export async function interleavedTrials(ctx, cases, { trials, duration, warmup, log }) {
  const runs = Object.fromEntries(cases.map((c) => [c.key, []]));
  const once = (c, seconds) => (c.run ? c.run(seconds) : runLoad(ctx, c.target, { ...c.load, duration: seconds }));
  if (warmup > 0) {
    for (const c of cases) await once(c, warmup);
  }
  for (let t = 0; t < trials; t++) {
    for (const c of cases) {
      const r = await once(c, duration);
      runs[c.key].push(r);
      log?.(`  trial ${t + 1}/${trials} ${c.key}: ${r.rps?.toFixed(0)} req/s` +
        (r.latencyMs ? `, p99 ${r.latencyMs.p99?.toFixed(2)} ms` : '') +
        (r.non2xx || r.errors ? `, non-2xx ${r.non2xx}, errors ${r.errors}` : ''));
    }
  }
  return Object.fromEntries(cases.map((c) => [c.key, { ...summarize(runs[c.key]), runs: runs[c.key] }]));
}
