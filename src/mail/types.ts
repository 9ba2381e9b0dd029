// The mail outbox (issue 21): mails committed in the transaction of the
// change that asks for them, delivered by a relay on every instance
// (./relay.ts) over SMTP (./smtp.ts). The storage verbs the mail domain
// needs, in its own words; implemented by src/store/self-service-verbs.ts
// (table mail_outbox, migration 14). All times are epoch milliseconds.

/** What a mail is for (a label of the metrics, the status and the audit). */
export type MailKind = 'email_confirmation' | 'password_reset';
export const MAIL_KINDS: readonly MailKind[] = ['email_confirmation', 'password_reset'];

/** A mail to write to the outbox, in the transaction of the change asking for it. */
export interface NewMail {
  uuid: string;
  kind: MailKind;
  recipient: string;
  /** Display name of the recipient (the username), or null. */
  recipientName: string | null;
  senderName: string;
  senderAddress: string;
  subject: string;
  /** The plain-text part: it holds the token of the link until the mail is sent. */
  text: string;
  /** The HTML part (null: plain text only). */
  html: string | null;
  createdAt: number;
  /** When the link it carries expires: the mail is not delivered after it. */
  expiresAt: number;
}

/** A mail a relay claimed: its attempt `attempts` is this relay's until the lease ends. */
export interface ClaimedMail extends NewMail {
  attempts: number;
}

export interface MailBacklog {
  /** Mails waiting for delivery. */
  pending: number;
  /** Creation time of the oldest of them (null when none). */
  oldestCreatedAt: number | null;
  /** Pending mails that already failed at least once. */
  retrying: number;
}

/** The outbox verbs usable inside a store transaction. */
export interface MailTx {
  /** Writes a mail to the outbox (due at once); it commits or rolls back with the transaction. */
  enqueueMail(mail: NewMail): Promise<void>;
}

/** The relay's verbs (outside transactions). */
export interface MailOutboxStore {
  /**
   * Claims up to `limit` pending mails due at `now` (oldest due first) and
   * not past their expiry: each gets one more attempt and is not due again
   * before `leaseUntil`. PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent
   * relays claim disjoint mails.
   */
  claimMails(now: number, limit: number, leaseUntil: number): Promise<ClaimedMail[]>;
  /**
   * The mail went out: status sent, bodies cleared (they hold a token).
   * Only while the claim is still this attempt's (false otherwise).
   */
  markMailSent(uuid: string, attempt: number, at: number): Promise<boolean>;
  /** The attempt failed: due again at `nextAttemptAt`, with the reason. Only while the claim is this attempt's. */
  markMailFailed(uuid: string, attempt: number, nextAttemptAt: number, error: string): Promise<boolean>;
  /** Pending mails whose link expired by `now`: status expired, bodies cleared; returns them (kind only). */
  expireMails(now: number): Promise<{ uuid: string; kind: MailKind }[]>;
  mailBacklog(): Promise<MailBacklog>;
  /**
   * Deletes sent and expired mails created before `before`, and emailed-token
   * links expired by `now` (their tokens expired too); returns how many rows.
   */
  purgeMails(before: number, now: number): Promise<number>;
}
