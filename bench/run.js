#!/usr/bin/env node
// Benchmark harness of xivo-auth: `npm run bench [-- options]`.
//
//   --smoke                 every workload very short, small data (CI; ~1 minute)
//   --only w1,w2            check, get, login, revoke, propagation, events, scale, reaper
//   --engines e1,e2         sqlite, postgresql (default: both)
//   --duration S            seconds per trial (default 5; smoke 1)
//   --trials N              interleaved trials per case (default 3; smoke 1)
//   --connections N         connections for the check workloads (default 32)
//   --scale-tokens N        tokens in the big store (default 1,000,000; smoke 10,000)
//   --reaper-tokens N       expired tokens to purge (default 1,000,000; smoke 10,000)
//   --hashing-concurrency N password_hashing.max_concurrent of the service (default: its own, 0 = CPUs)
//   --generator G           load generator of the check workloads: wrk (default when
//                           installed: Debian's package) or autocannon
//   --generator-threads N   wrk threads (default 1)
//   --check-cases c1,c2     cases of the check workload (default all: bare, check-1,
//                           check-rr, check-2hot, authz-1); e.g. bare,check-1
//   --compare DIR           another build of the service (a directory holding bin/
//                           and dist/, node_modules reachable from it, e.g. an
//                           export of an older commit, built): the check workload
//                           also runs check-1 and authz-1 against it (same database),
//                           interleaved, and reports the CPU per check of this
//                           build against that one's
//   --propagation-tokens N  revocations timed from instance A to B (default 1,000; smoke 20)
//   --events-backlog N      outbox events drained by the relay (default 20,000; smoke 500)
//
// It starts the service itself (compiled by `npm run build`) on each engine,
// drives load from child processes (bench/load.js: wrk for the checks,
// autocannon for the rest), compares with a
// bare Node http server in the same run, prints a table and the targets, and
// writes everything to bench/results/<timestamp>.json (+ .md).
// Exit status: 0 when the harness ran and every response was as expected
// (targets may be missed: they are reported, not enforced); 1 otherwise.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchDatabase, randomSuffix } from './lib/database.js';
import { killAllChildren, spawnTracked, stopChild } from './lib/procs.js';
import { ADMIN, HASHING, REPO_ROOT, ServiceProcess, templateFrom } from './lib/service.js';
import { fmt, markdownTable, textTable } from './lib/table.js';
import { GENERATOR_BOUND, runCheckWorkloads } from './workloads/check.js';
import { runLoginWorkload } from './workloads/login.js';
import { runPropagationWorkload } from './workloads/propagation.js';
import { runEventsWorkload } from './workloads/events.js';
import { runReaperWorkload } from './workloads/reaper.js';
import { runRevokeWorkload } from './workloads/revoke.js';
import { runScaleWorkload } from './workloads/scale.js';

const WORKLOADS = ['check', 'get', 'login', 'revoke', 'propagation', 'events', 'scale', 'reaper'];
const CHECK_CASES = ['bare', 'check-1', 'check-rr', 'check-2hot', 'authz-1'];
const ENGINES = ['sqlite', 'postgresql'];

function parseOptions(argv) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const [key, inline] = a.slice(2).split('=', 2);
    if (key === 'smoke' || key === 'help') {
      flags[key] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    flags[key] = value;
  }
  if (flags.help) {
    process.stdout.write(
      readFileSync(new URL(import.meta.url), 'utf8')
        .split('\n')
        .slice(1)
        .filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('//')))
        .map((l) => l.replace(/^\/\/ ?/, ''))
        .join('\n') + '\n',
    );
    process.exit(0);
  }
  const smoke = Boolean(flags.smoke);
  const list = (v, all, what) => {
    if (v === undefined) return [...all];
    const items = String(v)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const it of items) if (!all.includes(it)) throw new Error(`unknown ${what} "${it}" (one of ${all.join(', ')})`);
    return items;
  };
  const num = (v, dflt, min = 0) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`bad number ${v}`);
    return n;
  };
  const opts = {
    smoke,
    only: list(flags.only, WORKLOADS, 'workload'),
    checkCases: list(flags['check-cases'], CHECK_CASES, 'check case'),
    compare: flags.compare === undefined ? null : path.resolve(String(flags.compare)),
    engines: list(flags.engines, ENGINES, 'engine'),
    duration: num(flags.duration, smoke ? 1 : 5, 0.5),
    trials: Math.round(num(flags.trials, smoke ? 1 : 3, 1)),
    connections: Math.round(num(flags.connections, 32, 1)),
    warmup: smoke ? 0 : 2,
    rrTokens: smoke ? 1000 : 10_000,
    loginConnections: smoke ? [1, 16] : [1, 4, 16],
    loginUsers: smoke ? 4 : 16,
    revokeTokens: smoke ? 20 : 200,
    propagationTokens: Math.round(num(flags['propagation-tokens'], smoke ? 20 : 1000, 1)),
    eventsBacklog: Math.round(num(flags['events-backlog'], smoke ? 500 : 20_000, 1)),
    eventsLatencyTokens: smoke ? 20 : 200,
    scaleSmall: 1000,
    scaleBig: Math.round(num(flags['scale-tokens'], smoke ? 10_000 : 1_000_000, 1000)),
    scaleRotation: 1000,
    // More distinct tokens than the default token cache (100,000 entries).
    scaleCold: smoke ? 0 : 150_000,
    reaperLive: 1000,
    reaperExpired: Math.round(num(flags['reaper-tokens'], smoke ? 10_000 : 1_000_000, 1)),
    reaperConnections: 2,
    hashingConcurrency: flags['hashing-concurrency'] === undefined ? null : Math.round(num(flags['hashing-concurrency'], 0, 0)),
    generator: flags.generator ?? (hasWrk() ? 'wrk' : 'autocannon'),
    generatorThreads: Math.round(num(flags['generator-threads'], 1, 1)),
    purgeTimeout: smoke ? 30 : 300,
    afterPurgeMs: smoke ? 500 : 2000,
  };
  opts.warmup = Math.min(opts.warmup, opts.duration);
  if (opts.compare !== null) {
    for (const f of ['bin/xivo-auth.js', 'dist/cli/main.js']) {
      try {
        readFileSync(path.join(opts.compare, f));
      } catch {
        throw new Error(`--compare ${opts.compare}: no ${f} (a built copy of the service)`);
      }
    }
  }
  if (!['wrk', 'autocannon'].includes(opts.generator))
    throw new Error(`unknown generator "${opts.generator}" (wrk or autocannon)`);
  if (opts.generator === 'wrk' && !hasWrk()) throw new Error('--generator wrk: wrk is not installed (apt-get install wrk)');
  return opts;
}

function hasWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // `wrk --version` prints its usage and exits 1: installed.
    return err?.code !== 'ENOENT';
  }
}

function machineInfo() {
  const cpuModel = (() => {
    try {
      return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
    } catch {
      return os.cpus()[0]?.model;
    }
  })();
  let nproc = os.availableParallelism();
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    /* keep */
  }
  return {
    nproc,
    cpuModel,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    loadAverageAtStart: os.loadavg(),
  };
}

async function startBareServer() {
  const script = path.join(REPO_ROOT, 'bench', 'bare-server.js');
  const child = spawnTracked(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const info = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]));
    });
    child.once('exit', (code) => reject(new Error(`bare server exited (${code})`)));
  });
  return { child, pid: child.pid, url: `http://127.0.0.1:${info.port}` };
}

/** Fresh main database and service, an admin, users, one real token and its row as a template. */
async function setupEngine(ctx, engine) {
  const dir = path.join(ctx.tmp, engine);
  mkdirSync(dir, { recursive: true });
  const mainDb = new BenchDatabase(engine, { dir, name: 'main' });
  ctx.dbs.add(mainDb);
  await mainDb.create();
  const overrides =
    ctx.opts.hashingConcurrency === null ? {} : { password_hashing: { ...HASHING, max_concurrent: ctx.opts.hashingConcurrency } };
  const main = new ServiceProcess({ name: `${engine}-main`, dir: path.join(dir, 'main'), dbUri: mainDb.uri, overrides });
  ctx.services.add(main);
  const firstStartMs = await main.start();
  const adminToken = await main.login(ADMIN.username, ADMIN.password);
  await main.createUser(adminToken, 'bench-check', 'bench-check-password');
  const loginUsers = Array.from({ length: ctx.opts.loginUsers }, (_, i) => ({
    username: `bench-login-${String(i).padStart(2, '0')}`,
    password: `bench-login-password-${i}`,
  }));
  // Two at a time: each one is an argon2id hash.
  for (let i = 0; i < loginUsers.length; i += 2) {
    await Promise.all(loginUsers.slice(i, i + 2).map((u) => main.createUser(adminToken, u.username, u.password)));
  }
  const checkToken = await main.login('bench-check', 'bench-check-password');
  const template = templateFrom(await main.tokenDetails(checkToken));
  const env = { engine, dir, mainDb, main, adminToken, loginUsers, checkToken, template, rrSeed: `${engine}-rr-${ctx.runId}` };
  const result = { firstStartMs };
  if (ctx.opts.only.includes('check')) {
    // The round-robin tokens go straight into the database, service stopped.
    await main.stop();
    result.rrSeedSeconds = await mainDb.seedTokens({
      seed: env.rrSeed,
      count: ctx.opts.rrTokens,
      template,
      expiresAt: () => Date.now() + 86_400_000,
    });
    result.restartMs = await main.start();
    if (ctx.opts.compare !== null) {
      // The other build, on the same database (already migrated and seeded).
      const compare = new ServiceProcess({
        name: `${engine}-compare`,
        dir: path.join(dir, 'compare'),
        dbUri: mainDb.uri,
        overrides,
        root: ctx.opts.compare,
      });
      ctx.services.add(compare);
      await compare.start();
      env.compare = compare;
    }
  }
  return { env, result };
}

async function runEngine(ctx, engine) {
  const only = new Set(ctx.opts.only);
  const out = { loadAverageAtStart: os.loadavg() };
  ctx.results.engines[engine] = out;
  ctx.log(`== ${engine}`);
  const { env, result } = await setupEngine(ctx, engine);
  Object.assign(out, result);
  try {
    if (only.has('check') || only.has('get'))
      out.check = await runCheckWorkloads(ctx, env, { check: only.has('check'), get: only.has('get') });
    if (only.has('login')) out.login = await runLoginWorkload(ctx, env);
    if (only.has('revoke')) out.revoke = await runRevokeWorkload(ctx, env);
    if (only.has('propagation')) {
      if (engine === 'postgresql') out.propagation = await runPropagationWorkload(ctx, env);
      else ctx.log('[sqlite] propagation: PostgreSQL only (two instances share one database)');
    }
    if (only.has('events')) out.events = await runEventsWorkload(ctx, env);
  } finally {
    await env.main.stop();
    ctx.services.delete(env.main);
    if (env.compare) {
      await env.compare.stop();
      ctx.services.delete(env.compare);
    }
  }
  if (only.has('scale')) out.scale = await runScaleWorkload(ctx, env);
  if (only.has('reaper')) out.reaper = await runReaperWorkload(ctx, env);
  await env.mainDb.drop();
  ctx.dbs.delete(env.mainDb);
}

/** "server/load generator/everything else" CPU cores used during the trial. */
function cores(s) {
  if (s?.serverCores === undefined || s.serverCores === null) return '-';
  const server =
    s.pgCores !== undefined && s.pgCores !== null ? `${fmt(s.serverCores, 2)}+${fmt(s.pgCores, 2)}pg` : fmt(s.serverCores, 2);
  return [server, fmt(s.loadGenCores, 2), fmt(Math.max(0, s.otherCores), 2)].join('/');
}

/** CPU per request of the service (+ its PostgreSQL backends). */
function cpuPerRequest(s) {
  if (s?.cpuPerRequestUs === undefined || s.cpuPerRequestUs === null) return '-';
  return s.pgCpuPerRequestUs !== undefined && s.pgCpuPerRequestUs !== null
    ? `${fmt(s.cpuPerRequestUs, 0)}+${fmt(s.pgCpuPerRequestUs, 0)}pg`
    : fmt(s.cpuPerRequestUs, 0);
}

function resultRows(results, opts) {
  const rows = [];
  const ms = (v) => fmt(v, 2);
  const us = (v) => fmt(v, 0);
  const mib = (v) => fmt(v, 0);
  for (const [engine, e] of Object.entries(results.engines)) {
    const c = e.check;
    if (c) {
      const names = {
        bare: 'bare node http 204 (HEAD)',
        'check-1': 'check HEAD ?scope, 1 token',
        'check-rr': `check HEAD ?scope, ${opts.rrTokens.toLocaleString('en-US')} tokens RR`,
        'check-2hot': 'check HEAD ?scope, 2 hot tokens alternating',
        'authz-1': 'GET /authz ?access, 1 token (gateway)',
        'get-1': 'GET token details',
        'check-1-compare': 'check HEAD ?scope, 1 token (--compare build)',
        'authz-1-compare': 'GET /authz ?access, 1 token (--compare build)',
      };
      for (const k of ['bare', 'check-1', 'check-1-compare', 'check-rr', 'check-2hot', 'authz-1', 'authz-1-compare', 'get-1']) {
        const s = c[k];
        if (!s) continue;
        rows.push([
          engine,
          names[k],
          fmt(s.rps, 0),
          ms(s.p50),
          ms(s.p99),
          ms(s.max),
          s.errors + s.non2xx,
          cpuPerRequest(s),
          mib(s.rssMiB),
          cores(s),
          `${opts.connections} conns`,
        ]);
      }
    }
    const l = e.login;
    if (l) {
      rows.push([
        engine,
        'argon2id raw hash rate',
        fmt(l['argon2-raw'].rps, 1),
        '-',
        '-',
        '-',
        0,
        '-',
        '-',
        '-',
        `${os.availableParallelism()} parallel, m=${HASHING.memory_kib} t=${HASHING.iterations} p=${HASHING.parallelism}; idle service's loop delay max ${fmt(l['argon2-raw'].loopMaxMs, 1)} ms; /status max ${fmt(l['argon2-raw'].probeMaxMs, 1)} ms`,
      ]);
      for (const cn of opts.loginConnections) {
        const s = l[`login-${cn}`];
        rows.push([
          engine,
          `login POST /token, ${cn} conn${cn > 1 ? 's' : ''}`,
          fmt(s.okRps, 1),
          fmt(s.p50, 0),
          fmt(s.p99, 0),
          fmt(s.max, 0),
          s.errors + s.non2xx - s.busy503,
          cpuPerRequest(s),
          mib(s.rssMiB),
          cores(s),
          `503: ${s.busy503}; loop delay max ${fmt(s.loopMaxMs, 1)} / p99 ${fmt(s.loopP99Ms, 1)} ms; /status max ${fmt(s.probeMaxMs, 1)} ms`,
        ]);
      }
    }
    const r = e.revoke;
    if (r) {
      rows.push([
        engine,
        `revoke DELETE (${r.tokens} tokens)`,
        fmt(r.delete.rps, 0),
        ms(r.delete.p50),
        ms(r.delete.p99),
        '-',
        r.delete.errors,
        us(r.delete.cpuPerRequestUs),
        '-',
        '-',
        '8 conns',
      ]);
      rows.push([
        engine,
        'check after revoke (expect 404)',
        fmt(r.checkAfter.rps, 0),
        ms(r.checkAfter.p50),
        ms(r.checkAfter.p99),
        '-',
        r.mismatches,
        us(r.checkAfter.cpuPerRequestUs),
        '-',
        '-',
        `mismatches: ${r.mismatches}`,
      ]);
    }
    const p = e.propagation;
    if (p)
      rows.push([
        engine,
        `revocation A → B (${p.tokens} tokens)`,
        '-',
        ms(p.p50),
        ms(p.p99),
        ms(p.max),
        p.neverSeen + p.unexpected,
        '-',
        '-',
        '-',
        `${fmt(p.pollsPerToken, 1)} polls/token`,
      ]);
    const ev = e.events;
    if (ev) {
      rows.push([
        engine,
        `events: outbox backlog of ${ev.drain.events.toLocaleString('en-US')} drained`,
        fmt(ev.drain.eventsPerSecond, 0),
        '-',
        '-',
        '-',
        ev.drain.events - Math.min(ev.drain.received, ev.drain.events),
        '-',
        '-',
        '-',
        `events/s first → last; ${fmt(ev.drain.totalSeconds, 2)} s from service start`,
      ]);
      rows.push([
        engine,
        `events: DELETE → auth_session_deleted (${ev.latency.revocations})`,
        '-',
        ms(ev.latency.p50),
        ms(ev.latency.p99),
        ms(ev.latency.max),
        0,
        '-',
        '-',
        '-',
        'from DELETE sent to the consumer',
      ]);
    }
    const sc = e.scale;
    if (sc) {
      const small = sc.stores.small;
      const big = sc.stores.big;
      const rowsOf = [
        ['small-rot', `check, ${small.tokens.toLocaleString('en-US')} stored, ${sc.rotation} RR`, small],
        ['big-rot', `check, ${big.tokens.toLocaleString('en-US')} stored, ${sc.rotation} RR`, big],
        ['big-cold', `check, ${big.tokens.toLocaleString('en-US')} stored, ${sc.cold.toLocaleString('en-US')} RR`, big],
      ];
      for (const [k, label, store] of rowsOf) {
        const s = sc[k];
        if (!s) continue;
        rows.push([
          engine,
          label,
          fmt(s.rps, 0),
          ms(s.p50),
          ms(s.p99),
          ms(s.max),
          s.errors + s.non2xx,
          cpuPerRequest(s),
          mib(s.rssMiB),
          cores(s),
          `start-up ${fmt(store.startupMs / 1000, 2)} s; RSS at start ${mib(store.rssAfterStartMiB)} MiB`,
        ]);
      }
    }
    const rp = e.reaper;
    if (rp) {
      rows.push([
        engine,
        'check while idle (reaper store)',
        fmt(rp.idle.rps, 0),
        ms(rp.idle.p50),
        ms(rp.idle.p99),
        ms(rp.idle.max),
        rp.idle.errors,
        '-',
        '-',
        '-',
        `${rp.load.connections} conns`,
      ]);
      rows.push([
        engine,
        `check during purge of ${rp.expired.toLocaleString('en-US')}`,
        fmt(rp.during.rps, 0),
        ms(rp.during.p50),
        ms(rp.during.p99),
        ms(rp.during.max),
        rp.load.errors,
        '-',
        '-',
        '-',
        `purge ${fmt(rp.purgeSeconds, 1)} s (${fmt(rp.deletedPerSecond, 0)} rows/s); expired left ${rp.expiredLeft}`,
      ]);
    }
  }
  return rows;
}

/** Median CPU used by other processes during the bare-server trials (nothing else should run then). */
function busyMachine(results) {
  const others = Object.values(results.engines)
    .flatMap((e) => e.check?.bare?.runs ?? [])
    .map((r) => r.machine?.otherCores)
    .filter((v) => typeof v === 'number');
  if (others.length === 0) return null;
  return others.sort((a, b) => a - b)[Math.floor(others.length / 2)];
}

const HEADERS = [
  'engine',
  'workload',
  'req/s',
  'p50 ms',
  'p99 ms',
  'max ms',
  'errors',
  'CPU µs/req',
  'RSS MiB',
  'cores srv/gen/other',
  'notes',
];

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'xivo-auth-bench-'));
  const ctx = {
    opts,
    tmp,
    runId: randomSuffix(),
    services: new Set(),
    dbs: new Set(),
    targets: [],
    problems: [],
    results: {
      startedAt: startedAt.toISOString(),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      options: opts,
      machine: machineInfo(),
      engines: {},
    },
    log: (msg) =>
      process.stdout.write(
        msg.startsWith('\n') ? `${msg}\n` : `[${((Date.now() - startedAt.getTime()) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`,
      ),
    target(engine, name, met, measured) {
      this.targets.push({ engine, name, met: Boolean(met), measured });
    },
    /** A target whose figures would not mean what they say: not reported, and why. */
    refuse(engine, name, why) {
      this.targets.push({ engine, name, met: false, refused: true, measured: `not reported: ${why}` });
      this.log(`  REFUSED [${engine}] ${name}: ${why}`);
    },
    problem(engine, workload, message) {
      this.problems.push({ engine, workload, message });
      this.log(`  PROBLEM [${engine}] ${workload}: ${message}`);
    },
    /** Errors, timeouts or a status outside `allowed` are problems (the harness or the service broke). */
    expectOnly(engine, workload, summary, allowed) {
      const unexpected = Object.entries(summary.statusCodes ?? {}).filter(([code]) => !allowed.includes(code));
      const errors = summary.errors ?? 0;
      if (unexpected.length > 0 || errors > 0) {
        this.problem(
          engine,
          workload,
          `expected only ${allowed.join('/')}: statuses ${JSON.stringify(summary.statusCodes)}, errors ${errors}`,
        );
      }
    },
  };

  let bare = null;
  let cleaning = null;
  const cleanup = () => {
    cleaning ??= (async () => {
      for (const s of ctx.services) await s.stop().catch(() => undefined);
      if (bare) await stopChild(bare.child).catch(() => undefined);
      for (const db of ctx.dbs)
        await db.drop().catch((err) => process.stderr.write(`could not drop ${db.dbName ?? db.file}: ${err.message}\n`));
      killAllChildren();
      rmSync(tmp, { recursive: true, force: true });
    })();
    return cleaning;
  };
  process.on('exit', killAllChildren);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      ctx.interrupted = true;
      process.stderr.write(`\n${sig}: stopping every process started, dropping databases\n`);
      cleanup().finally(() => process.exit(130));
    });
  }

  let failure = null;
  const t0 = Date.now();
  try {
    ctx.log(
      `xivo-auth benchmark${opts.smoke ? ' (smoke)' : ''}: ${opts.engines.join(', ')}; workloads ${opts.only.join(', ')}; ` +
        `${opts.trials} × ${opts.duration} s trials; checks driven by ${opts.generator}; ${ctx.results.machine.nproc} CPUs (${ctx.results.machine.cpuModel}), node ${process.version}, load average ${os
          .loadavg()
          .map((v) => v.toFixed(2))
          .join(' ')}`,
    );
    if (opts.only.includes('check')) {
      bare = await startBareServer();
      ctx.bare = bare;
    }
    if (opts.smoke) {
      // The smoke run checks that everything works, not the figures: both
      // engines at once halves its time.
      const settled = await Promise.allSettled(opts.engines.map((engine) => runEngine(ctx, engine)));
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
    } else {
      for (const engine of opts.engines) await runEngine(ctx, engine);
    }
  } catch (err) {
    failure = err;
    if (!ctx.interrupted) process.stderr.write(`\nbenchmark failed: ${err?.stack ?? err}\n`);
  } finally {
    await cleanup();
  }

  const results = ctx.results;
  results.finishedAt = new Date().toISOString();
  results.elapsedSeconds = (Date.now() - t0) / 1000;
  results.machine.loadAverageAtEnd = os.loadavg();
  results.targets = ctx.targets;
  results.problems = ctx.problems;
  results.failure = failure ? String(failure?.stack ?? failure) : null;

  const rows = resultRows(results, opts);
  const targetRows = ctx.targets.map((t) => [t.engine, t.name, t.measured, t.refused ? 'REFUSED' : t.met ? 'met' : 'MISSED']);
  ctx.log(`\n${textTable(HEADERS, rows)}\n`);
  if (ctx.targets.length)
    ctx.log(`Targets (ratios measured in this run):\n${textTable(['engine', 'target', 'measured', ''], targetRows)}\n`);
  if (opts.only.includes('login')) {
    ctx.log(
      'Login event-loop delay: "loop delay" is the service\'s own xivo_auth_event_loop_delay_seconds (monitorEventLoopDelay, 2 ms period) over each trial, max of trials and median p99; "/status max" is the slowest GET /0.1/status sent every 10 ms (an upper bound seen from outside).',
    );
  }
  ctx.log(
    'cores srv/gen/other: CPU cores used during the trial by the server (+ its PostgreSQL backends), the load generator, and everything else on the machine.',
  );
  ctx.log(
    `CPU µs/req: the server's own CPU time (/proc/<pid>/stat) over the answers it gave. A ratio is REFUSED when the load generator reached ${GENERATOR_BOUND} of a core (per thread) in either run compared.`,
  );
  const busy = busyMachine(results);
  if (opts.smoke) {
    ctx.log('Smoke run: tiny data, 1 s trials, both engines at once: the figures only show that everything ran.');
  } else if (busy !== null && busy > 0.25) {
    ctx.log(
      `WARNING: during the bare-server trials, other processes used ${busy.toFixed(2)} cores on average: the machine was not quiet, figures are unreliable.`,
    );
  }
  if (ctx.problems.length)
    ctx.log(
      `\n${ctx.problems.length} problem(s):\n${ctx.problems.map((p) => `  [${p.engine}] ${p.workload}: ${p.message}`).join('\n')}`,
    );

  const dir = path.join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${stamp}${opts.smoke ? '-smoke' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const m = results.machine;
  writeFileSync(
    file.replace(/\.json$/, '.md'),
    [
      `Command: \`${results.command}\` — ${results.startedAt}, ${results.elapsedSeconds.toFixed(0)} s`,
      `Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.kernel}; load average at start ${m.loadAverageAtStart.map((v) => v.toFixed(2)).join(' ')}`,
      '',
      markdownTable(HEADERS, rows),
      '',
      markdownTable(['engine', 'target', 'measured', ''], targetRows),
      '',
    ].join('\n'),
  );
  ctx.log(`\nresults: ${path.relative(process.cwd(), file)} (${results.elapsedSeconds.toFixed(0)} s)`);
  process.exitCode = failure || ctx.problems.length ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  killAllChildren();
  process.exit(1);
});
