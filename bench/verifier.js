#!/usr/bin/env node
// Benchmark of @xivo-auth/verifier (issue 9): a small Fastify service
// protected by the verifier in cached mode versus remote mode, same load.
//
//   npm run build && node bench/verifier.js [--duration S] [--connections N] [--tokens N] [--trials N] [--smoke]
//
// xivo-auth runs as its own process (SQLite, events to RabbitMQ at
// 127.0.0.1:5672 on a run-unique exchange), each protected service as its
// own process, autocannon in a third (bench/load.js). The load cycles over
// N tokens of N users, each request on /users/{auth_id}/lines, requiring
// confd.users.{user_uuid}.read (granted by the bench policy's confd.#).
// Prints requests/s and latency percentiles, writes bench/results/verifier-<time>.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { killAllChildren, runJsonChild, spawnTracked, stopChild } from './lib/procs.js';
import { ADMIN, REPO_ROOT, ServiceProcess } from './lib/service.js';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

function options(argv) {
  const o = { duration: 5, connections: 32, tokens: 100, trials: 3 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--smoke') Object.assign(o, { duration: 1, tokens: 10, trials: 1 });
    else if (['--duration', '--connections', '--tokens', '--trials'].includes(a)) o[a.slice(2)] = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** The run-unique exchange the service declared (durable): removed after the run. */
async function deleteExchange(name) {
  const amqp = (await import('amqplib')).default;
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    await ch.deleteExchange(name);
  } finally {
    await conn.close();
  }
}

function startApp(config) {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(process.execPath, [path.join(REPO_ROOT, 'bench', 'verifier-app.js'), JSON.stringify(config)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c) => {
      out += c;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, url: `http://127.0.0.1:${JSON.parse(line).port}` });
    });
    child.once('exit', (code) => reject(new Error(`verifier-app exited with ${code}`)));
  });
}

async function main() {
  const o = options(process.argv.slice(2));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'xivo-auth-bench-verifier-'));
  const exchange = `xivo-auth-bench-verifier-${randomUUID()}`;
  const auth = new ServiceProcess({
    name: 'xivo-auth',
    dir: path.join(tmp, 'auth'),
    dbUri: `sqlite:${path.join(tmp, 'auth.db')}`,
    overrides: {
      amqp: { enabled: true, uri: AMQP_URL, exchange_name: exchange },
      password_hashing: { memory_kib: 1024, iterations: 1, parallelism: 1 },
    },
  });
  mkdirSync(auth.dir, { recursive: true });
  const apps = [];
  try {
    await auth.start();
    const admin = await auth.login(ADMIN.username, ADMIN.password);
    const requests = [];
    for (let i = 0; i < o.tokens; i++) {
      const name = `bench-verifier-${i}`;
      await auth.createUser(admin, name, `pw-${name}`);
      const token = await auth.login(name, `pw-${name}`);
      const details = await auth.tokenDetails(token);
      requests.push({ method: 'GET', path: `/users/${details.auth_id}/lines`, headers: { 'x-auth-token': token } });
    }
    const results = { cached: [], remote: [] };
    for (const mode of ['cached', 'remote']) {
      apps.push({ mode, ...(await startApp({ authUrl: auth.url, mode, amqpUrl: AMQP_URL, exchange })) });
    }
    // Warm-up: every token once through each service (fills the cache).
    for (const app of apps)
      await runJsonChild(
        path.join(REPO_ROOT, 'bench', 'load.js'),
        JSON.stringify({ url: app.url, requests, connections: 4, amount: requests.length }),
      );
    for (let trial = 0; trial < o.trials; trial++) {
      for (const app of apps) {
        const r = await runJsonChild(
          path.join(REPO_ROOT, 'bench', 'load.js'),
          JSON.stringify({ url: app.url, requests, connections: o.connections, duration: o.duration }),
        );
        if (r.non2xx > 0 || r.errors > 0)
          throw new Error(`${app.mode}: ${r.non2xx} non-2xx, ${r.errors} errors ${JSON.stringify(r.statusCodes)}`);
        results[app.mode].push(r);
      }
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const summary = Object.fromEntries(
      Object.entries(results).map(([mode, rs]) => [
        mode,
        {
          rps: Math.round(median(rs.map((r) => r.rps))),
          p50Ms: Number(median(rs.map((r) => r.latencyMs.p50)).toFixed(2)),
          p99Ms: Number(median(rs.map((r) => r.latencyMs.p99)).toFixed(2)),
        },
      ]),
    );
    const when = new Date().toISOString().replace(/[:.]/g, '-');
    mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
    const file = path.join(REPO_ROOT, 'bench', 'results', `verifier-${when}.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ options: o, cpus: os.cpus().length, node: process.version, summary, results }, null, 2)}\n`,
    );
    process.stdout.write(
      `verifier benchmark (${o.tokens} tokens, ${o.connections} connections, ${o.duration} s x ${o.trials} trials, medians)\n`,
    );
    for (const [mode, s] of Object.entries(summary)) {
      process.stdout.write(`  ${mode.padEnd(7)} ${String(s.rps).padStart(7)} req/s   p50 ${s.p50Ms} ms   p99 ${s.p99Ms} ms\n`);
    }
    process.stdout.write(`  written to ${path.relative(REPO_ROOT, file)}\n`);
  } finally {
    for (const app of apps) await stopChild(app.child);
    await auth.stop();
    await deleteExchange(exchange).catch(() => undefined);
    killAllChildren();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench/verifier.js: ${err?.stack ?? err}\n`);
    killAllChildren();
    process.exit(1);
  },
);
