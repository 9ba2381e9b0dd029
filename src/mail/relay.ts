// The mail relay (issue 21): delivers the mail outbox over SMTP. Each pass
// claims the mails due (a lease: no other relay, on this instance or
// another, claims them meanwhile), sends them one by one, and marks each
// sent (its bodies, which hold a token, cleared) or failed (due again after
// an exponential back-off, per mail). A mail whose link expired before it
// could be delivered is dropped (status expired, bodies cleared): it could
// only lead to a refusal. Requests never wait for SMTP: they only write the
// outbox, in the transaction of their change; the relay is woken by this
// instance's commits and polls for the others'.
//
// At least once, in practice once: a mail is sent twice only when the server
// accepted it but its answer was lost (the attempt then counts as failed),
// or when a delivery outlived its lease (mail_outbox.lease_seconds, kept
// above the longest delivery). Every attempt carries the same Message-ID.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { WakeUp } from '../wake-up.js';
import type { MailOutboxConfig } from '../config/sections/mail.js';
import { MailDeliveryError, type MailTransport } from './smtp.js';
import type { ClaimedMail, MailKind, MailOutboxStore } from './types.js';

export type MailRelayState = 'ok' | 'fail' | 'disabled';

export interface MailRelayStatus {
  status: MailRelayState;
  /** Mails this instance delivered since it started. */
  sent: number;
  /** Consecutive failed deliveries of this instance (0 when healthy). */
  failures: number;
  lastError: string | null;
}

/** What the metrics count (./metrics.ts). */
export interface MailObserver {
  sent(kind: MailKind): void;
  failed(kind: MailKind): void;
  expired(kind: MailKind): void;
}

const NO_OBSERVER: MailObserver = { sent() {}, failed() {}, expired() {} };

/** Passes between two purges of delivered mails and expired links. */
const PURGE_EVERY_PASSES = 600;

export class MailRelay {
  private state: MailRelayState;
  private sent = 0;
  private failures = 0;
  private lastError: string | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly waker = new WakeUp();
  private passes = 0;

  constructor(
    private readonly store: MailOutboxStore,
    private readonly transport: MailTransport,
    private readonly clock: Clock,
    private readonly logger: Pick<Logger, 'info' | 'warn' | 'debug'>,
    private readonly options: MailOutboxConfig,
    private readonly observer: MailObserver = NO_OBSERVER,
  ) {
    this.state = options.enabled ? 'ok' : 'disabled';
  }

  start(): void {
    if (!this.options.enabled || this.running !== null) return;
    this.stopped = false;
    this.waker.resume();
    this.running = this.loop();
  }

  /** Mails were committed: deliver them now rather than at the next poll. */
  wake(): void {
    this.waker.wake();
  }

  status(): MailRelayStatus {
    return { status: this.state, sent: this.sent, failures: this.failures, lastError: this.lastError };
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.waker.stop();
    await this.running;
    this.running = null;
    this.transport.close();
  }

  /** One pass: expire, claim, deliver. Returns how many mails were claimed. */
  async runOnce(): Promise<number> {
    const now = this.clock.now();
    for (const dropped of await this.store.expireMails(now)) {
      this.observer.expired(dropped.kind);
      this.logger.warn({ mail_uuid: dropped.uuid, kind: dropped.kind }, 'mail not delivered before its link expired: dropped');
    }
    if (this.passes++ % PURGE_EVERY_PASSES === 0) {
      await this.store.purgeMails(now - this.options.retention_days * 86_400_000, now);
    }
    const claimed = await this.store.claimMails(now, this.options.batch_size, now + this.options.lease_seconds * 1000);
    let unusable: MailDeliveryError | null = null;
    for (const mail of claimed) {
      if (this.stopped) {
        // Not attempted: due again at once, for whichever relay runs next.
        await this.store.markMailFailed(mail.uuid, mail.attempts, this.clock.now(), 'not attempted: the instance was stopping');
        continue;
      }
      if (unusable !== null) {
        // The server cannot be used: the rest of the pass would fail alike.
        await this.failed(mail, unusable);
        continue;
      }
      try {
        await this.transport.send({
          messageId: `${mail.uuid}@xivo-auth`,
          from: { name: mail.senderName, address: mail.senderAddress },
          to: { name: mail.recipientName, address: mail.recipient },
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
        });
      } catch (err) {
        const failure =
          err instanceof MailDeliveryError ? err : new MailDeliveryError((err as Error).message ?? String(err), false);
        await this.failed(mail, failure);
        if (failure.connection) unusable = failure;
        continue;
      }
      await this.store.markMailSent(mail.uuid, mail.attempts, this.clock.now());
      this.sent += 1;
      this.observer.sent(mail.kind);
      if (this.failures > 0) this.logger.info({ after_failures: this.failures }, 'mail relay: delivering again');
      this.failures = 0;
      this.lastError = null;
      this.state = 'ok';
    }
    return claimed.length;
  }

  private async failed(mail: ClaimedMail, err: MailDeliveryError): Promise<void> {
    const { retry_min_ms: min, retry_max_ms: max } = this.options;
    const delay = Math.min(max, min * 2 ** Math.min(mail.attempts - 1, 30));
    await this.store.markMailFailed(mail.uuid, mail.attempts, this.clock.now() + delay, err.message);
    this.failures += 1;
    this.lastError = err.message;
    this.state = 'fail';
    this.observer.failed(mail.kind);
    // One line when it starts failing, then every tenth failure: no log flood.
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.logger.warn(
        { failures: this.failures, reason: err.message, mail_uuid: mail.uuid, attempt: mail.attempts, retry_in_ms: delay },
        'mail relay: cannot deliver; the mail stays in the outbox',
      );
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let claimed = 0;
      try {
        claimed = await this.runOnce();
      } catch (err) {
        // The store is unavailable: nothing was lost, the next pass retries.
        this.logger.warn({ reason: (err as Error).message }, 'mail relay: outbox unavailable');
        await this.waker.sleep(this.options.retry_min_ms);
        continue;
      }
      if (claimed === this.options.batch_size) continue;
      await this.waker.sleep(this.options.poll_interval_ms);
    }
  }
}
