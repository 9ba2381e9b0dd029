// Migration 7: indexes of the hot paths (issue 5), for both dialects.
import type { Migration } from './migration.js';

// Every login counts the user's live sessions (max_user_concurrent_sessions).
// Through sessions_user_uuid_idx and a join, that read one token row per
// session the user ever had that was not purged yet; this index answers it
// from the index alone (user, then expiry, then session), and serves every
// lookup by user that tokens_user_uuid_idx served.
const performanceSql = `
CREATE INDEX tokens_user_uuid_expires_at_idx ON tokens (user_uuid, expires_at, session_uuid);
DROP INDEX tokens_user_uuid_idx;
`;

export const performanceSqlite: readonly Migration[] = [{ version: 7, name: 'live sessions by user', sql: performanceSql }];
export const performancePostgres: readonly Migration[] = [{ version: 7, name: 'live sessions by user', sql: performanceSql }];
