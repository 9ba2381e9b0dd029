// Migration 4: the events outbox (issue 4), for both dialects.
// Kept in its own file so features add their schema without editing each other's.
//
// outbox: events committed with the change that caused them; the relay
// (src/events/relay.ts) publishes them in id order and deletes each batch
// once the broker confirmed it.
// event_cursors: how far a periodic scan went (the expire-soon notices), one
// row per scan, locked while a scan runs so instances never scan the same window.
import type { Migration } from './migration.js';

export const outboxSqlite: readonly Migration[] = [
  {
    version: 4,
    name: 'events outbox',
    sql: `
CREATE TABLE outbox (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL,
  routing_key TEXT NOT NULL,
  tenant_uuid TEXT,
  user_uuid   TEXT,
  data        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE TABLE event_cursors (
  name       TEXT PRIMARY KEY NOT NULL,
  expires_at INTEGER NOT NULL,
  hash       TEXT NOT NULL
);
`,
  },
];

export const outboxPostgres: readonly Migration[] = [
  {
    version: 4,
    name: 'events outbox',
    sql: `
CREATE TABLE outbox (
  id          BIGSERIAL CONSTRAINT outbox_pkey PRIMARY KEY,
  name        TEXT NOT NULL,
  routing_key TEXT NOT NULL,
  tenant_uuid TEXT,
  user_uuid   TEXT,
  data        TEXT NOT NULL,
  created_at  BIGINT NOT NULL
);
CREATE TABLE event_cursors (
  name       TEXT NOT NULL CONSTRAINT event_cursors_pkey PRIMARY KEY,
  expires_at BIGINT NOT NULL,
  hash       TEXT NOT NULL
);
`,
  },
];
