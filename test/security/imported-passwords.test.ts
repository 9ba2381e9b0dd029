// Passwords imported from wazo-auth (`pbkdf2-sha512$<iterations>$<salt>$<key>`,
// src/passwords/pbkdf2.ts): verified off the event loop in constant time, and
// re-hashed to argon2id by the first successful login, in that login's own
// commit: if the login's transaction fails, the imported hash stays (and the
// password still works); a wrong password changes nothing.
import { pbkdf2Sync, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PasswordHasher } from '../../src/passwords/hasher.js';
import { formatPbkdf2Sha512, fromWazoColumns, parsePbkdf2Sha512 } from '../../src/passwords/pbkdf2.js';
import { needsRehash } from '../../src/passwords/rehash.js';
import type { StoreTx } from '../../src/store/types.js';
import { ENGINES, FAST_HASHING, startTestService, type TestService } from '../helpers/service.js';
import { login, securityWith } from './helpers.js';

/** The stored format carries the count: the tests use few iterations (wazo-auth's 250,000 are covered by test/e2e/import-wazo.test.ts). */
function pbkdf2Hash(password: string, iterations = 1000): string {
  const salt = randomBytes(64);
  return formatPbkdf2Sha512({ iterations, salt, key: pbkdf2Sync(password, salt, iterations, 64, 'sha512') });
}

describe('PBKDF2-SHA512 hashes in the hasher', () => {
  const hasher = new PasswordHasher(FAST_HASHING);
  afterAll(() => hasher.close());

  it('verifies the right password only', async () => {
    const stored = pbkdf2Hash('s3cret-wazo');
    expect(await hasher.verify(stored, 's3cret-wazo')).toBe(true);
    expect(await hasher.verify(stored, 's3cret-wazO')).toBe(false);
    expect(await hasher.verify(stored, '')).toBe(false);
  });

  it("reads wazo-auth's columns (salt bytes, hex digest) as such a hash, at 250,000 iterations", async () => {
    const salt = randomBytes(64);
    const hex = pbkdf2Sync('été-ünïcode', salt, 250_000, 64, 'sha512').toString('hex');
    const stored = fromWazoColumns(salt, hex)!;
    expect(stored).toMatch(/^pbkdf2-sha512\$250000\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(await hasher.verify(stored, 'été-ünïcode')).toBe(true);
    expect(fromWazoColumns(null, hex)).toBeNull();
    expect(fromWazoColumns(salt, 'not hex')).toBeNull();
  });

  it('refuses malformed hashes and absurd iteration counts without spending them', async () => {
    const good = pbkdf2Hash('x');
    const [, , salt, key] = good.split('$');
    for (const bad of [
      `pbkdf2-sha512$0$${salt}$${key}`,
      `pbkdf2-sha512$99999999$${salt}$${key}`,
      `pbkdf2-sha512$1000$$${key}`,
      `pbkdf2-sha512$1000$${salt}$AAAA`,
      `pbkdf2-sha512$1000$${salt}`,
      `pbkdf2-sha512$1000$${salt}$${key}$extra`,
    ]) {
      expect(parsePbkdf2Sha512(bad)).toBeNull();
      expect(await hasher.verify(bad, 'x')).toBe(false);
    }
  });

  it('always needs a re-hash', () => {
    expect(needsRehash(pbkdf2Hash('x'), FAST_HASHING)).toBe(true);
    expect(hasher.needsRehash(pbkdf2Hash('x'))).toBe(true);
  });
});

for (const engine of ENGINES) {
  describe(`an imported password at login (${engine})`, () => {
    let t: TestService;
    /** When set, the login's transaction fails after its writes. */
    let failLogin: Error | null = null;

    beforeAll(async () => {
      t = await startTestService(engine, { security: securityWith({ rate_limits: { enabled: false } }) });
      const store = t.service.store;
      const transaction = store.transaction.bind(store);
      store.transaction = (fn) =>
        transaction(async (tx: StoreTx) => {
          const result = await fn(tx);
          if (failLogin !== null) throw failLogin;
          return result;
        });
    });

    async function importedUser(username: string, password: string): Promise<{ uuid: string; stored: string }> {
      const top = (await t.service.store.getTopTenant())!;
      const stored = pbkdf2Hash(password);
      const uuid = randomUUID();
      await t.service.store.createUser({
        uuid,
        tenantUuid: top.uuid,
        username,
        firstname: null,
        lastname: null,
        emailAddress: null,
        emailConfirmed: false,
        passwordHash: stored,
        purpose: 'user',
        enabled: true,
        createdAt: Date.now(),
      });
      return { uuid, stored };
    }
    const hashOf = async (uuid: string) => (await t.service.store.getUser(uuid))?.passwordHash;

    it('a wrong password changes nothing; the right one logs in and leaves an argon2id hash', async () => {
      const { uuid, stored } = await importedUser('imported-1', 'old-wazo-password');
      expect((await login(t.service, 'imported-1', 'not-it', '198.51.100.40')).statusCode).toBe(401);
      expect(await hashOf(uuid)).toBe(stored);
      expect((await login(t.service, 'imported-1', 'old-wazo-password', '198.51.100.40')).statusCode).toBe(200);
      const after = await hashOf(uuid);
      expect(after).toMatch(/^\$argon2id\$/);
      expect(needsRehash(after!, t.config.password_hashing)).toBe(false);
      expect((await login(t.service, 'imported-1', 'old-wazo-password', '198.51.100.40')).statusCode).toBe(200);
      expect(await hashOf(uuid)).toBe(after);
    });

    it("the re-hash is part of the login's commit: a login that fails to commit leaves the imported hash", async () => {
      const { uuid, stored } = await importedUser('imported-2', 'another-wazo-password');
      failLogin = new Error('disk full');
      try {
        const res = await login(t.service, 'imported-2', 'another-wazo-password', '198.51.100.41');
        expect(res.statusCode).toBeGreaterThanOrEqual(500);
      } finally {
        failLogin = null;
      }
      expect(await hashOf(uuid)).toBe(stored);
      expect((await login(t.service, 'imported-2', 'another-wazo-password', '198.51.100.41')).statusCode).toBe(200);
      expect(await hashOf(uuid)).toMatch(/^\$argon2id\$/);
    });
  });
}
