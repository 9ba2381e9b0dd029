// Wire types of the /0.1 API (API.md), declared here so the package has no
// dependency on the server or on TypeBox. They mirror the server's TypeBox
// route schemas (src/http/schemas, src/http/routes/*): field for field, in the
// wire's snake_case; test/types.test.ts in this package checks the
// correspondence against the server's schemas. Request bodies are the wire
// bodies too, so what you send is what the API documents.

export type Purpose = 'user' | 'internal' | 'external_api';

export interface TokenMetadata {
  uuid?: string | null;
  tenant_uuid?: string | null;
  auth_id?: string;
  pbx_user_uuid?: string | null;
  xivo_uuid?: string | null;
  purpose?: Purpose;
  [key: string]: unknown;
}

/** The token object (API.md §1.3). */
export interface Token {
  token: string;
  uuid: string | null;
  auth_id: string;
  xivo_user_uuid: string | null;
  xivo_uuid: string | null;
  issued_at: string;
  expires_at: string;
  utc_issued_at: string;
  utc_expires_at: string;
  acl: string[];
  metadata: TokenMetadata;
  session_uuid: string;
  remote_addr: string | null;
  user_agent: string | null;
  /** Only in the answer to a login with `accessType: 'offline'`. */
  refresh_token?: string;
}

export interface RefreshToken {
  client_id: string;
  created_at: string;
  mobile: boolean;
  user_uuid: string;
  tenant_uuid: string;
}

export interface Page<T> {
  total: number;
  filtered: number;
  items: T[];
}

export interface ListParams {
  order?: string;
  direction?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
  search?: string;
  /** Include the sub-tenants' items. */
  recurse?: boolean;
}

export interface UserEmail {
  address: string;
  confirmed: boolean;
  main: boolean;
}

export interface User {
  uuid: string;
  tenant_uuid: string;
  username: string | null;
  firstname: string | null;
  lastname: string | null;
  purpose: Purpose | string;
  enabled: boolean;
  emails: UserEmail[];
}

export interface UserCreate {
  uuid?: string;
  username: string;
  firstname?: string | null;
  lastname?: string | null;
  password?: string | null;
  email_address?: string | null;
  purpose?: Purpose;
  enabled?: boolean;
}

export interface UserUpdate {
  username: string;
  firstname?: string | null;
  lastname?: string | null;
  email_address?: string | null;
  purpose?: Purpose;
  enabled?: boolean;
}

export interface Tenant {
  uuid: string;
  name: string | null;
  slug: string | null;
  parent_uuid: string | null;
  domain_names: string[];
}

export interface TenantCreate {
  uuid?: string;
  name?: string | null;
  slug?: string;
  parent_uuid?: string;
  domain_names?: string[];
}

export interface TenantUpdate {
  name?: string | null;
  slug?: string;
  domain_names?: string[];
}

export interface Group {
  uuid: string;
  tenant_uuid: string;
  name: string;
  slug: string;
  system_managed: boolean;
}

export interface GroupCreate {
  uuid?: string;
  name: string;
  slug?: string;
}

export type GroupUpdate = Omit<GroupCreate, 'uuid'>;

export interface Policy {
  uuid: string;
  tenant_uuid: string;
  name: string;
  slug: string;
  description: string | null;
  acl: string[];
  shared: boolean;
  read_only: boolean;
}

export interface PolicyCreate {
  uuid?: string;
  name: string;
  slug?: string;
  description?: string | null;
  acl?: string[];
  shared?: boolean;
}

export type PolicyUpdate = Omit<PolicyCreate, 'uuid'>;

export interface Session {
  uuid: string;
  mobile: boolean;
  tenant_uuid: string;
  user_uuid: string | null;
}

export interface ComponentStatus {
  status: string;
  [key: string]: unknown;
}

export interface Status {
  rest_api: ComponentStatus;
  store: ComponentStatus;
  bus: ComponentStatus;
  [key: string]: ComponentStatus;
}

export interface ConfigPatchOperation {
  op: 'replace';
  path: string;
  value: unknown;
}
