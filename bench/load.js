#!/usr/bin/env node
// Load generator child process: runs autocannon against one target and prints
// one JSON line with the result on stdout. Runs in its own process so that it
// never shares an event loop with the server under test or the harness.
//
//   node bench/load.js '<json>'      or      node bench/load.js @/path/to/args.json
//
// Options (JSON):
//   url          base URL, e.g. http://127.0.0.1:9497
//   requests     [{method, path, headers?, body?}] cycled round-robin over all
//                connections (one global counter), or
//   requestsFile a file holding that JSON array (for 100,000+ paths)
//   connections  keep-alive connections (default 32)
//   duration     seconds (ignored when `amount` is set)
//   amount       total number of requests instead of a duration
//   overallRate  requests per second over all connections (fixed-rate load)
//   timeout      seconds before a request counts as a timeout (default 10)
//   timelineFile when set, every response's [completion time (epoch ms), latency ms]
//                is written there as JSON (for "latency during X" analyses)
//   generator    "autocannon" (default) or "wrk": Debian's wrk (C, one thread
//                per core it is given) with bench/wrk/requests.lua, for the
//                high-rate checks where autocannon itself was the bottleneck
//                (docs/benchmarks.md); runs with `amount`, `overallRate` or
//                `timelineFile` always use autocannon
//   threads      wrk threads (default 1)
//   expectStatus wrk only counts answers outside 2xx/3xx: those are reported
//                under "other", the rest under this status (default "2xx")
//
// Latencies are recorded from autocannon's per-response event with the full
// sub-millisecond precision (autocannon's own histogram rounds to 1 ms).
// SIGTERM stops the run early and still prints the result.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const { HTTPParser } = require('http-parser-js');

function parseArgs(argv) {
  const raw = argv[2];
  if (!raw) throw new Error('usage: node bench/load.js <json> | @file.json');
  return JSON.parse(raw.startsWith('@') ? readFileSync(raw.slice(1), 'utf8') : raw);
}

/** Sorted-array percentile (nearest rank). */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** A growable Float64Array: millions of latencies without boxing. */
class Samples {
  constructor() {
    this.data = new Float64Array(1 << 16);
    this.length = 0;
  }
  push(v) {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  sorted() {
    return this.data.slice(0, this.length).sort();
  }
}

/**
 * autocannon does not know that a response to HEAD has no body even when it
 * carries Content-Length (e.g. HEAD → 404 with the length of the JSON error):
 * it would wait for those bytes and misparse the stream. Tell the parser to
 * skip the body, as Node's own client does. setupClient runs before autocannon
 * installs its headers-complete callback, so we wrap whatever it installs.
 */
function skipBodiesOfHeadResponses(client) {
  const key = HTTPParser.kOnHeadersComplete;
  let installed = () => {};
  Object.defineProperty(client.parser, key, {
    configurable: true,
    get() {
      return (info) => {
        installed(info);
        return true;
      };
    },
    set(fn) {
      installed = fn;
    },
  });
}

/** CPU seconds of this process's children that have exited and been waited for (/proc/self/stat cutime + cstime). */
function childrenCpuSeconds() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Clock ticks; 100 on every Linux build the benchmark runs on (getconf CLK_TCK).
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

const WRK_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'wrk', 'requests.lua');

/** One wrk run; the same result object as the autocannon run, the generator's CPU being wrk's own. */
async function runWrk(opts, requests, method) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xivo-auth-wrk-'));
  try {
    const list = path.join(dir, 'requests.tsv');
    writeFileSync(
      list,
      requests
        .map((r) => [method, r.path, ...Object.entries(r.headers ?? {}).map(([k, v]) => `${k}: ${v}`)].join('\t'))
        .join('\n') + '\n',
    );
    const connections = opts.connections ?? 32;
    const threads = opts.threads ?? 1;
    const seconds = Math.max(1, Math.round(opts.duration ?? 10));
    const startedAt = Date.now();
    const t0 = performance.now();
    const cpuBefore = childrenCpuSeconds();
    const args = [
      `-t${threads}`,
      `-c${connections}`,
      `-d${seconds}s`,
      `--timeout`,
      `${opts.timeout ?? 10}s`,
      '-s',
      WRK_SCRIPT,
      opts.url,
      '--',
      list,
    ];
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c) => {
      out += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c) => {
      err += c;
    });
    process.once('SIGTERM', () => child.kill('SIGINT'));
    const code = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c) => resolve(c));
    });
    const elapsed = (performance.now() - t0) / 1000;
    const line = out.split('\n').find((l) => l.startsWith('{'));
    if (code !== 0 || line === undefined) throw new Error(`wrk exited ${code}: ${err.trim() || out.trim()}`);
    const w = JSON.parse(line);
    const active = w.duration_us / 1e6;
    const bad = w.errors.status;
    const errors = w.errors.connect + w.errors.read + w.errors.write + w.errors.timeout;
    const ms = (us) => us / 1000;
    return {
      generator: 'wrk',
      threads,
      startedAt,
      seconds: active,
      wallSeconds: elapsed,
      connections,
      completed: w.requests,
      rps: active > 0 ? w.requests / active : null,
      latencyMs: {
        mean: ms(w.latency_us.mean),
        p50: ms(w.latency_us.p50),
        p90: ms(w.latency_us.p90),
        p99: ms(w.latency_us.p99),
        p999: ms(w.latency_us.p999),
        max: ms(w.latency_us.max),
      },
      statusCodes: { [opts.expectStatus ?? '2xx']: w.requests - bad, ...(bad > 0 ? { other: bad } : {}) },
      non2xx: bad,
      errors,
      timeouts: w.errors.timeout,
      errorMessages:
        errors > 0 ? { connect: w.errors.connect, read: w.errors.read, write: w.errors.write, timeout: w.errors.timeout } : {},
      resets: 0,
      // wrk's own CPU (it has exited and been waited for); this wrapper only
      // waits meanwhile (its start-up is not the load's).
      loadGenCpuSeconds: childrenCpuSeconds() - cpuBefore,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const opts = parseArgs(process.argv);
  const requests = opts.requestsFile ? JSON.parse(readFileSync(opts.requestsFile, 'utf8')) : opts.requests;
  if (!Array.isArray(requests) || requests.length === 0) throw new Error('no requests given');
  const methods = new Set(requests.map((r) => r.method ?? 'GET'));
  if (methods.size !== 1) throw new Error('all requests of one run must use the same method');
  const method = [...methods][0];
  if (
    opts.generator === 'wrk' &&
    !opts.amount &&
    !opts.overallRate &&
    !opts.timelineFile &&
    requests.every((r) => r.body === undefined)
  ) {
    process.stdout.write(`${JSON.stringify(await runWrk(opts, requests, method))}\n`);
    return;
  }

  // One counter shared by every connection: true round-robin over the list.
  // A single request goes through the same path, so that the cost on the
  // load-generator side is the same for one path and for 10,000 (fair ratios).
  let next = 0;
  const cycle = [
    {
      method,
      setupRequest(req) {
        const r = requests[next];
        next = next + 1 === requests.length ? 0 : next + 1;
        req.path = r.path;
        if (r.headers) req.headers = { ...req.headers, ...r.headers };
        if (r.body !== undefined) req.body = r.body;
        return req;
      },
    },
  ];

  const latencies = new Samples();
  const timeline = opts.timelineFile ? new Samples() : null;
  const statusCodes = {};
  let errors = 0;
  let timeouts = 0;
  const errorMessages = {};
  const startedAt = Date.now();
  const t0 = performance.now();

  const instance = autocannon(
    {
      url: opts.url,
      connections: opts.connections ?? 32,
      ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration ?? 10 }),
      ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
      timeout: opts.timeout ?? 10,
      // autocannon only notices the end of a run (duration over, or `amount`
      // reached) at its sampling tick: 100 ms instead of 1 s.
      sampleInt: 100,
      requests: cycle,
      ...(method === 'HEAD' ? { setupClient: skipBodiesOfHeadResponses } : {}),
    },
    () => {},
  );

  let lastResponseAt = t0;
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    lastResponseAt = performance.now();
    latencies.push(responseTime);
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    if (timeline) {
      timeline.push(performance.timeOrigin + performance.now());
      timeline.push(responseTime);
    }
  });
  instance.on('reqError', (err) => {
    errors += 1;
    if (/timed out/.test(err?.message ?? '')) timeouts += 1;
    const msg = String(err?.code ?? err?.message ?? err);
    errorMessages[msg] = (errorMessages[msg] ?? 0) + 1;
  });

  process.once('SIGTERM', () => instance.stop());

  const result = await new Promise((resolve, reject) => {
    instance.once('done', resolve);
    instance.once('error', reject);
  });
  const elapsed = (performance.now() - t0) / 1000;
  // From the start of the run to the last answer (connection set-up included).
  const active = (lastResponseAt - t0) / 1000;

  const sorted = latencies.sorted();
  let sum = 0;
  for (const v of sorted) sum += v;
  const completed = sorted.length;
  const non2xx = Object.entries(statusCodes)
    .filter(([code]) => !code.startsWith('2'))
    .reduce((n, [, c]) => n + c, 0);

  if (timeline) {
    const pairs = Array.from(timeline.data.subarray(0, timeline.length), (v, i) =>
      i % 2 === 0 ? Math.round(v * 10) / 10 : Math.round(v * 1000) / 1000,
    );
    writeFileSync(opts.timelineFile, JSON.stringify(pairs));
  }

  const out = {
    generator: 'autocannon',
    startedAt,
    seconds: active,
    wallSeconds: elapsed,
    connections: opts.connections ?? 32,
    completed,
    rps: active > 0 ? completed / active : null,
    latencyMs: {
      mean: completed ? sum / completed : null,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      max: completed ? sorted[completed - 1] : null,
    },
    statusCodes,
    non2xx,
    errors,
    timeouts,
    errorMessages,
    resets: result.resets ?? 0,
    // CPU used by this load generator: close to 1.0 per second means the
    // generator, not the server, may be the bottleneck.
    loadGenCpuSeconds: (() => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    })(),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`load.js: ${err?.stack ?? err}\n`);
    process.exit(2);
  },
);
