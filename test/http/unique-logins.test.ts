// Issue 16, findings 7 and 1: a domain name belongs to one tenant, and a
// login string names one user, across all tenants and case-insensitively
// (docs/isolation.md, "Unique logins and domains"), on both engines.
import Database from 'better-sqlite3';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { sqlitePath } from '../../src/store/open-store.js';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type Engine, type TestService } from '../helpers/service.js';

/** Writes beside the service, as data stored before the rules would be. */
async function writeDirectly(engine: Engine, dbUri: string, text: string, params: string[]): Promise<void> {
  if (engine === 'sqlite') {
    const db = new Database(sqlitePath(dbUri));
    try {
      db.prepare(text.replace(/\$\d+/g, '?')).run(...params);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: dbUri });
  await client.connect();
  try {
    await client.query(text, params);
  } finally {
    await client.end();
  }
}

describe.each(ENGINES)('unique logins and domains on %s', (engine) => {
  let t: TestService;
  let admin: string;
  const api = iamApi(() => t);
  const tenantByName = async (name: string) =>
    (await api.as(admin, 'GET', `/0.1/tenants?search=${name}`)).json().items as { uuid: string; domain_names: string[] }[];

  beforeAll(async () => {
    t = await startTestService(engine);
    admin = await api.adminToken();
  });

  describe('domain names', () => {
    it('are stored lower-cased, once', async () => {
      const res = await api.as(admin, 'POST', '/0.1/tenants', {
        name: 'casing',
        domain_names: ['Casing.Example', 'casing.EXAMPLE', 'Other.Casing.example'],
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().domain_names).toEqual(['casing.example', 'other.casing.example']);
    });

    it('refuses on create a name another tenant holds, in any case: 409 on domain_names, nothing created', async () => {
      const a = await api.as(admin, 'POST', '/0.1/tenants', { name: 'dom_a', domain_names: ['acme.example'] });
      expect(a.statusCode, a.body).toBe(200);
      for (const names of [['acme.example'], ['ACME.example'], ['b-only.example', 'Acme.Example']]) {
        const b = await api.as(admin, 'POST', '/0.1/tenants', { name: 'dom_b', domain_names: names });
        expect(b.statusCode, JSON.stringify(names)).toBe(409);
        expect(b.json()).toMatchObject({ error_id: 'conflict', details: { domain_names: { constraint_id: 'unique' } } });
      }
      expect(await tenantByName('dom_b')).toEqual([]);
      // b-only.example was not kept by the refused creation.
      expect((await api.as(admin, 'POST', '/0.1/tenants', { name: 'dom_c', domain_names: ['b-only.example'] })).statusCode).toBe(
        200,
      );
    });

    it('refuses on update a name another tenant holds (sub-tenant admin included), leaving the tenant as it was', async () => {
      const owner = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'dom_owner', domain_names: ['owned.example'] })).json();
      const other = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'dom_other', domain_names: ['mine.example'] })).json();
      // An administrator of the other tenant only (its own token, its own tenant).
      const policy = (
        await api.as(
          admin,
          'POST',
          '/0.1/policies',
          { name: 'tenant admin', acl: ['auth.tenants.#'] },
          { 'wazo-tenant': other.uuid },
        )
      ).json();
      const otherAdmin = await api.createUser(admin, 'dom-other-admin', 'dom-other-password', other.uuid);
      expect(
        (await api.as(admin, 'PUT', `/0.1/users/${otherAdmin}/policies/${policy.uuid}`, undefined, { 'wazo-tenant': other.uuid }))
          .statusCode,
      ).toBe(204);
      const token = await api.login('dom-other-admin', 'dom-other-password');

      for (const [who, names] of [
        [admin, ['OWNED.example']],
        [token, ['mine.example', 'Owned.Example']],
      ] as const) {
        const res = await api.as(who, 'PUT', `/0.1/tenants/${other.uuid}`, { name: 'dom_other', domain_names: names });
        expect(res.statusCode, res.body).toBe(409);
        expect(res.json().details).toHaveProperty('domain_names');
      }
      expect((await api.as(admin, 'GET', `/0.1/tenants/${other.uuid}`)).json().domain_names).toEqual(['mine.example']);
      expect((await api.as(admin, 'GET', `/0.1/tenants/${owner.uuid}`)).json().domain_names).toEqual(['owned.example']);

      // Its own names, re-cased or repeated, are no conflict.
      const same = await api.as(token, 'PUT', `/0.1/tenants/${other.uuid}`, {
        name: 'dom_other',
        domain_names: ['MINE.example', 'new.example'],
      });
      expect(same.statusCode, same.body).toBe(200);
      expect(same.json().domain_names).toEqual(['mine.example', 'new.example']);

      // A deleted tenant's names are free again.
      expect((await api.as(admin, 'DELETE', `/0.1/tenants/${owner.uuid}`)).statusCode).toBe(204);
      const taken = await api.as(token, 'PUT', `/0.1/tenants/${other.uuid}`, {
        name: 'dom_other',
        domain_names: ['Owned.example'],
      });
      expect(taken.statusCode, taken.body).toBe(200);
      expect(taken.json().domain_names).toEqual(['owned.example']);
    });
  });

  describe('usernames and email addresses', () => {
    let elsewhere: string;
    let alice: string;
    let dave: string;

    beforeAll(async () => {
      elsewhere = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'logins_elsewhere' })).json().uuid;
      // In another tenant than the writes below: logins are global.
      const a = await api.as(
        admin,
        'POST',
        '/0.1/users',
        { username: 'alice', password: 'alice-password', email_address: 'Alice@Corp.example' },
        { 'wazo-tenant': elsewhere },
      );
      expect(a.statusCode, a.body).toBe(200);
      alice = a.json().uuid;
      const d = await api.as(
        admin,
        'POST',
        '/0.1/users',
        { username: 'Dave@Ops.example', password: 'dave-password' },
        { 'wazo-tenant': elsewhere },
      );
      expect(d.statusCode, d.body).toBe(200);
      dave = d.json().uuid;
    });

    const count = async (search: string) =>
      (await api.as(admin, 'GET', `/0.1/users?recurse=true&search=${encodeURIComponent(search)}`)).json().filtered as number;

    it("refuses a new user whose username is another user's email, in any case: 409 on username", async () => {
      const before = await count('corp.example');
      for (const username of ['Alice@Corp.example', 'alice@corp.example', 'ALICE@CORP.EXAMPLE']) {
        const res = await api.as(admin, 'POST', '/0.1/users', { username, password: 'x-password' });
        expect(res.statusCode, username).toBe(409);
        expect(res.json()).toMatchObject({ error_id: 'conflict', details: { username: { constraint_id: 'unique' } } });
      }
      expect(await count('corp.example')).toBe(before);
    });

    it("refuses a new user whose email is another user's username, in any case: 409 on email_address", async () => {
      const res = await api.as(admin, 'POST', '/0.1/users', {
        username: 'erin',
        password: 'erin-password',
        email_address: 'dave@OPS.example',
      });
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json()).toMatchObject({ error_id: 'conflict', details: { email_address: { constraint_id: 'unique' } } });
      expect(await count('erin')).toBe(0);
    });

    it("refuses an update that makes a username another user's email, or an email another user's username; nothing changes", async () => {
      const bob = (
        await api.as(admin, 'POST', '/0.1/users', {
          username: 'bob',
          password: 'bob-password',
          email_address: 'bob@home.example',
          firstname: 'Bob',
        })
      ).json();
      const before = (await api.as(admin, 'GET', `/0.1/users/${bob.uuid}`)).json();

      const byUsername = await api.as(admin, 'PUT', `/0.1/users/${bob.uuid}`, {
        username: 'aLiCe@corp.example',
        firstname: 'Changed',
        email_address: 'bob@home.example',
      });
      expect(byUsername.statusCode, byUsername.body).toBe(409);
      expect(byUsername.json().details).toHaveProperty('username');

      const byEmail = await api.as(admin, 'PUT', `/0.1/users/${bob.uuid}`, {
        username: 'bob',
        firstname: 'Changed',
        email_address: 'DAVE@ops.example',
      });
      expect(byEmail.statusCode, byEmail.body).toBe(409);
      expect(byEmail.json().details).toHaveProperty('email_address');

      expect((await api.as(admin, 'GET', `/0.1/users/${bob.uuid}`)).json()).toEqual(before);
      expect(
        (await api.as(admin, 'GET', `/0.1/users/${alice}`, undefined, { 'wazo-tenant': elsewhere })).json().emails[0].address,
      ).toBe('Alice@Corp.example');
      expect((await api.as(admin, 'GET', `/0.1/users/${dave}`, undefined, { 'wazo-tenant': elsewhere })).json().username).toBe(
        'Dave@Ops.example',
      );
      expect(await api.login('bob', 'bob-password')).toEqual(expect.any(String));
      expect(await api.login('alice@corp.example', 'alice-password')).toEqual(expect.any(String));
      expect(await api.login('dave@ops.example', 'dave-password')).toEqual(expect.any(String));
    });

    it('accepts a user whose username is its own email address', async () => {
      const res = await api.as(admin, 'POST', '/0.1/users', {
        username: 'Self@Same.example',
        password: 'self-password',
        email_address: 'self@same.example',
      });
      expect(res.statusCode, res.body).toBe(200);
      const edited = await api.as(admin, 'PUT', `/0.1/users/${res.json().uuid}`, {
        username: 'SELF@same.example',
        email_address: 'Self@Same.example',
      });
      expect(edited.statusCode, edited.body).toBe(200);
      expect(await api.login('self@same.example', 'self-password')).toEqual(expect.any(String));
    });

    it("refuses, for both users, a login stored before the rule as one's username and another's email", async () => {
      const frank = (
        await api.as(admin, 'POST', '/0.1/users', {
          username: 'frank',
          password: 'frank-password',
          email_address: 'frank@shared.example',
        })
      ).json();
      const gina = (
        await api.as(admin, 'POST', '/0.1/users', { username: 'gina', password: 'gina-password' }, { 'wazo-tenant': elsewhere })
      ).json();
      expect(await api.login('frank@shared.example', 'frank-password')).toEqual(expect.any(String));
      // As if stored by an earlier version, which did not check.
      await writeDirectly(engine, t.config.db_uri as string, 'update users set username = $1 where uuid = $2', [
        'FRANK@shared.example',
        gina.uuid,
      ]);

      for (const password of ['frank-password', 'gina-password']) {
        const res = await api.inject({
          method: 'POST',
          url: '/0.1/token',
          payload: {},
          headers: {
            'content-type': 'application/json',
            authorization: `Basic ${Buffer.from(`frank@shared.example:${password}`).toString('base64')}`,
          },
        });
        expect(res.statusCode, password).toBe(401);
      }
      // Frank's username still logs him in; editing Gina without changing the
      // shared username is allowed, and changing it ends the ambiguity.
      expect(await api.login('frank', 'frank-password')).toEqual(expect.any(String));
      const kept = await api.as(
        admin,
        'PUT',
        `/0.1/users/${gina.uuid}`,
        { username: 'FRANK@shared.example', firstname: 'Gina' },
        { 'wazo-tenant': elsewhere },
      );
      expect(kept.statusCode, kept.body).toBe(200);
      expect(frank.uuid).not.toBe(gina.uuid);
      await api.as(
        admin,
        'PUT',
        `/0.1/users/${gina.uuid}`,
        { username: 'gina', firstname: 'Gina' },
        { 'wazo-tenant': elsewhere },
      );
      expect(await api.login('frank@shared.example', 'frank-password')).toEqual(expect.any(String));
    });
  });
});
