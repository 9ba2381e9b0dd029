// ldap_user: the password is checked by the tenant's LDAP directory; the
// directory entry is then matched to a local user of that tenant (by email,
// else by username), whose identity, policies and groups make the token.
import type { Logger } from 'pino';
import type { LdapConfig } from './types.js';
import type { Tenant } from '../../identity/types.js';
import type { LdapLoginStore, LdapTenantLookup } from './store.js';
import type { Backend, LoginContext } from '../types.js';
import { identityOf } from '../xivo-user/backend.js';
import { authenticate, lookUp, withSecureContext, type DirectoryAnswer, type DirectoryOptions } from './directory.js';

export const LDAP_USER = 'ldap_user';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface LdapBackendDeps {
  store: LdapLoginStore;
  logger: Pick<Logger, 'info' | 'warn' | 'debug'>;
  directory: DirectoryOptions;
  /** For tests: the directory exchange. */
  authenticate?: (config: LdapConfig, login: string, password: string, options: DirectoryOptions) => Promise<DirectoryAnswer>;
}

type Identified = Awaited<ReturnType<Backend['verifyPassword']>>;

/** The tenant a login names: tenant_id (uuid or slug) or domain_name. */
export async function loginTenant(
  store: LdapTenantLookup,
  ctx: Pick<LoginContext, 'tenantUuid' | 'domainName'>,
): Promise<Tenant | null> {
  if (ctx.tenantUuid !== null) {
    const byUuid = UUID.test(ctx.tenantUuid) ? await store.getTenant(ctx.tenantUuid.toLowerCase()) : null;
    return byUuid ?? (await store.findTenantBySlug(ctx.tenantUuid));
  }
  if (ctx.domainName !== null) return store.findTenantByDomainName(ctx.domainName);
  return null;
}

/** No control characters, a bounded length: anything else is no one's login. */
function isPlausibleLogin(login: string): boolean {
  // eslint-disable-next-line no-control-regex
  return login.length > 0 && login.length <= 256 && !/[\u0000-\u001f\u007f]/.test(login);
}

export function createLdapUserBackend(deps: LdapBackendDeps): Backend {
  const { store, logger } = deps;
  const exchange = deps.authenticate ?? authenticate;
  const directory = withSecureContext(deps.directory);
  return {
    name: LDAP_USER,
    async verifyPassword(login, password, ctx) {
      // An empty password would be an anonymous bind, which proves nothing.
      if (password.length === 0 || !isPlausibleLogin(login)) return null;
      const tenant = await loginTenant(store, ctx);
      if (tenant === null) return null;
      const config = await store.getLdapConfig(tenant.uuid);
      if (config === null) return null;

      return identityFor(tenant, config, login, await exchange(config, login, password, directory));
    },
    // Refresh tokens: no password, so the service account must find the entry
    // again (it may have been removed from the directory since). Without a
    // service account there is no way to ask: refused.
    // The entry must still designate the refresh token's own user: a local
    // user whose email now matches the entry is someone else.
    async identify(principal) {
      const { login } = principal;
      if (!isPlausibleLogin(login)) return null;
      const tenant = await store.getTenant(principal.tenantUuid);
      const config = tenant === null ? null : await store.getLdapConfig(tenant.uuid);
      if (tenant === null || config === null || config.bindDn === null) return null;
      const identity = await identityFor(tenant, config, login, await lookUp(config, login, directory));
      return identity !== null && identity.userUuid === principal.userUuid ? identity : null;
    },
  };

  /** The local user the directory's answer designates, or null (logged). */
  async function identityFor(tenant: Tenant, config: LdapConfig, login: string, answer: DirectoryAnswer): Promise<Identified> {
    if (answer.kind === 'unavailable') {
      logger.warn(
        { tenant_uuid: tenant.uuid, host: config.host, port: config.port, step: answer.step, cause: answer.cause },
        'LDAP directory unavailable: login refused',
      );
      return null;
    }
    if (answer.kind === 'rejected') {
      logger.debug({ tenant_uuid: tenant.uuid, reason: answer.reason }, 'LDAP login rejected by the directory');
      return null;
    }
    const user = await store.findTenantUser(tenant.uuid, { email: answer.email, username: answer.login ?? login });
    if (user === null || !user.enabled) {
      logger.info({ tenant_uuid: tenant.uuid, dn: answer.dn }, 'LDAP login: no enabled local user matches the directory entry');
      return null;
    }
    return identityOf(user);
  }
}
