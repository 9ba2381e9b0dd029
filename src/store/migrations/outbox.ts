// Migration 4: events outbox (issue 4), for both dialects.
// Kept in its own file so features add their schema without editing each other's.
import type { Migration } from './migration.js';

export const outboxSqlite: readonly Migration[] = [];
export const outboxPostgres: readonly Migration[] = [];
