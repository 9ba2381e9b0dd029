// PostgreSQL sends a password login's writes (session, token, counters
// cleared, trust mark, audit record, events) as one statement of
// data-modifying CTEs, with no BEGIN/COMMIT (src/store/kysely/sessions.ts
// loginWritesSql). Atomic by itself: when it fails (here a trigger refuses
// the audit record), none of it is stored, the client gets no token and
// the attempt is given back.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { login, securityWith } from './helpers.js';

describe('login writes in one statement (postgresql)', () => {
  let t: TestService;
  let admin: string;
  let db: pg.Client;
  const api = iamApi(() => t);

  beforeAll(async () => {
    t = await startTestService('postgresql', {
      security: securityWith({ rate_limits: { enabled: false } }),
      amqp: { enabled: true },
    });
    admin = await api.adminToken();
    db = new pg.Client({ connectionString: t.config.db_uri ?? undefined });
    await db.connect();
    await db.query(`
      create function refuse_doomed() returns trigger language plpgsql as $$
      begin
        if new.login = 'doomed' and new.outcome = 'success' then raise exception 'refused by the test'; end if;
        return new;
      end $$;
      create trigger refuse_doomed before insert on audit_records for each row execute function refuse_doomed();`);
  });
  afterAll(async () => {
    await db.end();
  });

  const count = async (table: string, where: string, values: unknown[]) =>
    Number((await db.query<{ n: string }>(`select count(*) as n from ${table} where ${where}`, values)).rows[0].n);

  it('stores the session, the token, the audit record and the events of a login', async () => {
    const uuid = await api.createUser(admin, 'onestatement', 'onestatement-password');
    const outboxBefore = await count('outbox', `name = 'auth_session_created' and user_uuid = $1`, [uuid]);
    const res = await login(t.service, 'onestatement', 'onestatement-password', '198.51.100.30');
    expect(res.statusCode).toBe(200);
    expect(await count('sessions', 'user_uuid = $1', [uuid])).toBe(1);
    expect(await count('tokens', 'user_uuid = $1', [uuid])).toBe(1);
    expect(await count('audit_records', `login = 'onestatement' and outcome = 'success'`, [])).toBe(1);
    // Its events were written with it (the relay may already have sent them).
    expect(
      (await count('outbox', `name = 'auth_session_created' and user_uuid = $1`, [uuid])) - outboxBefore,
    ).toBeLessThanOrEqual(1);
  });

  it('stores nothing of a login whose statement fails, and gives its attempt back', async () => {
    const uuid = await api.createUser(admin, 'doomed', 'doomed-password');
    const res = await login(t.service, 'doomed', 'doomed-password', '198.51.100.31');
    expect(res.statusCode).toBeGreaterThanOrEqual(500);
    expect(res.body).not.toContain('"token"');
    expect(await count('sessions', 'user_uuid = $1', [uuid])).toBe(0);
    expect(await count('tokens', 'user_uuid = $1', [uuid])).toBe(0);
    expect(await count('outbox', `name = 'auth_session_created' and user_uuid = $1`, [uuid])).toBe(0);
    // The attempt was given back: 5 wrong passwords are still allowed before the back-off.
    for (let i = 0; i < 5; i++) {
      expect((await login(t.service, 'doomed', `wrong-${i}`, '198.51.100.31')).statusCode).toBe(401);
    }
    expect((await login(t.service, 'doomed', 'wrong-5', '198.51.100.31')).statusCode).toBe(429);
  });
});
