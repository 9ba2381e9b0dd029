// Issue 18 §2 (users): a user's email addresses (user_emails), its
// authentication method, an email address as its only login, login by a
// confirmed address, and the two routes that replace a user's addresses, over
// real HTTP on both engines.
import { beforeAll, describe, expect, it } from 'vitest';
import { iamApi, UNKNOWN_UUID } from '../helpers/iam.js';
import { basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';

interface Email {
  uuid: string;
  address: string;
  main: boolean;
  confirmed: boolean;
}

describe.each(ENGINES)('user email addresses on %s', (engine) => {
  let t: TestService;
  let admin: string;
  const api = iamApi(() => t);
  const loginStatus = async (login: string, password: string) =>
    (
      await api.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { 'content-type': 'application/json', authorization: basic(login, password) },
        payload: {},
      })
    ).statusCode;
  const create = async (body: Record<string, unknown>, tenant?: string) => {
    const res = await api.as(admin, 'POST', '/0.1/users', body, tenant ? { 'wazo-tenant': tenant } : {});
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { uuid: string; username: string | null; emails: Email[]; authentication_method: string };
  };
  const adminEmails = (uuid: string, emails: unknown, token = admin) =>
    api.as(token, 'PUT', `/0.1/admin/users/${uuid}/emails`, { emails });
  const getUser = async (uuid: string) => (await api.as(admin, 'GET', `/0.1/users/${uuid}`)).json();

  beforeAll(async () => {
    t = await startTestService(engine);
    admin = await api.adminToken();
  });

  describe('the user resource', () => {
    it("answers wazo-auth's fields, emails with their uuid, and the authentication method", async () => {
      const u = await create({
        username: 'shape',
        firstname: 'S',
        email_address: 'Shape@Example.com',
        password: 'shape-password',
      });
      const got = await getUser(u.uuid);
      expect(Object.keys(got).sort()).toEqual([
        'authentication_method',
        'emails',
        'enabled',
        'firstname',
        'lastname',
        'purpose',
        'tenant_uuid',
        'username',
        'uuid',
      ]);
      expect(got.emails).toEqual([
        { uuid: expect.stringMatching(/^[0-9a-f-]{36}$/), address: 'Shape@Example.com', main: true, confirmed: true },
      ]);
      expect(got.authentication_method).toBe('default');
      expect(u).toEqual(got);
    });

    it('defaults the authentication method by purpose, stores an explicit one, and refuses others', async () => {
      expect((await create({ username: 'am-user' })).authentication_method).toBe('default');
      expect((await create({ username: 'am-internal', purpose: 'internal' })).authentication_method).toBe('native');
      expect((await create({ username: 'am-api', purpose: 'external_api' })).authentication_method).toBe('native');
      const native = await create({ username: 'am-native', authentication_method: 'native' });
      expect(native.authentication_method).toBe('native');
      // ldap, saml and oidc are methods too since issue 23 (enforced by POST /token: test/http/sso-oidc.test.ts).
      for (const authentication_method of ['ldap', 'saml', 'oidc']) {
        expect((await create({ username: `am-${authentication_method}`, authentication_method })).authentication_method).toBe(
          authentication_method,
        );
      }
      for (const authentication_method of [null, 42, true, 'kerberos', 'not-native', '', ['native']]) {
        const res = await api.as(admin, 'POST', '/0.1/users', { username: 'am-bad', authentication_method });
        expect(res.statusCode, JSON.stringify(authentication_method)).toBe(400);
        expect(res.json().error_id).toBe('invalid-data');
        const put = await api.as(admin, 'PUT', `/0.1/users/${native.uuid}`, { username: 'am-native', authentication_method });
        expect(put.statusCode, JSON.stringify(authentication_method)).toBe(400);
      }
      const changed = await api.as(admin, 'PUT', `/0.1/users/${native.uuid}`, {
        username: 'am-native',
        authentication_method: 'default',
      });
      expect(changed.json().authentication_method).toBe('default');
      expect((await getUser(native.uuid)).authentication_method).toBe('default');
    });

    it('creates a user with an email address and no username, who logs in with it (any case)', async () => {
      const u = await create({ email_address: 'No.Name@Example.com', password: 'noname-password' });
      expect(u.username).toBeNull();
      expect(await loginStatus('no.name@example.COM', 'noname-password')).toBe(200);
      // Another user without username: usernames are optional, not unique as null.
      expect((await create({ email_address: 'no.name2@example.com' })).username).toBeNull();
      for (const body of [{}, { password: 'x-password' }, { username: null }, { username: null, email_address: null }]) {
        const res = await api.as(admin, 'POST', '/0.1/users', body);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.json()).toMatchObject({ error_id: 'invalid-data', details: { username: { constraint_id: 'required' } } });
      }
      // Nor can an update leave it without any login.
      const removed = await api.as(admin, 'PUT', `/0.1/users/${u.uuid}`, { email_address: null });
      expect(removed.statusCode, removed.body).toBe(400);
      expect((await getUser(u.uuid)).emails).toHaveLength(1);
    });

    it('PUT /users/{u}: email_address replaces the main address, null removes it, absent leaves the addresses', async () => {
      const u = await create({ username: 'mainly', email_address: 'mainly@one.example', password: 'mainly-password' });
      const [first] = u.emails;
      // Absent: untouched (a PUT that only renames keeps the addresses).
      const renamed = await api.as(admin, 'PUT', `/0.1/users/${u.uuid}`, { username: 'mainly', firstname: 'M' });
      expect(renamed.json().emails).toEqual([first]);
      // Re-cased: the same address, uuid and flag kept.
      const recased = await api.as(admin, 'PUT', `/0.1/users/${u.uuid}`, {
        username: 'mainly',
        email_address: 'Mainly@One.example',
      });
      expect(recased.json().emails).toEqual([{ ...first, address: 'Mainly@One.example' }]);
      // Another address: replaces the main one, confirmed (set by an administrator).
      expect(
        (
          await adminEmails(u.uuid, [
            { address: 'mainly@one.example', main: true, confirmed: false },
            { address: 'spare@one.example', main: false },
          ])
        ).statusCode,
      ).toBe(200);
      const replaced = await api.as(admin, 'PUT', `/0.1/users/${u.uuid}`, {
        username: 'mainly',
        email_address: 'mainly@two.example',
      });
      expect(replaced.statusCode, replaced.body).toBe(200);
      const emails = replaced.json().emails as Email[];
      expect(emails.map((e) => [e.address, e.main, e.confirmed])).toEqual([
        ['mainly@two.example', true, true],
        ['spare@one.example', false, false],
      ]);
      expect(await loginStatus('mainly@one.example', 'mainly-password')).toBe(401);
      expect(await loginStatus('mainly@two.example', 'mainly-password')).toBe(200);
      // null: the main address goes, the other one becomes main.
      const none = await api.as(admin, 'PUT', `/0.1/users/${u.uuid}`, { username: 'mainly', email_address: null });
      expect(none.json().emails.map((e: Email) => [e.address, e.main])).toEqual([['spare@one.example', true]]);
      expect(none.json().emails[0].uuid).toBe(emails[1].uuid);
    });
  });

  describe('PUT /admin/users/{u}/emails', () => {
    it('replaces the addresses; a confirmed one is a login (any case), an unconfirmed one is not', async () => {
      const u = await create({ username: 'multi', email_address: 'multi@a.example', password: 'multi-password' });
      const res = await adminEmails(u.uuid, [
        { address: 'Multi@B.example', main: true, confirmed: true },
        { address: 'multi@a.example', main: false },
        { address: 'multi@c.example', confirmed: false },
      ]);
      expect(res.statusCode, res.body).toBe(200);
      const emails = res.json() as Email[];
      // In the order given, with their uuids; a kept address keeps its uuid and flag.
      expect(emails.map((e) => [e.address, e.main, e.confirmed])).toEqual([
        ['Multi@B.example', true, true],
        ['multi@a.example', false, true],
        ['multi@c.example', false, false],
      ]);
      expect(emails[1].uuid).toBe(u.emails[0].uuid);
      expect((await getUser(u.uuid)).emails.map((e: Email) => e.address)).toEqual([
        'Multi@B.example',
        'multi@a.example',
        'multi@c.example',
      ]);

      expect(await loginStatus('multi@b.EXAMPLE', 'multi-password')).toBe(200);
      expect(await loginStatus('MULTI@A.example', 'multi-password')).toBe(200);
      expect(await loginStatus('multi@c.example', 'multi-password')).toBe(401);
      expect(await loginStatus('multi', 'multi-password')).toBe(200);

      // confirmed may be set on a kept address; null or absent keeps it.
      const confirmed = await adminEmails(u.uuid, [
        { address: 'multi@c.example', main: true, confirmed: true },
        { address: 'multi@b.example', confirmed: null },
      ]);
      expect((confirmed.json() as Email[]).map((e) => [e.address, e.main, e.confirmed])).toEqual([
        ['multi@c.example', true, true],
        ['multi@b.example', false, true],
      ]);
      expect(await loginStatus('multi@c.example', 'multi-password')).toBe(200);
      expect(await loginStatus('multi@a.example', 'multi-password')).toBe(401);

      // [] removes every address.
      const cleared = await adminEmails(u.uuid, []);
      expect(cleared.statusCode).toBe(200);
      expect(cleared.json()).toEqual([]);
      expect((await getUser(u.uuid)).emails).toEqual([]);
      expect(await loginStatus('multi@c.example', 'multi-password')).toBe(401);
    });

    it('refuses a body without exactly one main address, a repeated address, a bad address: 400, nothing changed', async () => {
      const u = await create({ username: 'strict', email_address: 'strict@example.com' });
      const before = await getUser(u.uuid);
      for (const emails of [
        [{ address: 'x1@example.com' }],
        [
          { address: 'x1@example.com', main: true },
          { address: 'x2@example.com', main: true },
        ],
        [{ address: 'x1@example.com', main: true }, { address: 'X1@Example.com' }],
        [{ address: 'not-an-address', main: true }],
        [{ address: 'a\u0000b@example.com', main: true }],
        [{ main: true }],
        [{ address: 'x1@example.com', main: 'yes' }],
        'x1@example.com',
        null,
      ]) {
        const res = await adminEmails(u.uuid, emails);
        expect(res.statusCode, JSON.stringify(emails)).toBe(400);
        expect(res.json().error_id).toBe('invalid-data');
      }
      expect((await api.as(admin, 'PUT', `/0.1/admin/users/${u.uuid}/emails`, {})).statusCode).toBe(400);
      expect(await getUser(u.uuid)).toEqual(before);
    });

    it('refuses an address another user holds, or has as username, in any case: 409, nothing changed', async () => {
      const holder = await create({ username: 'holder', email_address: 'held@example.com' });
      await adminEmails(holder.uuid, [
        { address: 'held@example.com', main: true },
        { address: 'held-unconfirmed@example.com', confirmed: false },
      ]);
      await create({ username: 'Named@Example.com' });
      const u = await create({ username: 'taker', email_address: 'taker@example.com' });
      const before = await getUser(u.uuid);
      for (const [address, field] of [
        ['HELD@example.com', 'email_address'],
        ['held-unconfirmed@EXAMPLE.com', 'email_address'],
        ['named@example.COM', 'email_address'],
      ]) {
        const res = await adminEmails(u.uuid, [{ address: 'taker@example.com', main: true }, { address }]);
        expect(res.statusCode, address).toBe(409);
        expect(res.json()).toMatchObject({ error_id: 'conflict', details: { [field]: { constraint_id: 'unique' } } });
      }
      expect(await getUser(u.uuid)).toEqual(before);
      // The other direction: a username equal to another user's address, even a secondary, unconfirmed one.
      const rename = await api.as(admin, 'PUT', `/0.1/users/${u.uuid}`, { username: 'Held-Unconfirmed@example.com' });
      expect(rename.statusCode, rename.body).toBe(409);
      expect(rename.json().details).toHaveProperty('username');
      const newcomer = await api.as(admin, 'POST', '/0.1/users', { username: 'held-UNCONFIRMED@example.com' });
      expect(newcomer.statusCode).toBe(409);
      // An address of one's own, moved from secondary to main or re-cased, is no conflict.
      const own = await adminEmails(holder.uuid, [
        { address: 'HELD-unconfirmed@example.com', main: true },
        { address: 'Held@example.com' },
      ]);
      expect(own.statusCode, own.body).toBe(200);
    });

    it("answers 404 for an unknown user, or one outside the caller's tenant subtree", async () => {
      expect((await adminEmails(UNKNOWN_UUID, [])).statusCode).toBe(404);
      const sub = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'emails_sub' })).json().uuid as string;
      const policy = (
        await api.as(admin, 'POST', '/0.1/policies', { name: 'sub admin', acl: ['auth.#'] }, { 'wazo-tenant': sub })
      ).json();
      const subAdmin = await api.createUser(admin, 'emails-sub-admin', 'sub-admin-password', sub);
      await api.as(admin, 'PUT', `/0.1/users/${subAdmin}/policies/${policy.uuid}`, undefined, { 'wazo-tenant': sub });
      const token = await api.login('emails-sub-admin', 'sub-admin-password');
      const above = await create({ username: 'above', email_address: 'above@example.com' });
      const res = await adminEmails(above.uuid, [{ address: 'mine@example.com', main: true, confirmed: true }], token);
      expect(res.statusCode).toBe(404);
      expect((await getUser(above.uuid)).emails.map((e: Email) => e.address)).toEqual(['above@example.com']);
      // Its own tenant's users, it may.
      const below = await create({ username: 'below' }, sub);
      expect(
        (await adminEmails(below.uuid, [{ address: 'below@example.com', main: true, confirmed: true }], token)).statusCode,
      ).toBe(200);
    });
  });

  it('documents the routes, fields and filters in the OpenAPI document', async () => {
    const doc = (await api.as(null, 'GET', '/0.1/api/api.yml')).body;
    for (const text of [
      '/0.1/admin/users/{user_uuid}/emails:',
      '/0.1/users/{user_uuid}/emails:',
      'authentication_method',
      'has_policy_slug',
      'policy_uuid',
      'email_address',
    ]) {
      expect(doc, text).toContain(text);
    }
  });

  describe('PUT /users/{u}/emails', () => {
    it('needs auth.users.{u}.emails.update; the addresses a user sets are unconfirmed, the ones it keeps keep uuid and flag', async () => {
      const u = await create({ username: 'selfie', email_address: 'selfie@example.com', password: 'selfie-password' });
      const noAccess = await api.login('selfie', 'selfie-password');
      expect((await api.as(noAccess, 'PUT', `/0.1/users/${u.uuid}/emails`, { emails: [] })).statusCode).toBe(401);

      const policy = (
        await api.as(admin, 'POST', '/0.1/policies', { name: 'own emails', acl: ['auth.users.me.emails.update'] })
      ).json();
      expect((await api.as(admin, 'PUT', `/0.1/users/${u.uuid}/policies/${policy.uuid}`)).statusCode).toBe(204);
      const token = await api.login('selfie', 'selfie-password');
      // Not the administrator's route.
      expect((await adminEmails(u.uuid, [], token)).statusCode).toBe(401);

      const res = await api.as(token, 'PUT', `/0.1/users/${u.uuid}/emails`, {
        emails: [{ address: 'Selfie@New.example', main: true, confirmed: true }, { address: 'SELFIE@example.com' }],
      });
      expect(res.statusCode, res.body).toBe(200);
      const emails = res.json() as Email[];
      expect(emails.map((e) => [e.address, e.main, e.confirmed])).toEqual([
        ['Selfie@New.example', true, false],
        ['SELFIE@example.com', false, true],
      ]);
      expect(emails[1].uuid).toBe(u.emails[0].uuid);
      expect(await loginStatus('selfie@new.example', 'selfie-password')).toBe(401);
      expect(await loginStatus('selfie@example.com', 'selfie-password')).toBe(200);

      // Another user's addresses are not its to change.
      const other = await create({ username: 'other-selfie' });
      expect((await api.as(token, 'PUT', `/0.1/users/${other.uuid}/emails`, { emails: [] })).statusCode).toBe(401);
      // The same rules: one main, platform-unique.
      expect(
        (await api.as(token, 'PUT', `/0.1/users/${u.uuid}/emails`, { emails: [{ address: 'a@self.example' }] })).statusCode,
      ).toBe(400);
      expect(
        (await api.as(token, 'PUT', `/0.1/users/${u.uuid}/emails`, { emails: [{ address: 'SHAPE@example.com', main: true }] }))
          .statusCode,
      ).toBe(409);
    });
  });
});
