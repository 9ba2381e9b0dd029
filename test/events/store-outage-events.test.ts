// PostgreSQL cut in the middle of a login burst: requests answer 200 or 503,
// and afterwards the database and the bus agree exactly: every session that
// exists had its auth_session_created delivered, no event names a session
// that does not exist, and every login answered 200 left its session behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import type { Service } from '../../src/main.js';
import { AMQP_URI, type BusConsumer, startBusConsumer } from '../helpers/bus.js';
import { ADMIN, basic } from '../helpers/service.js';
import { startServiceBehindProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { until } from '../helpers/until.js';

describe('PostgreSQL outage during logins, with events', () => {
  let proxy: TcpProxy;
  let service: Service;
  let bus: BusConsumer;

  beforeAll(async () => {
    bus = await startBusConsumer();
    ({ service, proxy } = await startServiceBehindProxy({
      db_timeout_ms: 1000,
      max_user_concurrent_sessions: 1_000_000,
      // A login burst from one address: rate limits and throttling are not under test.
      security: {
        ...DEFAULT_CONFIG.security,
        rate_limits: { ...DEFAULT_CONFIG.security.rate_limits, enabled: false },
        login_throttle: { ...DEFAULT_CONFIG.security.login_throttle, enabled: false },
      },
      amqp: {
        enabled: true,
        uri: AMQP_URI,
        exchange_name: bus.exchange,
        poll_interval_ms: 50,
        retry_min_ms: 50,
        retry_max_ms: 300,
      },
    }));
    await service.listen();
  });
  afterAll(async () => {
    await bus?.close();
  });

  it('leaves no session without its event and no event without its session', async () => {
    const issued: string[] = [];
    const statuses = new Map<number, number>();
    let stop = false;
    const client = async () => {
      while (!stop) {
        const res = await service.app.inject({
          method: 'POST',
          url: '/0.1/token',
          headers: { authorization: basic(ADMIN.username, ADMIN.password) },
          payload: {},
        });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode === 200) issued.push(res.json().data.session_uuid as string);
      }
    };
    const clients = Array.from({ length: 6 }, client);
    await until(() => issued.length >= 10, 'logins before the cut');
    await proxy.cut();
    await until(() => (statuses.get(503) ?? 0) >= 5, 'logins refused during the cut');
    await proxy.restore();
    const afterRestore = issued.length;
    await until(() => issued.length >= afterRestore + 10, 'logins after the cut', 20_000);
    stop = true;
    await Promise.all(clients);

    // Only 200 (before, after) and 503 (during): never a 500.
    expect([...statuses.keys()].sort()).toEqual([200, 503]);
    const stored = await service.store.listSessions(
      { tenantUuids: [(await service.store.getTopTenant())!.uuid] },
      { limit: 10_000 },
    );
    const sessions = new Set(stored.items.map((s) => s.uuid));
    for (const uuid of issued) expect(sessions.has(uuid)).toBe(true);
    await until(async () => (await service.store.outboxBacklog()).pending === 0, 'outbox drained', 20_000);
    const announced = new Set(bus.named('auth_session_created').map((m) => (m.body.data as { uuid: string }).uuid));
    expect([...announced].filter((uuid) => !sessions.has(uuid))).toEqual([]);
    expect([...sessions].filter((uuid) => !announced.has(uuid))).toEqual([]);
  });
});
