// The self-service verbs of the Store (issue 21), on both engines: a mail
// commits or rolls back with its change; a claim counts an attempt and
// leases the mail (concurrent claims are disjoint); a stale attempt cannot
// mark a mail; a sent or expired mail's bodies are cleared; emailed-token
// links go with their user or address; a password change (deleteUserSessions)
// deletes the user's pending reset tokens; the purge.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewMail } from '../../src/mail/types.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store, TokenRecord } from '../../src/store/types.js';
import { createTestDatabase } from '../helpers/pg.js';
import { tempSqliteUri } from '../helpers/sqlite.js';

const NOW = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

async function open(engine: 'sqlite' | 'postgresql'): Promise<{ store: Store; uri: string; cleanup(): Promise<void> }> {
  if (engine === 'sqlite') {
    const t = tempSqliteUri();
    const store = await openStore(t.uri);
    await store.migrate();
    return {
      store,
      uri: t.uri,
      cleanup: async () => {
        await store.close();
        t.cleanup();
      },
    };
  }
  const db = await createTestDatabase();
  const store = await openStore(db.uri);
  await store.migrate();
  return {
    store,
    uri: db.uri,
    cleanup: async () => {
      await store.close();
      await db.drop();
    },
  };
}

function mail(over: Partial<NewMail> = {}): NewMail {
  return {
    uuid: randomUUID(),
    kind: 'password_reset',
    recipient: 'a@example.com',
    recipientName: 'a',
    senderName: 'xivo-auth',
    senderAddress: 'noreply@example.com',
    subject: 'subject',
    text: 'text with token',
    html: '<p>token</p>',
    createdAt: NOW,
    expiresAt: NOW + DAY,
    ...over,
  };
}

describe.each(['sqlite', 'postgresql'] as const)('mail outbox and emailed tokens on %s', (engine) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  const opened = async () => {
    const o = await open(engine);
    cleanups.push(o.cleanup);
    return o.store;
  };

  async function userWithEmail(store: Store) {
    const tenant = await store.createTenant({ uuid: randomUUID(), name: 't', slug: null, parentUuid: null });
    return store.createUser({
      uuid: randomUUID(),
      tenantUuid: tenant.uuid,
      username: `u-${randomUUID().slice(0, 8)}`,
      firstname: null,
      lastname: null,
      emailAddress: `${randomUUID().slice(0, 8)}@example.com`,
      emailConfirmed: false,
      passwordHash: null,
      purpose: 'user',
      enabled: true,
      createdAt: NOW,
    });
  }

  async function emailedToken(
    store: Store,
    userUuid: string,
    purpose: 'password_reset' | 'email_confirmation',
    emailUuid: string | null,
  ) {
    const hash = randomUUID().replace(/-/g, '');
    const record: TokenRecord = {
      hash,
      sessionUuid: randomUUID(),
      authId: 'xivo-auth',
      userUuid: null,
      tenantUuid: null,
      pbxUserUuid: null,
      xivoUuid: null,
      issuedAt: NOW,
      expiresAt: NOW + DAY,
      acl: ['x'],
      metadata: {},
      remoteAddr: null,
      userAgent: null,
      refreshTokenUuid: null,
    };
    await store.transaction(async (tx) => {
      await tx.createSession({
        uuid: record.sessionUuid,
        tenantUuid: randomUUID(),
        userUuid: null,
        mobile: false,
        createdAt: NOW,
      });
      await tx.insertToken(record);
      await tx.linkEmailedToken({ tokenHash: hash, purpose, userUuid, emailUuid, createdAt: NOW, expiresAt: NOW + DAY });
    });
    return hash;
  }

  it('commits a mail with its transaction, and none when it rolls back', async () => {
    const store = await opened();
    await store.transaction(async (tx) => {
      await tx.enqueueMail(mail({ recipient: 'kept@example.com' }));
    });
    await expect(
      store.transaction(async (tx) => {
        await tx.enqueueMail(mail({ recipient: 'dropped@example.com' }));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await store.mailBacklog()).toEqual({ pending: 1, oldestCreatedAt: NOW, retrying: 0 });
    const claimed = await store.claimMails(NOW, 10, NOW + 60_000);
    expect(claimed.map((m) => [m.recipient, m.attempts, m.text, m.html])).toEqual([
      ['kept@example.com', 1, 'text with token', '<p>token</p>'],
    ]);
  });

  it('leases what it claims; a stale attempt marks nothing; sent and expired mails lose their bodies', async () => {
    const store = await opened();
    const a = mail();
    const b = mail({ createdAt: NOW + 1 });
    for (const m of [a, b]) await store.enqueueMail(m);
    const first = await store.claimMails(NOW, 1, NOW + 60_000);
    expect(first.map((m) => m.uuid)).toEqual([a.uuid]);
    // Leased: another claim gets the other one only, until the lease ends.
    // (b is due from its creation, NOW + 1.)
    expect(await store.claimMails(NOW, 10, NOW + 60_000)).toEqual([]);
    expect((await store.claimMails(NOW + 1, 10, NOW + 60_000)).map((m) => m.uuid)).toEqual([b.uuid]);
    expect(await store.claimMails(NOW + 59_999, 10, NOW + 120_000)).toEqual([]);
    expect(await store.markMailFailed(a.uuid, 1, NOW + 1000, 'ECONNECTION refused')).toBe(true);
    expect(await store.mailBacklog()).toMatchObject({ pending: 2, retrying: 2 });
    const again = await store.claimMails(NOW + 1000, 10, NOW + 61_000);
    expect(again.map((m) => [m.uuid, m.attempts])).toEqual([[a.uuid, 2]]);
    // The first attempt's owner is too late now.
    expect(await store.markMailSent(a.uuid, 1, NOW + 1000)).toBe(false);
    expect(await store.markMailSent(a.uuid, 2, NOW + 1000)).toBe(true);
    expect(await store.markMailSent(a.uuid, 2, NOW + 1000)).toBe(false);
    // b expires unsent.
    expect(await store.expireMails(NOW + DAY)).toEqual([{ uuid: b.uuid, kind: 'password_reset' }]);
    expect(await store.claimMails(NOW + 2 * DAY, 10, NOW + 3 * DAY)).toEqual([]);
    expect(await store.mailBacklog()).toEqual({ pending: 0, oldestCreatedAt: null, retrying: 0 });
    // Purged past the retention.
    expect(await store.purgeMails(NOW + 2, NOW)).toBe(2);
  });

  it('claims disjoint mails from concurrent relays', async () => {
    const store = await opened();
    const mails = Array.from({ length: 40 }, (_, i) => mail({ createdAt: NOW + i }));
    for (const m of mails) await store.enqueueMail(m);
    const claims = await Promise.all(Array.from({ length: 8 }, () => store.claimMails(NOW + 100, 10, NOW + 60_000)));
    const uuids = claims.flat().map((m) => m.uuid);
    expect(new Set(uuids).size).toBe(uuids.length);
    expect(uuids.length).toBe(40);
  });

  it('links emailed tokens to their user and address; a password change ends the reset tokens, not the confirmations', async () => {
    const store = await opened();
    const user = await userWithEmail(store);
    const email = user.emails[0];
    const reset = await emailedToken(store, user.uuid, 'password_reset', null);
    const confirm = await emailedToken(store, user.uuid, 'email_confirmation', email.uuid);
    expect(await store.findEmailedToken(reset)).toMatchObject({
      purpose: 'password_reset',
      userUuid: user.uuid,
      emailUuid: null,
    });
    expect(await store.findUserEmail(email.uuid)).toEqual({ userUuid: user.uuid, email: { ...email, confirmed: false } });
    expect(await store.findUserUuidByConfirmedEmail(email.address.toUpperCase())).toBeNull();

    const revoked = await store.deleteUserSessions(user.uuid, { refreshTokens: true });
    expect(revoked.tokenHashes).toEqual([reset]);
    expect(await store.findTokenByHash(reset)).toBeNull();
    expect(await store.findEmailedToken(reset)).toBeNull();
    expect(await store.findTokenByHash(confirm)).not.toBeNull();

    expect(await store.confirmUserEmail(email.uuid)).toBe(true);
    expect(await store.findUserUuidByConfirmedEmail(email.address.toUpperCase())).toBe(user.uuid);
    expect(await store.findUserUuidByUsername(user.username!.toUpperCase())).toBe(user.uuid);
    // The address goes: its link goes with it (the token is refused by the routes).
    await store.replaceUserEmails(user.uuid, []);
    expect(await store.findEmailedToken(confirm)).toBeNull();
    expect(await store.confirmUserEmail(email.uuid)).toBe(false);
    // Links past their expiry are purged.
    const later = await emailedToken(store, user.uuid, 'password_reset', null);
    await store.purgeMails(NOW, NOW + DAY);
    expect(await store.findEmailedToken(later)).toBeNull();
  });
});
