// Composition root: config → store → backends → services → app → listen.
// Everything is built here and passed down; nothing else opens resources.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { BackendRegistry } from './backends/registry.js';
import { createXivoUserBackend, XIVO_USER } from './backends/xivo-user/backend.js';
import { type Clock, systemClock } from './clock.js';
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
import type { RevocationWatch } from './store/revocations.js';
import type { Store } from './store/types.js';
import { TokenCache } from './tokens/cache.js';
import { Reaper } from './tokens/reaper.js';
import { TokenService } from './tokens/service.js';

export function resolveDbUri(config: Config): string {
  return config.db_uri ?? `sqlite:${path.join(config.data_dir, 'xivo-auth.sqlite')}`;
}

export interface Service {
  app: FastifyInstance;
  store: Store;
  tokens: TokenService;
  cache: TokenCache;
  reaper: Reaper;
  hasher: PasswordHasher;
  metrics: Metrics;
  /** The management listener's app (metrics, health) when `management.enabled`. */
  management: FastifyInstance | null;
  /** Base URL once listening. */
  url: string | null;
  managementUrl: string | null;
  listen(): Promise<string>;
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
  const store = await openStore(resolveDbUri(config), { logger });
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
  const store = await openConfiguredStore(config, logger);
  let revocations: RevocationWatch | null = null;
  try {
    const hasher = new PasswordHasher(config.password_hashing);
    const metrics = new Metrics();
    metrics.observeHasher(hasher);
    const topTenant = await ensureTopTenant(store);
    await applyConfigPolicies(store, topTenant.uuid, config.default_policies);
    await ensureAllUsersGroups(store);
    if (config.bootstrap_user_on_startup) {
      const result = await bootstrapAdmin({ store, hasher, clock }, topTenant.uuid, config.bootstrap_user_username, config.bootstrap_user_password);
      options.onBootstrap?.(result);
    }

    const backends = await BackendRegistry.build(config.enabled_backend_plugins, {
      [XIVO_USER]: () => createXivoUserBackend({ store, hasher }),
    }, logger);
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
    const watch = store.watchRevocations({
      revoked: (hashes) => cache.invalidate(hashes),
      flushed: () => cache.flush(),
      connected: () => {
        listenerConnected = true;
        cache.enable();
        logger.info({ cache_entries_max: config.token_cache.max_entries }, 'token cache on');
      },
      disconnected: () => {
        listenerConnected = false;
        cache.disable();
      },
    });
    revocations = watch;
    const tokens = new TokenService(store, backends, aclBuilder, tenants, cache, clock, {
      defaultLifetimeSeconds: config.default_token_lifetime,
      maxUserSessions: config.max_user_concurrent_sessions,
      xivoUuid: config.uuid,
    }, metrics.tokens);
    const users = new UserService(store, hasher, tokens, tenants, clock);
    const policies = new PolicyService(store, tenants, users);
    const iam = {
      tenants: new TenantService(store, tenants, tokens),
      policies,
      groups: new GroupService(store, tenants, users, policies),
      sessions: new SessionService(store, tenants, users, tokens),
    };
    const reaper = new Reaper(store, clock, logger, {
      intervalSeconds: config.token_cleanup_interval,
      batchSize: config.token_cleanup_batch_size,
      // better-sqlite3 deletes on the event loop's thread: keep each batch short.
      maxBlockMs: store.engine === 'sqlite' ? 2 : undefined,
      onRemoved: (removal) => {
        tokens.forget(removal);
        metrics.reaperRemoved(removal.tokenHashes.length);
      },
    });

    const readiness = {
      store: () => store.ping(),
      // Pending migrations abort the start when db_upgrade_on_startup is on; when
      // it is off, the operator runs `xivo-auth migrate` (not re-checked here).
      migrations: () => true,
      listener: () => listenerConnected,
      draining: () => draining,
    };
    const { certificate, private_key: privateKey } = config.rest_api;
    const https = certificate && privateKey ? { cert: readFileSync(certificate), key: readFileSync(privateKey) } : null;
    const app = await buildApp({
      config, logger, tokens, users, tenants, https, iam,
      backendNames: () => backends.names(),
      ping: () => store.ping(),
      metrics, readiness,
    });
    const management = config.management.enabled ? await buildManagementApp({ logger, readiness, metrics }) : null;

    let closing: Promise<void> | null = null;
    const service: Service = {
      app, store, tokens, cache, reaper, hasher, metrics, management,
      url: null,
      managementUrl: null,
      async listen() {
        const address = await app.listen({ host: config.rest_api.listen, port: config.rest_api.port });
        if (management !== null) {
          service.managementUrl = await management.listen({ host: config.management.listen, port: config.management.port });
        }
        reaper.start();
        service.url = address;
        return address;
      },
      close() {
        closing ??= (async () => {
          draining = true;
          await reaper.stop();
          if (service.url !== null) {
            app.server.prependListener('request', function askToReconnect(_req, res) { res.shouldKeepAlive = false; });
            await new Promise((resolve) => setTimeout(resolve, options.drainGraceMs ?? 250));
          }
          await app.close();
          await management?.close();
          await watch.close();
          await backends.close();
          await store.close();
        })();
        return closing;
      },
    };
    return service;
  } catch (err) {
    await revocations?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}
