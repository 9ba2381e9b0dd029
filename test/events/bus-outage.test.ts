// RabbitMQ unreachable for a while (a TCP proxy in front of the real broker,
// cut and restored by the test): logins, checks and revocations keep
// working, the events pile up in the outbox, and every one of them is
// delivered once the broker is back, in order per session.
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusConsumer, startBusConsumer } from '../helpers/bus.js';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { until } from '../helpers/until.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const SESSIONS = 30;

describe.each(ENGINES)('RabbitMQ outage on %s', (engine) => {
  let proxy: TcpProxy;
  let bus: BusConsumer;
  let t: TestService;

  beforeAll(async () => {
    proxy = await startTcpProxy('127.0.0.1', 5672);
    bus = await startBusConsumer();
    t = await startTestService(engine, {
      amqp: {
        enabled: true,
        uri: `amqp://guest:guest@127.0.0.1:${proxy.port}/`,
        exchange_name: bus.exchange,
        timeout_ms: 1000,
        poll_interval_ms: 50,
        retry_min_ms: 50,
        retry_max_ms: 300,
      },
    });
    await t.service.listen();
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await bus?.close();
  });

  const inject = (opts: InjectOptions) => t.service.app.inject(opts);
  const status = async () =>
    (await inject({ method: 'GET', url: '/0.1/status' })).json().bus as { status: string; outbox: { pending: number } };

  it('keeps serving while the broker is cut, then delivers every event produced meanwhile', async () => {
    // Connected first: one event goes through.
    const first = await inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { ...JSON_HEADERS, authorization: basic(ADMIN.username, ADMIN.password) },
      payload: {},
    });
    expect(first.statusCode).toBe(200);
    await until(() => bus.messages.length >= 1, 'first event');
    await until(async () => (await status()).status === 'ok', 'bus reported ok');

    await proxy.cut();
    const sessions: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const login = await inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { ...JSON_HEADERS, authorization: basic(ADMIN.username, ADMIN.password) },
        payload: {},
      });
      expect(login.statusCode).toBe(200);
      const { token, session_uuid: session } = login.json().data as { token: string; session_uuid: string };
      sessions.push(session);
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(204);
      expect((await inject({ method: 'DELETE', url: `/0.1/token/${token}` })).statusCode).toBe(200);
      expect((await inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(404);
    }
    // Nothing of it reached the broker; it waits in the outbox, and /status says so.
    await until(async () => (await status()).status === 'fail', 'bus reported failing');
    const during = await status();
    expect(during.outbox.pending).toBeGreaterThanOrEqual(2 * SESSIONS);
    const keysOf = (s: string) => [`auth.sessions.${s}.created`, `auth.sessions.${s}.deleted`];
    const expected = sessions.flatMap(keysOf);
    expect(bus.messages.filter((m) => expected.includes(m.routingKey))).toHaveLength(0);

    await proxy.restore();
    await until(
      () => expected.every((key) => bus.messages.some((m) => m.routingKey === key)),
      'every event after the outage',
      20_000,
    );
    // Counted: every event produced during the outage was delivered, each
    // session's creation before its deletion.
    const delivered = new Set(bus.messages.map((m) => m.routingKey).filter((k) => expected.includes(k)));
    expect(delivered.size).toBe(2 * SESSIONS);
    const order = bus.messages.map((m) => m.routingKey);
    for (const s of sessions) {
      const [created, deleted] = keysOf(s);
      expect(order.indexOf(created)).toBeLessThan(order.indexOf(deleted));
    }
    await until(async () => (await status()).outbox.pending === 0, 'outbox drained');
    expect((await status()).status).toBe('ok');
  });
});
