// Builds the token domain for the composition root (src/main.ts): the token
// cache and the revocation notices that keep it (and the tenant tree) true,
// the token service, and the reaper with its engine's purge strategy and pace.
import type { Logger } from 'pino';
import type { BackendRegistry } from '../backends/registry.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import type { AclBuilder } from '../identity/acl-builder.js';
import type { TenantTree } from '../identity/tenant-tree.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RevocationWatch } from '../store/revocations.js';
import type { Store } from '../store/types.js';
import { TokenCache } from '../tokens/cache.js';
import { Reaper } from '../tokens/reaper.js';
import { TokenService } from '../login/token-service.js';
import { sqlitePurgeThreadFor, type SqlitePurgeThread } from '../store/sqlite/purge-thread.js';

/**
 * The reaper's pace on PostgreSQL: batches of ~20 ms of the server's work,
 * 15% of the time, so that a large purge leaves the checks their CPU (check
 * p99 during a 1,000,000-row purge: 2.1× idle at 25%, 1.5× at 15%, purge 118 s).
 */
const PG_PURGE_BATCH_MS = 20;
const PG_PURGE_DUTY = 0.15;

export interface Tokens {
  tokens: TokenService;
  cache: TokenCache;
  /** The revocation (and tenant) notices listener: closed by the caller. */
  watch: RevocationWatch;
  /** Revocation notices flow (readiness); the cache may be off by configuration. */
  listening(): boolean;
  /** The cache part of GET /status. */
  cacheStatus(): Record<string, unknown>;
}

export function createTokens(deps: {
  config: Config;
  store: Store;
  backends: BackendRegistry;
  identity: { tenants: TenantTree; aclBuilder: AclBuilder };
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}): Tokens {
  const { config, store, logger, metrics } = deps;
  const { tenants, aclBuilder } = deps.identity;
  // The cache is trusted only while revocation notices flow (PostgreSQL:
  // LISTEN/NOTIFY between instances); when they stop, it is flushed and
  // bypassed until they are back: never serve a revoked token.
  const cache = new TokenCache(config.token_cache.max_entries);
  metrics.observeCache(cache);
  const tokens = new TokenService(
    store,
    deps.backends,
    aclBuilder,
    tenants,
    cache,
    deps.clock,
    {
      defaultLifetimeSeconds: config.default_token_lifetime,
      maxUserSessions: config.max_user_concurrent_sessions,
      xivoUuid: config.uuid,
      refreshTokens: {
        idleTimeoutSeconds: config.refresh_tokens.idle_timeout_seconds,
        absoluteLifetimeSeconds: config.refresh_tokens.absolute_lifetime_seconds,
        rotation: config.refresh_tokens.rotation,
        reuseGraceSeconds: config.refresh_tokens.reuse_grace_seconds,
      },
    },
    metrics.tokens,
  );
  let listenerConnected = false;
  // The tenant tree's remembered parents follow the same rule, through the
  // same listener (tenant notices): forgotten on notice, bypassed while the
  // listener is down, started afresh when it is back. Opened last: nothing
  // after it can fail and leave it open.
  const watch = store.watchRevocations({
    revoked: (hashes) => cache.invalidate(hashes),
    flushed: () => cache.flush(),
    tenantsChanged: (uuids) => tenants.changed(uuids),
    connected: () => {
      listenerConnected = true;
      cache.enable();
      tenants.enable();
      logger.info({ cache_entries_max: config.token_cache.max_entries }, 'token cache on');
    },
    disconnected: () => {
      listenerConnected = false;
      cache.disable();
      tenants.disable();
    },
  });
  tenants.pollWith(watch.poll);
  return {
    tokens,
    cache,
    watch,
    listening: () => listenerConnected,
    cacheStatus: () => ({
      status: config.token_cache.max_entries === 0 ? 'disabled' : listenerConnected ? 'ok' : 'fail',
      invalidation: listenerConnected ? 'listening' : 'lost',
      entries: cache.size,
    }),
  };
}

export interface Purge {
  reaper: Reaper;
  /** SQLite on a file: the thread the reaper deletes on (closed by the caller); null otherwise. */
  purgeThread: SqlitePurgeThread | null;
}

export function createReaper(deps: {
  config: Config;
  /** The resolved db_uri (the purge thread opens the same SQLite file). */
  dbUri: string;
  store: Store;
  tokens: Pick<TokenService, 'forget'>;
  clock: Clock;
  logger: Logger;
  metrics: Pick<Metrics, 'reaperRemoved'>;
  /** The purge thread committed events outside the store: the relay is to be woken. */
  eventsCommitted: () => void;
}): Purge {
  const { config, store, metrics } = deps;
  // SQLite: the purge runs on a worker thread with its own connection to
  // the file (better-sqlite3 would delete on the event loop's thread).
  // Its deletions write their auth_session_deleted events like the store's.
  const purgeThread = store.engine === 'sqlite' ? sqlitePurgeThreadFor(deps.dbUri, { recordEvents: config.amqp.enabled }) : null;
  const reaper = new Reaper(purgeThread ?? store, deps.clock, deps.logger, {
    intervalSeconds: config.token_cleanup_interval,
    batchSize: config.token_cleanup_batch_size,
    // In-memory SQLite (no file to share): short batches on the loop's thread.
    // PostgreSQL: PG_PURGE_BATCH_MS batches, PG_PURGE_DUTY of the time.
    // (The SQLite purge thread paces itself: src/store/sqlite/purge-thread.ts.)
    maxBlockMs: store.engine === 'sqlite' ? (purgeThread === null ? 2 : undefined) : PG_PURGE_BATCH_MS,
    maxDuty: store.engine === 'postgresql' ? PG_PURGE_DUTY : undefined,
    onRemoved: (removal) => {
      deps.tokens.forget(removal);
      metrics.reaperRemoved(removal.tokenHashes.length);
      if (purgeThread !== null && removal.sessions.length > 0) deps.eventsCommitted();
    },
    // Expired refresh tokens go through the store on both engines (they are
    // few: one per user and client); SQLite: short batches on the loop's thread.
    refreshTokens: {
      store,
      idleTimeoutSeconds: config.refresh_tokens.idle_timeout_seconds,
      absoluteLifetimeSeconds: config.refresh_tokens.absolute_lifetime_seconds,
      maxBlockMs: store.engine === 'sqlite' ? 2 : PG_PURGE_BATCH_MS,
    },
  });
  return { reaper, purgeThread };
}
