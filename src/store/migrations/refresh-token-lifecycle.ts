// Migration 12: the refresh-token lifecycle (issue 19, item 2), for both
// dialects. Kept in its own file so features add their schema without
// editing each other's.
//
// - refresh_tokens.last_used_at: the last refresh-token login (or the
//   creation), for the idle timeout (refresh_tokens.idle_timeout_seconds).
//   Existing refresh tokens get the migration's time: when they were last
//   used is not known, so each starts a full idle window at the upgrade.
//   Their created_at is kept: the absolute lifetime counts from it. A row
//   written without it (null) is measured from its created_at.
// - refresh_token_retired: the hashes of refresh tokens rotated away
//   (refresh_tokens.rotation), each with its family (the uuid of the refresh
//   token it was rotated into: a rotation keeps the uuid, changes the hash),
//   so that presenting one again is recognised as a reuse, not just an
//   unknown token. They go with their family (ON DELETE CASCADE): a family
//   deleted, replaced or expired leaves none behind; the store keeps the
//   newest few per family (src/login/token-service.ts, RETIRED_KEPT_PER_FAMILY).
// - Indexes for the reaper (idle and absolute expiry) and for the family's
//   retired hashes.
import { sql } from 'kysely';
import type { Transaction } from 'kysely';
import type { DatabaseSchema } from '../database-schema.js';
import type { Migration } from './migration.js';

function lifecycleSql(bigint: 'INTEGER' | 'BIGINT'): string {
  return `
ALTER TABLE refresh_tokens ADD COLUMN last_used_at ${bigint};
CREATE INDEX refresh_tokens_last_used_at_idx ON refresh_tokens (last_used_at);
CREATE INDEX refresh_tokens_created_at_idx ON refresh_tokens (created_at);

CREATE TABLE refresh_token_retired (
  hash        TEXT NOT NULL CONSTRAINT refresh_token_retired_pkey PRIMARY KEY,
  family_uuid TEXT NOT NULL CONSTRAINT refresh_token_retired_family_uuid_fkey
                REFERENCES refresh_tokens (uuid) ON DELETE CASCADE,
  retired_at  ${bigint} NOT NULL
);
CREATE INDEX refresh_token_retired_family_uuid_idx ON refresh_token_retired (family_uuid, retired_at);
`;
}

/** Existing refresh tokens start their idle window now (their last use is unknown). */
async function startIdleWindows(trx: Transaction<DatabaseSchema>): Promise<void> {
  await sql`update refresh_tokens set last_used_at = ${Date.now()} where last_used_at is null`.execute(trx);
}

function refreshTokenLifecycle(bigint: 'INTEGER' | 'BIGINT'): Migration[] {
  return [
    { version: 12, name: 'refresh token last use and retired refresh tokens', sql: lifecycleSql(bigint), run: startIdleWindows },
  ];
}

export const refreshTokenLifecycleSqlite: readonly Migration[] = refreshTokenLifecycle('INTEGER');
export const refreshTokenLifecyclePostgres: readonly Migration[] = refreshTokenLifecycle('BIGINT');
