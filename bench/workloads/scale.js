// (e) Scale: a store holding SCALE_BIG live tokens (1,000,000; 10,000 in
// --smoke) against one holding 1,000, rows inserted directly in the database
// (service stopped), both services running side by side and measured in
// interleaved trials. Both rotate over the same number of distinct tokens
// (1,000), so the only difference is the size of the store; a third case
// rotates over more distinct tokens than the in-process cache holds
// (every check misses the cache). Reports start-up time and RSS.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BenchDatabase, seededToken } from '../lib/database.js';
import { interleavedTrials } from '../lib/measure.js';
import { memoryMiB } from '../lib/proc-stats.js';
import { CHECK_SCOPE, ServiceProcess } from '../lib/service.js';

const DAY_MS = 86_400_000;

export async function runScaleWorkload(ctx, env) {
  const { opts } = ctx;
  const live = () => Date.now() + DAY_MS;
  const stores = [
    { key: 'small', count: opts.scaleSmall },
    { key: 'big', count: opts.scaleBig },
  ];
  const services = {};
  const r = { stores: {} };
  try {
    // Both schemas at once (`xivo-auth migrate`); seeding and start-up one
    // after the other, so that each start-up time is measured alone.
    const prepared = await Promise.all(
      stores.map(async (s) => {
        const db = new BenchDatabase(env.engine, { dir: env.dir, name: `scale_${s.key}` });
        ctx.dbs.add(db);
        await db.create();
        const svc = new ServiceProcess({
          name: `${env.engine}-scale-${s.key}`,
          dir: path.join(env.dir, `scale-${s.key}`),
          dbUri: db.uri,
        });
        await svc.migrate();
        return { db, svc };
      }),
    );
    for (const [i, s] of stores.entries()) {
      const { db, svc } = prepared[i];
      ctx.log(`[${env.engine}] scale: inserting ${s.count.toLocaleString('en-US')} tokens directly`);
      const seed = `${env.engine}-scale-${s.key}-${ctx.runId}`;
      const seedSeconds = await db.seedTokens({ seed, count: s.count, template: env.template, expiresAt: live });
      ctx.services.add(svc);
      const startupMs = await svc.start();
      const mem = memoryMiB(svc.pid);
      services[s.key] = { svc, db, seed };
      r.stores[s.key] = { tokens: s.count, seedSeconds, startupMs, rssAfterStartMiB: mem.rss };
      ctx.log(
        `  ${s.count.toLocaleString('en-US')} tokens: seeded in ${seedSeconds.toFixed(1)} s, service ready in ${startupMs.toFixed(0)} ms, RSS ${mem.rss.toFixed(0)} MiB`,
      );
    }

    const rotation = Math.min(opts.scaleRotation, opts.scaleSmall);
    const file = (name, seed, n) => {
      const f = path.join(ctx.tmp, `${env.engine}-scale-${name}.json`);
      writeFileSync(
        f,
        JSON.stringify(
          Array.from({ length: n }, (_, i) => ({
            method: 'HEAD',
            path: `/0.1/token/${seededToken(seed, i)}?scope=${CHECK_SCOPE}`,
          })),
        ),
      );
      return f;
    };
    const cases = [
      {
        key: 'small-rot',
        target: services.small.svc,
        prime: rotation,
        load: { requestsFile: file('small', services.small.seed, rotation), connections: opts.connections },
      },
      {
        key: 'big-rot',
        target: services.big.svc,
        prime: rotation,
        load: { requestsFile: file('big', services.big.seed, rotation), connections: opts.connections },
      },
    ];
    ctx.log(
      `[${env.engine}] scale: ${cases.map((c) => c.key).join(', ')} (rotation ${rotation}) — ${opts.trials} interleaved trials of ${opts.duration} s`,
    );
    Object.assign(
      r,
      await interleavedTrials(ctx, cases, { trials: opts.trials, duration: opts.duration, warmup: opts.warmup, log: ctx.log }),
    );
    r.rotation = rotation;
    const memHot = memoryMiB(services.big.svc.pid);
    r.stores.big.rssHotMiB = memHot.rss;
    r.stores.small.rssHotMiB = memoryMiB(services.small.svc.pid).rss;

    // Then, alone (it fills the cache for good): more distinct tokens than
    // the cache holds, so every check misses it and reads the store.
    const cold = Math.min(opts.scaleCold, opts.scaleBig);
    r.cold = cold;
    if (cold > rotation) {
      const coldCase = {
        key: 'big-cold',
        target: services.big.svc,
        load: { requestsFile: file('big-cold', services.big.seed, cold), connections: opts.connections },
      };
      cases.push(coldCase);
      ctx.log(
        `[${env.engine}] scale: big-cold (rotation ${cold.toLocaleString('en-US')}) — ${opts.trials} trials of ${opts.duration} s`,
      );
      Object.assign(
        r,
        await interleavedTrials(ctx, [coldCase], {
          trials: opts.trials,
          duration: opts.duration,
          warmup: opts.warmup,
          log: ctx.log,
        }),
      );
    }
    for (const c of cases) ctx.expectOnly(env.engine, `scale ${c.key}`, r[c.key], ['204']);
    for (const s of stores) {
      const mem = memoryMiB(services[s.key].svc.pid);
      r.stores[s.key].rssEndMiB = mem.rss;
      r.stores[s.key].hwmMiB = mem.hwm;
    }

    const big = r.stores.big;
    const ratio = r['big-rot'].rps / r['small-rot'].rps;
    const n = opts.scaleBig.toLocaleString('en-US');
    ctx.target(
      env.engine,
      `check with ${n} tokens stored within 20% of 1,000 tokens`,
      ratio >= 0.8,
      `${(ratio * 100).toFixed(0)}% (${r['big-rot'].rps.toFixed(0)} vs ${r['small-rot'].rps.toFixed(0)} req/s; p99 ${r['big-rot'].p99.toFixed(2)} vs ${r['small-rot'].p99.toFixed(2)} ms)`,
    );
    // Judged on the worst case: after the cold rotation has filled the token cache.
    const rss = Math.max(big.rssEndMiB, big.rssHotMiB);
    ctx.target(
      env.engine,
      `RSS < 300 MiB with ${n} tokens stored`,
      rss < 300,
      `${rss.toFixed(0)} MiB${r['big-cold'] ? ' after the cold rotation filled the token cache' : ''}; ${big.rssHotMiB.toFixed(0)} MiB with ${rotation} hot tokens (start-up ${(big.startupMs / 1000).toFixed(2)} s)`,
    );
    return r;
  } finally {
    for (const { svc, db } of Object.values(services)) {
      await svc.stop();
      ctx.services.delete(svc);
      await db.drop();
      ctx.dbs.delete(db);
    }
  }
}
