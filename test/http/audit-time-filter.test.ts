// GET /0.1/audit?from=&until= (issue 25): the audit trail's time window,
// filtered by the store (both engines), so that a page holds only records of
// the window. `from` is inclusive, `until` exclusive; both narrow `filtered`,
// never `total`; an impossible date or an inverted window is a 400.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { until as eventually } from '../helpers/until.js';

// Ten minutes apart: well within the admin token's lifetime.
const STEP = 600_000;
const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

interface Entry {
  action: string;
  timestamp: string;
}
interface AuditPage {
  total: number;
  filtered: number;
  items: Entry[];
}

describe.each(ENGINES)('audit trail time filter on %s', (engine) => {
  let t: TestService;
  const clock = new FakeClock(T0);
  const api = iamApi(() => t);
  let admin: string;
  /** When the three users were created (POST /users names no target: the records are told apart by time). */
  const made: string[] = [];

  const audit = async (query: string): Promise<AuditPage> => {
    const res = await api.as(admin, 'GET', `/0.1/audit?search=users.create&limit=100&${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as AuditPage;
  };
  const created = (page: AuditPage) => page.items.filter((e) => e.action === 'users.create').map((e) => e.timestamp);

  beforeAll(async () => {
    t = await startTestService(engine, {}, clock);
    admin = await api.adminToken();
    for (let i = 1; i <= 3; i++) {
      clock.set(T0 + i * STEP);
      await api.createUser(admin, `timed-${i}`, `timed-${i}-password`);
      made.push(iso(T0 + i * STEP));
    }
    // Recorded after the answer in some paths: wait until the three are there.
    await eventually(async () => (await audit('')).filtered >= 3, 'the three users.create records');
  });
  afterAll(async () => t?.close());

  it('keeps the records at or after from and before until', async () => {
    const all = await audit('');
    expect(created(all)).toEqual([...made].reverse());

    const fromSecond = await audit(`from=${encodeURIComponent(iso(T0 + 2 * STEP))}`);
    expect(created(fromSecond)).toEqual([made[2], made[1]]);

    const untilSecond = await audit(`until=${encodeURIComponent(iso(T0 + 2 * STEP))}`);
    expect(created(untilSecond)).toEqual([made[0]]);

    const between = await audit(
      `from=${encodeURIComponent(iso(T0 + 1.5 * STEP))}&until=${encodeURIComponent(iso(T0 + 2.5 * STEP))}`,
    );
    expect(created(between)).toEqual([made[1]]);
    expect(between.filtered).toBe(1);
    // `total` is the whole scope: the window narrows `filtered` only.
    expect(between.total).toBe(all.total);

    // Another zone names the same instant.
    const offset = await audit(`from=${encodeURIComponent('2026-03-01T09:20:00+01:00')}`);
    expect(created(offset)).toEqual([made[2], made[1]]);

    // The window applies before paging: the first page of the window is its newest record.
    const page = await api.as(
      admin,
      'GET',
      `/0.1/audit?search=users.create&limit=1&until=${encodeURIComponent(iso(T0 + 3 * STEP))}`,
    );
    expect((page.json() as AuditPage).items.map((e) => e.timestamp)).toEqual([made[1]]);
    expect((page.json() as AuditPage).filtered).toBe(2);
  });

  it('answers 400 for a malformed or impossible instant and an inverted window', async () => {
    for (const [query, field] of [
      ['from=yesterday', 'from'],
      ['from=2026-03-01T08:00:00', 'from'], // no zone: which instant is it?
      ['until=2026-13-01T08:00:00Z', 'until'],
      [`from=${encodeURIComponent(iso(T0 + 2 * STEP))}&until=${encodeURIComponent(iso(T0 + STEP))}`, 'until'],
    ] as const) {
      const res = await api.as(admin, 'GET', `/0.1/audit?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(JSON.stringify(res.json()), query).toContain(field);
    }
  });
});
