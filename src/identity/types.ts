// The identity domain's records: tenants, users and their addresses, groups,
// policies. All times are epoch milliseconds (integers).
import type { ListQuery } from '../lists.js';

export type Purpose = 'user' | 'internal' | 'external_api';

export interface Tenant {
  uuid: string;
  name: string | null;
  slug: string | null;
  parentUuid: string | null;
  /** Domain names (LDAP logins by domain_name). Read back always set; [] when absent at creation. */
  domainNames?: string[];
  // Details (migration 11). Read back always set; null / empty / 'native' when absent at creation.
  /** A user of the tenant tree to contact about this tenant (null when that user is deleted). */
  contactUuid?: string | null;
  phone?: string | null;
  address?: TenantAddress;
  /** How the tenant's users log in by default; stored, not enforced yet. */
  defaultAuthenticationMethod?: TenantAuthenticationMethod;
}

export interface TenantAddress {
  line1: string | null;
  line2: string | null;
  city: string | null;
  state: string | null;
  country: string | null;
  zipCode: string | null;
}

export const TENANT_AUTHENTICATION_METHODS = ['native', 'ldap', 'saml', 'oidc'] as const;
export type TenantAuthenticationMethod = (typeof TENANT_AUTHENTICATION_METHODS)[number];

export type TenantPatch = Partial<
  Pick<Tenant, 'name' | 'slug' | 'domainNames' | 'contactUuid' | 'phone' | 'address' | 'defaultAuthenticationMethod'>
>;

/** What StoreTx.moveTenant did. */
export type TenantMove =
  | { outcome: 'moved'; tenant: Tenant }
  /** The tenant or the new parent does not exist. */
  | { outcome: 'unknown' }
  /** The new parent is the tenant itself or one of its descendants. */
  | { outcome: 'cycle' }
  /** The subtree would hang deeper than the tree allows. */
  | { outcome: 'too-deep' }
  /**
   * Users or groups of the moved subtree are linked to policies of tenants
   * that would no longer be above them (shared policies they could see only
   * from where they were).
   */
  | { outcome: 'linked'; links: PolicyLinks; policyUuids: string[] };

export interface Group {
  uuid: string;
  tenantUuid: string;
  name: string;
  slug: string;
  /** The tenant's "all users" group: every user of the tenant is a member; not editable over HTTP. */
  systemManaged: boolean;
}

/** Slug of every tenant's "all users" group; slugs chosen over HTTP cannot contain '-'. */
export const ALL_USERS_SLUG = 'all-users';

export type GroupPatch = Partial<Pick<Group, 'name' | 'slug'>>;

export interface GroupFilter {
  tenantUuids: string[];
  /** Only the groups this user belongs to. */
  userUuid?: string;
}

/**
 * How a user's logins are checked: `default` (the tenant's method), `native`
 * (password here), later `ldap`, `saml` … Stored and returned; not enforced yet.
 */
export type AuthenticationMethod = string;

/** One of a user's email addresses (user_emails). Addresses are logins once confirmed. */
export interface UserEmail {
  uuid: string;
  address: string;
  /** Exactly one address of a user that has any is its main one. */
  main: boolean;
  confirmed: boolean;
}

export interface User {
  uuid: string;
  tenantUuid: string;
  username: string | null;
  firstname: string | null;
  lastname: string | null;
  /** The main address of `emails`, or null when there is none. */
  emailAddress: string | null;
  /** Whether the main address is confirmed (false without one). */
  emailConfirmed: boolean;
  /** Every address of the user: the main one first, then by address. */
  emails: UserEmail[];
  authenticationMethod: AuthenticationMethod;
  /** argon2id PHC string, or null for a user without password. */
  passwordHash: string | null;
  purpose: Purpose;
  enabled: boolean;
  createdAt: number;
}

/**
 * Everything a user has is given at creation. Its addresses: `emails` when
 * given (exactly one main; the importer keeps their uuids), else
 * `emailAddress` (main, `emailConfirmed`) or none. `authenticationMethod`
 * defaults to `native` for purposes internal and external_api, `default`
 * for user (wazo-auth's defaults).
 */
export type NewUser = Omit<User, 'emails' | 'authenticationMethod'> & {
  emails?: UserEmail[];
  authenticationMethod?: AuthenticationMethod;
};

/**
 * `emailAddress`: the new main address (a string), or none (null): the
 * previous main address is replaced, the user's other addresses stay (with
 * null, the first of them by address becomes main). An address the user
 * already has is promoted, keeping its uuid. `emailConfirmed`: of the main
 * address; when absent, a kept address keeps its flag and a new one is
 * unconfirmed.
 */
export type UserPatch = Partial<
  Pick<
    User,
    'username' | 'firstname' | 'lastname' | 'emailAddress' | 'emailConfirmed' | 'purpose' | 'enabled' | 'authenticationMethod'
  >
>;

/** An address of a PUT of a user's addresses (replaceUserEmails). */
export interface UserEmailInput {
  address: string;
  main: boolean;
  /** null: an address the user already has keeps its flag, a new one is unconfirmed. */
  confirmed: boolean | null;
}

export interface Policy {
  uuid: string;
  tenantUuid: string;
  name: string;
  slug: string;
  description: string | null;
  acl: string[];
  shared: boolean;
  /** Managed by configuration (default_policies, bootstrap): not editable over HTTP. */
  readOnly: boolean;
}

export type PolicyPatch = Partial<Pick<Policy, 'name' | 'slug' | 'description' | 'acl' | 'shared'>>;

export interface PolicyFilter {
  tenantUuids: string[];
  /** Also the shared policies of these tenants (the ancestors of the scope: shared means visible below). */
  sharedTenantUuids?: string[];
  /** Only the policies linked to this user. */
  userUuid?: string;
  /** Only the policies linked to this group. */
  groupUuid?: string;
}

export interface UserFilter {
  /** Only the members of this group (counted in `total` too: the list of a group's users). */
  groupUuid?: string;
}

/**
 * The filters of GET /users (wazo-auth's): each narrows `filtered` and the
 * items, never `total`. Exact values; username and email_address compared
 * case-insensitively (they are logins), email_address against every address.
 */
export interface UserListFilters {
  uuid?: string;
  username?: string;
  firstname?: string;
  lastname?: string;
  purpose?: string;
  emailAddress?: string;
  /** Members of this group. */
  groupUuid?: string;
  /** Linked to this policy directly. */
  policyUuid?: string;
  /** Linked directly to a policy with this slug (of any tenant). */
  policySlug?: string;
  /** Granted this policy: directly or through one of their groups. */
  hasPolicyUuid?: string;
  /** Granted a policy with this slug: directly or through one of their groups. */
  hasPolicySlug?: string;
}

/** A user listing: the list parameters and the filters of GET /users. */
export interface UserListQuery extends ListQuery {
  filters?: UserListFilters;
}

/** Where a policy is linked (users and groups by uuid, with their tenant). */
export interface PolicyLinks {
  users: { uuid: string; tenantUuid: string }[];
  groups: { uuid: string; tenantUuid: string }[];
}

/**
 * Users whose tokens' policies are weighed together (the no-escalation rule
 * of authentication methods, src/identity/privileges.ts): those named, or
 * those of one tenant whose stored authentication_method is one of `methods`.
 */
export type UserSelection = { userUuids: readonly string[] } | { tenantUuid: string; methods: readonly string[] };

/** What the selected users' tokens are granted: how many users there are, and every policy any of them gets. */
export interface SelectionGrants {
  users: number;
  policies: Policy[];
}
