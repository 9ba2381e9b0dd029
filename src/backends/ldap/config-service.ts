// The LDAP configuration of a tenant, as the HTTP API manages it. The bind
// password is write-only: it is stored, used to bind, and never returned.
import { InvalidDataError, NotFoundError } from '../../errors.js';
import type { LdapConfig } from './types.js';
import type { LdapConfigAdminStore } from './store.js';
import { searchFilterProblem } from './ldap-syntax.js';

export interface LdapConfigInput {
  host: string;
  port?: number;
  protocolVersion?: number;
  protocolSecurity?: 'ldaps' | 'tls' | null;
  bindDn?: string | null;
  /** Absent: keep the stored one (only for the same host, port, protocol_security and bind_dn); null: none. */
  bindPassword?: string | null;
  userBaseDn: string;
  userLoginAttribute: string;
  userEmailAttribute?: string;
  searchFilters?: string | null;
}

/** The configuration without its secret. */
export type LdapConfigView = Omit<LdapConfig, 'bindPassword'>;

function view(c: LdapConfig): LdapConfigView {
  const { bindPassword: _secret, ...rest } = c;
  return rest;
}

export class LdapConfigService {
  constructor(private readonly store: LdapConfigAdminStore) {}

  async get(tenantUuid: string): Promise<LdapConfigView> {
    const config = await this.store.getLdapConfig(tenantUuid);
    if (config === null) throw new NotFoundError('unknown-ldap-config', 'ldap', tenantUuid);
    return view(config);
  }

  async put(tenantUuid: string, input: LdapConfigInput): Promise<LdapConfigView> {
    if ((await this.store.getTenant(tenantUuid)) === null) throw new NotFoundError('unknown-tenant', 'tenants', tenantUuid);
    if (input.searchFilters !== undefined && input.searchFilters !== null) {
      const problem = searchFilterProblem(input.searchFilters);
      if (problem !== null) {
        throw new InvalidDataError(`search_filters ${problem}`, {
          search_filters: { constraint_id: 'ldap_filter', message: problem },
        });
      }
    }
    const bindDn = input.bindDn ?? null;
    const security = input.protocolSecurity ?? null;
    const port = input.port ?? (security === 'ldaps' ? 636 : 389);
    let bindPassword = input.bindPassword ?? null;
    if (input.bindPassword === undefined && bindDn !== null) {
      // The stored secret is only ever sent again to the same server, over the
      // same transport, for the same account: a new host, port, security or
      // bind DN needs the password again (else it goes, maybe in clear, to a
      // server of the caller's choice).
      const stored = await this.store.getLdapConfig(tenantUuid);
      const sameTarget =
        stored !== null &&
        stored.bindDn === bindDn &&
        stored.host === input.host &&
        stored.port === port &&
        stored.protocolSecurity === security;
      if (stored !== null && stored.bindDn !== null && !sameTarget) {
        throw new InvalidDataError('bind_password is required when host, port, protocol_security or bind_dn change', {
          bind_password: { constraint_id: 'required', message: 'required when host, port, protocol_security or bind_dn change' },
        });
      }
      bindPassword = sameTarget ? stored.bindPassword : null;
    }
    if (bindDn === null) bindPassword = null;
    if (bindDn !== null && (bindPassword === null || bindPassword === '')) {
      throw new InvalidDataError('bind_password is required with bind_dn', {
        bind_password: { constraint_id: 'required', message: 'required with bind_dn' },
      });
    }
    const stored = await this.store.putLdapConfig({
      tenantUuid,
      host: input.host,
      port,
      protocolVersion: input.protocolVersion ?? 3,
      protocolSecurity: security,
      bindDn,
      bindPassword,
      userBaseDn: input.userBaseDn,
      userLoginAttribute: input.userLoginAttribute,
      userEmailAttribute: input.userEmailAttribute ?? 'mail',
      searchFilters: input.searchFilters ?? null,
    });
    return view(stored);
  }

  /** Idempotent. */
  async delete(tenantUuid: string): Promise<void> {
    await this.store.deleteLdapConfig(tenantUuid);
  }
}
