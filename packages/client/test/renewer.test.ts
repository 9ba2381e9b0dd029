// TokenRenewer against a real xivo-auth: renews at 80% of the token's life,
// backs off on failure, stops cleanly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RateLimitedError,
  TokenRenewer,
  UnauthorizedError,
  XivoAuthClient,
  tokenLifetimeMs,
  type Timers,
  type Token,
} from '@xivo-auth/client';
import { ADMIN, startTestService, type TestService } from '../../../test/helpers/service.js';
import { until } from '../../../test/helpers/until.js';

let t: TestService;
let client: XivoAuthClient;
let admin: XivoAuthClient;

/** Timers driven by the test: nothing fires until `fire()`. */
function manualTimers() {
  const pending: { fn: () => void; ms: number; handle: number }[] = [];
  let next = 1;
  const timers: Timers = {
    setTimeout(fn, ms) {
      const handle = next++;
      pending.push({ fn, ms, handle });
      return handle;
    },
    clearTimeout(handle) {
      const i = pending.findIndex((p) => p.handle === handle);
      if (i >= 0) pending.splice(i, 1);
    },
  };
  return {
    timers,
    pending,
    /** Runs the oldest pending timer and returns its delay. */
    fire(): number {
      const p = pending.shift();
      if (p === undefined) throw new Error('no timer pending');
      p.fn();
      return p.ms;
    },
  };
}

beforeAll(async () => {
  t = await startTestService('sqlite');
  client = new XivoAuthClient({ url: await t.service.listen() });
  admin = new XivoAuthClient({ url: client.transport.baseUrl.href });
  admin.setToken((await admin.token.create({ username: ADMIN.username, password: ADMIN.password })).token);
});
afterAll(() => {
  client.close();
  admin.close();
});

describe('TokenRenewer', () => {
  it('computes a token life from its UTC timestamps', () => {
    expect(tokenLifetimeMs({ utc_issued_at: '2024-01-01T00:00:00.000000', utc_expires_at: '2024-01-01T02:00:00.000000' })).toBe(
      7_200_000,
    );
  });

  it('schedules the renewal at 80% of the life and installs each token on the client', async () => {
    const clock = manualTimers();
    const seen: [string, string | null][] = [];
    const renewer = new TokenRenewer({
      client,
      login: { username: ADMIN.username, password: ADMIN.password, expiration: 100 },
      timers: clock.timers,
      onToken: (tok, prev) => seen.push([tok.token, prev?.token ?? null]),
    });
    const first = await renewer.start();
    expect(client.currentToken).toBe(first.token);
    expect(clock.pending.map((p) => p.ms)).toEqual([80_000]);

    expect(clock.fire()).toBe(80_000);
    await until(() => seen.length === 2, 'the renewal');
    const second = renewer.current as Token;
    expect(second.token).not.toBe(first.token);
    expect(seen[1]).toEqual([second.token, first.token]);
    expect(client.currentToken).toBe(second.token);
    expect(await client.token.isValid(second.token)).toBe(true);
    // the previous token is left to expire unless revokePrevious is set
    expect(await client.token.isValid(first.token)).toBe(true);

    await renewer.stop({ revoke: true });
    expect(clock.pending).toEqual([]);
    expect(await client.token.isValid(second.token)).toBe(false);
    expect(client.currentToken).toBe(null);
  });

  it('renews for real before expiry (short-lived token)', async () => {
    const tokens: Token[] = [];
    const c = new XivoAuthClient({ url: client.transport.baseUrl.href });
    const renewer = new TokenRenewer({
      client: c,
      login: { username: ADMIN.username, password: ADMIN.password, expiration: 2 },
      revokePrevious: true,
      onToken: (tok) => tokens.push(tok),
    });
    try {
      await renewer.start();
      await until(() => tokens.length >= 2, 'a second token', 15_000);
      expect(tokens[1].token).not.toBe(tokens[0].token);
      await until(async () => !(await c.token.isValid(tokens[0].token)), 'the previous token revoked');
      expect(await c.token.isValid(tokens[1].token)).toBe(true);
    } finally {
      await renewer.stop();
      c.close();
    }
  });

  it('backs off exponentially on failure, capped, and recovers', async () => {
    // A user of its own: xivo-auth locks a login out after 5 failures.
    await admin.users.create({ username: 'renewer-backoff', password: 'pw-renewer-backoff' });
    const clock = manualTimers();
    const errors: [unknown, number][] = [];
    const login = { username: 'renewer-backoff', password: 'wrong-password', expiration: 100 };
    const renewer = new TokenRenewer({
      client,
      login,
      timers: clock.timers,
      initialBackoff: 1000,
      maxBackoff: 4000,
      useForClient: false,
      onError: (e, ms) => errors.push([e, ms]),
    });
    const started = renewer.start();
    await until(() => errors.length === 1, 'the first failure');
    for (let i = 2; i <= 4; i++) {
      clock.fire();
      await until(() => errors.length === i, `failure ${i}`);
    }
    expect(errors.map(([, ms]) => ms)).toEqual([1000, 2000, 4000, 4000]);
    expect(errors[0][0]).toBeInstanceOf(UnauthorizedError);
    expect(clock.pending.map((p) => p.ms)).toEqual([4000]);

    login.password = 'pw-renewer-backoff'; // the credentials are fixed: the next attempt succeeds
    clock.fire();
    const token = await started;
    expect(token.auth_id).toBeTruthy();
    expect(await client.token.isValid(token.token)).toBe(true);
    expect(clock.pending.map((p) => p.ms)).toEqual([80_000]);
    await renewer.stop({ revoke: true });
  });

  it('waits at least the Retry-After of a 429', async () => {
    await admin.users.create({ username: 'renewer-locked', password: 'pw-renewer-locked' });
    for (let i = 0; i < 6; i++) await client.token.create({ username: 'renewer-locked', password: 'bad' }).catch(() => undefined);
    const clock = manualTimers();
    const errors: [unknown, number][] = [];
    const renewer = new TokenRenewer({
      client,
      login: { username: 'renewer-locked', password: 'pw-renewer-locked' },
      timers: clock.timers,
      initialBackoff: 10,
      useForClient: false,
      onError: (e, ms) => errors.push([e, ms]),
    });
    const started = renewer.start();
    started.catch(() => undefined);
    await until(() => errors.length === 1, 'the first failure');
    const [err, wait] = errors[0];
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(wait).toBe(Math.max(10, ((err as RateLimitedError).retryAfter ?? 0) * 1000));
    expect(wait).toBeGreaterThanOrEqual(1000);
    await renewer.stop();
  });

  it('stop() before the first login rejects start()', async () => {
    const clock = manualTimers();
    const renewer = new TokenRenewer({
      client,
      login: { username: 'nobody-at-all', password: 'x' },
      timers: clock.timers,
      useForClient: false,
      onError: () => undefined,
    });
    const started = renewer.start();
    await until(() => clock.pending.length === 1, 'a retry scheduled');
    await renewer.stop();
    await expect(started).rejects.toThrow(/stopped/);
    expect(clock.pending).toEqual([]);
  });
});
