import { test } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { openStore } from '../../src/store/open-store.js';
import { createTestDatabase } from '../helpers/pg.js';
test('bench', async () => {
  const db = await createTestDatabase();
  for (const uri of ['sqlite::memory:', db.uri]) {
    const s = await openStore(uri, {});
    await s.migrate();
    const t = await s.createTenant({ uuid: randomUUID(), name: 'x', slug: null, parentUuid: null });
    const hashes: string[] = [];
    await s.transaction(async (tx) => {
      for (let i = 0; i < 2000; i++) {
        const sess = { uuid: randomUUID(), tenantUuid: t.uuid, userUuid: randomUUID(), mobile: false, createdAt: 1 };
        await tx.createSession(sess);
        const h = randomBytes(32).toString('hex'); hashes.push(h);
        await tx.insertToken({ hash: h, sessionUuid: sess.uuid, authId: 'a', userUuid: sess.userUuid, tenantUuid: t.uuid, pbxUserUuid: null, xivoUuid: null, issuedAt: 1, expiresAt: 2e12, acl: Array.from({length: 20}, (_, i) => `confd.users.me.${i}.read`), metadata: { purpose: 'user', tenant_uuid: t.uuid }, remoteAddr: '1.2.3.4', userAgent: 'ua', refreshTokenUuid: null });
      }
    });
    for (let round = 0; round < 3; round++) {
      const n = 20000; const t0 = performance.now();
      for (let i = 0; i < n; i++) await s.findTokenByHash(hashes[i % hashes.length]);
      const dt = performance.now() - t0;
      console.log(s.engine, 'sequential', (dt * 1000 / n).toFixed(1), 'us/op');
    }
    if (s.engine === 'postgresql') {
      const n = 20000; const t0 = performance.now();
      let i = 0;
      await Promise.all(Array.from({ length: 10 }, async () => { while (i < n) await s.findTokenByHash(hashes[i++ % hashes.length]); }));
      console.log(s.engine, 'concurrency 10', (n / (performance.now() - t0) * 1000).toFixed(0), 'ops/s');
    }
    await s.close();
  }
  await db.drop();
}, 120000);
