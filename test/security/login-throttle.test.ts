// Brute-force protection of POST /0.1/token, on both engines: counters in the
// store, reserved before any hashing, exponential back-off, reset on success,
// account-wide slow-down that does not lock the owner out, shared instances.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createService } from '../../src/main.js';
import { ADMIN, dbUriFor, ENGINES, startTestService, testConfig, type TestService } from '../helpers/service.js';
import { countHashes, createUser, login, securityWith } from './helpers.js';

for (const engine of ENGINES) {
  describe(`login throttle (${engine})`, () => {
    let t: TestService;
    let clock: FakeClock;
    let admin: string;
    let hashes: { readonly count: number };

    beforeAll(async () => {
      clock = new FakeClock(Date.UTC(2026, 5, 1));
      t = await startTestService(
        engine,
        {
          security: securityWith({
            rate_limits: { enabled: false },
            login_throttle: { account_threshold: 20, account_delay_seconds: 5 },
          }),
        },
        clock,
      );
      hashes = countHashes(t.service);
      const res = await login(t.service, ADMIN.username, ADMIN.password, '192.0.2.250');
      expect(res.statusCode).toBe(200);
      admin = res.json().data.token;
      for (const name of ['racer', 'slowpoke', 'resetter', 'victim', 'twin']) {
        await createUser(t.service, admin, { username: name, password: `${name}-password` });
      }
    });

    it('counts 50 parallel wrong passwords as 50 attempts: exactly the threshold get a hash, the rest 429 before hashing', async () => {
      const before = hashes.count;
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => login(t.service, 'racer', `wrong-${i}`, '198.51.100.7')),
      );
      const statuses = answers.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 401)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(45);
      expect(hashes.count - before).toBe(5);
      const throttled = answers.find((r) => r.statusCode === 429)!;
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const body = throttled.json();
      expect(body.status_code).toBe(429);
      expect(body.reason).toEqual(['Too many failed login attempts, retry later']);
      expect(Array.isArray(body.timestamp)).toBe(true);
      const counter = await t.service.store.getLoginAttempts(t.service.security.throttle.keys('racer', '198.51.100.7').pair);
      expect(counter).toMatchObject({ failures: 5, attempts: 50 });
      // Even the right password waits: no guess slips past the threshold.
      const right = await login(t.service, 'racer', 'racer-password', '198.51.100.7');
      expect(right.statusCode).toBe(429);
      expect(hashes.count - before).toBe(5);
      // Another address is not affected.
      expect((await login(t.service, 'racer', 'racer-password', '198.51.100.8')).statusCode).toBe(200);
    });

    it('backs off exponentially up to the cap, and each throttled answer costs no hash', async () => {
      const addr = '198.51.100.20';
      for (let i = 0; i < 5; i++) expect((await login(t.service, 'slowpoke', 'nope-nope', addr)).statusCode).toBe(401);
      const seen: number[] = [];
      for (let step = 0; step < 12; step++) {
        const before = hashes.count;
        const refused = await login(t.service, 'slowpoke', 'nope-nope', addr);
        expect(refused.statusCode).toBe(429);
        expect(hashes.count).toBe(before);
        const wait = Number(refused.headers['retry-after']);
        seen.push(wait);
        clock.advance(wait * 1000);
        expect((await login(t.service, 'slowpoke', 'nope-nope', addr)).statusCode).toBe(401);
      }
      expect(seen).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
    });

    it('lets many right logins from one address through at once (attempts for one login and address queue, they do not throttle each other)', async () => {
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => login(t.service, 'resetter', 'resetter-password', '198.51.100.31')),
      );
      expect(answers.map((r) => r.statusCode)).toEqual(Array(12).fill(200));
      expect(t.service.security.throttle.lockedKeys).toBe(0);
    });

    it('a success resets the counter of that address', async () => {
      const addr = '198.51.100.30';
      for (let i = 0; i < 4; i++) expect((await login(t.service, 'resetter', 'bad-guess', addr)).statusCode).toBe(401);
      expect((await login(t.service, 'resetter', 'resetter-password', addr)).statusCode).toBe(200);
      for (let i = 0; i < 5; i++) expect((await login(t.service, 'resetter', 'bad-guess', addr)).statusCode).toBe(401);
      expect((await login(t.service, 'resetter', 'bad-guess', addr)).statusCode).toBe(429);
    });

    it('an account-wide attack slows strangers down but does not lock the owner out of its own address', async () => {
      const home = '192.0.2.10';
      expect((await login(t.service, 'victim', 'victim-password', home)).statusCode).toBe(200);
      // Credential stuffing from many addresses, each below its own threshold.
      for (let i = 0; i < 20; i++) {
        expect((await login(t.service, 'victim', `guess-${i}`, `203.0.113.${100 + i}`)).statusCode).toBe(401);
      }
      const before = hashes.count;
      const stranger = await login(t.service, 'victim', 'guess-x', '203.0.113.200');
      expect(stranger.statusCode).toBe(429);
      expect(Number(stranger.headers['retry-after'])).toBe(5);
      expect(hashes.count).toBe(before);
      // The owner, from its usual address: straight in (a success starts the account count again).
      expect((await login(t.service, 'victim', 'victim-password', home)).statusCode).toBe(200);
      // The attack goes on: the account is slowed down again for strangers...
      for (let i = 0; i < 20; i++)
        expect((await login(t.service, 'victim', `again-${i}`, `203.0.113.${150 + i}`)).statusCode).toBe(401);
      // ...and for the owner on a new address, who waits the documented account delay, then gets in...
      const fresh = await login(t.service, 'victim', 'victim-password', '192.0.2.99');
      expect(fresh.statusCode).toBe(429);
      expect(fresh.json().status_code).toBe(429);
      // ...while its usual address is never held back.
      expect((await login(t.service, 'victim', 'victim-password', home)).statusCode).toBe(200);
      clock.advance(Number(fresh.headers['retry-after']) * 1000);
      expect((await login(t.service, 'victim', 'victim-password', '192.0.2.99')).statusCode).toBe(200);
    });

    it('counts logins case-insensitively, like the logins themselves', async () => {
      const addr = '198.51.100.40';
      for (let i = 0; i < 5; i++) {
        expect((await login(t.service, i % 2 === 0 ? 'TWIN' : 'twin', 'wrong-wrong', addr)).statusCode).toBe(401);
      }
      expect((await login(t.service, 'Twin', 'twin-password', addr)).statusCode).toBe(429);
    });

    it('stores neither logins nor addresses in clear', async () => {
      const key = t.service.security.throttle.keys('racer', '198.51.100.7').pair;
      expect(key).toMatch(/^p:[0-9a-f]{64}$/);
      expect(JSON.stringify(t.service.security.throttle.keys('racer', '198.51.100.7'))).not.toContain('racer');
    });
  });

  describe(`login throttle shared by two instances (${engine})`, () => {
    const opened: Array<{ close(): Promise<void> }> = [];
    afterAll(async () => {
      for (const s of opened.reverse()) await s.close();
    });

    it('counts failures made on either instance', async () => {
      const db = await dbUriFor(engine);
      opened.push({ close: db.cleanup });
      const config = testConfig(db.uri, { security: securityWith({ rate_limits: { enabled: false } }) });
      const clock = new FakeClock(Date.UTC(2026, 5, 1));
      const one = await createService(config, pino({ level: 'silent' }), { clock });
      opened.push(one);
      const two = await createService({ ...config, bootstrap_user_on_startup: false }, pino({ level: 'silent' }), { clock });
      opened.push(two);
      const adminToken = (await login(one, ADMIN.username, ADMIN.password, '192.0.2.250')).json().data.token;
      await createUser(one, adminToken, { username: 'shared', password: 'shared-password' });
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => login(i % 2 === 0 ? one : two, 'shared', 'wrong-pw', '198.51.100.60')),
      );
      expect(answers.filter((r) => r.statusCode === 401)).toHaveLength(5);
      expect(answers.filter((r) => r.statusCode === 429)).toHaveLength(15);
      expect((await login(two, 'shared', 'shared-password', '198.51.100.60')).statusCode).toBe(429);
    });
  });
}
