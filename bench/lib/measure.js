// One measurement = one run of bench/load.js (a child process) against one
// target, with the target process's CPU time and RSS read from /proc around
// it. Several targets are measured in interleaved trials (A B A B …) so that
// drift of a shared machine affects them alike; the median trial is reported.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { cpuSeconds, machineCpu, machineCpuDelta, memoryMiB } from './proc-stats.js';
import { pgBackendCpu } from './database.js';
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
  const pgBefore = target.pgDatabase ? await pgBackendCpu(target.pgDatabase, cpuSeconds) : null;
  const cpuBefore = target.pid ? cpuSeconds(target.pid) : null;
  const machineBefore = machineCpu();
  const t0 = performance.now();
  const loadAverage = os.loadavg()[0];
  const result = await runJsonChild(LOAD, `@${argsFile}`, { onSpawn });
  const wall = (performance.now() - t0) / 1000;
  const machine = machineCpuDelta(machineBefore, machineCpu(), wall);
  // Shares of a core over the load itself (the generator's own wall time), not
  // over `wall`, which also holds load.js's start-up: on a loaded machine that
  // start-up takes a second or more and would hide a saturated generator.
  const active = result.wallSeconds > 0 ? result.wallSeconds : wall;
  result.machine = {
    loadAverage1m: loadAverage,
    busyCores: machine.busyCores,
    stealCores: machine.stealCores,
    loadGenCores: result.loadGenCpuSeconds / active,
  };
  if (target.pid) {
    const cpu = cpuSeconds(target.pid) - cpuBefore;
    result.serverCpuSeconds = cpu;
    result.machine.serverCores = cpu / active;
    // Everything else (CPU seconds over `wall`): PostgreSQL (on that engine),
    // the harness, load.js's start-up, other users of the machine.
    result.machine.otherCores = machine.busyCores - (cpu + result.loadGenCpuSeconds) / wall;
    result.cpuPerRequestUs = result.completed > 0 ? (cpu / result.completed) * 1e6 : null;
    if (pgBefore) {
      // Backends opened during the run count from zero.
      const pgAfter = await pgBackendCpu(target.pgDatabase, cpuSeconds);
      let pgCpu = 0;
      for (const [pid, after] of pgAfter) pgCpu += after - (pgBefore.get(pid) ?? 0);
      result.pgCpuSeconds = pgCpu;
      result.pgCpuPerRequestUs = result.completed > 0 ? (pgCpu / result.completed) * 1e6 : null;
      result.machine.pgCores = pgCpu / active;
      result.machine.otherCores -= pgCpu / wall;
    }
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
    pgCpuPerRequestUs: pick((t) => t.pgCpuPerRequestUs),
    serverCores: pick((t) => t.machine?.serverCores),
    pgCores: pick((t) => t.machine?.pgCores),
    loadGenCores: pick((t) => t.machine?.loadGenCores),
    otherCores: pick((t) => t.machine?.otherCores),
    stealCores: pick((t) => t.machine?.stealCores),
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
  // `prime: n` first sends each of a case's n requests once (e.g. so that
  // every token of a rotation is in the cache before timing).
  for (const c of cases) {
    if (c.prime)
      await runLoad(ctx, c.target, { ...c.load, amount: c.prime, connections: Math.min(c.load.connections ?? 32, c.prime) });
  }
  if (warmup > 0) {
    for (const c of cases) await once(c, warmup);
  }
  for (let t = 0; t < trials; t++) {
    for (const c of cases) {
      const r = await once(c, duration);
      runs[c.key].push(r);
      log?.(
        `  trial ${t + 1}/${trials} ${c.key}: ${r.rps?.toFixed(0)} req/s` +
          (r.latencyMs ? `, p99 ${r.latencyMs.p99?.toFixed(2)} ms` : '') +
          (typeof r.cpuPerRequestUs === 'number' ? `, ${r.cpuPerRequestUs.toFixed(1)} µs CPU/req` : '') +
          (r.non2xx || r.errors ? `, non-2xx ${r.non2xx}, errors ${r.errors}` : ''),
      );
    }
  }
  return Object.fromEntries(cases.map((c) => [c.key, { ...summarize(runs[c.key]), runs: runs[c.key] }]));
}
