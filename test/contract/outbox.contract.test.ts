// The outbox verbs of the Store, on both engines: events commit (or roll
// back) with their change, the relay step deletes only what was confirmed,
// one relay at a time on PostgreSQL, and the expire-soon cursor.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../src/events/catalog.js';
import { openStore } from '../../src/store/open-store.js';
import type { Session, Store, TokenRecord } from '../../src/store/types.js';
import { createTestDatabase } from '../helpers/pg.js';
import { tempSqliteUri } from '../helpers/sqlite.js';

const NOW = Date.UTC(2026, 0, 1);

async function open(engine: 'sqlite' | 'postgresql', recordEvents = true): Promise<{ store: Store; cleanup(): Promise<void> }> {
  if (engine === 'sqlite') {
    const t = tempSqliteUri();
    const store = await openStore(t.uri, { recordEvents });
    await store.migrate();
    return {
      store,
      cleanup: async () => {
        await store.close();
        t.cleanup();
      },
    };
  }
  const db = await createTestDatabase();
  const store = await openStore(db.uri, { recordEvents });
  await store.migrate();
  return {
    store,
    cleanup: async () => {
      await store.close();
      await db.drop();
    },
  };
}

function session(tenantUuid: string): Session {
  return { uuid: randomUUID(), tenantUuid, userUuid: randomUUID(), mobile: false, createdAt: NOW };
}

function token(s: Session, expiresAt: number, hash = randomUUID().replace(/-/g, '')): TokenRecord {
  return {
    hash,
    sessionUuid: s.uuid,
    authId: s.userUuid!,
    userUuid: s.userUuid,
    tenantUuid: s.tenantUuid,
    pbxUserUuid: null,
    xivoUuid: null,
    issuedAt: NOW,
    expiresAt,
    acl: [],
    metadata: {},
    remoteAddr: null,
    userAgent: null,
    refreshTokenUuid: null,
  };
}

/** Everything in the outbox, oldest first, leaving it as it is (confirms nothing). */
async function peek(store: Store): Promise<OutboxEvent[]> {
  let seen: OutboxEvent[] = [];
  await store.relayEvents(10_000, async (events) => {
    seen = events;
    return 0;
  });
  return seen;
}

describe.each(['sqlite', 'postgresql'] as const)('outbox on %s', (engine) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  const opened = async (recordEvents = true) => {
    const o = await open(engine, recordEvents);
    cleanups.push(o.cleanup);
    return o.store;
  };

  it('commits an event with its change, and none when the transaction rolls back', async () => {
    const store = await opened();
    let woken = 0;
    store.onEventsCommitted(() => {
      woken += 1;
    });
    const kept = session(randomUUID());
    await store.transaction(async (tx) => {
      await tx.createSession(kept);
    });
    expect(woken).toBe(1);
    const dropped = session(randomUUID());
    await expect(
      store.transaction(async (tx) => {
        await tx.createSession(dropped);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(woken).toBe(1);
    const events = await peek(store);
    expect(events.map((e) => e.routingKey)).toEqual([`auth.sessions.${kept.uuid}.created`]);
    expect(events[0]).toMatchObject({
      name: 'auth_session_created',
      tenantUuid: kept.tenantUuid,
      userUuid: kept.userUuid,
      data: { uuid: kept.uuid, mobile: false },
    });
  });

  it('deletes only the confirmed prefix of a batch, and hands out events in commit order', async () => {
    const store = await opened();
    const sessions = [0, 1, 2, 3].map(() => session(randomUUID()));
    for (const s of sessions) await store.createSession(s);
    const first = await store.relayEvents(3, async (events) => {
      expect(events.map((e) => e.data.uuid)).toEqual(sessions.slice(0, 3).map((s) => s.uuid));
      return 2;
    });
    expect(first).toBe(2);
    expect((await peek(store)).map((e) => e.data.uuid)).toEqual(sessions.slice(2).map((s) => s.uuid));
    // A publication that fails leaves everything in place.
    await expect(
      store.relayEvents(10, async () => {
        throw new Error('broker gone');
      }),
    ).rejects.toThrow('broker gone');
    expect(await store.outboxBacklog()).toMatchObject({ pending: 2 });
    expect(await store.relayEvents(10, async (events) => events.length)).toBe(2);
    expect(await store.outboxBacklog()).toEqual({ pending: 0, oldestCreatedAt: null });
  });

  it('writes session deletions with the removal, whatever removed them', async () => {
    const store = await opened();
    const a = session(randomUUID());
    const b = session(randomUUID());
    await store.createSession(a);
    await store.insertToken(token(a, NOW + 1000, 'a'.repeat(64)));
    await store.createSession(b);
    await store.insertToken(token(b, NOW - 1000));
    await store.relayEvents(100, async (events) => events.length);
    await store.deleteToken('a'.repeat(64));
    await store.deleteExpired(NOW, 100);
    const names = (await peek(store)).map((e) => e.routingKey);
    expect(names).toEqual([`auth.sessions.${a.uuid}.deleted`, `auth.sessions.${b.uuid}.deleted`]);
  });

  it('announces tokens close to expiry once, continuing from its cursor', async () => {
    const store = await opened();
    const s1 = session(randomUUID());
    const s2 = session(randomUUID());
    const s3 = session(randomUUID());
    for (const s of [s1, s2, s3]) await store.createSession(s);
    await store.insertToken(token(s1, NOW + 10_000));
    await store.insertToken(token(s2, NOW + 20_000));
    await store.insertToken(token(s3, NOW + 90_000));
    await store.relayEvents(100, async (events) => events.length);
    // Window up to NOW + 30 s, one token per call: both near ones, in two calls.
    expect(await store.noteExpiringSoon(NOW, NOW + 30_000, 1)).toBe(1);
    expect(await store.noteExpiringSoon(NOW, NOW + 30_000, 1)).toBe(1);
    expect(await store.noteExpiringSoon(NOW, NOW + 30_000, 1)).toBe(0);
    expect(await store.noteExpiringSoon(NOW + 1000, NOW + 31_000, 10)).toBe(0);
    let events = await peek(store);
    expect(events.map((e) => e.routingKey)).toEqual([
      `auth.users.${s1.userUuid}.sessions.${s1.uuid}.expire_soon`,
      `auth.users.${s2.userUuid}.sessions.${s2.uuid}.expire_soon`,
    ]);
    expect(await store.noteExpiringSoon(NOW + 60_000, NOW + 90_000, 10)).toBe(1);
    events = await peek(store);
    expect(events.map((e) => e.data.uuid)).toEqual([s1.uuid, s2.uuid, s3.uuid]);
  });

  it('records nothing when events are off', async () => {
    const store = await opened(false);
    await store.createSession(session(randomUUID()));
    expect(await store.outboxBacklog()).toEqual({ pending: 0, oldestCreatedAt: null });
  });

  if (engine === 'postgresql') {
    it('lets one instance relay at a time', async () => {
      const db = await createTestDatabase();
      const one = await openStore(db.uri, { recordEvents: true });
      await one.migrate();
      const two = await openStore(db.uri, { recordEvents: true });
      cleanups.push(async () => {
        await one.close();
        await two.close();
        await db.drop();
      });
      await one.createSession(session(randomUUID()));
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const first = one.relayEvents(10, async (events) => {
        entered();
        await held;
        return events.length;
      });
      await inside;
      expect(await two.relayEvents(10, async (events) => events.length)).toBeNull();
      release();
      expect(await first).toBe(1);
      expect(await two.relayEvents(10, async (events) => events.length)).toBe(0);
    });
  }
});
