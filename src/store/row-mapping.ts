// Rows ↔ domain objects. Kept to plain property copies: findTokenByHash is the
// hot path of every token check.

import { sql, type Insertable, type RawBuilder, type Selectable, type Updateable } from 'kysely';
import type {
  GroupsTable,
  PoliciesTable,
  RefreshTokensTable,
  SessionsTable,
  TenantsTable,
  TokensTable,
  UserEmailsTable,
  UsersTable,
} from './database-schema.js';
import type {
  Group,
  NewUser,
  Policy,
  Purpose,
  RefreshToken,
  Session,
  Tenant,
  TenantAddress,
  TenantAuthenticationMethod,
  TokenRecord,
  User,
  UserEmail,
} from './types.js';

/** `'key', value, ...` for json_build_object / json_object (keys: fixed identifiers, written as literals). */
export function jsonPairs(fields: readonly (readonly [string, RawBuilder<unknown>])[]): RawBuilder<unknown> {
  return sql.join(
    fields.map(([key, value]) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(key)) throw new TypeError(`bad JSON key ${key}`);
      return sql`${sql.raw(`'${key}'`)}, ${value}`;
    }),
  );
}

/** What a StoreDialect.jsonArrayAgg column reads as: parsed already (PostgreSQL) or JSON text (SQLite). */
export function jsonRows<T>(value: unknown): T[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? (parsed as T[]) : [];
}

export function toDbBool(value: boolean): 0 | 1 {
  return value ? 1 : 0;
}

export function tenantFromRow(r: Selectable<TenantsTable>): Tenant {
  return {
    uuid: r.uuid,
    name: r.name,
    slug: r.slug,
    parentUuid: r.parent_uuid,
    domainNames: JSON.parse(r.domain_names) as string[],
    contactUuid: r.contact_uuid,
    phone: r.phone,
    address: {
      line1: r.address_line_1,
      line2: r.address_line_2,
      city: r.address_city,
      state: r.address_state,
      country: r.address_country,
      zipCode: r.address_zip_code,
    },
    defaultAuthenticationMethod: r.default_authentication_method as TenantAuthenticationMethod,
  };
}

export function tenantToRow(t: Tenant): Insertable<TenantsTable> {
  return {
    uuid: t.uuid,
    name: t.name,
    slug: t.slug,
    parent_uuid: t.parentUuid,
    domain_names: JSON.stringify(t.domainNames ?? []),
    ...tenantDetailsToRow({
      contactUuid: t.contactUuid ?? null,
      phone: t.phone ?? null,
      address: t.address ?? EMPTY_ADDRESS,
      defaultAuthenticationMethod: t.defaultAuthenticationMethod ?? 'native',
    }),
  };
}

export const EMPTY_ADDRESS: Readonly<TenantAddress> = {
  line1: null,
  line2: null,
  city: null,
  state: null,
  country: null,
  zipCode: null,
};

type TenantDetailColumns = Partial<
  Pick<
    Updateable<TenantsTable>,
    | 'contact_uuid'
    | 'phone'
    | 'address_line_1'
    | 'address_line_2'
    | 'address_city'
    | 'address_state'
    | 'address_country'
    | 'address_zip_code'
    | 'default_authentication_method'
  >
>;

/** The detail columns of the fields present in `d` (a patch leaves the others as they are). */
export function tenantDetailsToRow(d: Pick<Tenant, 'contactUuid' | 'phone' | 'address' | 'defaultAuthenticationMethod'>) {
  const row: TenantDetailColumns = {};
  if (d.contactUuid !== undefined) row.contact_uuid = d.contactUuid;
  if (d.phone !== undefined) row.phone = d.phone;
  if (d.address !== undefined) {
    row.address_line_1 = d.address.line1;
    row.address_line_2 = d.address.line2;
    row.address_city = d.address.city;
    row.address_state = d.address.state;
    row.address_country = d.address.country;
    row.address_zip_code = d.address.zipCode;
  }
  if (d.defaultAuthenticationMethod !== undefined) row.default_authentication_method = d.defaultAuthenticationMethod;
  return row;
}

export function groupFromRow(r: Selectable<GroupsTable>): Group {
  return {
    uuid: r.uuid,
    tenantUuid: r.tenant_uuid,
    name: r.name,
    slug: r.slug,
    systemManaged: Boolean(r.system_managed),
  };
}

export function groupToRow(g: Group): Insertable<GroupsTable> {
  return {
    uuid: g.uuid,
    tenant_uuid: g.tenantUuid,
    name: g.name,
    slug: g.slug,
    system_managed: toDbBool(g.systemManaged),
  };
}

export function userEmailFromRow(r: Selectable<UserEmailsTable>): UserEmail {
  return { uuid: r.uuid, address: r.address, main: Boolean(r.main), confirmed: Boolean(r.confirmed) };
}

/** The main address first, then by address: the same order on both engines. */
export function sortedEmails(emails: UserEmail[]): UserEmail[] {
  return [...emails].sort(
    (a, b) =>
      Number(b.main) - Number(a.main) ||
      (a.address.toLowerCase() < b.address.toLowerCase() ? -1 : a.address.toLowerCase() > b.address.toLowerCase() ? 1 : 0) ||
      (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0),
  );
}

/** `emails`: the user's user_emails rows, in any order. */
export function userFromRow(r: Selectable<UsersTable>, emails: UserEmail[]): User {
  const sorted = sortedEmails(emails);
  const main = sorted.find((e) => e.main) ?? null;
  return {
    uuid: r.uuid,
    tenantUuid: r.tenant_uuid,
    username: r.username,
    firstname: r.firstname,
    lastname: r.lastname,
    emailAddress: main?.address ?? null,
    emailConfirmed: main?.confirmed ?? false,
    emails: sorted,
    authenticationMethod: r.authentication_method,
    passwordHash: r.password_hash,
    // The CHECK constraint of the migrations guarantees the value.
    purpose: r.purpose as Purpose,
    enabled: Boolean(r.enabled),
    createdAt: Number(r.created_at),
  };
}

export function userToRow(u: NewUser, authenticationMethod: string): Insertable<UsersTable> {
  return {
    uuid: u.uuid,
    tenant_uuid: u.tenantUuid,
    username: u.username,
    firstname: u.firstname,
    lastname: u.lastname,
    password_hash: u.passwordHash,
    purpose: u.purpose,
    enabled: toDbBool(u.enabled),
    created_at: u.createdAt,
    authentication_method: authenticationMethod,
  };
}

export function policyFromRow(r: Selectable<PoliciesTable>): Policy {
  return {
    uuid: r.uuid,
    tenantUuid: r.tenant_uuid,
    name: r.name,
    slug: r.slug,
    description: r.description,
    acl: JSON.parse(r.acl) as string[],
    shared: Boolean(r.shared),
    readOnly: Boolean(r.read_only),
  };
}

export function policyToRow(p: Policy): Insertable<PoliciesTable> {
  return {
    uuid: p.uuid,
    tenant_uuid: p.tenantUuid,
    name: p.name,
    slug: p.slug,
    description: p.description,
    acl: JSON.stringify(p.acl),
    shared: toDbBool(p.shared),
    read_only: toDbBool(p.readOnly),
  };
}

export function sessionFromRow(r: Selectable<SessionsTable>): Session {
  return {
    uuid: r.uuid,
    tenantUuid: r.tenant_uuid,
    userUuid: r.user_uuid,
    mobile: Boolean(r.mobile),
    createdAt: Number(r.created_at),
  };
}

export function sessionToRow(s: Session): Insertable<SessionsTable> {
  return {
    uuid: s.uuid,
    tenant_uuid: s.tenantUuid,
    user_uuid: s.userUuid,
    mobile: toDbBool(s.mobile),
    created_at: s.createdAt,
  };
}

export function tokenFromRow(r: Selectable<TokensTable>): TokenRecord {
  return {
    hash: r.hash,
    sessionUuid: r.session_uuid,
    authId: r.auth_id,
    userUuid: r.user_uuid,
    tenantUuid: r.tenant_uuid,
    pbxUserUuid: r.pbx_user_uuid,
    xivoUuid: r.xivo_uuid,
    issuedAt: Number(r.issued_at),
    expiresAt: Number(r.expires_at),
    acl: JSON.parse(r.acl) as string[],
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    remoteAddr: r.remote_addr,
    userAgent: r.user_agent,
    refreshTokenUuid: r.refresh_token_uuid,
  };
}

export function tokenToRow(t: TokenRecord): Insertable<TokensTable> {
  return {
    hash: t.hash,
    session_uuid: t.sessionUuid,
    auth_id: t.authId,
    user_uuid: t.userUuid,
    tenant_uuid: t.tenantUuid,
    pbx_user_uuid: t.pbxUserUuid,
    xivo_uuid: t.xivoUuid,
    issued_at: t.issuedAt,
    expires_at: t.expiresAt,
    acl: JSON.stringify(t.acl),
    metadata: JSON.stringify(t.metadata),
    remote_addr: t.remoteAddr,
    user_agent: t.userAgent,
    refresh_token_uuid: t.refreshTokenUuid,
  };
}

export function refreshTokenFromRow(r: Selectable<RefreshTokensTable>): RefreshToken {
  return {
    uuid: r.uuid,
    hash: r.hash,
    clientId: r.client_id,
    userUuid: r.user_uuid,
    tenantUuid: r.tenant_uuid,
    backend: r.backend,
    login: r.login,
    mobile: Boolean(r.mobile),
    createdAt: Number(r.created_at),
    lastUsedAt: Number(r.last_used_at ?? r.created_at),
  };
}

export function refreshTokenToRow(rt: RefreshToken): Insertable<RefreshTokensTable> {
  return {
    uuid: rt.uuid,
    hash: rt.hash,
    client_id: rt.clientId,
    user_uuid: rt.userUuid,
    tenant_uuid: rt.tenantUuid,
    backend: rt.backend,
    login: rt.login,
    mobile: toDbBool(rt.mobile),
    created_at: rt.createdAt,
    last_used_at: rt.lastUsedAt,
  };
}
