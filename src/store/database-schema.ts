// Row shapes of the tables, as Kysely sees them. Column names are snake_case,
// as in the migrations; ./row-mapping.ts turns rows into domain objects.

import type { ColumnType } from 'kysely';

/**
 * Read back as 0/1 on SQLite and as a boolean on PostgreSQL; always written
 * as 0/1, which PostgreSQL accepts for a boolean parameter ('1' → true).
 */
export type DbBool = ColumnType<number | boolean, 0 | 1, 0 | 1>;

export interface TenantsTable {
  uuid: string;
  name: string | null;
  slug: string | null;
  parent_uuid: string | null;
  /** JSON array of strings. */
  domain_names: ColumnType<string, string | undefined, string>;
  // Details (migrations/tenant-details.ts, migration 11).
  contact_uuid: ColumnType<string | null, string | null | undefined, string | null>;
  phone: ColumnType<string | null, string | null | undefined, string | null>;
  address_line_1: ColumnType<string | null, string | null | undefined, string | null>;
  address_line_2: ColumnType<string | null, string | null | undefined, string | null>;
  address_city: ColumnType<string | null, string | null | undefined, string | null>;
  address_state: ColumnType<string | null, string | null | undefined, string | null>;
  address_country: ColumnType<string | null, string | null | undefined, string | null>;
  address_zip_code: ColumnType<string | null, string | null | undefined, string | null>;
  /** native, ldap or saml (CHECK). */
  default_authentication_method: ColumnType<string, string | undefined, string>;
}

/** One row per domain name (lower-cased): who holds it (migrations/unique-logins.ts). */
export interface TenantDomainsTable {
  name: string;
  tenant_uuid: string;
}

export interface UsersTable {
  uuid: string;
  tenant_uuid: string;
  username: string | null;
  firstname: string | null;
  lastname: string | null;
  password_hash: string | null;
  purpose: string;
  enabled: DbBool;
  created_at: number;
  /** `default`, `native`, … (migration 10). */
  authentication_method: ColumnType<string, string | undefined, string>;
}

/** Every email address of every user (migrations/user-emails.ts). */
export interface UserEmailsTable {
  uuid: string;
  user_uuid: string;
  address: string;
  main: DbBool;
  confirmed: DbBool;
}

export interface PoliciesTable {
  uuid: string;
  tenant_uuid: string;
  name: string;
  slug: string;
  description: string | null;
  /** JSON array of strings. */
  acl: string;
  shared: DbBool;
  read_only: DbBool;
}

export interface UserPolicyTable {
  user_uuid: string;
  policy_uuid: string;
}

export interface GroupsTable {
  uuid: string;
  tenant_uuid: string;
  name: string;
  slug: string;
  system_managed: DbBool;
}

export interface GroupUsersTable {
  group_uuid: string;
  user_uuid: string;
}

export interface GroupPolicyTable {
  group_uuid: string;
  policy_uuid: string;
}

export interface SessionsTable {
  uuid: string;
  tenant_uuid: string;
  user_uuid: string | null;
  mobile: DbBool;
  created_at: number;
}

export interface TokensTable {
  hash: string;
  session_uuid: string;
  auth_id: string;
  user_uuid: string | null;
  tenant_uuid: string | null;
  pbx_user_uuid: string | null;
  xivo_uuid: string | null;
  issued_at: number;
  expires_at: number;
  /** JSON array of strings. */
  acl: string;
  /** JSON object. */
  metadata: string;
  remote_addr: string | null;
  user_agent: string | null;
  refresh_token_uuid: string | null;
}

export interface RefreshTokensTable {
  uuid: string;
  hash: string;
  client_id: string;
  user_uuid: string;
  tenant_uuid: string;
  backend: string;
  login: string;
  mobile: DbBool;
  created_at: number;
  /** The last refresh-token login, or the creation (migration 12); null: measured from created_at. */
  last_used_at: number | null;
}

/** Hashes of refresh tokens rotated away, by family (the live refresh token's uuid; migration 12). */
export interface RefreshTokenRetiredTable {
  hash: string;
  family_uuid: string;
  retired_at: number;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

/** Events waiting for the relay (issue 4). */
export interface OutboxTable {
  id: ColumnType<number, never, never>;
  name: string;
  routing_key: string;
  tenant_uuid: string | null;
  user_uuid: string | null;
  /** JSON object: the event's payload. */
  data: string;
  created_at: number;
}

/** Where a periodic scan stopped: (expires_at, hash) of the last token seen. */
export interface EventCursorsTable {
  name: string;
  expires_at: number;
  hash: string;
}

/** LDAP directory of a tenant (issue 6). */
export interface LdapConfigsTable {
  tenant_uuid: string;
  host: string;
  port: number;
  protocol_version: number;
  protocol_security: string | null;
  bind_dn: string | null;
  bind_password: string | null;
  user_base_dn: string;
  user_login_attribute: string;
  user_email_attribute: string;
  search_filters: string | null;
}

/** Tokens sent by mail and what they were sent for (migrations/self-service.ts, migration 14). */
export interface EmailedTokensTable {
  token_hash: string;
  /** email_confirmation or password_reset (CHECK). */
  purpose: string;
  user_uuid: string;
  email_uuid: string | null;
  created_at: number;
  expires_at: number;
}

export interface DatabaseSchema {
  tenants: TenantsTable;
  tenant_domains: TenantDomainsTable;
  ldap_configs: LdapConfigsTable;
  users: UsersTable;
  user_emails: UserEmailsTable;
  policies: PoliciesTable;
  user_policy: UserPolicyTable;
  groups: GroupsTable;
  group_users: GroupUsersTable;
  group_policy: GroupPolicyTable;
  sessions: SessionsTable;
  tokens: TokensTable;
  refresh_tokens: RefreshTokensTable;
  refresh_token_retired: RefreshTokenRetiredTable;
  schema_migrations: SchemaMigrationsTable;
  outbox: OutboxTable;
  event_cursors: EventCursorsTable;
  emailed_tokens: EmailedTokensTable;
}
