// Migration 10: a user's email addresses and its authentication method
// (issue 18 §2, users), for both dialects.
// Kept in its own file so features add their schema without editing each other's.
//
// user_emails holds every address of every user, as wazo-auth's auth_email:
// (uuid, user_uuid, address, main, confirmed).
//   - an address belongs to one user at most, case-insensitively, whatever
//     the tenants (user_emails_address_key on lower(address)): addresses are
//     logins;
//   - a user has at most one main address (user_emails_user_uuid_main_key, a
//     partial unique index); the store writes exactly one when there are any;
//   - the rule that no username equals another user's address (any address,
//     confirmed or not) is the store's, checked in the writing transaction
//     under the login lock (docs/isolation.md, "Unique logins and domains").
// users.email_address and users.email_confirmed, the single address of the
// earlier versions, move into it as each user's main address (keeping its
// confirmed flag), then are dropped: one place holds the addresses.
// Stop instances of an earlier version before this migration runs: they read
// and write the dropped columns.
//
// users.authentication_method (`default`, `native`; later `ldap`, `saml` …)
// is stored and returned; logins do not enforce it yet. Users already stored
// get what a new user of their purpose gets: `native` for `internal` and
// `external_api`, `default` for `user` (wazo-auth's defaults).
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Transaction } from 'kysely';
import type { DatabaseSchema } from '../database-schema.js';
import type { Migration, MigrationLogger } from './migration.js';

const createSqlite = `
CREATE TABLE user_emails (
  uuid      TEXT NOT NULL CONSTRAINT user_emails_pkey PRIMARY KEY,
  user_uuid TEXT NOT NULL CONSTRAINT user_emails_user_uuid_fkey REFERENCES users (uuid) ON DELETE CASCADE,
  address   TEXT NOT NULL,
  main      INTEGER NOT NULL DEFAULT 0 CHECK (main IN (0, 1)),
  confirmed INTEGER NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1))
);
-- Logins are matched case-insensitively, so uniqueness is too.
-- (SQLite's lower() folds ASCII letters only.)
CREATE UNIQUE INDEX user_emails_address_key ON user_emails (lower(address));
CREATE UNIQUE INDEX user_emails_user_uuid_main_key ON user_emails (user_uuid) WHERE main = 1;
CREATE INDEX user_emails_user_uuid_idx ON user_emails (user_uuid);
ALTER TABLE users ADD COLUMN authentication_method TEXT NOT NULL DEFAULT 'default';
`;

const createPostgres = `
CREATE TABLE user_emails (
  uuid      TEXT NOT NULL CONSTRAINT user_emails_pkey PRIMARY KEY,
  user_uuid TEXT NOT NULL CONSTRAINT user_emails_user_uuid_fkey REFERENCES users (uuid) ON DELETE CASCADE,
  address   TEXT NOT NULL,
  main      BOOLEAN NOT NULL DEFAULT false,
  confirmed BOOLEAN NOT NULL DEFAULT false
);
-- Logins are matched case-insensitively, so uniqueness is too.
CREATE UNIQUE INDEX user_emails_address_key ON user_emails (lower(address));
CREATE UNIQUE INDEX user_emails_user_uuid_main_key ON user_emails (user_uuid) WHERE main;
CREATE INDEX user_emails_user_uuid_idx ON user_emails (user_uuid);
ALTER TABLE users ADD COLUMN authentication_method TEXT NOT NULL DEFAULT 'default';
`;

// The old single address goes once copied (after the copy, in the same transaction).
const dropOldColumns = [
  'DROP INDEX users_email_address_key',
  'ALTER TABLE users DROP COLUMN email_address',
  'ALTER TABLE users DROP COLUMN email_confirmed',
];

/** Rows per INSERT of the copy: 5 parameters each, far below both engines' limits. */
const COPY_SLICE = 200;

/**
 * Each user's address becomes its main address (uuid generated here: SQLite
 * has no uuid function), confirmed as it was. Addresses were already unique
 * case-insensitively (users_email_address_key), so the copy cannot conflict.
 */
async function moveEmails(trx: Transaction<DatabaseSchema>, logger: MigrationLogger): Promise<void> {
  const { rows } = await sql<{ uuid: string; email_address: string; email_confirmed: number | boolean }>`
    select uuid, email_address, email_confirmed from users where email_address is not null order by uuid`.execute(trx);
  for (let i = 0; i < rows.length; i += COPY_SLICE) {
    const values = rows
      .slice(i, i + COPY_SLICE)
      .map((r) => sql`(${randomUUID()}, ${r.uuid}, ${r.email_address}, ${1}, ${r.email_confirmed ? 1 : 0})`);
    await sql`insert into user_emails (uuid, user_uuid, address, main, confirmed) values ${sql.join(values)}`.execute(trx);
  }
  await sql`update users set authentication_method = 'native' where purpose in ('internal', 'external_api')`.execute(trx);
  for (const statement of dropOldColumns) await sql.raw(statement).execute(trx);
  if (rows.length > 0) logger.info({ count: rows.length }, 'user email addresses moved to user_emails');
}

function userEmails(createSql: string): Migration[] {
  return [
    {
      version: 10,
      name: 'user email addresses and authentication method',
      sql: createSql,
      run: moveEmails,
    },
  ];
}

export const userEmailsSqlite: readonly Migration[] = userEmails(createSqlite);
export const userEmailsPostgres: readonly Migration[] = userEmails(createPostgres);
