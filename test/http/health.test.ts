// /health/live, /health/ready (503 while draining), the management listener.
import { describe, expect, it } from 'vitest';
import { startTestService } from '../helpers/service.js';

describe('health probes', () => {
  it('live and ready answer 200 with their checks, never cached', async () => {
    const t = await startTestService('sqlite');
    const live = await t.service.app.inject({ method: 'GET', url: '/health/live' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    expect(live.headers['cache-control']).toBe('no-store');
    const ready = await t.service.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { store: 'ok', migrations: 'ok', listener: 'ok', draining: 'ok' } });
    expect(ready.headers['cache-control']).toBe('no-store');
  });

  it('ready answers 503 during the SIGTERM drain while live stays 200', async () => {
    const t = await startTestService('sqlite');
    const url = await t.service.listen();
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    const closing = t.service.close();
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not_ready', checks: { draining: 'fail', store: 'ok' } });
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    await closing;
  });

  it('PostgreSQL: ready once the revocation listener is connected', async () => {
    const t = await startTestService('postgresql');
    let res = await t.service.app.inject({ method: 'GET', url: '/health/ready' });
    for (let i = 0; i < 50 && res.statusCode !== 200; i += 1) {
      // Until LISTEN is up, this instance could serve a revoked token from its cache.
      expect(res.json().checks.listener).toBe('fail');
      await new Promise((r) => setTimeout(r, 100));
      res = await t.service.app.inject({ method: 'GET', url: '/health/ready' });
    }
    expect(res.statusCode).toBe(200);
    expect(t.service.cache.isActive).toBe(true);
  });

  it('the management listener serves /metrics and /health/*; the public API then has no /metrics', async () => {
    const t = await startTestService('sqlite', { management: { enabled: true, listen: '127.0.0.1', port: 0 } });
    await t.service.listen();
    const mgmt = t.service.managementUrl as string;
    expect(mgmt).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(mgmt).not.toBe(t.service.url);
    const metrics = await fetch(`${mgmt}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('xivo_auth_token_checks_total');
    expect((await fetch(`${mgmt}/health/live`)).status).toBe(200);
    expect((await fetch(`${mgmt}/health/ready`)).status).toBe(200);
    expect((await fetch(`${mgmt}/0.1/token`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${t.service.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${t.service.url}/health/ready`)).status).toBe(200);
    await t.close();
    await expect(fetch(`${mgmt}/health/live`)).rejects.toThrow();
  });
});
