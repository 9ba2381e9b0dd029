// (a) HEAD /0.1/token/{t}?scope=… with one token and with N distinct tokens
// round-robin, (b) GET /0.1/token/{t} — interleaved with the bare Node server
// answering the very same HEAD request.
//
// The load comes from wrk (ctx.opts.generator; autocannon when wrk is not
// installed), and a ratio to the bare server is reported only when the
// generator stayed below 90% of a core per thread in both runs compared:
// above, the generator, not the server, may have set the rate (the first
// round's figures, docs/benchmarks.md). The server's CPU per request (from
// /proc) and its ratio to the bare server's hold however loaded the machine is.
//
// --check-cases keeps some of the cases (targets needing a case left out are
// not reported); --compare adds check-1 and authz-1 against another build of
// the service, interleaved with this one's: the CPU per check of two builds
// compared in the same minutes of a shared machine.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { seededToken } from '../lib/database.js';
import { interleavedTrials } from '../lib/measure.js';
import { CHECK_SCOPE } from '../lib/service.js';

/** A generator at or above this share of a core (per thread) may be the bottleneck: no ratio then. */
export const GENERATOR_BOUND = 0.9;

/** Why a run's figures may be the generator's, or null. */
export function generatorBound(summary) {
  const perThread = summary.loadGenCores / (summary.runs?.[0]?.threads ?? 1);
  return perThread >= GENERATOR_BOUND
    ? `the load generator (${summary.runs?.[0]?.generator ?? 'autocannon'}) used ${perThread.toFixed(2)} of a core per thread (≥ ${GENERATOR_BOUND}): it, not the server, may have set the rate`
    : null;
}

export async function runCheckWorkloads(ctx, env, { check, get }) {
  const { opts } = ctx;
  const onePath = `/0.1/token/${env.checkToken}?scope=${CHECK_SCOPE}`;
  const cases = [];
  const generator = { generator: opts.generator, threads: opts.generatorThreads };
  if (check) {
    const requestsFile = path.join(ctx.tmp, `${env.engine}-check-rr.json`);
    writeFileSync(
      requestsFile,
      JSON.stringify(
        Array.from({ length: opts.rrTokens }, (_, i) => ({
          method: 'HEAD',
          path: `/0.1/token/${seededToken(env.rrSeed, i)}?scope=${CHECK_SCOPE}`,
        })),
      ),
    );
    const head = {
      requests: [{ method: 'HEAD', path: onePath }],
      connections: opts.connections,
      expectStatus: '204',
      ...generator,
    };
    cases.push(
      { key: 'bare', target: ctx.bare, load: head },
      { key: 'check-1', target: env.main, load: head },
      {
        key: 'check-rr',
        target: env.main,
        prime: opts.rrTokens,
        load: { requestsFile, connections: opts.connections, expectStatus: '204', ...generator },
      },
      // Two hot tokens alternating (two services checking their own token),
      // while the cache also holds the round-robin tokens: an LRU that
      // re-inserts keys on every hit degrades here (Map bucket chains).
      {
        key: 'check-2hot',
        target: env.main,
        load: {
          requests: [onePath, `/0.1/token/${seededToken(env.rrSeed, 0)}?scope=${CHECK_SCOPE}`].map((p) => ({
            method: 'HEAD',
            path: p,
          })),
          connections: opts.connections,
          expectStatus: '204',
          ...generator,
        },
      },
      // The gateway endpoint (issue 8): same hot path, token in a header.
      {
        key: 'authz-1',
        target: env.main,
        load: {
          requests: [{ method: 'GET', path: `/0.1/authz?access=${CHECK_SCOPE}`, headers: { 'x-auth-token': env.checkToken } }],
          connections: opts.connections,
          expectStatus: '200',
          ...generator,
        },
      },
    );
    if (env.compare) {
      // Right after this build's own case of each: A B A B… with the other build.
      const at = (key) => cases.findIndex((c) => c.key === key) + 1;
      cases.splice(at('check-1'), 0, { key: 'check-1-compare', target: env.compare, load: head });
      cases.splice(at('authz-1'), 0, { key: 'authz-1-compare', target: env.compare, load: cases[at('authz-1') - 1].load });
    }
    const kept = new Set(opts.checkCases.flatMap((k) => [k, `${k}-compare`]));
    for (let i = cases.length - 1; i >= 0; i -= 1) if (!kept.has(cases[i].key)) cases.splice(i, 1);
  }
  if (get) {
    cases.push({
      key: 'get-1',
      target: env.main,
      load: {
        requests: [{ method: 'GET', path: `/0.1/token/${env.checkToken}` }],
        connections: opts.connections,
        expectStatus: '200',
        ...generator,
      },
    });
  }
  ctx.log(
    `[${env.engine}] check/get: ${cases.map((c) => c.key).join(', ')} — ${opts.trials} interleaved trials of ${opts.duration} s, ${opts.connections} connections`,
  );
  const r = await interleavedTrials(ctx, cases, {
    trials: opts.trials,
    duration: opts.duration,
    warmup: opts.warmup,
    log: ctx.log,
  });

  const expected = {
    bare: ['204'],
    'check-1': ['204'],
    'check-rr': ['204'],
    'check-2hot': ['204'],
    'authz-1': ['200'],
    'get-1': ['200'],
    'check-1-compare': ['204'],
    'authz-1-compare': ['200'],
  };
  for (const [key, summary] of Object.entries(r)) ctx.expectOnly(env.engine, key, summary, expected[key]);

  if (check) {
    /** A ratio of `a` to `b`, or the reason it is not reported (nothing when a case was left out). */
    const ratioOf = (name, a, b, met, measured) => {
      if (!r[a] || !r[b]) return;
      const why = generatorBound(r[a]) ?? generatorBound(r[b]);
      if (why !== null) {
        ctx.refuse(env.engine, name, why);
        return;
      }
      const ratio = r[a].rps / r[b].rps;
      ctx.target(env.engine, name, met(ratio), measured(ratio));
    };
    const cpu = (k) => r[k].cpuPerRequestUs;
    /** `a`/`b` CPU per request of each trial (trial i of both ran minutes apart at most), then their median. */
    const pairedCpuRatio = (a, b) => {
      const ratios = r[a].runs
        .map((run, i) => run.cpuPerRequestUs / r[b].runs[i]?.cpuPerRequestUs)
        .filter(Number.isFinite)
        .sort((x, y) => x - y);
      return ratios.length === 0 ? null : ratios[Math.floor(ratios.length / 2)];
    };
    ratioOf(
      'check (1 token) ≥ 70% of bare Node req/s @32 conns',
      'check-1',
      'bare',
      (x) => x >= 0.7,
      (x) =>
        `${(x * 100).toFixed(0)}% (${r['check-1'].rps.toFixed(0)} vs ${r.bare.rps.toFixed(0)} req/s; generator ${r['check-1'].loadGenCores.toFixed(2)}/${r.bare.loadGenCores.toFixed(2)} cores)`,
    );
    // CPU per request: the ratio that holds on a loaded machine too (the
    // server's own CPU time, /proc/<pid>/stat, over the answers it gave).
    if (r['check-1'] && r.bare) {
      const cpuRatio = cpu('check-1') / cpu('bare');
      const cpuWhy = generatorBound(r['check-1']) ?? generatorBound(r.bare);
      if (cpuWhy !== null) ctx.refuse(env.engine, "service CPU per check ≤ 1.4 × the bare server's", cpuWhy);
      else
        ctx.target(
          env.engine,
          "service CPU per check ≤ 1.4 × the bare server's",
          cpuRatio <= 1.4,
          `${cpuRatio.toFixed(2)}× (${cpu('check-1').toFixed(1)} vs ${cpu('bare').toFixed(1)} µs per request; per-trial ratios' median ${pairedCpuRatio('check-1', 'bare')?.toFixed(2)}×)`,
        );
    }
    if (r['check-1'])
      ctx.target(env.engine, 'check (1 token) p99 ≤ 2 ms', r['check-1'].p99 <= 2, `${r['check-1'].p99.toFixed(2)} ms`);
    const errs = ['check-1', 'check-rr'].reduce((n, k) => n + (r[k] ? r[k].errors + r[k].non2xx : 0), 0);
    ctx.target(env.engine, 'check: zero errors / non-2xx', errs === 0, `${errs}`);
    for (const k of ['check-1', 'authz-1']) {
      const other = `${k}-compare`;
      if (!r[k] || !r[other]) continue;
      const ratio = pairedCpuRatio(k, other);
      const bare = r.bare
        ? `; bare ${cpu('bare').toFixed(1)} µs, ratios to bare ${(cpu(k) / cpu('bare')).toFixed(2)}× vs ${(cpu(other) / cpu('bare')).toFixed(2)}×`
        : '';
      ctx.target(
        env.engine,
        `${k}: CPU per request ≤ the --compare build's`,
        ratio !== null && ratio <= 1,
        `${ratio?.toFixed(2)}× (median of per-trial ratios; ${cpu(k).toFixed(1)} vs ${cpu(other).toFixed(1)} µs, ${r[k].rps.toFixed(0)} vs ${r[other].rps.toFixed(0)} req/s, p99 ${r[k].p99.toFixed(2)} vs ${r[other].p99.toFixed(2)} ms${bare})`,
      );
    }
    ratioOf(
      'GET /authz within 10% of the token check',
      'authz-1',
      'check-1',
      (x) => x >= 0.9,
      (x) =>
        `${(x * 100).toFixed(0)}% (${r['authz-1'].rps.toFixed(0)} req/s, p99 ${r['authz-1'].p99.toFixed(2)} ms; ${cpu('authz-1').toFixed(1)} vs ${cpu('check-1').toFixed(1)} µs CPU/req)`,
    );
    ratioOf(
      'check with 2 hot tokens alternating within 15% of one token',
      'check-2hot',
      'check-1',
      (x) => x >= 0.85,
      (x) =>
        `${(x * 100).toFixed(0)}% (${r['check-2hot'].rps.toFixed(0)} req/s, ${cpu('check-2hot')?.toFixed(0)} vs ${cpu('check-1')?.toFixed(0)} µs CPU/req)`,
    );
    ratioOf(
      `check with ${opts.rrTokens.toLocaleString('en-US')} distinct tokens within 15% of one token`,
      'check-rr',
      'check-1',
      (x) => x >= 0.85,
      (x) => `${(x * 100).toFixed(0)}% (${r['check-rr'].rps.toFixed(0)} req/s, ${cpu('check-rr')?.toFixed(0)} µs CPU/req)`,
    );
  }
  return r;
}
