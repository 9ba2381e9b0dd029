// Issue 19, item 1, with the token cache on: a blackholed PostgreSQL (packets
// dropped, no error on any socket) is noticed by the revocation listener's
// heartbeat, which turns the cache off (fail closed: a token revoked on
// another instance meanwhile is never served from it): the checks then answer
// 503 like any request needing the database, and the cache comes back with
// the database.
import { describe, expect, it } from 'vitest';
import { ADMIN, basic } from '../helpers/service.js';
import { startServiceBehindProxy } from '../helpers/tcp-proxy.js';
import { until } from '../helpers/until.js';

describe('revocation listener during a blackhole', () => {
  it('turns the cache off within heartbeat + db_timeout_seconds, back on after the restore', async () => {
    const { service, proxy } = await startServiceBehindProxy({ db_timeout_seconds: 2, token_cache: { max_entries: 1000 } });
    const ready = async () =>
      (await service.app.inject({ method: 'GET', url: '/health/ready' })).json().checks as Record<string, string>;
    await until(async () => (await ready()).listener === 'ok', 'listener up');
    const token = (
      await service.app.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic(ADMIN.username, ADMIN.password) },
        payload: {},
      })
    ).json().data.token as string;
    const check = async () => (await service.app.inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode;
    expect(await check()).toBe(204);
    expect(service.cache.isActive).toBe(true);

    proxy.blackhole();
    const cutAt = performance.now();
    // Heartbeat every 5 s, given up after db_timeout_seconds (2 s).
    await until(() => !service.cache.isActive, 'the cache turned off', 9000);
    const noticedMs = performance.now() - cutAt;
    expect(noticedMs).toBeLessThan(8000);
    expect((await ready()).listener).toBe('fail');
    // From then on, no answer from the cache: the database is needed, and unreachable.
    for (let i = 0; i < 3; i += 1) {
      const started = performance.now();
      expect(await check()).toBe(503);
      expect(performance.now() - started).toBeLessThan(3000);
    }

    await proxy.restore();
    await until(() => service.cache.isActive, 'the cache back on', 10_000);
    expect(await check()).toBe(204);
    console.log(
      `[listener] blackhole noticed after ${Math.round(noticedMs)} ms; cache back ${Math.round(performance.now() - cutAt - noticedMs)} ms later`,
    );
  }, 30_000);
});
