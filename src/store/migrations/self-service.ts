// Migration 14: self-service accounts (issue 21): emailed tokens and the
// mail outbox, for both dialects. Kept in its own file so features add their
// schema without editing each other's.
//
// - emailed_tokens: which tokens were sent by mail, for what, and to whom.
//   The token itself is an ordinary row of `tokens` (its SHA-256 only, a
//   single access in its ACL, no user identity); this row ties it to the
//   user (a password reset) or to the address (an email confirmation) so
//   that it can be used once (the route deletes the token and this row with
//   it), and so that a password change or a disable revokes the user's
//   pending reset tokens (removeUserSessions). No foreign key to `tokens`:
//   the hot paths that delete tokens (revocations, the reaper) stay as they
//   are; a row whose token is gone names nothing usable and is purged once
//   past `expires_at` (src/mail/relay.ts). It goes with its user or its
//   address (ON DELETE CASCADE): a token of a deleted user or address finds
//   no row and is refused.
// - mail_outbox: mails committed with the change that asks for them (the
//   token they carry), delivered by the relay of any instance
//   (src/mail/relay.ts) with retries and back-off. A relay claims a due mail
//   by moving next_attempt_at past its lease and counting the attempt
//   (PostgreSQL: FOR UPDATE SKIP LOCKED), so two instances never send one
//   mail at once. The bodies hold the token: they are cleared (text_body
//   '', html_body null) as soon as the mail is sent or its link has
//   expired; the row stays `retention_days` for the status and forensics
//   (recipient, subject, attempts, times, last error), then is purged.
// Nothing existing changes.
import type { Migration } from './migration.js';

// The same statements suit both engines (SQLite maps BIGINT to INTEGER).
const selfServiceSql = `
CREATE TABLE emailed_tokens (
  token_hash TEXT NOT NULL CONSTRAINT emailed_tokens_pkey PRIMARY KEY,
  purpose    TEXT NOT NULL CONSTRAINT emailed_tokens_purpose_check
               CHECK (purpose IN ('email_confirmation', 'password_reset')),
  user_uuid  TEXT NOT NULL CONSTRAINT emailed_tokens_user_uuid_fkey
               REFERENCES users (uuid) ON DELETE CASCADE,
  email_uuid TEXT CONSTRAINT emailed_tokens_email_uuid_fkey
               REFERENCES user_emails (uuid) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX emailed_tokens_user_uuid_idx ON emailed_tokens (user_uuid, purpose);
CREATE INDEX emailed_tokens_email_uuid_idx ON emailed_tokens (email_uuid);
CREATE INDEX emailed_tokens_expires_at_idx ON emailed_tokens (expires_at);

CREATE TABLE mail_outbox (
  uuid            TEXT NOT NULL CONSTRAINT mail_outbox_pkey PRIMARY KEY,
  kind            TEXT NOT NULL,
  recipient       TEXT NOT NULL,
  recipient_name  TEXT,
  sender_name     TEXT NOT NULL,
  sender_address  TEXT NOT NULL,
  subject         TEXT NOT NULL,
  text_body       TEXT NOT NULL,
  html_body       TEXT,
  status          TEXT NOT NULL DEFAULT 'pending' CONSTRAINT mail_outbox_status_check
                    CHECK (status IN ('pending', 'sent', 'expired')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  created_at      BIGINT NOT NULL,
  expires_at      BIGINT NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  sent_at         BIGINT,
  last_error      TEXT
);
-- The relay's claim: pending mails due for an attempt.
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE status = 'pending';
-- The purge of delivered and expired mails past their retention.
CREATE INDEX mail_outbox_created_at_idx ON mail_outbox (created_at);
`;

function selfService(): Migration[] {
  return [{ version: 14, name: 'emailed tokens and mail outbox', sql: selfServiceSql }];
}

export const selfServiceSqlite: readonly Migration[] = selfService();
export const selfServicePostgres: readonly Migration[] = selfService();
