// The mail relay (issue 21) against an in-memory outbox and transport: the
// attempt of a claim, exponential back-off per mail, a server that cannot be
// used failing the rest of its pass, sent mails marked once, expired ones
// dropped, the status, and a stopping relay releasing what it claimed.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { MailRelay } from '../../src/mail/relay.js';
import { MailDeliveryError, type MailTransport, type OutgoingMail } from '../../src/mail/smtp.js';
import type { ClaimedMail, MailOutboxStore, NewMail } from '../../src/mail/types.js';

interface Row extends NewMail {
  status: 'pending' | 'sent' | 'expired';
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

function memoryOutbox() {
  const rows: Row[] = [];
  const store: MailOutboxStore = {
    async claimMails(now, limit, leaseUntil) {
      const due = rows.filter((r) => r.status === 'pending' && r.nextAttemptAt <= now && r.expiresAt > now).slice(0, limit);
      return due.map((r): ClaimedMail => {
        r.attempts += 1;
        r.nextAttemptAt = leaseUntil;
        return { ...r };
      });
    },
    async markMailSent(uuid, attempt) {
      const r = rows.find((x) => x.uuid === uuid && x.attempts === attempt && x.status === 'pending');
      if (r === undefined) return false;
      Object.assign(r, { status: 'sent', text: '', html: null });
      return true;
    },
    async markMailFailed(uuid, attempt, next, error) {
      const r = rows.find((x) => x.uuid === uuid && x.attempts === attempt && x.status === 'pending');
      if (r === undefined) return false;
      Object.assign(r, { nextAttemptAt: next, lastError: error });
      return true;
    },
    async expireMails(now) {
      const expired = rows.filter((r) => r.status === 'pending' && r.expiresAt <= now);
      for (const r of expired) Object.assign(r, { status: 'expired', text: '', html: null });
      return expired.map((r) => ({ uuid: r.uuid, kind: r.kind }));
    },
    async mailBacklog() {
      const pending = rows.filter((r) => r.status === 'pending');
      return {
        pending: pending.length,
        oldestCreatedAt: pending[0]?.createdAt ?? null,
        retrying: pending.filter((r) => r.attempts > 0).length,
      };
    },
    async purgeMails() {
      return 0;
    },
  };
  const add = (uuid: string, now: number) =>
    rows.push({
      uuid,
      kind: 'password_reset',
      recipient: `${uuid}@example.com`,
      recipientName: null,
      senderName: 'x',
      senderAddress: 'x@example.com',
      subject: 's',
      text: 'secret link',
      html: '<p>secret link</p>',
      createdAt: now,
      expiresAt: now + 60_000,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      lastError: null,
    });
  return { rows, store, add };
}

function transport(behaviour: (mail: OutgoingMail) => void): MailTransport & { sent: OutgoingMail[] } {
  const sent: OutgoingMail[] = [];
  return {
    sent,
    async send(mail) {
      behaviour(mail);
      sent.push(mail);
    },
    close() {},
  };
}

const options = { ...DEFAULT_CONFIG.mail_outbox, retry_min_ms: 1000, retry_max_ms: 8000, lease_seconds: 60, batch_size: 10 };
const logger = pino({ level: 'silent' });

describe('mail relay', () => {
  it('sends due mails once, clears them, and backs off per mail on failure', async () => {
    const clock = new FakeClock(1_000_000);
    const outbox = memoryOutbox();
    outbox.add('a', clock.now());
    outbox.add('b', clock.now());
    let down = true;
    const smtp = transport((mail) => {
      if (down) throw new MailDeliveryError('ECONNECTION connect ECONNREFUSED', true);
      void mail;
    });
    const relay = new MailRelay(outbox.store, smtp, clock, logger, options);
    expect(await relay.runOnce()).toBe(2);
    // The server could not be used: both failed (the second without a try), due again after 1 s.
    expect(outbox.rows.map((r) => [r.status, r.attempts, r.nextAttemptAt - clock.now()])).toEqual([
      ['pending', 1, 1000],
      ['pending', 1, 1000],
    ]);
    expect(relay.status()).toMatchObject({ status: 'fail', failures: 2, lastError: 'ECONNECTION connect ECONNREFUSED' });
    // Not due yet: nothing claimed.
    expect(await relay.runOnce()).toBe(0);
    clock.advance(1000);
    expect(await relay.runOnce()).toBe(2);
    // Doubling: 2 s after the second attempt; then 4, 8, 8 (the cap).
    expect(outbox.rows[0].nextAttemptAt - clock.now()).toBe(2000);
    for (const wait of [2000, 4000, 8000]) {
      clock.advance(wait);
      await relay.runOnce();
    }
    expect(outbox.rows[0].nextAttemptAt - clock.now()).toBe(8000);
    down = false;
    clock.advance(8000);
    expect(await relay.runOnce()).toBe(2);
    expect(smtp.sent.map((m) => m.messageId)).toEqual(['a@xivo-auth', 'b@xivo-auth']);
    expect(outbox.rows.map((r) => [r.status, r.text, r.html])).toEqual([
      ['sent', '', null],
      ['sent', '', null],
    ]);
    expect(relay.status()).toEqual({ status: 'ok', sent: 2, failures: 0, lastError: null });
    clock.advance(60_000);
    expect(await relay.runOnce()).toBe(0);
    expect(smtp.sent).toHaveLength(2);
  });

  it('a mail refused by the server fails alone; the next ones of the pass are tried', async () => {
    const clock = new FakeClock(1_000_000);
    const outbox = memoryOutbox();
    for (const id of ['bad', 'good']) outbox.add(id, clock.now());
    const smtp = transport((mail) => {
      if (mail.to.address === 'bad@example.com') throw new MailDeliveryError('EENVELOPE 550 no such user', false);
    });
    await new MailRelay(outbox.store, smtp, clock, logger, options).runOnce();
    expect(outbox.rows.map((r) => [r.uuid, r.status, r.lastError])).toEqual([
      ['bad', 'pending', 'EENVELOPE 550 no such user'],
      ['good', 'sent', null],
    ]);
  });

  it('drops mails whose link expired, without sending them', async () => {
    const clock = new FakeClock(1_000_000);
    const outbox = memoryOutbox();
    outbox.add('late', clock.now());
    clock.advance(60_000);
    const smtp = transport(() => undefined);
    await new MailRelay(outbox.store, smtp, clock, logger, options).runOnce();
    expect(outbox.rows[0]).toMatchObject({ status: 'expired', text: '', html: null });
    expect(smtp.sent).toHaveLength(0);
  });

  it('does nothing when disabled on this instance', async () => {
    const relay = new MailRelay(
      memoryOutbox().store,
      transport(() => undefined),
      new FakeClock(),
      logger,
      { ...options, enabled: false },
    );
    relay.start();
    expect(relay.status().status).toBe('disabled');
    await relay.close();
  });
});
