// GET/PATCH /0.1/config (API.md §6): the running configuration with secrets
// masked, for the top tenant's holders of auth.config.read/update; PATCH
// toggles debug (the log level) at run time and nothing else.
import { beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

describe.each(ENGINES)('config API on %s', (engine) => {
  let t: TestService;
  const api = iamApi(() => t);
  let admin: string;

  beforeAll(async () => {
    t = await startTestService(engine, { amqp: { uri: 'amqp://bus-user:bus-secret@127.0.0.1:5672/' } });
    admin = await api.adminToken();
  });

  it('shows the running configuration with every secret masked', async () => {
    const res = await api.as(admin, 'GET', '/0.1/config');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.rest_api.port).toBe(t.config.rest_api.port);
    expect(body.debug).toBe(false);
    expect(body.bootstrap_user_password).toBe('********');
    expect(body.amqp.uri).not.toContain('bus-secret');
    expect(res.body).not.toContain(t.config.bootstrap_user_password!);
    expect(res.body).not.toContain('bus-secret');
  });

  it('turns debug on and off at run time, and changes the log level with it', async () => {
    const on = await api.as(admin, 'PATCH', '/0.1/config', [{ op: 'replace', path: '/debug', value: true }]);
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json().debug).toBe(true);
    expect(t.service.app.log.level).toBe('debug');
    expect((await api.as(admin, 'GET', '/0.1/config')).json().debug).toBe(true);
    const off = await api.as(admin, 'PATCH', '/0.1/config', [{ op: 'replace', path: '/debug', value: false }]);
    expect(off.json().debug).toBe(false);
    expect(t.service.app.log.level).not.toBe('debug');
  });

  it('refuses any other change with 400 invalid-data, and changes nothing', async () => {
    for (const body of [
      [{ op: 'replace', path: '/db_uri', value: 'sqlite:/tmp/x' }],
      [{ op: 'add', path: '/debug', value: true }],
      [{ op: 'replace', path: '/debug', value: 'yes' }],
      { op: 'replace', path: '/debug', value: true },
      [],
    ]) {
      const res = await api.as(admin, 'PATCH', '/0.1/config', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error_id).toBe('invalid-data');
    }
    expect((await api.as(admin, 'GET', '/0.1/config')).json()).toMatchObject({ debug: false, db_uri: expect.any(String) });
  });

  it('answers 401 without a token, without the access, and outside the top tenant', async () => {
    expect((await api.as(null, 'GET', '/0.1/config')).statusCode).toBe(401);
    await api.createUser(admin, 'plain', 'plain-password');
    const plain = await api.login('plain', 'plain-password');
    const denied = await api.as(plain, 'GET', '/0.1/config');
    expect(denied.statusCode).toBe(401);
    expect(denied.json().details.required_access).toBe('auth.config.read');

    // An administrator of a sub-tenant holding the access still may not.
    const sub = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'Sub' })).json().uuid as string;
    const policy = (await api.as(admin, 'POST', '/0.1/policies', { name: 'cfg', acl: ['auth.config.#'] }, { 'wazo-tenant': sub })).json().uuid as string;
    const user = await api.createUser(admin, 'subadmin', 'subadmin-password', sub);
    expect((await api.as(admin, 'PUT', `/0.1/users/${user}/policies/${policy}`, undefined, { 'wazo-tenant': sub })).statusCode).toBe(204);
    const subToken = await api.login('subadmin', 'subadmin-password');
    expect((await api.as(subToken, 'GET', '/0.1/config')).statusCode).toBe(401);
    expect((await api.as(subToken, 'PATCH', '/0.1/config', [{ op: 'replace', path: '/debug', value: true }])).statusCode).toBe(401);
    expect((await api.as(admin, 'GET', '/0.1/config')).json().debug).toBe(false);
  });
});
