// The storage seam, put together: each domain declares the storage it needs
// in its own words (identity/store.ts, tokens/store.ts, security/store.ts,
// events/store.ts, backends/ldap/store.ts, and the feature modules' own:
// external/, mfa/, sso/, mail/, identity/self-service-store.ts); the one
// implementation over Kysely (./kysely-store.ts and its verb modules) serves
// both SQLite (embedded default) and PostgreSQL (scale-out). Reads return null
// when nothing is found. Driver errors become the typed errors of
// ../storage-errors.ts. All times are epoch milliseconds (integers).
//
// The domain records are re-exported here for the store's own modules; the
// domains and the HTTP layer import them from their domain folders.

import type { IdentityStoreTx } from '../identity/store.js';
import type { SelfServiceTx } from '../identity/self-service-store.js';
import type { TokenStoreTx } from '../tokens/store.js';
import type { LdapConfigStore } from '../backends/ldap/store.js';
import type { SecurityStoreVerbs } from '../security/store.js';
import type { OutboxStore } from '../events/store.js';
import type { ExternalAuthStore } from '../external/types.js';
import type { MfaStore } from '../mfa/types.js';
import type { SsoStore } from '../sso/types.js';
import type { MailOutboxStore, MailTx } from '../mail/types.js';
import type { Transactional } from '../storage.js';
import type { RevocationHandler, RevocationWatch } from './revocations.js';

export * from '../lists.js';
export * from '../identity/types.js';
export * from '../tokens/types.js';
export * from '../backends/ldap/types.js';
export * from '../security/types.js';
export type { IdentityStoreTx } from '../identity/store.js';
export type { TokenStoreTx } from '../tokens/store.js';
import type { IssueTransactionOptions } from '../tokens/store.js';
export type { LdapConfigStore } from '../backends/ldap/store.js';
export type { SecurityStoreVerbs } from '../security/store.js';
export type { OutboxStore } from '../events/store.js';

/** The verbs a transaction offers: every domain's (self-service: ./self-service-verbs.ts). */
export interface StoreTx extends IdentityStoreTx, TokenStoreTx, LdapConfigStore, SelfServiceTx, MailTx {}

/** Migrations applied to the database against those of this build. */
export interface SchemaVersion {
  /** This build's last migration. */
  expected: number;
  /** The database's highest applied migration; null when never migrated. */
  current: number | null;
  /** This build's migrations not applied (run `xivo-auth migrate`). */
  missing: number[];
  /** Applied migrations this build does not know (a newer release migrated the database). */
  unknown: number[];
}

/**
 * Every domain's verbs, and transactions of them (../storage.ts): the
 * narrower interfaces the domains declare (IdentityStore, TokenServiceStore,
 * SamlServiceStore...) are each a part of it.
 */
export interface Store
  extends
    StoreTx,
    SecurityStoreVerbs,
    OutboxStore,
    ExternalAuthStore,
    MfaStore,
    MailOutboxStore,
    SsoStore,
    Transactional<StoreTx> {
  readonly engine: 'sqlite' | 'postgresql';
  /** `options.deferWrites`: a login's writes only, sent as one statement where the engine can (../tokens/store.ts). */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>, options?: IssueTransactionOptions): Promise<T>;
  /** Applies pending migrations under a lock safe for concurrent instances. */
  migrate(): Promise<void>;
  /**
   * Revocations from every instance (deleteToken, deleteUserSessions,
   * deleteUser notify them when their transaction commits). Expired-token
   * deletions are not notified: a cached record is checked against the clock.
   */
  watchRevocations(handler: RevocationHandler): RevocationWatch;
  /** Resolves when the database answers; throws StoreUnavailableError otherwise. */
  ping(): Promise<void>;
  /** The database's schema version against this build's (readiness); StoreUnavailableError when unreachable. */
  schemaVersion(): Promise<SchemaVersion>;

  close(): Promise<void>;
}
