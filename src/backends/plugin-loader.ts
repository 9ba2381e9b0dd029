// Third-party backends (backend_plugins): import the module, call its
// factory, and wrap what it returns so that a plugin cannot take the
// service down: a login that throws, hangs or answers nonsense fails (401).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { BackendPluginConfig } from '../config/types.js';
import type { Purpose } from '../identity/types.js';
import type { LocalUserStore } from './store.js';
import type { BackendPlugin, BackendPluginFactory, PluginIdentity, PluginServices } from './plugin-api.js';
import type { BackendFactory } from './registry.js';
import type { Backend, Identity } from './types.js';

/** A factory may open connections; it gets longer than a login, but not forever. */
export const PLUGIN_LOAD_TIMEOUT_MS = 10_000;

const PURPOSES = new Set<Purpose>(['user', 'internal', 'external_api']);

export interface PluginLoaderDeps {
  store: LocalUserStore;
  logger: Logger;
  /** Milliseconds a login through a plugin may take. */
  timeoutMs: number;
  /** Tenant of identities naming none. */
  topTenantUuid: string;
  /** Relative module paths are resolved from here (default: the current directory). */
  baseDir?: string;
}

class PluginTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} took more than ${ms} ms`);
    this.name = 'PluginTimeoutError';
  }
}

/** `p`, or PluginTimeoutError after `ms`; `p` keeps running but its outcome is ignored. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PluginTimeoutError(what, ms)), ms);
  });
  p.catch(() => undefined);
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export function moduleSpecifier(module: string, baseDir: string): string {
  if (module.startsWith('.') || path.isAbsolute(module)) return pathToFileURL(path.resolve(baseDir, module)).href;
  return module;
}

function factoryOf(loaded: Record<string, unknown>): BackendPluginFactory {
  const candidate = typeof loaded.default === 'function' ? loaded.default : loaded.createBackend;
  if (typeof candidate !== 'function') {
    throw new Error('the module exports no factory (a default export or `createBackend` function)');
  }
  return candidate as BackendPluginFactory;
}

/** Factories for the configured plugins, by name (null: no such plugin). */
export function pluginFactories(
  configs: Record<string, BackendPluginConfig>,
  deps: PluginLoaderDeps,
): (name: string) => BackendFactory | null {
  return function pluginFactory(name) {
    const config = Object.prototype.hasOwnProperty.call(configs, name) ? configs[name] : undefined;
    if (config === undefined) return null;
    return async function loadPlugin(): Promise<Backend> {
      const logger = deps.logger.child({ backend: name });
      const loaded = await within(
        import(moduleSpecifier(config.module, deps.baseDir ?? process.cwd())) as Promise<Record<string, unknown>>,
        PLUGIN_LOAD_TIMEOUT_MS,
        'loading the module',
      );
      const factory = factoryOf(loaded);
      const services: PluginServices = {
        logger,
        async findUserByLogin(login) {
          const user = await deps.store.findUserByLogin(login);
          return user === null
            ? null
            : {
                uuid: user.uuid,
                tenantUuid: user.tenantUuid,
                username: user.username,
                emailAddress: user.emailAddress,
                purpose: user.purpose,
                enabled: user.enabled,
              };
        },
      };
      const plugin = await within(
        Promise.resolve().then(() => factory(structuredClone(config.options ?? {}), services)),
        PLUGIN_LOAD_TIMEOUT_MS,
        'the factory',
      );
      if (plugin === null || typeof plugin !== 'object' || typeof plugin.verifyPassword !== 'function') {
        throw new Error('the factory returned no object with a verifyPassword function');
      }
      logger.info({ module: config.module }, 'backend plugin loaded');
      return guardedBackend(name, plugin, deps, logger);
    };
  };
}

function guardedBackend(name: string, plugin: BackendPlugin, deps: PluginLoaderDeps, logger: Logger): Backend {
  return {
    name,
    async verifyPassword(login, password, ctx) {
      let answer: PluginIdentity | null;
      try {
        answer = await within(
          Promise.resolve().then(() => plugin.verifyPassword(login, password, { ...ctx })),
          deps.timeoutMs,
          'a login',
        );
      } catch (err) {
        logger.warn({ err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'backend plugin failed a login');
        return null;
      }
      if (answer === null || answer === undefined) return null;
      const identity = await identityFrom(answer, deps);
      if (identity === null) logger.warn({}, 'backend plugin answered an invalid identity: login refused');
      return identity;
    },
    async close() {
      try {
        await within(
          Promise.resolve().then(() => plugin.close?.()),
          deps.timeoutMs,
          'close',
        );
      } catch (err) {
        logger.warn({ err: { message: (err as Error)?.message } }, 'backend plugin failed to close');
      }
    },
  };
}

function optionalString(value: unknown): string | null | undefined {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : undefined;
}

/** The plugin's answer as an Identity, or null when it does not hold together. */
async function identityFrom(answer: PluginIdentity, deps: PluginLoaderDeps): Promise<Identity | null> {
  if (typeof answer !== 'object') return null;
  const authId = optionalString(answer.authId);
  const userUuid = optionalString(answer.userUuid);
  const tenantUuid = optionalString(answer.tenantUuid);
  const pbxUserUuid = optionalString(answer.pbxUserUuid);
  if (!authId || userUuid === undefined || tenantUuid === undefined || pbxUserUuid === undefined) return null;
  const purpose = answer.purpose ?? 'user';
  if (!PURPOSES.has(purpose)) return null;
  const acl = answer.acl ?? [];
  if (!Array.isArray(acl) || !acl.every((a) => typeof a === 'string' && a.length > 0 && a.length <= 4096)) return null;
  const metadata = answer.metadata ?? {};
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return null;
  let tenant = tenantUuid ?? deps.topTenantUuid;
  if (userUuid !== null) {
    // A local user's tenant is its own, whatever the plugin says.
    const user = await deps.store.getUser(userUuid);
    if (user === null || !user.enabled) return null;
    tenant = user.tenantUuid;
  } else if (tenantUuid !== null && (await deps.store.getTenant(tenantUuid)) === null) {
    return null;
  }
  let plainMetadata: Record<string, unknown>;
  try {
    plainMetadata = JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>;
  } catch {
    return null; // cycles, BigInt: not JSON
  }
  return { authId, userUuid, tenantUuid: tenant, pbxUserUuid, purpose, metadata: plainMetadata, acl: [...acl] };
}
