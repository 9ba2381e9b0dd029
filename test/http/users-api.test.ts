// The users API (API.md §4, users row) and protected-endpoint rules, on both engines.
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

describe.each(ENGINES)('users API on %s', (engine) => {
  let t: TestService;
  let admin: string;
  const inject = (opts: InjectOptions) => t.service.app.inject(opts);
  const asAdmin = (method: string, url: string, payload?: unknown) =>
    inject({
      method: method as 'GET',
      url,
      headers: { ...JSON_HEADERS, 'x-auth-token': admin },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const login = (user: string, password: string) =>
    inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { ...JSON_HEADERS, authorization: basic(user, password) },
      payload: {},
    });

  beforeAll(async () => {
    t = await startTestService(engine);
    admin = (await login(ADMIN.username, ADMIN.password)).json().data.token;
  });

  it('refuses calls without a token, with an unknown token, or without the access, with the documented 401 body', async () => {
    const none = await inject({ method: 'GET', url: '/0.1/users' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({
      message: 'Unauthorized',
      error_id: 'unauthorized',
      details: { invalid_token: null, reason: 'not_found_or_expired', required_access: 'auth.users.read' },
    });
    expect(typeof none.json().timestamp).toBe('number');

    const unknown = await inject({ method: 'GET', url: '/0.1/users', headers: { 'x-auth-token': 'nope' } });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().details.reason).toBe('not_found_or_expired');
    expect(JSON.stringify(unknown.json())).not.toContain('"nope"');

    await asAdmin('POST', '/0.1/users', { username: 'plain', password: 'plain-password' });
    const plain = (await login('plain', 'plain-password')).json().data.token;
    const denied = await inject({ method: 'GET', url: '/0.1/users', headers: { 'x-auth-token': plain } });
    expect(denied.statusCode).toBe(401);
    expect(denied.json().details).toMatchObject({
      reason: 'missing_permission_or_invalid_tenant',
      required_access: 'auth.users.read',
    });
  });

  it('creates, reads, lists, updates and deletes users', async () => {
    const created = await asAdmin('POST', '/0.1/users', {
      username: 'lena',
      firstname: 'Lena',
      lastname: 'L',
      email_address: 'lena@example.com',
      password: 'lena-password',
    });
    expect(created.statusCode, created.body).toBe(200);
    const lena = created.json();
    expect(lena).toMatchObject({
      username: 'lena',
      firstname: 'Lena',
      purpose: 'user',
      enabled: true,
      emails: [{ address: 'lena@example.com', confirmed: true, main: true }],
    });
    expect(lena).not.toHaveProperty('password');
    expect(JSON.stringify(lena)).not.toContain('argon2');

    expect((await asAdmin('GET', `/0.1/users/${lena.uuid}`)).json().username).toBe('lena');
    const list = await asAdmin('GET', '/0.1/users?search=len&order=username&direction=desc&limit=10&offset=0');
    expect(list.statusCode).toBe(200);
    expect(list.json().filtered).toBe(1);
    expect(list.json().total).toBeGreaterThanOrEqual(2);
    expect((await asAdmin('GET', '/0.1/users?limit=abc')).json().error_id).toBe('invalid-list-param');
    expect((await asAdmin('GET', '/0.1/users?order=password_hash')).statusCode).toBe(400);
    expect((await asAdmin('GET', '/0.1/users?direction=sideways')).statusCode).toBe(400);

    const updated = await asAdmin('PUT', `/0.1/users/${lena.uuid}`, {
      username: 'lena2',
      firstname: 'Lena',
      lastname: 'M',
      email_address: 'lena@example.com',
    });
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json()).toMatchObject({ username: 'lena2', lastname: 'M' });

    expect((await asAdmin('DELETE', `/0.1/users/${lena.uuid}`)).statusCode).toBe(204);
    const gone = await asAdmin('GET', `/0.1/users/${lena.uuid}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error_id).toBe('unknown-user');
    expect((await asAdmin('DELETE', `/0.1/users/${lena.uuid}`)).statusCode).toBe(404);
  });

  it('refuses duplicates with 409 and bad bodies with 400 invalid-data', async () => {
    await asAdmin('POST', '/0.1/users', { username: 'mike', password: 'mike-password', email_address: 'mike@example.com' });
    const dup = await asAdmin('POST', '/0.1/users', { username: 'MIKE', password: 'x-password' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error_id).toBe('conflict');
    expect((await asAdmin('POST', '/0.1/users', { username: 'mike3', email_address: 'MIKE@example.com' })).statusCode).toBe(409);
    for (const body of [
      {},
      { username: 5 },
      { username: '' },
      { username: 'a\u0000b' },
      { username: 'x'.repeat(300) },
      { username: 'ok', purpose: 'god' },
      { username: 'ok', enabled: 'yes' },
      { username: 'ok', uuid: 'not-a-uuid' },
      [],
    ]) {
      const res = await asAdmin('POST', '/0.1/users', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error_id).toBe('invalid-data');
    }
  });

  it('revokes every token when a user is disabled, deleted, or changes password', async () => {
    const nina = (await asAdmin('POST', '/0.1/users', { username: 'nina', password: 'nina-password' })).json();
    const t1 = (await login('nina', 'nina-password')).json().data.token;
    const t2 = (await login('nina', 'nina-password')).json().data.token;
    expect((await inject({ method: 'HEAD', url: `/0.1/token/${t1}` })).statusCode).toBe(204);

    // Password change: wrong old password → 401, right one revokes.
    const wrong = await asAdmin('PUT', `/0.1/users/${nina.uuid}/password`, {
      old_password: 'nope',
      new_password: 'nina-new-password',
    });
    expect(wrong.statusCode).toBe(401);
    expect((await inject({ method: 'HEAD', url: `/0.1/token/${t1}` })).statusCode).toBe(204);
    const changed = await asAdmin('PUT', `/0.1/users/${nina.uuid}/password`, {
      old_password: 'nina-password',
      new_password: 'nina-new-password',
    });
    expect(changed.statusCode).toBe(204);
    expect((await inject({ method: 'HEAD', url: `/0.1/token/${t1}` })).statusCode).toBe(404);
    expect((await inject({ method: 'HEAD', url: `/0.1/token/${t2}` })).statusCode).toBe(404);
    expect((await login('nina', 'nina-password')).statusCode).toBe(401);

    // Disable.
    const t3 = (await login('nina', 'nina-new-password')).json().data.token;
    const disabled = await asAdmin('PUT', `/0.1/users/${nina.uuid}`, { username: 'nina', enabled: false });
    expect(disabled.statusCode).toBe(200);
    expect((await inject({ method: 'HEAD', url: `/0.1/token/${t3}` })).statusCode).toBe(404);
    expect((await login('nina', 'nina-new-password')).statusCode).toBe(401);

    // Delete.
    await asAdmin('PUT', `/0.1/users/${nina.uuid}`, { username: 'nina', enabled: true });
    const t4 = (await login('nina', 'nina-new-password')).json().data.token;
    await asAdmin('DELETE', `/0.1/users/${nina.uuid}`);
    expect((await inject({ method: 'HEAD', url: `/0.1/token/${t4}` })).statusCode).toBe(404);
  });

  it('lets a user change its own password with an ACL granting it', async () => {
    const olga = (await asAdmin('POST', '/0.1/users', { username: 'olga', password: 'olga-password' })).json();
    const token = (await login('olga', 'olga-password')).json().data.token;
    // No policy: least privilege, no access.
    const res = await inject({
      method: 'PUT',
      url: `/0.1/users/${olga.uuid}/password`,
      headers: { ...JSON_HEADERS, 'x-auth-token': token },
      payload: { old_password: 'olga-password', new_password: 'olga-password-2' },
    });
    expect(res.statusCode).toBe(401);
  });

  it("honours Wazo-Tenant: the caller's tenant passes, an unknown one is 401 unauthorized-tenant", async () => {
    const own = (await inject({ method: 'GET', url: `/0.1/token/${admin}` })).json().data.metadata.tenant_uuid;
    expect(
      (await inject({ method: 'GET', url: '/0.1/users', headers: { 'x-auth-token': admin, 'wazo-tenant': own } })).statusCode,
    ).toBe(200);
    const other = await inject({
      method: 'GET',
      url: '/0.1/users',
      headers: { 'x-auth-token': admin, 'wazo-tenant': '00000000-0000-4000-8000-000000000000' },
    });
    expect(other.statusCode).toBe(401);
    expect(other.json().error_id).toBe('unauthorized-tenant');
  });
});
