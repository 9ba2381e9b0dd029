// Composition root: config → store → backends → services → app → listen.
// Everything is built here and passed down; nothing else opens resources.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { BackendRegistry } from './backends/registry.js';
import { createXivoUserBackend, XIVO_USER } from './backends/xivo-user/backend.js';
import { backendPluginFactories, builtInBackendFactories } from './backends/factories.js';
import { LdapConfigService } from './backends/ldap/config-service.js';
import { createBackendSelector } from './backends/selection.js';
import { type Clock, systemClock } from './clock.js';
import { ExpireSoonNotifier } from './events/expire-soon.js';
import { EventRelay } from './events/relay.js';
import type { Config } from './config/types.js';
import { AclBuilder } from './identity/acl-builder.js';
import { applyConfigPolicies, bootstrapAdmin, ensureAllUsersGroups, ensureTopTenant } from './identity/provisioning.js';
import { GroupService } from './identity/groups.js';
import { PolicyService } from './identity/policies.js';
import { SessionService } from './identity/sessions.js';
import { TenantService } from './identity/tenants.js';
import { TenantTree } from './identity/tenant-tree.js';
import { UserService } from './identity/users.js';
import { buildManagementApp } from './http/routes/health.js';
import { Metrics } from './metrics/metrics.js';
import { PasswordHasher } from './passwords/hasher.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/types.js';
import { TokenCache } from './tokens/cache.js';
import { Reaper } from './tokens/reaper.js';
import { sqlitePurgeThreadFor } from './tokens/sqlite-purge-thread.js';
import { TokenService } from './tokens/service.js';
import { createSecurity, type SecurityDeps } from './security/wiring.js';
import { createExternalAuth, type ExternalAuth } from './external/wiring.js';
import { createSelfService, type SelfServiceDeps } from './mail/wiring.js';
import { createMfa } from './mfa/wiring.js';
import { createSso } from './sso/wiring.js';
import { LiveHttpSettings } from './http/live-settings.js';
import { startTracing } from './tracing/tracing.js';

export function resolveDbUri(config: Config): string {
  return config.db_uri ?? `sqlite:${path.join(config.data_dir, 'xivo-auth.sqlite')}`;
}

/**
 * The database timeout in ms: `db_timeout_seconds`, unless the deprecated
 * `db_timeout_ms` is set (not null), which then wins.
 */
export function dbTimeoutMs(config: Pick<Config, 'db_timeout_seconds' | 'db_timeout_ms'>): number {
  return config.db_timeout_ms ?? Math.round(config.db_timeout_seconds * 1000);
}

export interface Service {
  app: FastifyInstance;
  store: Store;
  tokens: TokenService;
  cache: TokenCache;
  reaper: Reaper;
  /** The event relay, when amqp.enabled. */
  relay: EventRelay | null;
  expireSoon: ExpireSoonNotifier | null;
  hasher: PasswordHasher;
  /** Login throttle, rate limits, audit trail, password policy (issue 7). */
  security: SecurityDeps;
  /** External accounts and the device-authorization poller (issue 22). */
  external: ExternalAuth;
  /** Self-service accounts and the mail relay (issue 21). */
  selfService: SelfServiceDeps;
  metrics: Metrics;
  /** The management listener's app (metrics, health) when `management.enabled`. */
  management: FastifyInstance | null;
  /** Base URL once listening. */
  url: string | null;
  managementUrl: string | null;
  listen(): Promise<string>;
  /**
   * Applies the live part of a reloaded configuration (src/config/reload.ts):
   * `changed` lists the live keys that differ from the running configuration.
   */
  applyLiveConfig(next: Config, changed: readonly string[]): Promise<void>;
  /** Stop accepting, let in-flight requests finish, close everything. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  clock?: Clock;
  /**
   * On close, keep accepting this long before closing the listener, answering
   * with `Connection: close`: connections already queued in the kernel are
   * served instead of reset. Default 250 ms.
   */
  drainGraceMs?: number;
  /** Called once the store is ready, before listening (bootstrap credentials). */
  onBootstrap?: (result: { username: string; generatedPassword: string | null; created: boolean }) => void;
}

/** The reaper's pace on PostgreSQL (see where the reaper is built). */
const PG_PURGE_BATCH_MS = 20;
const PG_PURGE_DUTY = 0.15;

export async function openConfiguredStore(config: Config, logger: Logger): Promise<Store> {
  const store = await openStore(resolveDbUri(config), { logger, recordEvents: config.amqp.enabled, timeoutMs: dbTimeoutMs(config) });
  try {
    if (config.db_upgrade_on_startup) await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

export async function createService(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<Service> {
  const clock = options.clock ?? systemClock;
  if (config.db_timeout_ms !== null) {
    logger.warn({ db_timeout_ms: config.db_timeout_ms, db_timeout_seconds: config.db_timeout_seconds }, 'db_timeout_ms is deprecated and wins over db_timeout_seconds: set db_timeout_seconds instead');
  }
  // Before the store: its query spans are set up when it opens (src/tracing/store.ts).
  const stopTracing = await startTracing(config.tracing, logger);
  let store: Store;
  try {
    store = await openConfiguredStore(config, logger);
  } catch (err) {
    await stopTracing();
    throw err;
  }
  // What start-up opened so far, closed in reverse order if it fails half-way
  // (hashing threads, backends, the revocation listener, the purge thread...).
  const opened: (() => unknown)[] = [];
  try {
    const hasher = new PasswordHasher(config.password_hashing);
    opened.push(() => hasher.close());
    const metrics = new Metrics();
    opened.push(() => metrics.close());
    metrics.observeHasher(hasher);
    const topTenant = await ensureTopTenant(store);
    await applyConfigPolicies(store, topTenant.uuid, config.default_policies);
    await ensureAllUsersGroups(store);
    if (config.bootstrap_user_on_startup) {
      const result = await bootstrapAdmin({ store, hasher, clock }, topTenant.uuid, config.bootstrap_user_username, config.bootstrap_user_password);
      options.onBootstrap?.(result);
    }

    const backendDeps = { config, store, hasher, logger, topTenantUuid: topTenant.uuid };
    const backends = await BackendRegistry.build(config.enabled_backend_plugins, {
      [XIVO_USER]: () => createXivoUserBackend({ store, hasher, rehashTo: config.password_hashing }),
      ...builtInBackendFactories(backendDeps),
    }, logger, backendPluginFactories(backendDeps));
    opened.push(() => backends.close());
    const tenants = new TenantTree(store);
    const aclBuilder = new AclBuilder(store, config.default_user_policy === null ? null : { tenantUuid: topTenant.uuid, slug: config.default_user_policy });
    // The cache is trusted only while revocation notices flow (PostgreSQL:
    // LISTEN/NOTIFY between instances); when they stop, it is flushed and
    // bypassed until they are back: never serve a revoked token.
    const cache = new TokenCache(config.token_cache.max_entries);
    metrics.observeCache(cache);
    // Readiness: revocation notices flow (the cache may be off by configuration).
    let listenerConnected = false;
    let draining = false;
    // The tenant tree's remembered parents follow the same rule, through the
    // same listener (tenant notices): forgotten on notice, bypassed while the
    // listener is down, started afresh when it is back.
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
    opened.push(() => watch.close());
    const tokens = new TokenService(store, backends, aclBuilder, tenants, cache, clock, {
      defaultLifetimeSeconds: config.default_token_lifetime,
      maxUserSessions: config.max_user_concurrent_sessions,
      xivoUuid: config.uuid,
      refreshTokens: {
        idleTimeoutSeconds: config.refresh_tokens.idle_timeout_seconds,
        absoluteLifetimeSeconds: config.refresh_tokens.absolute_lifetime_seconds,
        rotation: config.refresh_tokens.rotation,
        reuseGraceSeconds: config.refresh_tokens.reuse_grace_seconds,
      },
    }, metrics.tokens);
    // Audit records: security.audit.onRecord receives each one (bus events).
    const security = createSecurity({
      config, store, clock, logger, https: Boolean(config.rest_api.certificate && config.rest_api.private_key),
    });
    opened.push(() => security.audit.flush());
    // A refresh-token reuse is audited in the transaction revoking its family.
    tokens.auditReuseWith(security.audit);
    const users = new UserService(store, hasher, tokens, tenants, clock, security.passwordPolicy, security.audit, aclBuilder);
    const external = createExternalAuth({ config, store, users, tenants, clock, logger });
    // Second factors of password logins (issue 24): plugs itself into the token service.
    // Self-service accounts (issue 21): templates checked and SMTP set up now; the relay starts with the listener.
    const selfService = createSelfService({ config, store, hasher, tokens, users, clock, logger, metrics, security, topTenantUuid: topTenant.uuid });
    opened.push(() => selfService.relay.close());
    opened.push(() => selfService.service.flush());
    const mfa = createMfa({ config, store, tokens, clock, logger, audit: security.audit, registry: metrics.registry });
    // Single sign-on (issue 23): plugs the authentication-method check into the token service.
    const sso = createSso({ config, store, tokens, users, grantedAcls: aclBuilder, clock, logger });
    const policies = new PolicyService(store, tenants, users);
    const iam = {
      tenants: new TenantService(store, tenants, tokens, aclBuilder),
      policies,
      groups: new GroupService(store, tenants, users, policies),
      sessions: new SessionService(store, tenants, users, tokens),
    };
    // SQLite: the purge runs on a worker thread with its own connection to
    // the file (better-sqlite3 would delete on the event loop's thread).
    // Its deletions write their auth_session_deleted events like the store's.
    const purgeThread = store.engine === 'sqlite' ? sqlitePurgeThreadFor(resolveDbUri(config), { recordEvents: config.amqp.enabled }) : null;
    opened.push(() => purgeThread?.close());
    // Events: written to the outbox with each change; the relay publishes them.
    const relay = config.amqp.enabled
      ? new EventRelay(store, {
        uri: config.amqp.uri,
        exchangeName: config.amqp.exchange_name,
        exchangeType: config.amqp.exchange_type,
        originUuid: config.uuid,
        batchSize: config.amqp.batch_size,
        pollIntervalMs: config.amqp.poll_interval_ms,
        timeoutMs: config.amqp.timeout_ms,
        retryMinMs: config.amqp.retry_min_ms,
        retryMaxMs: config.amqp.retry_max_ms,
      }, logger, metrics.observeEvents(() => store.outboxBacklog(), () => clock.now()))
      : null;
    if (relay !== null) store.onEventsCommitted(() => relay.wake());
    opened.push(() => relay?.close());

    const reaper = new Reaper(purgeThread ?? store, clock, logger, {
      intervalSeconds: config.token_cleanup_interval,
      batchSize: config.token_cleanup_batch_size,
      // In-memory SQLite (no file to share): short batches on the loop's thread.
      // PostgreSQL: batches of ~20 ms of the server's work, 15% of the time,
      // so that a large purge leaves the checks their CPU (check p99 during a
      // 1,000,000-row purge: 2.1× idle at 25%, 1.5× at 15%, purge 118 s).
      // (The SQLite purge thread paces itself: sqlite-purge-thread.ts.)
      maxBlockMs: store.engine === 'sqlite' ? (purgeThread === null ? 2 : undefined) : PG_PURGE_BATCH_MS,
      maxDuty: store.engine === 'postgresql' ? PG_PURGE_DUTY : undefined,
      onRemoved: (removal) => {
        tokens.forget(removal);
        metrics.reaperRemoved(removal.tokenHashes.length);
        // The purge thread commits outside the store: wake the relay for its events.
        if (purgeThread !== null && removal.sessions.length > 0) relay?.wake();
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

    const expireSoon = config.amqp.enabled
      ? new ExpireSoonNotifier(store, clock, logger, {
        delaySeconds: config.amqp.expire_soon_seconds,
        intervalSeconds: Math.max(1, Math.min(5, Math.floor(config.amqp.expire_soon_seconds / 4))),
        batchSize: config.token_cleanup_batch_size,
      })
      : null;
    const busStatus = async () => {
      if (relay === null) return { status: 'disabled' };
      const { status, published, failures, lastError } = relay.status();
      let outbox: Record<string, unknown>;
      try {
        const backlog = await store.outboxBacklog();
        outbox = {
          pending: backlog.pending,
          oldest_age_seconds: backlog.oldestCreatedAt === null ? 0 : Math.max(0, Math.round((clock.now() - backlog.oldestCreatedAt) / 1000)),
        };
      } catch {
        outbox = { status: 'unknown' };
      }
      return { status, published, failures, last_error: lastError, outbox };
    };

    // The schema must be the version this build expects: with
    // db_upgrade_on_startup off, until the operator runs `xivo-auth migrate`
    // (re-read on every probe); or after a newer release migrated the
    // database (this build may lack what that schema relies on).
    let schemaMatches: boolean | null = null;
    const checkSchema = async (): Promise<boolean> => {
      try {
        const version = await store.schemaVersion();
        const matches = version.missing.length === 0 && version.unknown.length === 0;
        if (!matches && schemaMatches !== false) {
          logger.warn({ expected: version.expected, current: version.current, missing: version.missing, unknown: version.unknown }, 'database schema is not the version this build expects: not ready (run `xivo-auth migrate`, or upgrade this instance)');
        }
        schemaMatches = matches;
      } catch {
        // Unreachable: the store check says so; the last reading stands.
      }
      return schemaMatches === true;
    };
    await checkSchema();
    const readiness = {
      store: () => store.ping(),
      migrations: checkSchema,
      listener: () => listenerConnected,
      draining: () => draining,
    };
    const { certificate, private_key: privateKey } = config.rest_api;
    const https = certificate && privateKey ? { cert: readFileSync(certificate), key: readFileSync(privateKey) } : null;
    // Read per request by the HTTP layer; a reload changes it (applyLiveConfig).
    const live = new LiveHttpSettings(config, tokens, logger);
    const app = await buildApp({
      config, logger, tokens, users, tenants, https, iam, live,
      backendNames: () => backends.names(),
      backends: {
        ldap: new LdapConfigService(store),
        defaultBackend: createBackendSelector({ store, enabled: (name) => backends.get(name) !== null }),
        escalation: sso.escalation,
      },
      ping: () => store.ping(),
      busStatus,
      cacheStatus: () => ({
        status: config.token_cache.max_entries === 0 ? 'disabled' : listenerConnected ? 'ok' : 'fail',
        invalidation: listenerConnected ? 'listening' : 'lost',
        entries: cache.size,
      }),
      metrics, readiness, security, external: external.service, mfa, selfService, sso,
    });
    opened.push(() => app.close());
    const management = config.management.enabled ? await buildManagementApp({ logger, readiness, metrics }) : null;
    if (management !== null) opened.push(() => management.close());

    let closing: Promise<void> | null = null;
    const service: Service = {
      app, store, tokens, cache, reaper, relay, expireSoon, hasher, metrics, management, security, external, selfService,
      url: null,
      managementUrl: null,
      async applyLiveConfig(next, changed) {
        const has = (prefix: string) => changed.some((key) => key === prefix || key.startsWith(`${prefix}.`));
        // The one step that may fail (the store): first, so a failure changes nothing else.
        // Policies removed from the file stay in the store (as at start-up).
        if (has('default_policies')) await applyConfigPolicies(store, topTenant.uuid, next.default_policies);
        if (has('default_user_policy')) {
          aclBuilder.setDefaultUserPolicy(next.default_user_policy === null ? null : { tenantUuid: topTenant.uuid, slug: next.default_user_policy });
        }
        if (has('security.rate_limits')) security.http.reconfigureRateLimits(next.security.rate_limits);
        if (has('security.login_throttle')) security.throttle.reconfigure(next.security.login_throttle);
        live.reconfigure(next, logger, changed);
      },
      async listen() {
        let address: string;
        try {
          address = await app.listen({ host: config.rest_api.listen, port: config.rest_api.port });
          if (management !== null) {
            service.managementUrl = await management.listen({ host: config.management.listen, port: config.management.port });
          }
        } catch (err) {
          // The port is taken, the address not ours...: nothing is left open.
          await service.close().catch(() => undefined);
          throw err;
        }
        reaper.start();
        security.janitor.start();
        relay?.start();
        expireSoon?.start();
        external.poller.start();
        selfService.relay.start();
        service.url = address;
        return address;
      },
      close() {
        closing ??= (async () => {
          draining = true;
          await reaper.stop();
          await security.janitor.stop();
          await external.poller.stop();
          await purgeThread?.close();
          if (service.url !== null) {
            app.server.prependListener('request', function askToReconnect(_req, res) { res.shouldKeepAlive = false; });
            await new Promise((resolve) => setTimeout(resolve, options.drainGraceMs ?? 250));
          }
          await app.close();
          await management?.close();
          await expireSoon?.stop();
          // Committed events not yet published stay in the outbox for the next start.
          await relay?.close();
          // Reset requests in progress finish; mails not delivered stay in the outbox.
          await selfService.service.flush();
          await selfService.relay.close();
          await watch.close();
          await backends.close();
          await hasher.close();
          await security.audit.flush();
          await store.close();
          metrics.close();
          // Last: the spans of the requests drained above are exported.
          await stopTracing();
        })();
        return closing;
      },
    };
    return service;
  } catch (err) {
    for (const close of opened.reverse()) {
      await Promise.resolve().then(close).catch(() => undefined);
    }
    await store.close().catch(() => undefined);
    await stopTracing();
    throw err;
  }
}
