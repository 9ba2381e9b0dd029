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
    expect(t.service.app.log.level).toBe('silent');
  });

  it('switches profiling_enabled at run time, alone or with debug', async () => {
    expect((await api.as(admin, 'GET', '/0.1/config')).json().profiling_enabled).toBe(false);
    const on = await api.as(admin, 'PATCH', '/0.1/config', [{ op: 'replace', path: '/profiling_enabled', value: true }]);
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json()).toMatchObject({ profiling_enabled: true, debug: false });
    expect((await api.as(admin, 'GET', '/0.1/config')).json().profiling_enabled).toBe(true);
    const both = await api.as(admin, 'PATCH', '/0.1/config', [
      { op: 'replace', path: '/debug', value: true },
      { op: 'replace', path: '/profiling_enabled', value: false },
    ]);
    expect(both.json()).toMatchObject({ profiling_enabled: false, debug: true });
    const off = await api.as(admin, 'PATCH', '/0.1/config', [{ op: 'replace', path: '/debug', value: false }]);
    expect(off.json()).toMatchObject({ profiling_enabled: false, debug: false });
    expect(
      (await api.as(admin, 'PATCH', '/0.1/config', [{ op: 'replace', path: '/profiling_enabled', value: 'yes' }])).statusCode,
    ).toBe(400);
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
    const policy = (
      await api.as(admin, 'POST', '/0.1/policies', { name: 'cfg', acl: ['auth.config.#'] }, { 'wazo-tenant': sub })
    ).json().uuid as string;
    const user = await api.createUser(admin, 'subadmin', 'subadmin-password', sub);
    expect(
      (await api.as(admin, 'PUT', `/0.1/users/${user}/policies/${policy}`, undefined, { 'wazo-tenant': sub })).statusCode,
    ).toBe(204);
    const subToken = await api.login('subadmin', 'subadmin-password');
    expect((await api.as(subToken, 'GET', '/0.1/config')).statusCode).toBe(401);
    expect((await api.as(subToken, 'PATCH', '/0.1/config', [{ op: 'replace', path: '/debug', value: true }])).statusCode).toBe(
      401,
    );
    expect((await api.as(admin, 'GET', '/0.1/config')).json().debug).toBe(false);
  });
});

describe('profiling_enabled switched at run time, with the service logger', () => {
  it('logs one timing line per request while on (route template, never the token), none when off', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { createLogger } = await import('../../src/logging.js');
    const { createService } = await import('../../src/main.js');
    const { testConfig, ADMIN: admin, basic } = await import('../helpers/service.js');
    const { tempSqliteUri } = await import('../helpers/sqlite.js');
    const { until } = await import('../helpers/until.js');
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'xivo-auth-log-')), 'service.log');
    const db = tempSqliteUri();
    const logger = createLogger({ level: 'info', destination: file });
    const service = await createService(testConfig(db.uri), logger);
    try {
      const inject = service.app.inject.bind(service.app);
      const token = (
        await inject({
          method: 'POST',
          url: '/0.1/token',
          headers: { authorization: basic(admin.username, admin.password), 'content-type': 'application/json' },
          payload: {},
        })
      ).json().data.token as string;
      const headers = { 'x-auth-token': token, 'content-type': 'application/json' };
      const profiles = () => {
        logger.flush();
        return readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.includes('"request profile"'))
          .map((l) => JSON.parse(l).profile);
      };
      await inject({ method: 'GET', url: `/0.1/token/${token}?marker=before` });
      expect(
        (
          await inject({
            method: 'PATCH',
            url: '/0.1/config',
            headers,
            payload: [{ op: 'replace', path: '/profiling_enabled', value: true }],
          })
        ).statusCode,
      ).toBe(200);
      await inject({ method: 'GET', url: `/0.1/token/${token}` });
      await inject({ method: 'GET', url: '/0.1/users', headers });
      expect(
        (
          await inject({
            method: 'PATCH',
            url: '/0.1/config',
            headers,
            payload: [{ op: 'replace', path: '/profiling_enabled', value: false }],
          })
        ).statusCode,
      ).toBe(200);
      await inject({ method: 'GET', url: '/0.1/users?after=1', headers });
      await until(() => profiles().length >= 3, 'the profiles of the requests made while profiling was on');
      const seen = profiles();
      // The PATCH turning it on is the first one timed; the one turning it off is not.
      expect(seen.map((p) => `${p.method} ${p.route} ${p.status}`)).toEqual([
        'PATCH /0.1/config 200',
        'GET /0.1/token/:token 200',
        'GET /0.1/users 200',
      ]);
      for (const p of seen) expect(p.duration_ms).toEqual(expect.any(Number));
      expect(readFileSync(file, 'utf8')).not.toContain(token);
    } finally {
      await service.close();
      db.cleanup();
    }
  });
});

describe('debug switched at run time, with the service logger', () => {
  it('logs each request while debug is on (no secret in them), and stops when it is off', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { createLogger } = await import('../../src/logging.js');
    const { createService } = await import('../../src/main.js');
    const { testConfig, ADMIN: admin, basic } = await import('../helpers/service.js');
    const { tempSqliteUri } = await import('../helpers/sqlite.js');
    const { until } = await import('../helpers/until.js');
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'xivo-auth-log-')), 'service.log');
    const db = tempSqliteUri();
    const logger = createLogger({ level: 'info', destination: file });
    const service = await createService(testConfig(db.uri), logger);
    try {
      const inject = service.app.inject.bind(service.app);
      const token = (
        await inject({
          method: 'POST',
          url: '/0.1/token',
          headers: { authorization: basic(admin.username, admin.password), 'content-type': 'application/json' },
          payload: {},
        })
      ).json().data.token as string;
      const headers = { 'x-auth-token': token, 'content-type': 'application/json' };
      const lines = () => {
        logger.flush();
        return readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.includes('"/0.1/users?marker='));
      };
      await inject({ method: 'GET', url: '/0.1/users?marker=before', headers });
      expect(
        (
          await inject({
            method: 'PATCH',
            url: '/0.1/config',
            headers,
            payload: [{ op: 'replace', path: '/debug', value: true }],
          })
        ).statusCode,
      ).toBe(200);
      await inject({ method: 'GET', url: '/0.1/users?marker=during', headers });
      expect(
        (
          await inject({
            method: 'PATCH',
            url: '/0.1/config',
            headers,
            payload: [{ op: 'replace', path: '/debug', value: false }],
          })
        ).statusCode,
      ).toBe(200);
      await inject({ method: 'GET', url: '/0.1/users?marker=after', headers });
      await until(() => lines().some((l) => l.includes('marker=during')), 'the request logged while debug was on');
      const logged = lines();
      expect(logged.some((l) => l.includes('marker=before'))).toBe(false);
      expect(logged.some((l) => l.includes('marker=after'))).toBe(false);
      expect(readFileSync(file, 'utf8')).not.toContain(token);
    } finally {
      await service.close();
      db.cleanup();
    }
  });
});
