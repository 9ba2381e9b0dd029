// Reads a wazo-auth PostgreSQL database for `xivo-auth import wazo-auth`.
//
// The schema is wazo-auth's alembic head as of wazo 25.14 (the squashed
// baseline, revision 1c862ebfbb3a) and the two revisions written on top of
// it; any other revision is refused (KNOWN_REVISIONS). Everything is read in
// one REPEATABLE READ, READ ONLY transaction: one consistent snapshot, and
// nothing is ever written to the source.
//
// What wazo-auth keeps, as far as the import is concerned:
//   auth_tenant (uuid, name, slug, parent_uuid = uuid for the top tenant, phone,
//     contact_uuid, default_authentication_method), auth_tenant_domain (name),
//     auth_address (one per tenant)
//   auth_user (username, firstname, lastname, purpose, enabled,
//     authentication_method 'default' | 'native' | 'ldap' | 'saml',
//     password_salt bytea + password_hash = hex of PBKDF2-HMAC-SHA512)
//   auth_email (address, confirmed, main, user_uuid)
//   auth_policy (name, slug, description, shared, config_managed) with its
//     accesses through auth_policy_access → auth_access (unique strings)
//   auth_group (name, slug, system_managed: the tenant's "all users" group)
//   auth_user_group, auth_user_policy, auth_group_policy
//   auth_ldap_config (one per tenant)
//   auth_session (uuid, tenant_uuid, mobile) and auth_token (uuid = the token
//     string clients hold, auth_id, pbx_user_uuid, xivo_uuid, issued_t and
//     expire_t in epoch seconds, metadata JSON text, acl text[], user_agent,
//     remote_addr, refresh_token_uuid)
//   auth_refresh_token (uuid = the refresh token string clients hold,
//     client_id, user_uuid, backend, login, mobile, created_at)

import pg from 'pg';

/** Revisions whose schema the import reads; alembic_version must hold only these. */
export const KNOWN_REVISIONS: Readonly<Record<string, string>> = {
  '1c862ebfbb3a': 'squashed baseline wazo-25.14',
  '3d7f1a92c8e4': 'refresh token last_used_at (on 25.14)',
  '3d9f4b81c07a': 'one token per session (on 25.14)',
};

export type WazoSourceProblem = 'unreachable' | 'not-wazo-auth' | 'unknown-revision' | 'read-failed';

/** A source that cannot be imported; `message` is for the operator and never holds a password. */
export class WazoSourceError extends Error {
  constructor(
    readonly problem: WazoSourceProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WazoSourceError';
  }
}

export interface WazoTenant {
  uuid: string;
  name: string | null;
  slug: string;
  /** Equal to uuid for the top tenant. */
  parentUuid: string;
  phone: string | null;
  contactUuid: string | null;
  defaultAuthenticationMethod: string;
  domainNames: string[];
  address: WazoAddress | null;
}

export interface WazoAddress {
  line1: string | null;
  line2: string | null;
  city: string | null;
  state: string | null;
  zipCode: string | null;
  country: string | null;
}

export interface WazoEmail {
  uuid: string;
  address: string;
  confirmed: boolean;
  main: boolean;
}

export interface WazoUser {
  uuid: string;
  tenantUuid: string;
  username: string | null;
  firstname: string | null;
  lastname: string | null;
  passwordHash: string | null;
  passwordSalt: Buffer | null;
  purpose: string;
  /** Null in the column reads as enabled (its default). */
  enabled: boolean;
  authenticationMethod: string;
  /** The main one first. */
  emails: WazoEmail[];
}

export interface WazoPolicy {
  uuid: string;
  tenantUuid: string;
  name: string;
  slug: string;
  description: string | null;
  shared: boolean;
  configManaged: boolean;
  /** The accesses, sorted. */
  acl: string[];
}

export interface WazoGroup {
  uuid: string;
  tenantUuid: string;
  name: string;
  slug: string;
  systemManaged: boolean;
}

export interface WazoLdapConfig {
  tenantUuid: string;
  host: string;
  port: number;
  protocolVersion: number | null;
  protocolSecurity: string | null;
  bindDn: string | null;
  bindPassword: string | null;
  userBaseDn: string;
  userLoginAttribute: string | null;
  userEmailAttribute: string | null;
  searchFilters: string | null;
}

/** auth_saml_config: a tenant's SAML IdP for one of its domains. */
export interface WazoSamlConfig {
  tenantUuid: string;
  domainUuid: string;
  entityId: string;
  acsUrl: string;
  /** The IdP's metadata XML, as uploaded. */
  idpMetadata: string;
}

export interface WazoRefreshToken {
  /** The refresh token string itself. */
  value: string;
  clientId: string | null;
  userUuid: string | null;
  backend: string | null;
  login: string | null;
  mobile: boolean;
  createdAt: Date | null;
}

export interface WazoToken {
  /** The token string itself. */
  value: string;
  sessionUuid: string;
  sessionTenantUuid: string;
  sessionMobile: boolean;
  authId: string;
  pbxUserUuid: string | null;
  xivoUuid: string | null;
  issuedT: number | null;
  expireT: number;
  /** The JSON text as stored (may be null or not JSON). */
  metadata: string | null;
  acl: string[];
  userAgent: string | null;
  remoteAddr: string | null;
  refreshTokenValue: string | null;
}

export interface WazoLink {
  /** user or group uuid */
  from: string;
  /** policy or group uuid */
  to: string;
}

export interface TokenCounts {
  total: number;
  /** expire_t absent or at/before the import's clock. */
  expired: number;
  /** Sessions holding no live token. */
  sessionsWithoutLiveToken: number;
  sessions: number;
}

/** Rows per page when reading tokens (their ACLs can be long). */
const TOKEN_PAGE = 1000;

export interface WazoSource {
  /** The alembic revision(s) read from alembic_version. */
  readonly revisions: string[];
  tenants(): Promise<WazoTenant[]>;
  users(): Promise<WazoUser[]>;
  policies(): Promise<WazoPolicy[]>;
  groups(): Promise<WazoGroup[]>;
  /** auth_user_group: from user, to group. */
  memberships(): Promise<WazoLink[]>;
  /** auth_user_policy: from user, to policy. */
  userPolicies(): Promise<WazoLink[]>;
  /** auth_group_policy: from group, to policy. */
  groupPolicies(): Promise<WazoLink[]>;
  ldapConfigs(): Promise<WazoLdapConfig[]>;
  /** By tenant, then domain. */
  samlConfigs(): Promise<WazoSamlConfig[]>;
  refreshTokens(): Promise<WazoRefreshToken[]>;
  tokenCounts(nowSeconds: number): Promise<TokenCounts>;
  /** Tokens expiring after `nowSeconds`, page by page (by token). */
  liveTokens(nowSeconds: number): AsyncGenerator<WazoToken[]>;
  /** Rows of what xivo-auth has no counterpart for, by what they are (reported, never imported). */
  unsupported(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** The URI with its password replaced by *** (for messages). */
export function maskedUri(uri: string): string {
  try {
    const url = new URL(uri);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(unparsable URI)';
  }
}

/**
 * Connects, checks the schema revision and opens the snapshot. Throws
 * WazoSourceError for a server that cannot be reached, a database that is not
 * wazo-auth's, or a revision this import does not know.
 */
export async function openWazoSource(uri: string, opts: { connectTimeoutMs?: number } = {}): Promise<WazoSource> {
  if (!/^postgres(ql)?:\/\//.test(uri)) {
    throw new WazoSourceError(
      'unreachable',
      'the wazo-auth database URI must be postgresql://user[:password]@host[:port]/database',
    );
  }
  const client = new pg.Client({
    connectionString: uri,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    application_name: 'xivo-auth import',
  });
  // A connection dropped while idle must not crash the process; the next query fails instead.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new WazoSourceError(
      'unreachable',
      `cannot connect to the wazo-auth database at ${maskedUri(uri)}: ${(err as Error).message || String(err)}`,
      { cause: err },
    );
  }
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const revisions = await readRevisions(client, uri);
    return new PgWazoSource(client, revisions);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

async function readRevisions(client: pg.Client, uri: string): Promise<string[]> {
  let rows: { version_num: string }[];
  try {
    rows = (await client.query<{ version_num: string }>('SELECT version_num FROM alembic_version ORDER BY version_num')).rows;
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') {
      throw new WazoSourceError(
        'not-wazo-auth',
        `${maskedUri(uri)} is not a wazo-auth database: it has no alembic_version table`,
        { cause: err },
      );
    }
    throw new WazoSourceError('read-failed', `cannot read the schema revision of ${maskedUri(uri)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const revisions = rows.map((r) => r.version_num);
  const known = Object.entries(KNOWN_REVISIONS)
    .map(([rev, what]) => `${rev} (${what})`)
    .join(', ');
  if (revisions.length === 0) {
    throw new WazoSourceError(
      'unknown-revision',
      `the wazo-auth database at ${maskedUri(uri)} has no schema revision (empty alembic_version); known revisions: ${known}`,
    );
  }
  const unknown = revisions.filter((r) => !Object.hasOwn(KNOWN_REVISIONS, r));
  if (unknown.length > 0) {
    throw new WazoSourceError(
      'unknown-revision',
      `unsupported wazo-auth schema revision ${unknown.join(', ')} at ${maskedUri(uri)}: this import reads ${known}. ` +
        'Upgrade wazo-auth to wazo 25.14 or later (its database upgrade runs at start-up), then import again.',
    );
  }
  return revisions;
}

interface TenantRow {
  uuid: string;
  name: string | null;
  slug: string;
  parent_uuid: string;
  phone: string | null;
  contact_uuid: string | null;
  default_authentication_method: string;
}
interface UserRow {
  uuid: string;
  tenant_uuid: string;
  username: string | null;
  firstname: string | null;
  lastname: string | null;
  password_hash: string | null;
  password_salt: Buffer | null;
  purpose: string;
  enabled: boolean | null;
  authentication_method: string;
}
interface TokenRow {
  uuid: string;
  session_uuid: string;
  session_tenant_uuid: string;
  session_mobile: boolean;
  auth_id: string;
  pbx_user_uuid: string | null;
  xivo_uuid: string | null;
  issued_t: number | null;
  expire_t: number;
  metadata: string | null;
  acl: string[] | null;
  user_agent: string | null;
  remote_addr: string | null;
  refresh_token_uuid: string | null;
}

class PgWazoSource implements WazoSource {
  constructor(
    private readonly client: pg.Client,
    readonly revisions: string[],
  ) {}

  private async rows<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
    try {
      return (await this.client.query<T>(text, values)).rows;
    } catch (err) {
      throw new WazoSourceError('read-failed', `reading the wazo-auth database failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async tenants(): Promise<WazoTenant[]> {
    const tenants = await this.rows<TenantRow>(`
      SELECT uuid, name, slug, parent_uuid, phone, contact_uuid, default_authentication_method
      FROM auth_tenant ORDER BY uuid`);
    const domains = await this.rows<{ tenant_uuid: string; name: string }>(
      'SELECT tenant_uuid, name FROM auth_tenant_domain ORDER BY tenant_uuid, name',
    );
    const addresses = await this.rows<{
      tenant_uuid: string;
      line_1: string | null;
      line_2: string | null;
      city: string | null;
      state: string | null;
      zip_code: string | null;
      country: string | null;
    }>('SELECT tenant_uuid, line_1, line_2, city, state, zip_code, country FROM auth_address ORDER BY id');
    const domainsOf = groupBy(domains, (d) => d.tenant_uuid);
    const addressOf = new Map(
      addresses.map((a) => [
        a.tenant_uuid,
        {
          line1: a.line_1,
          line2: a.line_2,
          city: a.city,
          state: a.state,
          zipCode: a.zip_code,
          country: a.country,
        },
      ]),
    );
    return tenants.map((t) => ({
      uuid: t.uuid,
      name: t.name,
      slug: t.slug,
      parentUuid: t.parent_uuid,
      phone: t.phone,
      contactUuid: t.contact_uuid,
      defaultAuthenticationMethod: t.default_authentication_method,
      domainNames: (domainsOf.get(t.uuid) ?? []).map((d) => d.name),
      address: addressOf.get(t.uuid) ?? null,
    }));
  }

  async users(): Promise<WazoUser[]> {
    const users = await this.rows<UserRow>(`
      SELECT uuid, tenant_uuid, username, firstname, lastname, password_hash, password_salt, purpose, enabled,
             authentication_method
      FROM auth_user ORDER BY uuid`);
    const emails = await this.rows<{ uuid: string; user_uuid: string; address: string; confirmed: boolean; main: boolean }>(
      'SELECT uuid, user_uuid, address, confirmed, main FROM auth_email ORDER BY user_uuid, main DESC, address',
    );
    const emailsOf = groupBy(emails, (e) => e.user_uuid);
    return users.map((u) => ({
      uuid: u.uuid,
      tenantUuid: u.tenant_uuid,
      username: u.username,
      firstname: u.firstname,
      lastname: u.lastname,
      passwordHash: u.password_hash,
      passwordSalt: u.password_salt,
      purpose: u.purpose,
      enabled: u.enabled ?? true,
      authenticationMethod: u.authentication_method,
      emails: (emailsOf.get(u.uuid) ?? []).map((e) => ({
        uuid: e.uuid,
        address: e.address,
        confirmed: e.confirmed,
        main: e.main,
      })),
    }));
  }

  async policies(): Promise<WazoPolicy[]> {
    const rows = await this.rows<{
      uuid: string;
      tenant_uuid: string;
      name: string;
      slug: string;
      description: string | null;
      shared: boolean;
      config_managed: boolean | null;
      acl: string[] | null;
    }>(`
      SELECT p.uuid, p.tenant_uuid, p.name, p.slug, p.description, p.shared, p.config_managed,
             array_remove(array_agg(a.access ORDER BY a.access), NULL) AS acl
      FROM auth_policy p
      LEFT JOIN auth_policy_access pa ON pa.policy_uuid = p.uuid
      LEFT JOIN auth_access a ON a.id = pa.access_id
      GROUP BY p.uuid
      ORDER BY p.uuid`);
    return rows.map((p) => ({
      uuid: p.uuid,
      tenantUuid: p.tenant_uuid,
      name: p.name,
      slug: p.slug,
      description: p.description,
      shared: p.shared,
      configManaged: p.config_managed ?? false,
      acl: p.acl ?? [],
    }));
  }

  async groups(): Promise<WazoGroup[]> {
    const rows = await this.rows<{ uuid: string; tenant_uuid: string; name: string; slug: string; system_managed: boolean }>(
      'SELECT uuid, tenant_uuid, name, slug, system_managed FROM auth_group ORDER BY uuid',
    );
    return rows.map((g) => ({
      uuid: g.uuid,
      tenantUuid: g.tenant_uuid,
      name: g.name,
      slug: g.slug,
      systemManaged: g.system_managed,
    }));
  }

  memberships(): Promise<WazoLink[]> {
    return this.rows<WazoLink>('SELECT user_uuid AS "from", group_uuid AS "to" FROM auth_user_group ORDER BY 1, 2');
  }

  userPolicies(): Promise<WazoLink[]> {
    return this.rows<WazoLink>('SELECT user_uuid AS "from", policy_uuid AS "to" FROM auth_user_policy ORDER BY 1, 2');
  }

  groupPolicies(): Promise<WazoLink[]> {
    return this.rows<WazoLink>('SELECT group_uuid AS "from", policy_uuid AS "to" FROM auth_group_policy ORDER BY 1, 2');
  }

  async ldapConfigs(): Promise<WazoLdapConfig[]> {
    const rows = await this.rows<{
      tenant_uuid: string;
      host: string;
      port: number;
      protocol_version: number | null;
      protocol_security: string | null;
      bind_dn: string | null;
      bind_password: string | null;
      user_base_dn: string;
      user_login_attribute: string | null;
      user_email_attribute: string | null;
      search_filters: string | null;
    }>(`
      SELECT tenant_uuid, host, port, protocol_version, protocol_security, bind_dn, bind_password, user_base_dn,
             user_login_attribute, user_email_attribute, search_filters
      FROM auth_ldap_config ORDER BY tenant_uuid`);
    return rows.map((c) => ({
      tenantUuid: c.tenant_uuid,
      host: c.host,
      port: Number(c.port),
      protocolVersion: c.protocol_version === null ? null : Number(c.protocol_version),
      protocolSecurity: c.protocol_security,
      bindDn: c.bind_dn,
      bindPassword: c.bind_password,
      userBaseDn: c.user_base_dn,
      userLoginAttribute: c.user_login_attribute,
      userEmailAttribute: c.user_email_attribute,
      searchFilters: c.search_filters,
    }));
  }

  async samlConfigs(): Promise<WazoSamlConfig[]> {
    const rows = await this.rows<{
      tenant_uuid: string;
      domain_uuid: string;
      entity_id: string;
      acs_url: string;
      idp_metadata: string;
    }>(`
      SELECT tenant_uuid, domain_uuid, entity_id, acs_url, idp_metadata::text AS idp_metadata
      FROM auth_saml_config ORDER BY tenant_uuid, domain_uuid`);
    return rows.map((c) => ({
      tenantUuid: c.tenant_uuid,
      domainUuid: c.domain_uuid,
      entityId: c.entity_id,
      acsUrl: c.acs_url,
      idpMetadata: c.idp_metadata,
    }));
  }

  async refreshTokens(): Promise<WazoRefreshToken[]> {
    const rows = await this.rows<{
      uuid: string;
      client_id: string | null;
      user_uuid: string | null;
      backend: string | null;
      login: string | null;
      mobile: boolean;
      created_at: Date | null;
    }>('SELECT uuid, client_id, user_uuid, backend, login, mobile, created_at FROM auth_refresh_token ORDER BY uuid');
    return rows.map((r) => ({
      value: r.uuid,
      clientId: r.client_id,
      userUuid: r.user_uuid,
      backend: r.backend,
      login: r.login,
      mobile: r.mobile,
      createdAt: r.created_at,
    }));
  }

  async tokenCounts(nowSeconds: number): Promise<TokenCounts> {
    const [tokens] = await this.rows<{ total: string; expired: string }>(
      `
      SELECT count(*) AS total, count(*) FILTER (WHERE expire_t IS NULL OR expire_t <= $1) AS expired
      FROM auth_token`,
      [nowSeconds],
    );
    const [sessions] = await this.rows<{ total: string; idle: string }>(
      `
      SELECT count(*) AS total,
             count(*) FILTER (WHERE NOT EXISTS (
               SELECT 1 FROM auth_token t WHERE t.session_uuid = s.uuid AND t.expire_t > $1)) AS idle
      FROM auth_session s`,
      [nowSeconds],
    );
    return {
      total: Number(tokens.total),
      expired: Number(tokens.expired),
      sessions: Number(sessions.total),
      sessionsWithoutLiveToken: Number(sessions.idle),
    };
  }

  async *liveTokens(nowSeconds: number): AsyncGenerator<WazoToken[]> {
    let after = '';
    for (;;) {
      const rows = await this.rows<TokenRow>(
        `
        SELECT t.uuid, t.session_uuid, s.tenant_uuid AS session_tenant_uuid, s.mobile AS session_mobile, t.auth_id,
               t.pbx_user_uuid, t.xivo_uuid, t.issued_t, t.expire_t, t.metadata, t.acl, t.user_agent, t.remote_addr,
               t.refresh_token_uuid
        FROM auth_token t JOIN auth_session s ON s.uuid = t.session_uuid
        WHERE t.expire_t > $1 AND t.uuid > $2
        ORDER BY t.uuid
        LIMIT ${TOKEN_PAGE}`,
        [nowSeconds, after],
      );
      if (rows.length === 0) return;
      after = rows[rows.length - 1].uuid;
      yield rows.map((t) => ({
        value: t.uuid,
        sessionUuid: t.session_uuid,
        sessionTenantUuid: t.session_tenant_uuid,
        sessionMobile: t.session_mobile,
        authId: t.auth_id,
        pbxUserUuid: t.pbx_user_uuid,
        xivoUuid: t.xivo_uuid,
        issuedT: t.issued_t === null ? null : Number(t.issued_t),
        expireT: Number(t.expire_t),
        metadata: t.metadata,
        acl: t.acl ?? [],
        userAgent: t.user_agent,
        remoteAddr: t.remote_addr,
        refreshTokenValue: t.refresh_token_uuid,
      }));
      if (rows.length < TOKEN_PAGE) return;
    }
  }

  async unsupported(): Promise<Record<string, number>> {
    const [row] = await this.rows<Record<string, string>>(`
      SELECT (SELECT count(*) FROM auth_external_auth_config) AS "external auth configurations",
             (SELECT count(*) FROM auth_user_external_auth) AS "users' external auth data"`);
    return Object.fromEntries(Object.entries(row).map(([what, n]) => [what, Number(n)]));
  }

  async close(): Promise<void> {
    try {
      await this.client.query('ROLLBACK');
    } catch {
      // The connection may already be gone; closing is all that is left.
    }
    await this.client.end().catch(() => undefined);
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list === undefined) map.set(k, [item]);
    else list.push(item);
  }
  return map;
}
