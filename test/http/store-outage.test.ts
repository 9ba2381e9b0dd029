// A lost database connection answers 503 (never 500, never a crash), and the
// service recovers by itself when the database is back.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/main.js';
import { ADMIN, basic } from '../helpers/service.js';
import { startServiceBehindProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/** The token check's status once it stops answering 503 (polled for up to 10 s). */
async function checkOnceRecovered(service: Service, token: string): Promise<number> {
  let status = 0;
  for (let i = 0; i < 100 && status !== 204; i += 1) {
    status = (await service.app.inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode;
    if (status !== 204) await new Promise((r) => setTimeout(r, 100));
  }
  return status;
}

describe('PostgreSQL outage', () => {
  let proxy: TcpProxy;
  let service: Service;

  beforeAll(async () => {
    ({ service, proxy } = await startServiceBehindProxy());
  });

  it('answers 503 while the database is unreachable and recovers when it returns', async () => {
    const login = () =>
      service.app.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic(ADMIN.username, ADMIN.password) },
        payload: {},
      });
    const token = (await login()).json().data.token;
    expect((await service.app.inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode).toBe(204);

    await proxy.cut();
    const check = await service.app.inject({ method: 'GET', url: `/0.1/token/${token}` });
    expect(check.statusCode).toBe(503);
    expect(check.json()).toMatchObject({ status_code: 503 });
    expect(check.headers['retry-after']).toBeDefined();
    const loginDown = await login();
    expect(loginDown.statusCode).toBe(503);
    const users = await service.app.inject({ method: 'GET', url: '/0.1/users', headers: { 'x-auth-token': token } });
    expect(users.statusCode).toBe(503);
    expect(users.json().error_id).toBe('service-unavailable');
    const status = await service.app.inject({ method: 'GET', url: '/0.1/status' });
    expect(status.statusCode).toBe(503);
    expect(status.json().store.status).toBe('fail');

    await proxy.restore();
    expect(await checkOnceRecovered(service, token)).toBe(204);
    expect((await login()).statusCode).toBe(200);
    expect((await service.app.inject({ method: 'GET', url: '/0.1/status' })).statusCode).toBe(200);
  });
});

describe('PostgreSQL that stops answering (a partition: no error, no reset)', () => {
  let proxy: TcpProxy;
  let service: Service;

  beforeAll(async () => {
    ({ service, proxy } = await startServiceBehindProxy({ db_timeout_ms: 500 }));
  });

  it('answers 503 after db_timeout_ms instead of hanging, then recovers by itself', async () => {
    const login = () =>
      service.app.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic(ADMIN.username, ADMIN.password) },
        payload: {},
      });
    const token = (await login()).json().data.token;
    proxy.freeze();
    // Bounded by the configured timeout (500 ms), with a wide margin for a busy machine.
    const started = Date.now();
    const [check, loginDown] = await Promise.all([service.app.inject({ method: 'GET', url: `/0.1/token/${token}` }), login()]);
    expect(check.statusCode).toBe(503);
    expect(loginDown.statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(5000);
    // A new connection is accepted but never answers: bounded as well.
    const again = await service.app.inject({ method: 'HEAD', url: `/0.1/token/${token}` });
    expect(again.statusCode).toBe(503);

    await proxy.restore();
    expect(await checkOnceRecovered(service, token)).toBe(204);
    expect((await login()).statusCode).toBe(200);
  });
});
