// PostgreSQL unreachable: /authz answers 503 (gateways fail closed),
// /health/ready 503, /health/live still 200 (no restart storm).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/main.js';
import { ADMIN, basic } from '../helpers/service.js';
import { startServiceBehindProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

describe('health and authz during a PostgreSQL outage', () => {
  let proxy: TcpProxy;
  let service: Service;

  beforeAll(async () => {
    ({ service, proxy } = await startServiceBehindProxy());
    for (let i = 0; i < 50; i += 1) {
      if ((await service.app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('503 from /authz and /health/ready, 200 from /health/live, then recovery', async () => {
    const token = (
      await service.app.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic(ADMIN.username, ADMIN.password) },
        payload: {},
      })
    ).json().data.token;
    const authz = () => service.app.inject({ method: 'GET', url: '/0.1/authz', headers: { 'x-auth-token': token } });
    expect((await authz()).statusCode).toBe(200);

    await proxy.cut();
    const down = await authz();
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe('1');
    expect(down.headers['x-auth-user-uuid']).toBeUndefined();
    const ready = await service.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.store).toBe('fail');
    expect((await service.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    let listener = '';
    for (let i = 0; i < 50 && listener !== 'fail'; i += 1) {
      listener = (await service.app.inject({ method: 'GET', url: '/health/ready' })).json().checks.listener;
      if (listener !== 'fail') await new Promise((r) => setTimeout(r, 100));
    }
    expect(listener).toBe('fail');

    await proxy.restore();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i += 1) {
      status = (await service.app.inject({ method: 'GET', url: '/health/ready' })).statusCode;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    expect((await authz()).statusCode).toBe(200);
  });
});
