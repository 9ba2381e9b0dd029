// Store verbs of self-service accounts (issue 21): emailed-token links, the
// addresses they confirm, and the mail outbox. Raw SQL over Kysely, the same
// statements on both engines (tables of migrations/self-service.ts), except
// the relay's claim, which skips rows locked by another instance where the
// engine can (PostgreSQL). Declared in ../identity/self-service-store.ts and
// ../mail/types.ts; spread into the store (and into each transaction) by
// kysely-store.ts.
import { sql, type Kysely } from 'kysely';
import type { EmailedTokenLink, EmailedTokenPurpose, SelfServiceTx } from '../identity/self-service-store.js';
import type { ClaimedMail, MailKind, MailOutboxStore, MailTx, NewMail } from '../mail/types.js';
import type { DatabaseSchema } from './database-schema.js';
import { mappingErrors } from './mapped-errors.js';
import { toDbBool } from './row-mapping.js';

type Db = Kysely<DatabaseSchema>;

/** The verbs that may run inside a store transaction. */
export type SelfServiceTxVerbs = SelfServiceTx & MailTx;

function int(n: number): number {
  if (!Number.isFinite(n)) throw new RangeError('not a finite number');
  return Math.trunc(n);
}

/** An epoch-ms parameter, typed for PostgreSQL's comparisons with BIGINT columns. */
const ms = (n: number) => sql`cast(${int(n)} as bigint)`;

/** Longest reason kept of a failed delivery (an SMTP answer may be long). */
const MAX_ERROR = 500;

interface LinkRow {
  token_hash: string;
  purpose: string;
  user_uuid: string;
  email_uuid: string | null;
  created_at: number | string;
  expires_at: number | string;
}

interface MailRow {
  uuid: string;
  kind: string;
  recipient: string;
  recipient_name: string | null;
  sender_name: string;
  sender_address: string;
  subject: string;
  text_body: string;
  html_body: string | null;
  attempts: number | string;
  created_at: number | string;
  expires_at: number | string;
}

function linkFromRow(r: LinkRow): EmailedTokenLink {
  return {
    tokenHash: r.token_hash,
    purpose: r.purpose as EmailedTokenPurpose,
    userUuid: r.user_uuid,
    emailUuid: r.email_uuid,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}

function mailFromRow(r: MailRow): ClaimedMail {
  return {
    uuid: r.uuid,
    kind: r.kind as MailKind,
    recipient: r.recipient,
    recipientName: r.recipient_name,
    senderName: r.sender_name,
    senderAddress: r.sender_address,
    subject: r.subject,
    text: r.text_body,
    html: r.html_body,
    attempts: Number(r.attempts),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}

const affected = (result: { numAffectedRows?: bigint }) => Number(result.numAffectedRows ?? 0n);

/**
 * The verbs over `db` (the store's connection, or a transaction). Errors are
 * mapped here when `mapError` is given; inside a transaction whoever runs it
 * maps them.
 */
export function selfServiceTxVerbs(db: Db, mapError?: (err: unknown) => unknown): SelfServiceTxVerbs {
  const verbs: SelfServiceTxVerbs = {
    async linkEmailedToken(link) {
      await sql`
        insert into emailed_tokens (token_hash, purpose, user_uuid, email_uuid, created_at, expires_at)
        values (${link.tokenHash}, ${link.purpose}, ${link.userUuid}, ${link.emailUuid}, ${ms(link.createdAt)}, ${ms(link.expiresAt)})`.execute(
        db,
      );
    },

    async findEmailedToken(tokenHash) {
      const { rows } = await sql<LinkRow>`
        select token_hash, purpose, user_uuid, email_uuid, created_at, expires_at
        from emailed_tokens where token_hash = ${tokenHash}`.execute(db);
      return rows[0] === undefined ? null : linkFromRow(rows[0]);
    },

    async findUserEmail(emailUuid) {
      const { rows } = await sql<{
        uuid: string;
        user_uuid: string;
        address: string;
        main: number | boolean;
        confirmed: number | boolean;
      }>`
        select uuid, user_uuid, address, main, confirmed from user_emails where uuid = ${emailUuid}`.execute(db);
      const r = rows[0];
      if (r === undefined) return null;
      return {
        userUuid: r.user_uuid,
        email: { uuid: r.uuid, address: r.address, main: Boolean(r.main), confirmed: Boolean(r.confirmed) },
      };
    },

    async confirmUserEmail(emailUuid) {
      const result = await sql`update user_emails set confirmed = ${toDbBool(true)} where uuid = ${emailUuid}`.execute(db);
      return affected(result) > 0;
    },

    async findUserUuidByUsername(username) {
      const { rows } = await sql<{ uuid: string }>`
        select uuid from users where lower(username) = lower(${username}) limit 1`.execute(db);
      return rows[0]?.uuid ?? null;
    },

    async findUserUuidByConfirmedEmail(address) {
      const { rows } = await sql<{ user_uuid: string }>`
        select user_uuid from user_emails where lower(address) = lower(${address}) and confirmed = ${toDbBool(true)} limit 1`.execute(
        db,
      );
      return rows[0]?.user_uuid ?? null;
    },

    async enqueueMail(m: NewMail) {
      await sql`
        insert into mail_outbox (uuid, kind, recipient, recipient_name, sender_name, sender_address, subject,
          text_body, html_body, status, attempts, created_at, expires_at, next_attempt_at)
        values (${m.uuid}, ${m.kind}, ${m.recipient}, ${m.recipientName}, ${m.senderName}, ${m.senderAddress}, ${m.subject},
          ${m.text}, ${m.html}, 'pending', 0, ${ms(m.createdAt)}, ${ms(m.expiresAt)}, ${ms(m.createdAt)})`.execute(db);
    },
  };
  return mapError === undefined ? verbs : mappingErrors(verbs, mapError);
}

/** The relay's verbs, over the store's connection. */
export function mailOutboxVerbs(db: Db, options: { rowLocks: boolean; mapError: (err: unknown) => unknown }): MailOutboxStore {
  const verbs: MailOutboxStore = {
    async claimMails(now, limit, leaseUntil) {
      // One statement: the rows chosen are updated atomically. PostgreSQL
      // skips rows another relay is claiming; SQLite has one writer.
      const lock = options.rowLocks ? sql`for update skip locked` : sql``;
      const { rows } = await sql<MailRow>`
        update mail_outbox set attempts = attempts + 1, next_attempt_at = ${ms(leaseUntil)}
        where uuid in (
          select uuid from mail_outbox
          where status = 'pending' and next_attempt_at <= ${ms(now)} and expires_at > ${ms(now)}
          order by next_attempt_at, uuid
          limit ${int(limit)}
          ${lock}
        )
        returning uuid, kind, recipient, recipient_name, sender_name, sender_address, subject, text_body, html_body,
          attempts, created_at, expires_at`.execute(db);
      return rows.map(mailFromRow).sort((a, b) => a.createdAt - b.createdAt || a.uuid.localeCompare(b.uuid));
    },

    async markMailSent(uuid, attempt, at) {
      const result = await sql`
        update mail_outbox set status = 'sent', sent_at = ${ms(at)}, text_body = '', html_body = null, last_error = null
        where uuid = ${uuid} and attempts = ${int(attempt)} and status = 'pending'`.execute(db);
      return affected(result) > 0;
    },

    async markMailFailed(uuid, attempt, nextAttemptAt, error) {
      const result = await sql`
        update mail_outbox set next_attempt_at = ${ms(nextAttemptAt)}, last_error = ${error.replace(/\0/g, '').slice(0, MAX_ERROR)}
        where uuid = ${uuid} and attempts = ${int(attempt)} and status = 'pending'`.execute(db);
      return affected(result) > 0;
    },

    async expireMails(now) {
      const { rows } = await sql<{ uuid: string; kind: string }>`
        update mail_outbox set status = 'expired', text_body = '', html_body = null
        where status = 'pending' and expires_at <= ${ms(now)}
        returning uuid, kind`.execute(db);
      return rows.map((r) => ({ uuid: r.uuid, kind: r.kind as MailKind }));
    },

    async mailBacklog() {
      const { rows } = await sql<{ n: number | string; oldest: number | string | null; retrying: number | string | null }>`
        select count(*) as n, min(created_at) as oldest, sum(case when attempts > 0 then 1 else 0 end) as retrying
        from mail_outbox where status = 'pending'`.execute(db);
      const r = rows[0];
      return {
        pending: Number(r?.n ?? 0),
        oldestCreatedAt: r?.oldest === null || r?.oldest === undefined ? null : Number(r.oldest),
        retrying: Number(r?.retrying ?? 0),
      };
    },

    async purgeMails(before, now) {
      const mails = await sql`delete from mail_outbox where status <> 'pending' and created_at < ${ms(before)}`.execute(db);
      const links = await sql`delete from emailed_tokens where expires_at <= ${ms(now)}`.execute(db);
      return affected(mails) + affected(links);
    },
  };
  return mappingErrors(verbs, options.mapError);
}
