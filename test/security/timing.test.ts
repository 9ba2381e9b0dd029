// Timing: an unknown user, a wrong password and a disabled user cost the same
// (medians over interleaved samples, generous tolerance, no wall-clock
// threshold); the same method does see the missing hash of a path that skips
// it, so it can fail. And guessed tokens are never valid.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { login, securityWith } from './helpers.js';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

describe('login timing', () => {
  let t: TestService;
  const api = iamApi(() => t);

  beforeAll(async () => {
    t = await startTestService('sqlite', {
      // Enough hashing work to dominate a request; no throttling: every attempt is checked.
      password_hashing: { memory_kib: 8192, iterations: 2, parallelism: 1, max_concurrent: 0, max_queue: 64, niceness: 10 },
      security: securityWith({ rate_limits: { enabled: false }, login_throttle: { enabled: false } }),
    });
    const admin = await api.adminToken();
    await api.createUser(admin, 'timed', 'timed-password');
    const res = await api.as(admin, 'POST', '/0.1/users', {
      username: 'timed-off',
      password: 'timed-off-password',
      enabled: false,
    });
    expect(res.statusCode).toBe(200);
  });

  it('takes the same time for an unknown user, a wrong password and a disabled user', async () => {
    const kinds = {
      unknown: () => login(t.service, 'no-such-user-here', 'whatever-password'),
      wrong: () => login(t.service, 'timed', 'not-the-password'),
      disabled: () => login(t.service, 'timed-off', 'timed-off-password'),
      // Control: refused before any hashing (over 1024 characters).
      unhashed: () => login(t.service, 'timed', 'z'.repeat(1025)),
    };
    const samples: Record<keyof typeof kinds, number[]> = { unknown: [], wrong: [], disabled: [], unhashed: [] };
    for (const run of Object.values(kinds)) await run(); // warm-up (the dummy hash is made on first use)
    for (let i = 0; i < 40; i++) {
      for (const [kind, run] of Object.entries(kinds) as [keyof typeof kinds, () => ReturnType<typeof login>][]) {
        const started = performance.now();
        const res = await run();
        samples[kind].push(performance.now() - started);
        expect(res.statusCode).toBe(401);
      }
    }
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<keyof typeof kinds, number>;
    if (process.env.SHOW_TIMING) console.log('median ms', m);
    // The method sees a missing hash...
    expect(m.unhashed).toBeLessThan(m.wrong * 0.5);
    // ...and sees none between the three.
    for (const kind of ['unknown', 'disabled'] as const) {
      const ratio = m[kind] / m.wrong;
      expect(ratio, `${kind}: ${JSON.stringify(m)}`).toBeGreaterThan(0.7);
      expect(ratio, `${kind}: ${JSON.stringify(m)}`).toBeLessThan(1.45);
    }
  });
});

describe('token guessing', () => {
  it('never finds a valid token among random 43-character tokens', async () => {
    const t = await startTestService('sqlite', { security: securityWith({ rate_limits: { enabled: false } }) });
    for (let i = 0; i < 300; i++) {
      const guess = randomBytes(32).toString('base64url');
      const res = await t.service.app.inject({
        method: i % 2 === 0 ? 'HEAD' : 'GET',
        url: `/0.1/token/${guess}?scope=auth.users.read`,
      });
      expect(res.statusCode).toBe(404);
    }
    await t.close();
  });
});
