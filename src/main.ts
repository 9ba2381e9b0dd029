// Composition root: config → store → domains in dependency order → app → listen.
// Everything is built here and passed down; nothing else opens resources.
// Each domain's wiring (src/wiring/<domain>.ts) holds what building it involves.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createBackends } from './wiring/backends.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config/types.js';
import type { EventRelay } from './events/relay.js';
import type { ExpireSoonNotifier } from './events/expire-soon.js';
import { createEvents } from './wiring/events.js';
import { createExternalAuth, type ExternalAuth } from './wiring/external.js';
import { createReadiness } from './http/readiness.js';
import { createHttp, servesHttps } from './wiring/http.js';
import { createIdentity, createIdentityServices } from './wiring/identity.js';
import type { SelfServiceDeps } from './identity/self-service-deps.js';
import { createSelfService } from './wiring/mail.js';
import { Metrics } from './metrics/metrics.js';
import { createMfa } from './wiring/mfa.js';
import { PasswordHasher } from './passwords/hasher.js';
import { reconfigureSecurity } from './wiring/security-reload.js';
import type { SecurityDeps } from './app.js';
import { createSecurity } from './wiring/security.js';
import { createSso } from './wiring/sso.js';
import { statementsSent } from './store/statement-count.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/types.js';
import type { TokenCache } from './tokens/cache.js';
import type { Reaper } from './tokens/reaper.js';
import type { TokenService } from './login/token-service.js';
import { createReaper, createTokens } from './wiring/tokens.js';
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

export async function openConfiguredStore(config: Config, logger: Logger): Promise<Store> {
  const store = await openStore(resolveDbUri(config), {
    logger,
    recordEvents: config.amqp.enabled,
    timeoutMs: dbTimeoutMs(config),
  });
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
    logger.warn(
      { db_timeout_ms: config.db_timeout_ms, db_timeout_seconds: config.db_timeout_seconds },
      'db_timeout_ms is deprecated and wins over db_timeout_seconds: set db_timeout_seconds instead',
    );
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
    metrics.observeStatements(statementsSent);
    opened.push(() => metrics.close());
    metrics.observeHasher(hasher);
    const identity = await createIdentity({ config, store, hasher, clock, onBootstrap: options.onBootstrap });
    const backends = await createBackends({ config, store, hasher, logger, topTenantUuid: identity.topTenantUuid });
    opened.push(() => backends.registry.close());
    const { tokens, cache, watch, listening, cacheStatus } = createTokens({
      config,
      store,
      backends: backends.registry,
      identity,
      clock,
      logger,
      metrics,
    });
    opened.push(() => watch.close());
    const security = createSecurity({ config, store, clock, logger, https: servesHttps(config) });
    opened.push(() => security.audit.flush());
    // A refresh-token reuse is audited in the transaction revoking its family.
    tokens.auditReuseWith(security.audit);
    const { users, iam } = createIdentityServices({ store, hasher, tokens, identity, clock, security });
    const external = createExternalAuth({ config, store, users, tenants: identity.tenants, clock, logger });
    // Self-service accounts (issue 21): templates checked and SMTP set up now; the relay starts with the listener.
    const selfService = createSelfService({
      config,
      store,
      hasher,
      tokens,
      users,
      clock,
      logger,
      metrics,
      security,
      topTenantUuid: identity.topTenantUuid,
    });
    opened.push(() => selfService.relay.close());
    opened.push(() => selfService.service.flush());
    // Second factors of password logins (issue 24) and single sign-on (issue 23) plug themselves into the token service.
    const mfa = createMfa({ config, store, tokens, clock, logger, audit: security.audit, registry: metrics.registry });
    const sso = createSso({ config, store, tokens, users, grantedAcls: identity.aclBuilder, clock, logger });
    const events = createEvents({ config, store, clock, logger, metrics });
    opened.push(() => events.close());
    const { reaper, purgeThread } = createReaper({
      config,
      dbUri: resolveDbUri(config),
      store,
      tokens,
      clock,
      logger,
      metrics,
      eventsCommitted: () => events.wake(),
    });
    opened.push(() => purgeThread?.close());
    const readiness = await createReadiness({ store, logger, listening });
    const http = await createHttp({
      config,
      logger,
      tokens,
      users,
      tenants: identity.tenants,
      iam,
      backendNames: () => backends.registry.names(),
      backends: { ...backends.api, escalation: sso.escalation },
      ping: () => store.ping(),
      busStatus: events.busStatus,
      cacheStatus,
      metrics,
      readiness: readiness.check,
      security,
      external: external.service,
      mfa,
      selfService,
      sso,
    });
    opened.push(() => http.close());

    let closing: Promise<void> | null = null;
    const service: Service = {
      app: http.app,
      management: http.management,
      relay: events.relay,
      expireSoon: events.expireSoon,
      store,
      tokens,
      cache,
      reaper,
      hasher,
      metrics,
      security,
      external,
      selfService,
      url: null,
      managementUrl: null,
      async applyLiveConfig(next, changed) {
        // The one step that may fail (the store) comes first, so a failure changes nothing else.
        await identity.reconfigure(next, changed);
        reconfigureSecurity(security, next, changed);
        http.live.reconfigure(next, logger, changed);
      },
      async listen() {
        const urls = await http.listen().catch(async (err: unknown) => {
          // The port is taken, the address not ours...: nothing is left open.
          await service.close().catch(() => undefined);
          throw err;
        });
        service.managementUrl = urls.managementUrl;
        reaper.start();
        security.janitor.start();
        events.start();
        external.poller.start();
        selfService.relay.start();
        service.url = urls.url;
        return urls.url;
      },
      close() {
        closing ??= (async () => {
          readiness.startDraining();
          await reaper.stop();
          await security.janitor.stop();
          await external.poller.stop();
          await purgeThread?.close();
          if (service.url !== null) await http.drain(options.drainGraceMs ?? 250);
          await http.close();
          await events.close();
          // Reset requests in progress finish; mails not delivered stay in the outbox.
          await selfService.service.flush();
          await selfService.relay.close();
          await watch.close();
          await backends.registry.close();
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
      await Promise.resolve()
        .then(close)
        .catch(() => undefined);
    }
    await store.close().catch(() => undefined);
    await stopTracing();
    throw err;
  }
}
