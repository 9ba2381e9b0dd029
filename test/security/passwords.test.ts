// Password rules: minimum length, the 1024-character ceiling (400 on create
// and change; a longer login password is a plain 401 without hashing), the
// bundled list of common passwords, and the transparent re-hash on login when
// the argon2 parameters changed between two starts on the same database.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { createService } from '../../src/main.js';
import { argon2ParamsOf, needsRehash } from '../../src/passwords/rehash.js';
import { COMMON_PASSWORDS } from '../../src/security/common-passwords.js';
import { isCommonPassword, PasswordPolicy } from '../../src/security/password-policy.js';
import { iamApi } from '../helpers/iam.js';
import { ADMIN, dbUriFor, ENGINES, startTestService, testConfig, type TestService } from '../helpers/service.js';
import { countHashes, login } from './helpers.js';

describe('password policy (pure)', () => {
  it('bundles a few hundred common passwords, compared case-insensitively', () => {
    expect(COMMON_PASSWORDS.length).toBeGreaterThanOrEqual(300);
    expect(isCommonPassword('password')).toBe(true);
    expect(isCommonPassword('PassWord1')).toBe(true);
    expect(isCommonPassword('qwertyuiop')).toBe(true);
    expect(isCommonPassword('correct horse battery staple 42')).toBe(false);
  });

  it('counts characters, not UTF-16 units, and honours the configuration', () => {
    const policy = new PasswordPolicy({ min_length: 8, reject_common: false });
    expect(() => policy.assertAcceptable('😀😀😀😀😀😀😀')).toThrow(/too short/);
    expect(() => policy.assertAcceptable('😀😀😀😀😀😀😀😀')).not.toThrow();
    expect(() => policy.assertAcceptable('password')).not.toThrow();
    expect(() => new PasswordPolicy({ min_length: 8, reject_common: true }).assertAcceptable('password')).toThrow(/common/);
    expect(() => policy.assertAcceptable('x'.repeat(1025))).toThrow(/too long/);
    expect(DEFAULT_CONFIG.password_policy).toEqual({ min_length: 8, reject_common: true });
  });

  it('reads argon2 parameters from PHC strings', () => {
    const phc = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';
    expect(argon2ParamsOf(phc)).toEqual({ algorithm: 'argon2id', memory_kib: 19456, iterations: 2, parallelism: 1 });
    expect(needsRehash(phc, { memory_kib: 19456, iterations: 2, parallelism: 1 })).toBe(false);
    expect(needsRehash(phc, { memory_kib: 19456, iterations: 3, parallelism: 1 })).toBe(true);
    expect(needsRehash(phc.replace('argon2id', 'argon2i'), { memory_kib: 19456, iterations: 2, parallelism: 1 })).toBe(true);
    expect(needsRehash('not a hash', { memory_kib: 1, iterations: 1, parallelism: 1 })).toBe(true);
    expect(argon2ParamsOf('$argon2id$v=19$m=x,t=2,p=1$a$b')).toBeNull();
  });
});

for (const engine of ENGINES) {
  describe(`password rules over HTTP (${engine})`, () => {
    let t: TestService;
    let admin: string;
    const api = iamApi(() => t);

    beforeAll(async () => {
      t = await startTestService(engine);
      admin = await api.adminToken();
    });

    it('refuses short, over-long and common passwords on creation (400 invalid-data)', async () => {
      for (const [password, constraint] of [
        ['tiny7', 'min_length'],
        ['Password1', 'common_password'],
        ['x'.repeat(1025), 'password'],
      ] as const) {
        const res = await api.as(admin, 'POST', '/0.1/users', { username: `u-${constraint}`, password });
        expect(res.statusCode, constraint).toBe(400);
        expect(res.json().error_id).toBe('invalid-data');
        expect(JSON.stringify(res.json().details)).toContain(constraint);
        expect(JSON.stringify(res.json())).not.toContain(password.slice(0, 20));
      }
      expect((await api.as(admin, 'POST', '/0.1/users', { username: 'u-ok', password: 'x'.repeat(1024) })).statusCode).toBe(200);
      expect((await login(t.service, 'u-ok', 'x'.repeat(1024))).statusCode).toBe(200);
    });

    it('refuses them on password change, after checking the old password', async () => {
      const uuid = await api.createUser(admin, 'changing', 'changing-password');
      const change = (old_password: string, new_password: string) =>
        api.as(admin, 'PUT', `/0.1/users/${uuid}/password`, { old_password, new_password });
      expect((await change('wrong-old-password', 'short')).statusCode).toBe(401);
      const short = await change('changing-password', 'short');
      expect(short.statusCode).toBe(400);
      expect(short.json().details).toHaveProperty('new_password');
      expect((await change('changing-password', 'iloveyou')).statusCode).toBe(400);
      expect((await change('changing-password', 'a much better passphrase')).statusCode).toBe(204);
    });

    it('answers a login with a password over 1024 characters 401 without hashing', async () => {
      const hashes = countHashes(t.service);
      const res = await login(t.service, ADMIN.username, 'y'.repeat(1025), '198.51.100.99');
      expect(res.statusCode).toBe(401);
      expect(hashes.count).toBe(0);
      expect((await login(t.service, ADMIN.username, 'y'.repeat(1000), '198.51.100.99')).statusCode).toBe(401);
      expect(hashes.count).toBe(1);
    });
  });

  describe(`re-hash on login (${engine})`, () => {
    let db: { uri: string; cleanup(): Promise<void> };
    afterAll(async () => {
      await db.cleanup();
    });

    it('re-hashes a password stored with other argon2 parameters, once, and the password still works', async () => {
      db = await dbUriFor(engine);
      const oldParams = { memory_kib: 1024, iterations: 1, parallelism: 1, max_concurrent: 0, max_queue: 64, niceness: 10 };
      const newParams = { memory_kib: 2048, iterations: 2, parallelism: 1, max_concurrent: 0, max_queue: 64, niceness: 10 };
      const first = await createService(testConfig(db.uri, { password_hashing: oldParams }), pino({ level: 'silent' }));
      const adminToken = (await login(first, ADMIN.username, ADMIN.password)).json().data.token as string;
      const created = await first.app.inject({
        method: 'POST',
        url: '/0.1/users',
        headers: { 'x-auth-token': adminToken, 'content-type': 'application/json' },
        payload: { username: 'rehashed', password: 'rehashed-password' },
      });
      expect(created.statusCode).toBe(200);
      const before = (await first.store.findUserByLogin('rehashed'))!.passwordHash!;
      expect(argon2ParamsOf(before)).toMatchObject({ memory_kib: 1024, iterations: 1 });
      await first.close();

      const second = await createService(
        testConfig(db.uri, { password_hashing: newParams, bootstrap_user_on_startup: false }),
        pino({ level: 'silent' }),
      );
      try {
        expect((await login(second, 'rehashed', 'wrong-password')).statusCode).toBe(401);
        expect((await second.store.findUserByLogin('rehashed'))!.passwordHash).toBe(before);
        expect((await login(second, 'rehashed', 'rehashed-password')).statusCode).toBe(200);
        const after = (await second.store.findUserByLogin('rehashed'))!.passwordHash!;
        expect(after).not.toBe(before);
        expect(argon2ParamsOf(after)).toMatchObject({ algorithm: 'argon2id', memory_kib: 2048, iterations: 2, parallelism: 1 });
        const hashes = countHashes(second);
        expect((await login(second, 'rehashed', 'rehashed-password')).statusCode).toBe(200);
        expect(hashes.count).toBe(1); // verified, not re-hashed again
        expect((await second.store.findUserByLogin('rehashed'))!.passwordHash).toBe(after);
      } finally {
        await second.close();
      }
    });
  });
}
