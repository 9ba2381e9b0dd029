// (f) The reaper deleting REAPER_EXPIRED (1,000,000) expired tokens while
// checks run: check latency during the purge against the same load on the
// same store before the expired rows were added ("idle"). The expired rows are
// inserted directly with the service stopped; the service then starts with
// token_cleanup_interval 1 and token_cleanup_batch_size 5000. The harness
// watches min(tokens.expires_at) on its own connection to see when the purge
// starts and ends, and checks at the end that no expired row is left.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchDatabase, seededToken } from '../lib/database.js';
import { runLoad } from '../lib/measure.js';
import { CHECK_SCOPE, ServiceProcess } from '../lib/service.js';
import { summarizeLatencies } from '../lib/stats.js';

const DAY_MS = 86_400_000;
const POLL_MS = 100;

export async function runReaperWorkload(ctx, env) {
  const { opts } = ctx;
  const db = new BenchDatabase(env.engine, { dir: env.dir, name: 'reaper' });
  ctx.dbs.add(db);
  await db.create();
  const svc = new ServiceProcess({
    name: `${env.engine}-reaper`,
    dir: path.join(env.dir, 'reaper'),
    dbUri: db.uri,
    overrides: { token_cleanup_interval: 1, token_cleanup_batch_size: 5000 },
  });
  let conn = null;
  try {
    await svc.migrate();
    const liveSeed = `${env.engine}-reaper-live-${ctx.runId}`;
    const liveCount = opts.reaperLive;
    await db.seedTokens({ seed: liveSeed, count: liveCount, template: env.template, expiresAt: () => Date.now() + DAY_MS });
    const requestsFile = path.join(ctx.tmp, `${env.engine}-reaper-checks.json`);
    writeFileSync(
      requestsFile,
      JSON.stringify(
        Array.from({ length: liveCount }, (_, i) => ({
          method: 'HEAD',
          path: `/0.1/token/${seededToken(liveSeed, i)}?scope=${CHECK_SCOPE}`,
        })),
      ),
    );
    const load = { requestsFile, connections: opts.reaperConnections };

    // Idle: the same load, same live tokens, no expired rows.
    ctx.services.add(svc);
    await svc.start();
    if (opts.warmup > 0) await runLoad(ctx, svc, { ...load, duration: opts.warmup });
    const idleTimeline = path.join(ctx.tmp, `${env.engine}-reaper-idle-timeline.json`);
    const idle = await runLoad(ctx, svc, { ...load, duration: opts.duration, timelineFile: idleTimeline });
    await svc.stop();

    const expiredCount = opts.reaperExpired;
    ctx.log(`[${env.engine}] reaper: inserting ${expiredCount.toLocaleString('en-US')} expired tokens directly`);
    const expiredBase = Date.now() - 2 * DAY_MS;
    const seedSeconds = await db.seedTokens({
      seed: `${env.engine}-reaper-expired-${ctx.runId}`,
      count: expiredCount,
      template: env.template,
      // Distinct expiry times, all in the past: min(expires_at) moves as batches go.
      expiresAt: (i) => expiredBase + i,
    });

    conn = await db.connect();
    // From the last minimum seen: on PostgreSQL the rows already purged stay
    // in the expiry index as dead entries until VACUUM, and a min() scanning
    // them all every 100 ms would load the server it measures.
    let lastMin = Number.MIN_SAFE_INTEGER;
    const minExpiry = async () => {
      const rows = await conn.query('SELECT min(expires_at) AS m FROM tokens WHERE expires_at >= $1', [lastMin]);
      const m = rows[0]?.m === null || rows[0]?.m === undefined ? null : Number(rows[0].m);
      if (m !== null) lastMin = m;
      return m;
    };
    const initialMin = await minExpiry();
    const startupMs = await svc.start();
    const timelineFile = path.join(ctx.tmp, `${env.engine}-reaper-purge-timeline.json`);
    let loadChild = null;
    const loadDone = runLoad(
      ctx,
      svc,
      { ...load, duration: opts.purgeTimeout, timelineFile },
      {
        onSpawn: (c) => {
          loadChild = c;
        },
      },
    );

    // Watch the purge: its start is the last poll before min(expires_at)
    // moved; its end is the first poll that finds no expired row.
    let lastUnchanged = Date.now();
    let purgeStart = null;
    let purgeEnd = null;
    const deadline = Date.now() + opts.purgeTimeout * 1000;
    while (Date.now() < deadline) {
      const t = Date.now();
      const m = await minExpiry();
      if (purgeStart === null && m !== initialMin) purgeStart = lastUnchanged;
      if (purgeStart === null) lastUnchanged = t;
      if (m === null || m > Date.now()) {
        purgeEnd = Date.now();
        break;
      }
      await sleep(POLL_MS);
    }
    // Keep the load a little longer: checks right after the purge, for comparison.
    await sleep(opts.afterPurgeMs);
    loadChild?.kill('SIGTERM');
    const purgeLoad = await loadDone;

    const now = Date.now();
    const [{ n: expiredLeft }] = await conn.query('SELECT count(*) AS n FROM tokens WHERE expires_at <= $1', [now]);
    const [{ n: tokensLeft }] = await conn.query('SELECT count(*) AS n FROM tokens');
    const [{ n: sessionsLeft }] = await conn.query('SELECT count(*) AS n FROM sessions');

    const pairs = JSON.parse(readFileSync(timelineFile, 'utf8'));
    const during = [];
    const after = [];
    for (let i = 0; i < pairs.length; i += 2) {
      const t = pairs[i];
      if (purgeStart !== null && t >= purgeStart && t <= (purgeEnd ?? Infinity)) during.push(pairs[i + 1]);
      else if (purgeEnd !== null && t > purgeEnd + 200) after.push(pairs[i + 1]);
    }
    const idleLat = summarizeLatencies(readIdle(idleTimeline));
    const duringLat = summarizeLatencies(during);
    const purgeSeconds = purgeStart !== null && purgeEnd !== null ? (purgeEnd - purgeStart) / 1000 : null;
    const r = {
      expired: expiredCount,
      live: liveCount,
      seedSeconds,
      startupMs,
      purgeSeconds,
      deletedPerSecond: purgeSeconds ? expiredCount / purgeSeconds : null,
      idle: { ...idleLat, rps: idle.rps, statusCodes: idle.statusCodes, errors: idle.errors },
      during: { ...duringLat, rps: purgeSeconds ? during.length / purgeSeconds : null },
      after: summarizeLatencies(after),
      load: { statusCodes: purgeLoad.statusCodes, errors: purgeLoad.errors, connections: opts.reaperConnections },
      expiredLeft: Number(expiredLeft),
      tokensLeft: Number(tokensLeft),
      sessionsLeft: Number(sessionsLeft),
    };
    ctx.log(
      `  purge of ${expiredCount.toLocaleString('en-US')} rows: ${purgeSeconds?.toFixed(1) ?? 'not finished'} s; check p99 idle ${idleLat.p99?.toFixed(2)} ms, during ${duringLat.p99?.toFixed(2)} ms (max ${duringLat.max?.toFixed(1)} ms), after ${r.after.p99?.toFixed(2)} ms; left: ${r.expiredLeft} expired, ${r.tokensLeft} tokens, ${r.sessionsLeft} sessions`,
    );

    ctx.expectOnly(env.engine, 'reaper idle', { ...idle, statusCodes: idle.statusCodes }, ['204']);
    ctx.expectOnly(env.engine, 'reaper during', purgeLoad, ['204']);
    if (purgeEnd === null || r.expiredLeft !== 0) {
      ctx.problem(env.engine, 'reaper', `expired rows left after ${opts.purgeTimeout} s: ${r.expiredLeft}`);
    }
    if (during.length === 0) ctx.problem(env.engine, 'reaper', 'no check answered during the purge window');
    ctx.target(
      env.engine,
      `reaper: check p99 during purge of ${expiredCount.toLocaleString('en-US')} rows ≤ 2 × idle`,
      // Met only by a purge that finished: a p99 measured while the purge
      // crawled (or never started) says nothing about the purge's cost.
      purgeSeconds !== null &&
        r.expiredLeft === 0 &&
        duringLat.p99 !== null &&
        idleLat.p99 !== null &&
        duringLat.p99 <= 2 * idleLat.p99,
      `${duringLat.p99?.toFixed(2)} ms vs idle ${idleLat.p99?.toFixed(2)} ms (${(duringLat.p99 / idleLat.p99).toFixed(1)}×; ` +
        `purge ${purgeSeconds === null ? `not finished within ${opts.purgeTimeout} s` : `${purgeSeconds.toFixed(1)} s`}, ` +
        `rows gone: ${r.expiredLeft === 0 ? 'yes' : `NO (${r.expiredLeft.toLocaleString('en-US')} expired left)`})`,
    );
    return r;
  } finally {
    await conn?.close();
    await svc.stop();
    ctx.services.delete(svc);
    await db.drop();
    ctx.dbs.delete(db);
  }
}

function readIdle(file) {
  const pairs = JSON.parse(readFileSync(file, 'utf8'));
  const out = [];
  for (let i = 1; i < pairs.length; i += 2) out.push(pairs[i]);
  return out;
}
