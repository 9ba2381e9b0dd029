// Builds the authentication backends for the composition root (src/main.ts):
// the registry of the enabled ones (xivo_user, the built-in ones, the
// configured plugins), and what the HTTP API serves of them (LDAP settings
// per tenant, the backend of a POST /token naming none).
import { LdapConfigService } from '../backends/ldap/config-service.js';
import { backendPluginFactories, builtInBackendFactories, type BackendFactoryDeps } from '../backends/factories.js';
import { BackendRegistry } from '../backends/registry.js';
import { createBackendSelector } from '../backends/selection.js';
import { createXivoUserBackend, XIVO_USER } from '../backends/xivo-user/backend.js';
import type { Store } from '../store/types.js';

export interface Backends {
  registry: BackendRegistry;
  /** The app's `backends`, but for the SSO escalation guard (built later). */
  api: {
    ldap: LdapConfigService;
    defaultBackend: (body: { tenant_id?: string; domain_name?: string }) => Promise<string>;
  };
}

/** `store`: the whole store (the factories and the API each take their part of it). */
export async function createBackends(deps: BackendFactoryDeps & { store: Store }): Promise<Backends> {
  const { config, store, hasher, logger } = deps;
  const registry = await BackendRegistry.build(
    config.enabled_backend_plugins,
    {
      [XIVO_USER]: () => createXivoUserBackend({ store, hasher, rehashTo: config.password_hashing }),
      ...builtInBackendFactories(deps),
    },
    logger,
    backendPluginFactories(deps),
  );
  return {
    registry,
    api: {
      ldap: new LdapConfigService(store),
      defaultBackend: createBackendSelector({ store, enabled: (name) => registry.get(name) !== null }),
    },
  };
}
