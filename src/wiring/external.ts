// Builds the external-accounts feature (issue 22) for the composition root:
// the secret box (its key read now: a configured key file that is missing
// or malformed stops the start-up with a clear message), the provider
// client, the service and its background poller.
import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import type { TenantTree } from '../identity/tenant-tree.js';
import type { User } from '../identity/types.js';
import type { Store } from '../store/types.js';
import { DevicePoller } from '../external/device-poller.js';
import { OAuthClient } from '../external/oauth-client.js';
import { SecretBox } from '../external/secret-box.js';
import { ExternalAuthService } from '../external/service.js';
import { isExternalAuthType, type ExternalAuthType } from '../external/types.js';

export interface ExternalAuth {
  service: ExternalAuthService;
  poller: DevicePoller;
}

export function createExternalAuth(deps: {
  config: Config;
  store: Store;
  users: { get(uuid: string, scopeRoot: string | null): Promise<User> };
  tenants: Pick<TenantTree, 'subtree'>;
  clock: Clock;
  logger: Logger;
}): ExternalAuth {
  const { config, store, logger } = deps;
  const enabled: ExternalAuthType[] = [];
  for (const [name, on] of Object.entries(config.enabled_external_auth_plugins)) {
    if (!on) continue;
    if (isExternalAuthType(name)) enabled.push(name);
    else
      logger.warn(
        { name },
        'enabled_external_auth_plugins: unknown external auth type, ignored (known: google, microsoft, mobile)',
      );
  }
  const box = new SecretBox({
    keyFile: config.external_auth.encryption_key_file,
    defaultFile: path.join(config.data_dir, 'external-auth.key'),
    onGenerated: (file) => {
      const shared =
        store.engine === 'postgresql'
          ? ': copy it to every instance sharing this database (external_auth.encryption_key_file), or their secrets will not open there'
          : '';
      logger.warn({ file }, `external auth: generated the encryption key of external-auth secrets${shared}`);
    },
  });
  const providerTimeoutMs = Math.round(config.external_auth.provider_timeout_seconds * 1000);
  const service = new ExternalAuthService(
    store,
    deps.users,
    deps.tenants,
    box,
    new OAuthClient(providerTimeoutMs),
    deps.clock,
    logger,
    {
      enabled,
      providers: { google: config.google, microsoft: config.microsoft },
      refreshMarginSeconds: config.external_auth.refresh_margin_seconds,
      providerTimeoutMs,
    },
  );
  return { service, poller: new DevicePoller(service, logger, config.external_auth.poll_interval_seconds) };
}
