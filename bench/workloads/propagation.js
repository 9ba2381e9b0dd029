// (g) Revocation propagation between two instances on one PostgreSQL
// database: for each token, check it on B (so B may cache it), DELETE it on A,
// then poll HEAD on B until 404; record the time from A's answer to B's 404.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ServiceProcess, CHECK_SCOPE } from '../lib/service.js';
import { summarizeLatencies } from '../lib/stats.js';
import { createTokens } from './revoke.js';

const GIVE_UP_MS = 5000;

export async function runPropagationWorkload(ctx, env) {
  const { opts } = ctx;
  const n = opts.propagationTokens;
  const b = new ServiceProcess({ name: `${env.engine}-B`, dir: path.join(env.dir, 'instance-b'), dbUri: env.mainDb.uri });
  ctx.services.add(b);
  await b.start();
  try {
    ctx.log(`[${env.engine}] propagation: ${n} tokens created on A, revoked on A, polled on B`);
    const tokens = await createTokens(env.main, env.loginUsers, n);
    const delays = [];
    let neverSeen = 0;
    let unexpected = 0;
    let polls = 0;
    for (const token of tokens) {
      const check = `/0.1/token/${token}?scope=${CHECK_SCOPE}`;
      const warm = await b.request({ method: 'HEAD', path: check });
      if (warm.status !== 204) unexpected += 1;
      const del = await env.main.request({ method: 'DELETE', path: `/0.1/token/${token}` });
      if (del.status !== 200) unexpected += 1;
      const t0 = performance.now();
      for (;;) {
        const res = await b.request({ method: 'HEAD', path: check });
        polls += 1;
        if (res.status === 404) {
          delays.push(performance.now() - t0);
          break;
        }
        if (res.status !== 204) unexpected += 1;
        if (performance.now() - t0 > GIVE_UP_MS) {
          neverSeen += 1;
          break;
        }
      }
    }
    const s = summarizeLatencies(delays);
    const r = { tokens: n, ...s, neverSeen, unexpected, pollsPerToken: polls / n };
    if (neverSeen + unexpected > 0) {
      ctx.problem(
        env.engine,
        'propagation',
        `${neverSeen} revoked tokens still valid on B after ${GIVE_UP_MS} ms, ${unexpected} unexpected statuses`,
      );
    }
    ctx.target(
      env.engine,
      'revocation propagation A → B p99 ≤ 50 ms',
      neverSeen === 0 && s.p99 <= 50,
      `p50 ${s.p50?.toFixed(2)} ms, p99 ${s.p99?.toFixed(2)} ms${neverSeen ? `, ${neverSeen} never` : ''}`,
    );
    return r;
  } finally {
    await b.stop();
    ctx.services.delete(b);
  }
}
