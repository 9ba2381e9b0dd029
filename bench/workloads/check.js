// (a) HEAD /0.1/token/{t}?scope=… with one token and with N distinct tokens
// round-robin, (b) GET /0.1/token/{t} — interleaved with the bare Node server
// answering the very same HEAD request.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { seededToken } from '../lib/database.js';
import { interleavedTrials } from '../lib/measure.js';
import { CHECK_SCOPE } from '../lib/service.js';

export async function runCheckWorkloads(ctx, env, { check, get }) {
  const { opts } = ctx;
  const onePath = `/0.1/token/${env.checkToken}?scope=${CHECK_SCOPE}`;
  const cases = [];
  if (check) {
    const requestsFile = path.join(ctx.tmp, `${env.engine}-check-rr.json`);
    writeFileSync(requestsFile, JSON.stringify(Array.from({ length: opts.rrTokens }, (_, i) => (
      { method: 'HEAD', path: `/0.1/token/${seededToken(env.rrSeed, i)}?scope=${CHECK_SCOPE}` }))));
    const head = { requests: [{ method: 'HEAD', path: onePath }], connections: opts.connections };
    cases.push(
      { key: 'bare', target: ctx.bare, load: head },
      { key: 'check-1', target: env.main, load: head },
      { key: 'check-rr', target: env.main, prime: opts.rrTokens, load: { requestsFile, connections: opts.connections } },
      // Two hot tokens alternating (two services checking their own token),
      // while the cache also holds the round-robin tokens: an LRU that
      // re-inserts keys on every hit degrades here (Map bucket chains).
      { key: 'check-2hot', target: env.main, load: {
        requests: [onePath, `/0.1/token/${seededToken(env.rrSeed, 0)}?scope=${CHECK_SCOPE}`].map((p) => ({ method: 'HEAD', path: p })),
        connections: opts.connections,
      } },
      // The gateway endpoint (issue 8): same hot path, token in a header.
      { key: 'authz-1', target: env.main, load: {
        requests: [{ method: 'GET', path: `/0.1/authz?access=${CHECK_SCOPE}`, headers: { 'x-auth-token': env.checkToken } }],
        connections: opts.connections,
      } },
    );
  }
  if (get) {
    cases.push({
      key: 'get-1', target: env.main,
      load: { requests: [{ method: 'GET', path: `/0.1/token/${env.checkToken}` }], connections: opts.connections },
    });
  }
  ctx.log(`[${env.engine}] check/get: ${cases.map((c) => c.key).join(', ')} — ${opts.trials} interleaved trials of ${opts.duration} s, ${opts.connections} connections`);
  const r = await interleavedTrials(ctx, cases, { trials: opts.trials, duration: opts.duration, warmup: opts.warmup, log: ctx.log });

  const expected = { bare: ['204'], 'check-1': ['204'], 'check-rr': ['204'], 'check-2hot': ['204'], 'authz-1': ['200'], 'get-1': ['200'] };
  for (const [key, summary] of Object.entries(r)) ctx.expectOnly(env.engine, key, summary, expected[key]);

  if (check) {
    const ratio = r['check-1'].rps / r.bare.rps;
    ctx.target(env.engine, 'check (1 token) ≥ 50% of bare Node req/s @32 conns', ratio >= 0.5,
      `${(ratio * 100).toFixed(0)}% (${r['check-1'].rps.toFixed(0)} vs ${r.bare.rps.toFixed(0)} req/s)`);
    ctx.target(env.engine, 'check (1 token) p99 ≤ 5 ms', r['check-1'].p99 <= 5, `${r['check-1'].p99.toFixed(2)} ms`);
    const errs = r['check-1'].errors + r['check-1'].non2xx + r['check-rr'].errors + r['check-rr'].non2xx;
    ctx.target(env.engine, 'check: zero errors / non-2xx', errs === 0, `${errs}`);
    const authz = r['authz-1'].rps / r['check-1'].rps;
    ctx.target(env.engine, 'GET /authz within 15% of the token check', authz >= 0.85,
      `${(authz * 100).toFixed(0)}% (${r['authz-1'].rps.toFixed(0)} req/s, p99 ${r['authz-1'].p99.toFixed(2)} ms)`);
    const two = r['check-2hot'].rps / r['check-1'].rps;
    ctx.target(env.engine, 'check with 2 hot tokens alternating within 15% of one token', two >= 0.85,
      `${(two * 100).toFixed(0)}% (${r['check-2hot'].rps.toFixed(0)} req/s, ${r['check-2hot'].cpuPerRequestUs?.toFixed(0)} vs ${r['check-1'].cpuPerRequestUs?.toFixed(0)} µs CPU/req)`);
    const rr = r['check-rr'].rps / r['check-1'].rps;
    ctx.target(env.engine, `check with ${opts.rrTokens.toLocaleString('en-US')} distinct tokens within 15% of one token`, rr >= 0.85,
      `${(rr * 100).toFixed(0)}% (${r['check-rr'].rps.toFixed(0)} req/s)`);
  }
  return r;
}
