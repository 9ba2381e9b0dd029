// Factories of the built-in backends added by issue 6 (ldap_user,
// xivo_service) and of the configured third-party plugins, for main.ts.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { PasswordHasher } from '../passwords/hasher.js';
import type { BackendStore } from './store.js';
import { createLdapUserBackend, LDAP_USER } from './ldap/backend.js';
import { pluginFactories } from './plugin-loader.js';
import type { BackendFactory } from './registry.js';
import { createXivoServiceBackend, XIVO_SERVICE } from './xivo-service/backend.js';

export interface BackendFactoryDeps {
  config: Config;
  store: BackendStore;
  hasher: PasswordHasher;
  logger: Logger;
  topTenantUuid: string;
}

export function builtInBackendFactories(deps: BackendFactoryDeps): Record<string, BackendFactory> {
  const { config, store, hasher, logger } = deps;
  return {
    [LDAP_USER]: () =>
      createLdapUserBackend({
        store,
        logger: logger.child({ backend: LDAP_USER }),
        directory: {
          timeoutMs: Math.round(config.ldap.timeout * 1000),
          // Read at start-up: a missing or unreadable file leaves ldap_user out (logged).
          extraCa: config.ldap.tls_ca_cert === null ? [] : [readFileSync(config.ldap.tls_ca_cert, 'utf8')],
        },
      }),
    [XIVO_SERVICE]: () => createXivoServiceBackend({ accounts: config.service_accounts, hasher, tenantUuid: deps.topTenantUuid }),
  };
}

export function backendPluginFactories(deps: BackendFactoryDeps): (name: string) => BackendFactory | null {
  return pluginFactories(deps.config.backend_plugins, {
    store: deps.store,
    logger: deps.logger,
    timeoutMs: Math.round(deps.config.backend_plugin_timeout * 1000),
    topTenantUuid: deps.topTenantUuid,
  });
}
