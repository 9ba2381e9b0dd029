// GET /0.1/audit?action=&outcome=&actor= (issue 25: the audit trail filtered
// by actor and action), on both engines: exact action and outcome, an actor
// named by its user uuid, its auth id or the login it gave (any case); each
// narrows `filtered`, never `total`; a malformed or empty filter is a 400.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { until as eventually } from '../helpers/until.js';

interface Entry {
  action: string;
  outcome: string;
  user_uuid: string | null;
  login: string | null;
  auth_id: string | null;
}
interface AuditPage {
  total: number;
  filtered: number;
  items: Entry[];
}

describe.each(ENGINES)('audit trail filters on %s', (engine) => {
  let t: TestService;
  const api = iamApi(() => t);
  let admin: string;
  let adminUuid: string;
  let alice: string;

  const audit = async (query: string): Promise<AuditPage> => {
    const res = await api.as(admin, 'GET', `/0.1/audit?limit=1000&${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as AuditPage;
  };
  const attempt = (username: string, password: string) =>
    api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { authorization: basic(username, password), 'content-type': 'application/json' },
      payload: {},
    });

  beforeAll(async () => {
    t = await startTestService(engine);
    admin = await api.adminToken();
    adminUuid = (await api.as(admin, 'GET', `/0.1/token/${admin}`)).json().data.metadata.uuid;
    alice = await api.createUser(admin, 'alice-audited', 'alice-audited-password');
    await api.createUser(admin, 'bob-audited', 'bob-audited-password');
    expect((await attempt('alice-audited', 'alice-audited-password')).statusCode).toBe(200);
    expect((await attempt('alice-audited', 'not-her-password')).statusCode).toBe(401);
    expect((await attempt('nobody-audited', 'whatever-password')).statusCode).toBe(401);
    // alice acting with her own token: a record with her uuid and no login.
    const policy = (
      await api.as(admin, 'POST', '/0.1/policies', { name: 'own password', acl: [`auth.users.${alice}.password.update`] })
    ).json().uuid as string;
    expect((await api.as(admin, 'PUT', `/0.1/users/${alice}/policies/${policy}`)).statusCode).toBe(204);
    const own = await api.login('alice-audited', 'alice-audited-password');
    const changed = await api.as(own, 'PUT', `/0.1/users/${alice}/password`, {
      old_password: 'alice-audited-password',
      new_password: 'alice-new-password',
    });
    expect(changed.statusCode, changed.body).toBe(204);
    // Logins are recorded after the answer: wait for all three.
    await eventually(
      async () => (await audit('action=login')).items.filter((e) => e.login?.endsWith('-audited')).length >= 3,
      'the login records',
    );
  });
  afterAll(async () => t?.close());

  it('keeps one action, and one outcome of it', async () => {
    const creations = await audit('action=users.create');
    expect(creations.items.length).toBeGreaterThanOrEqual(2);
    expect(new Set(creations.items.map((e) => e.action))).toEqual(new Set(['users.create']));
    expect(creations.filtered).toBe(creations.items.length);
    expect(creations.total).toBeGreaterThan(creations.filtered);

    const failed = await audit('action=login&outcome=failure');
    expect(failed.items.map((e) => e.login).sort()).toEqual(['alice-audited', 'nobody-audited']);
    expect(failed.items.every((e) => e.action === 'login' && e.outcome === 'failure')).toBe(true);
    // Exact, not a substring: no action is called "user".
    expect((await audit('action=user')).filtered).toBe(0);
  });

  it('keeps one actor: by user uuid, by auth id, or by the login given in any case', async () => {
    const logins = await audit('actor=ALICE-Audited&action=login');
    expect(logins.items.map((e) => e.outcome).sort()).toEqual(['failure', 'success', 'success']);
    // A user named by a login or by its uuid: its records under either (a failed login has no uuid, her own change no login).
    for (const actor of ['alice-audited', alice]) {
      const mine = await audit(`actor=${actor}`);
      expect(
        mine.items.some((e) => e.action === 'login' && e.outcome === 'failure'),
        actor,
      ).toBe(true);
      expect(
        mine.items.some((e) => e.action !== 'login' && e.user_uuid === alice),
        actor,
      ).toBe(true);
      expect(
        mine.items.every((e) => e.user_uuid === alice || e.login === 'alice-audited'),
        actor,
      ).toBe(true);
    }
    // What the administrator did: its creations, not alice's or bob's logins.
    const byAdmin = await audit(`actor=${adminUuid}&action=users.create`);
    expect(byAdmin.items.length).toBe((await audit('action=users.create')).items.length);
    const adminLogins = await audit(`actor=${ADMIN.username}&action=login`);
    expect(adminLogins.items.length).toBeGreaterThanOrEqual(1);
    expect(adminLogins.items.every((e) => e.user_uuid === adminUuid || e.login === ADMIN.username)).toBe(true);
    expect((await audit('actor=nobody-at-all')).filtered).toBe(0);
  });

  it('answers 400 for a malformed outcome or an empty filter', async () => {
    for (const query of ['outcome=Not%20an%20outcome', 'outcome=', 'action=', 'actor=', `actor=${'x'.repeat(257)}`]) {
      const res = await api.as(admin, 'GET', `/0.1/audit?${query}`);
      expect(res.statusCode, `${query}: ${res.body}`).toBe(400);
    }
  });
});
