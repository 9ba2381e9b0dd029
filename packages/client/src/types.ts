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
  /** ISO 8601 with its offset (`…+00:00`). */
  created_at: string;
  mobile: boolean;
  user_uuid: string;
  tenant_uuid: string;
  /** Persistent metadata of the backend (`{}` from xivo-auth's built-in backends). */
  metadata: Record<string, unknown>;
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
  uuid: string;
  address: string;
  main: boolean;
  confirmed: boolean;
}

/** An address of `users.updateEmails` (`confirmed` only as an administrator). */
export interface UserEmailUpdate {
  address: string;
  main?: boolean;
  confirmed?: boolean | null;
}

/** The filters of `users.list` (each narrows `filtered`, never `total`). */
export interface UserListParams extends ListParams {
  uuid?: string;
  username?: string;
  firstname?: string;
  lastname?: string;
  purpose?: string;
  email_address?: string;
  group_uuid?: string;
  /** Linked to this policy directly. */
  policy_uuid?: string;
  policy_slug?: string;
  /** Granted this policy directly or through a group. */
  has_policy_uuid?: string;
  has_policy_slug?: string;
}

/** `default` (the tenant's method) or `native`. */
export type UserAuthenticationMethod = 'default' | 'native';

export interface User {
  uuid: string;
  tenant_uuid: string;
  username: string | null;
  firstname: string | null;
  lastname: string | null;
  purpose: Purpose | string;
  enabled: boolean;
  /** The main address first. */
  emails: UserEmail[];
  authentication_method: string;
}

export interface UserCreate {
  uuid?: string;
  /** Optional when email_address is given. */
  username?: string | null;
  firstname?: string | null;
  lastname?: string | null;
  password?: string | null;
  email_address?: string | null;
  purpose?: Purpose;
  enabled?: boolean;
  authentication_method?: UserAuthenticationMethod;
}

export interface UserUpdate {
  username?: string | null;
  firstname?: string | null;
  lastname?: string | null;
  /** Replaces the main address (null removes it); absent: the addresses stay. */
  email_address?: string | null;
  purpose?: Purpose;
  enabled?: boolean;
  authentication_method?: UserAuthenticationMethod;
}

export interface TenantAddress {
  line_1: string | null;
  line_2: string | null;
  city: string | null;
  state: string | null;
  country: string | null;
  zip_code: string | null;
}

export type TenantAuthenticationMethod = 'native' | 'ldap' | 'saml';

export interface Tenant {
  uuid: string;
  name: string | null;
  slug: string | null;
  parent_uuid: string | null;
  domain_names: string[];
  /** uuid of the contact user, or null. */
  contact: string | null;
  phone: string | null;
  address: TenantAddress;
  default_authentication_method: string;
}

/** Fields shared by create and update; in an update, an absent one is reset (null, empty, native). */
interface TenantDetailsInput {
  contact?: string | null;
  phone?: string | null;
  address?: Partial<TenantAddress>;
  default_authentication_method?: TenantAuthenticationMethod;
}

export interface TenantCreate extends TenantDetailsInput {
  uuid?: string;
  name?: string | null;
  slug?: string;
  parent_uuid?: string;
  domain_names?: string[];
}

/** PUT replaces the tenant: read it first to change some fields only. */
export interface TenantUpdate extends TenantDetailsInput {
  name?: string | null;
  slug?: string;
  domain_names?: string[];
}

export interface TenantDomain {
  uuid: string;
  name: string;
}

/** Who must enrol a second factor (`mfa.required_for`): users holding an access matching a pattern, or of a purpose. */
export interface MfaRequiredFor {
  acl: string[];
  purposes: ('user' | 'internal' | 'external_api')[];
}

/** A user's second factor (GET /users/{uuid}/mfa): never its secret. */
export interface MfaFactor {
  uuid: string;
  /** `totp`, `webauthn` or `recovery_code`. */
  type: string;
  name: string | null;
  /** Only a confirmed factor is asked at login. */
  confirmed: boolean;
  created_at: string;
  confirmed_at: string | null;
  /** recovery_code: unused codes left. */
  remaining?: number;
}

/** POST /users/me/mfa/totp: the new factor's secret, shown once; confirm it with a code. */
export interface TotpEnrolment {
  uuid: string;
  /** Base32. */
  secret: string;
  /** otpauth://totp/... (SHA-1, 6 digits, 30 s), for authenticator apps. */
  otpauth_uri: string;
  /** The URI as a QR code (SVG). */
  qr_svg: string;
  confirmed: boolean;
}

/** POST /users/me/mfa/recovery_codes: 10 single-use codes, shown once, replacing the previous ones. */
export interface RecoveryCodes {
  uuid: string;
  codes: string[];
}

/** GET/PUT /tenants/{uuid}/mfa: the tenant's own rule, and what its users get (configuration ∪ ancestors' ∪ own). */
export interface TenantMfaPolicy {
  tenant_uuid: string;
  required_for: MfaRequiredFor;
  effective_required_for: { acl: string[]; purposes: string[] };
  /** Null: the tenant never set a rule. */
  updated_at: string | null;
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
