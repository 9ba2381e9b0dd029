// (h) Events (issue 4): the outbox relay against the real RabbitMQ.
//   backlog drain: N events committed while the broker was unreachable (rows
//   written straight into the outbox, service stopped), then the service
//   started with the broker reachable: time until the consumer has all N
//   (events/s, from the first message to the last, and from the start).
//   latency: for each of K tokens, DELETE sent → auth_session_deleted
//   received by a consumer (p50/p99): what a subscriber waits for.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import amqp from 'amqplib';
import { BenchDatabase } from '../lib/database.js';
import { ServiceProcess } from '../lib/service.js';
import { summarizeLatencies } from '../lib/stats.js';
import { createTokens } from './revoke.js';

const AMQP_URI = 'amqp://guest:guest@127.0.0.1:5672/';
const GIVE_UP_MS = 120_000;

async function consumer(exchange) {
  const connection = await amqp.connect(AMQP_URI);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, exchange, '#');
  const c = { count: 0, firstAt: null, lastAt: null, waiters: new Map() };
  await channel.consume(
    queue,
    (msg) => {
      if (msg === null) return;
      const now = performance.now();
      c.count += 1;
      c.firstAt ??= now;
      c.lastAt = now;
      const waiter = c.waiters.get(msg.fields.routingKey);
      if (waiter) {
        c.waiters.delete(msg.fields.routingKey);
        waiter(now);
      }
    },
    { noAck: true },
  );
  c.close = async () => {
    await channel.deleteExchange(exchange).catch(() => undefined);
    await connection.close().catch(() => undefined);
  };
  return c;
}

async function waitFor(condition, what) {
  const deadline = performance.now() + GIVE_UP_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`events: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function runEventsWorkload(ctx, env) {
  const { opts } = ctx;
  const n = opts.eventsBacklog;
  const exchange = `xivo-bench-${randomUUID()}`;
  const dir = path.join(env.dir, 'events');
  const db = new BenchDatabase(env.engine, { dir, name: 'events' });
  ctx.dbs.add(db);
  await db.create();
  const amqpConfig = { enabled: true, uri: AMQP_URI, exchange_name: exchange };
  const svc = new ServiceProcess({ name: `${env.engine}-events`, dir, dbUri: db.uri, overrides: { amqp: amqpConfig } });
  ctx.services.add(svc);
  const bus = await consumer(exchange);
  try {
    ctx.log(`[${env.engine}] events: ${n} events waiting in the outbox, then the relay drains them`);
    await svc.migrate();
    const conn = await db.connect();
    try {
      const now = Date.now();
      const rows = Array.from({ length: n }, () => {
        const s = randomUUID();
        return [
          `auth_session_created`,
          `auth.sessions.${s}.created`,
          JSON.stringify({ uuid: s, tenant_uuid: null, user_uuid: null, mobile: false }),
          now,
        ];
      });
      for (let i = 0; i < rows.length; i += 500) {
        const slice = rows.slice(i, i + 500);
        const params = slice.flat();
        const values = slice.map((_, j) => `($${4 * j + 1}, $${4 * j + 2}, $${4 * j + 3}, $${4 * j + 4})`).join(', ');
        await conn.query(`INSERT INTO outbox (name, routing_key, data, created_at) VALUES ${values}`, params);
      }
    } finally {
      await conn.close();
    }
    const started = performance.now();
    await svc.start();
    await waitFor(() => bus.count >= n, `${n} events`);
    const totalSeconds = (performance.now() - started) / 1000;
    const drainSeconds = (bus.lastAt - bus.firstAt) / 1000;
    const drain = {
      events: n,
      totalSeconds,
      drainSeconds,
      eventsPerSecond: n / Math.max(drainSeconds, 1e-6),
      received: bus.count,
    };

    const k = opts.eventsLatencyTokens;
    ctx.log(`[${env.engine}] events: ${k} revocations, DELETE sent → auth_session_deleted received`);
    const admin = await svc.login('bench-admin', 'bench-admin-password');
    const user = { username: 'bench-events', password: 'bench-events-password' };
    await svc.createUser(admin, user.username, user.password);
    const tokens = await createTokens(svc, [user], k);
    const delays = [];
    for (const token of tokens) {
      const { session_uuid: session } = await svc.tokenDetails(token);
      const received = new Promise((resolve) => bus.waiters.set(`auth.sessions.${session}.deleted`, resolve));
      // From the DELETE sent (its answer may come after the event arrives).
      const sent = performance.now();
      const del = await svc.request({ method: 'DELETE', path: `/0.1/token/${token}` });
      if (del.status !== 200) throw new Error(`events: DELETE answered ${del.status}`);
      delays.push((await received) - sent);
    }
    const latency = summarizeLatencies(delays);
    ctx.target(env.engine, `events: backlog of ${n} drained`, bus.count >= n, `${drain.eventsPerSecond.toFixed(0)} events/s`);
    return { drain, latency: { revocations: k, ...latency } };
  } finally {
    await svc.stop();
    ctx.services.delete(svc);
    await bus.close();
    await db.drop();
    ctx.dbs.delete(db);
  }
}
