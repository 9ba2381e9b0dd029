// The storage seam: verbs in domain words. One implementation over Kysely
// serves both SQLite (embedded default) and PostgreSQL (scale-out).
// Reads return null when nothing is found. Driver errors become the typed
// errors of ./errors.ts (StoreConflictError, StoreUnavailableError).
// All times are epoch milliseconds (integers).

import type { OutboxEvent } from '../events/catalog.js';
import type { RevocationHandler, RevocationWatch } from './revocations.js';
import type { ExternalAuthStore } from '../external/types.js';
import type { MfaStore } from '../mfa/types.js';
import type { SsoStore } from '../sso/types.js';
import type { SelfServiceTx } from '../identity/self-service-store.js';
import type { MailOutboxStore, MailTx } from '../mail/types.js';

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
export type TenantAuthenticationMethod = typeof TENANT_AUTHENTICATION_METHODS[number];

export type TenantPatch = Partial<Pick<Tenant,
  'name' | 'slug' | 'domainNames' | 'contactUuid' | 'phone' | 'address' | 'defaultAuthenticationMethod'>>;

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
export type UserPatch = Partial<Pick<User,
  'username' | 'firstname' | 'lastname' | 'emailAddress' | 'emailConfirmed' | 'purpose' | 'enabled' | 'authenticationMethod'>>;

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

export interface SessionFilter {
  tenantUuids: string[];
  userUuid?: string;
}

export interface Session {
  uuid: string;
  tenantUuid: string;
  userUuid: string | null;
  mobile: boolean;
  createdAt: number;
}

/** A stored access token. The token string itself is never stored, only its SHA-256 (hex). */
export interface TokenRecord {
  hash: string;
  sessionUuid: string;
  authId: string;
  userUuid: string | null;
  tenantUuid: string | null;
  pbxUserUuid: string | null;
  xivoUuid: string | null;
  issuedAt: number;
  expiresAt: number;
  acl: string[];
  metadata: Record<string, unknown>;
  remoteAddr: string | null;
  userAgent: string | null;
  refreshTokenUuid: string | null;
}

export interface RefreshToken {
  uuid: string;
  /** SHA-256 hex of the refresh token string. */
  hash: string;
  clientId: string;
  userUuid: string;
  tenantUuid: string;
  backend: string;
  login: string;
  mobile: boolean;
  createdAt: number;
  /** The last refresh-token login with it (its creation before any): the idle timeout counts from it. */
  lastUsedAt: number;
}

/**
 * A refresh-token login's write to its refresh token, in the login's
 * transaction. It applies only while `hash` is still the token's: a
 * concurrent rotation, deletion or replacement wins, and the login fails.
 */
export interface RefreshTokenUse {
  uuid: string;
  /** The hash presented. */
  hash: string;
  /** The new lastUsedAt. */
  at: number;
  /**
   * Rotation: the refresh token's new hash (its uuid, created_at and family
   * stay). The presented hash is kept as retired, with the newest
   * `keepRetired` of the family (older ones are forgotten).
   */
  rotateTo?: { hash: string; keepRetired: number };
}

/** A refresh token rotated away (only its hash is kept). */
export interface RetiredRefreshToken {
  hash: string;
  /** The uuid of the family's refresh token (it keeps its uuid through rotations). */
  familyUuid: string;
  retiredAt: number;
}

/** Refresh tokens past their idle timeout or absolute lifetime (null: that limit is off). */
export interface RefreshTokenExpiry {
  /** Refresh tokens last used at or before this time are expired. */
  lastUsedBefore: number | null;
  /** Refresh tokens created at or before this time are expired. */
  createdBefore: number | null;
}

export interface ListQuery {
  /** Column name in the API's words (e.g. 'username'); validated by the caller. */
  order?: string;
  direction?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
  /** Case-insensitive substring over the searchable columns. */
  search?: string;
}

export interface ListResult<T> {
  total: number;
  filtered: number;
  items: T[];
}

export interface RefreshTokenFilter extends ListQuery {
  userUuid?: string;
  tenantUuids?: string[];
  /** Exact client_id. */
  clientId?: string;
  mobile?: boolean;
}

/** What removing tokens left behind: sessions that became empty and were deleted. */
export interface Removal {
  tokenHashes: string[];
  sessions: Session[];
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
export type UserSelection =
  | { userUuids: readonly string[] }
  | { tenantUuid: string; methods: readonly string[] };

/** What the selected users' tokens are granted: how many users there are, and every policy any of them gets. */
export interface SelectionGrants {
  users: number;
  policies: Policy[];
}

/** What revoking a user removed. */
export interface UserRevocation extends Removal {
  refreshTokens: RefreshToken[];
}

/** A batch of the reaper. */
export interface ExpiredRemoval extends Removal {
  /** Latest expiresAt among the tokens deleted (absent when none was, or when the engine does not say). */
  lastExpiresAt?: number;
}

/** The LDAP directory of a tenant (issue 6): where its users' passwords are checked. */
export interface LdapConfig {
  tenantUuid: string;
  host: string;
  port: number;
  protocolVersion: number;
  /** 'ldaps' (TLS from the start), 'tls' (StartTLS), or null (plain). */
  protocolSecurity: 'ldaps' | 'tls' | null;
  /** Service account searching for users; null: the user's DN is built from the login attribute. */
  bindDn: string | null;
  bindPassword: string | null;
  userBaseDn: string;
  userLoginAttribute: string;
  userEmailAttribute: string;
  /** Search filter template ({user_login_attribute}, {username}); null: (attribute=login). */
  searchFilters: string | null;
}

/** The writes that follow a successful login, committed with its token (StoreTx.settleLogin). */
export interface LoginSettlement {
  /** login_throttle counters to delete. */
  clearKeys: string[];
  /** Trust mark to set (login_throttle row), or null. */
  mark: { key: string; at: number } | null;
  /** Audit record to insert (with its event when events are recorded), or null. */
  audit: AuditRecord | null;
}

/** Self-service verbs (issue 21: emailed tokens, mail outbox) are in ../store/self-service-verbs.ts. */
export interface StoreTx extends SelfServiceTx, MailTx {
  // tenants
  /**
   * Domain names are stored lower-cased, without repeats; StoreConflictError
   * (field domain_names) when another tenant holds one of them.
   */
  createTenant(t: Tenant): Promise<Tenant>;
  getTenant(uuid: string): Promise<Tenant | null>;
  /** The top tenant (no parent), or null before the first start. */
  getTopTenant(): Promise<Tenant | null>;
  /** The tenant and all its descendants (uuids, the root first); [] when unknown. */
  listTenantSubtree(rootUuid: string): Promise<string[]>;
  listTenants(tenantUuids: string[], q: ListQuery): Promise<ListResult<Tenant>>;
  /**
   * Throws StoreConflictError on a duplicate slug, or a domain name another
   * tenant holds (field domain_names). Null when the tenant does not exist.
   */
  updateTenant(uuid: string, patch: TenantPatch): Promise<Tenant | null>;
  /**
   * Re-parents a tenant (with its subtree), serialised with every other move
   * so that concurrent moves cannot make a cycle; refused (nothing written)
   * as TenantMove says. Writes auth_tenant_updated.
   */
  moveTenant(uuid: string, parentUuid: string): Promise<TenantMove>;
  hasChildTenants(uuid: string): Promise<boolean>;
  /**
   * Deletes the tenant with its users, groups and policies, and the sessions
   * and tokens of its users and of sessions in it. Null when unknown.
   * Child tenants must be gone first (StoreConflictError otherwise).
   */
  deleteTenant(uuid: string): Promise<Removal | null>;

  // users
  /**
   * Throws StoreConflictError when uuid, username or email is taken (case-insensitive),
   * or when the username is another user's email or the email another user's
   * username (field username / email_address; across all tenants).
   * The user joins its tenant's "all users" group when there is one.
   */
  createUser(u: NewUser): Promise<User>;
  getUser(uuid: string): Promise<User | null>;
  /**
   * Case-insensitive match on username, or on a confirmed email address.
   * Null when the login is one user's username and another's email (a pair
   * stored before writes refused it): such a login names nobody.
   */
  findUserByLogin(login: string): Promise<User | null>;
  /** `q.filters` narrow `filtered` and the items; `f` narrows `total` too. */
  listUsers(tenantUuids: string[], q: UserListQuery, f?: UserFilter): Promise<ListResult<User>>;
  /**
   * Throws StoreConflictError on a duplicate username/email, or on a changed
   * username/email equal to another user's email/username (as createUser).
   * Null when the user does not exist.
   */
  updateUser(uuid: string, patch: UserPatch): Promise<User | null>;
  /**
   * Replaces every address of the user (exactly one main when any, no
   * address twice case-insensitively: the caller checks). An address the user
   * already had (case-insensitively) keeps its uuid, and its confirmed flag
   * when `confirmed` is null. StoreConflictError (field email_address) when
   * another user holds an address, or has it as username. Returns the user's
   * addresses in the order given; null when the user does not exist.
   */
  replaceUserEmails(uuid: string, emails: UserEmailInput[]): Promise<UserEmail[] | null>;
  setUserPassword(uuid: string, passwordHash: string | null): Promise<boolean>;
  /**
   * Sets a new hash only if the stored one is still `oldHash` (a concurrent
   * password change wins); in a transaction, it commits with it (the
   * re-hash of a login commits with the login's token).
   */
  replacePasswordHash(userUuid: string, oldHash: string, newHash: string): Promise<boolean>;
  /** Deletes the user with its sessions, tokens, refresh tokens and policy links. */
  deleteUser(uuid: string): Promise<Removal | null>;

  // policies
  /** Insert or update by (tenantUuid, slug); returns the stored policy. */
  upsertPolicy(p: Policy): Promise<Policy>;
  getPolicyBySlug(tenantUuid: string, slug: string): Promise<Policy | null>;
  addUserPolicy(userUuid: string, policyUuid: string): Promise<void>;
  listUserPolicies(userUuid: string): Promise<Policy[]>;
  /** Plain insert; StoreConflictError on a duplicate uuid or (tenant, slug). */
  createPolicy(p: Policy): Promise<Policy>;
  getPolicy(uuid: string): Promise<Policy | null>;
  listPolicies(f: PolicyFilter, q: ListQuery): Promise<ListResult<Policy>>;
  updatePolicy(uuid: string, patch: PolicyPatch): Promise<Policy | null>;
  /** Deletes the policy and its user and group links. */
  deletePolicy(uuid: string): Promise<boolean>;
  removeUserPolicy(userUuid: string, policyUuid: string): Promise<boolean>;
  /** The policies a token of this user gets: its own and those of its groups (one query). */
  listGrantedPolicies(userUuid: string): Promise<Policy[]>;
  /**
   * listGrantedPolicies for many users at once: the distinct policies granted
   * (directly or through a group) to any selected user, and how many users
   * the selection holds (two queries, whatever the number of users).
   */
  listPoliciesGrantedToUsers(who: UserSelection): Promise<SelectionGrants>;
  /** Every policy linked to the group, whatever the tenant asking could see (the no-escalation rule weighs them all). */
  listGroupPolicies(groupUuid: string): Promise<Policy[]>;
  /** The users and groups linked to the policy whose tenant is not the policy's own (they see it only while it is shared). */
  listForeignPolicyLinks(policyUuid: string): Promise<PolicyLinks>;

  // groups
  /** StoreConflictError on a duplicate uuid, (tenant, slug), or a second "all users" group. */
  createGroup(g: Group): Promise<Group>;
  getGroup(uuid: string): Promise<Group | null>;
  getAllUsersGroup(tenantUuid: string): Promise<Group | null>;
  listGroups(f: GroupFilter, q: ListQuery): Promise<ListResult<Group>>;
  updateGroup(uuid: string, patch: GroupPatch): Promise<Group | null>;
  /** Deletes the group and its member and policy links. */
  deleteGroup(uuid: string): Promise<boolean>;
  /** Idempotent; StoreConflictError for an unknown group or user. */
  addGroupUser(groupUuid: string, userUuid: string): Promise<void>;
  removeGroupUser(groupUuid: string, userUuid: string): Promise<boolean>;
  /** Idempotent; StoreConflictError for an unknown group or policy. */
  addGroupPolicy(groupUuid: string, policyUuid: string): Promise<void>;
  removeGroupPolicy(groupUuid: string, policyUuid: string): Promise<boolean>;
  /**
   * Gives every tenant lacking one an "all users" group (uuids from newUuid,
   * names from nameOf), and makes every user a member of its tenant's.
   * Returns the groups created.
   */
  ensureAllUsersGroups(newUuid: () => string, nameOf: (tenantUuid: string) => string): Promise<Group[]>;

  // sessions and tokens
  createSession(s: Session): Promise<void>;
  getSession(uuid: string): Promise<Session | null>;
  listSessions(f: SessionFilter, q: ListQuery): Promise<ListResult<Session>>;
  /** Deletes the session and its tokens. Null when unknown. */
  deleteSession(uuid: string): Promise<Removal | null>;
  /** A successful login's other writes, in the transaction that stores its token: one commit per login. */
  settleLogin(s: LoginSettlement): Promise<void>;
  insertToken(t: TokenRecord): Promise<void>;
  /**
   * Sessions of the user holding at least one token that expires after `now`.
   * Counting stops at `atMost` (the configured cap): a login never pays for
   * more than the cap, however many sessions the user holds.
   */
  countLiveSessions(userUuid: string, now: number, atMost?: number): Promise<number>;
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
  /** Deletes one token; its session too when it was the session's last token. Null when unknown. */
  deleteToken(hash: string): Promise<Removal | null>;
  /** Deletes every session and token of the user. */
  /**
   * Every session and token of a user; with `refreshTokens`, its refresh
   * tokens too (password change, disable: nothing taken before may mint more).
   */
  deleteUserSessions(userUuid: string, options?: { refreshTokens?: boolean }): Promise<UserRevocation>;
  /** Deletes the access tokens issued from a refresh token, and the sessions left empty. */
  deleteTokensOfRefreshToken(refreshTokenUuid: string): Promise<Removal>;
  /** Deletes a refresh token by its hash; returns it, or null when unknown. */
  deleteRefreshTokenByHash(hash: string): Promise<RefreshToken | null>;
  /**
   * Deletes up to `limit` tokens with expiresAt <= now, oldest first, and the
   * sessions left empty. `from` (the `lastExpiresAt` of the previous batch of
   * a pass) skips tokens expiring before it: on PostgreSQL the rows a pass
   * already deleted stay in the expiry index as dead entries until VACUUM,
   * and a batch that starts its index scan at the lowest expiry reads all of
   * them again (a 1,000,000-row purge slowed from ~13,000 to ~400 rows/s).
   * A pass starts without `from`, so nothing skipped is missed for long.
   */
  deleteExpired(now: number, limit: number, from?: number): Promise<ExpiredRemoval>;

  // refresh tokens
  /** Replaces any refresh token of (userUuid, clientId); returns the replaced one. */
  replaceRefreshToken(rt: RefreshToken): Promise<RefreshToken | null>;
  /**
   * A mobile offline login supersedes the user's mobile refresh tokens:
   * deletes every mobile refresh token of the user, with the access tokens
   * issued from them and the sessions left empty (their events written, the
   * revocations notified). Serialised per user (the user row is locked where
   * the engine can), so two concurrent mobile logins leave one mobile
   * refresh token, not two.
   */
  deleteMobileRefreshTokens(userUuid: string): Promise<UserRevocation>;
  findRefreshTokenByHash(hash: string): Promise<RefreshToken | null>;
  listRefreshTokens(f: RefreshTokenFilter): Promise<ListResult<RefreshToken>>;
  deleteRefreshToken(userUuid: string, clientId: string): Promise<RefreshToken | null>;
  /**
   * Records a refresh-token login's use (RefreshTokenUse): false, changing
   * nothing, when the token no longer has `use.hash`.
   */
  useRefreshToken(use: RefreshTokenUse): Promise<boolean>;
  /** The retired refresh token of this hash (rotated away, its family still alive), or null. */
  findRetiredRefreshToken(hash: string): Promise<RetiredRefreshToken | null>;
  /**
   * Reuse of a retired refresh token: deletes the family's refresh token, its
   * retired hashes, every access token issued from the family and the
   * sessions left empty (their events written, the revocations notified).
   */
  revokeRefreshTokenFamily(familyUuid: string): Promise<UserRevocation>;
  /**
   * Deletes up to `limit` expired refresh tokens (with their retired hashes),
   * writing `auth_refresh_token_deleted` for each; returns them. The access
   * tokens issued from them are left to their own expiry. PostgreSQL: two
   * reapers take disjoint batches (SKIP LOCKED).
   */
  deleteExpiredRefreshTokens(expiry: RefreshTokenExpiry, limit: number): Promise<RefreshToken[]>;

  // LDAP configuration (issue 6)
  getLdapConfig(tenantUuid: string): Promise<LdapConfig | null>;
  /** Creates or replaces the tenant's configuration; StoreConflictError when the tenant does not exist. */
  putLdapConfig(c: LdapConfig): Promise<LdapConfig>;
  deleteLdapConfig(tenantUuid: string): Promise<boolean>;
  /** The tenant holding this domain name (case-insensitive; one at most), or null. */
  findTenantByDomainName(domainName: string): Promise<Tenant | null>;
  findTenantBySlug(slug: string): Promise<Tenant | null>;
  /**
   * The user of the tenant with an email address (any of its addresses,
   * case-insensitive, confirmed or not) `email`, else whose username is
   * `username`; null when none.
   */
  findTenantUser(tenantUuid: string, by: { email: string | null; username: string | null }): Promise<User | null>;
}

// security (issue 7): login-throttle counters, audit records, re-hashing.
// Implemented in ./security-verbs.ts, spread into the store by kysely-store.ts.

/** How one login-throttle counter backs off. */
export interface LoginThrottleRule {
  /** Failures allowed before a delay applies. */
  threshold: number;
  /** Delay (ms) after failure threshold, threshold+1, ...; the last one is the cap. */
  delaysMs: number[];
  /** A counter last touched at or before this time starts again from zero. */
  staleBefore: number;
}

/** A counter after one attempt (or as stored). */
export interface LoginAttempt {
  /** False when the attempt arrived before nextAttemptAt: refused, not counted as a failure. */
  allowed: boolean;
  /** Consecutive attempts let through (each counts as a failure until a success clears it). */
  failures: number;
  /** Every attempt, refused ones included. */
  attempts: number;
  /** No attempt is let through before this time (0: none pending). */
  nextAttemptAt: number;
}

/** A login-throttle counter that is backing off (GET /security/throttles). */
export interface BlockedLogin extends Omit<LoginAttempt, 'allowed'> {
  /** The counter's key: `p:` (login, address) or `a:` (login, account-wide), then a hash. */
  key: string;
  updatedAt: number;
}

export type AuditOutcome = 'success' | 'failure' | 'denied' | 'throttled' | 'error';

/** One audit record; never holds a secret (password, token, Authorization). */
export interface AuditRecord {
  uuid: string;
  at: number;
  /** What: e.g. `login`, `token.revoke`, `users.create`, `users.password.change`. */
  action: string;
  outcome: AuditOutcome | string;
  tenantUuid: string | null;
  /** Who: the acting user (the token's user, or the user who logged in). */
  actorUuid: string | null;
  actorAuthId: string | null;
  /** The login name given (login attempts only). */
  login: string | null;
  /** From where. */
  remoteAddr: string | null;
  targetType: string | null;
  targetId: string | null;
  statusCode: number | null;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  tenantUuids: string[];
  /** Also records attached to no tenant (failed logins of unknown users): top tenant only. */
  includeUntenanted: boolean;
  /** Only records at or after this instant (ms since the epoch); narrows `filtered`, never `total`. */
  from?: number;
  /** Only records before this instant (ms since the epoch, exclusive); narrows `filtered`, never `total`. */
  until?: number;
  /** Only this action (exact: `login`, `users.create`, ...); narrows `filtered`. */
  action?: string;
  /** Only this outcome (exact: `success`, `failure`, ...); narrows `filtered`. */
  outcome?: string;
  /**
   * Only records of this actor: its user uuid or auth id (a service
   * account's name) among `ids`, or the login given among `logins`
   * (lower-cased, compared case-insensitively); narrows `filtered`.
   */
  actor?: { ids: string[]; logins: string[] };
}

export interface SecurityStoreVerbs {
  /**
   * Counts one login attempt on `key` atomically (INSERT ... ON CONFLICT DO
   * UPDATE ... RETURNING): let through and counted as a failure, or refused
   * while the back-off runs. Concurrent calls never lose a count.
   */
  reserveLoginAttempt(key: string, now: number, rule: LoginThrottleRule): Promise<LoginAttempt>;
  /** Gives back one counted failure (the attempt was refused elsewhere, or never checked a password). */
  releaseLoginAttempt(key: string): Promise<void>;
  clearLoginFailures(keys: string[]): Promise<void>;
  getLoginAttempts(key: string): Promise<LoginAttempt | null>;
  /** A dated mark (e.g. "this address logged in successfully"), refreshed on each call. */
  touchLoginMark(key: string, now: number): Promise<void>;
  hasLoginMark(key: string, since: number): Promise<boolean>;
  /** Deletes counters and marks whose key starts with `prefix`, untouched since `before`. */
  purgeLoginThrottle(prefix: string, before: number): Promise<number>;
  /** Counters backing off at `now` (next_attempt_at later than now), soonest unblocked last; at most `limit` (issue 25). */
  listBlockedLogins(now: number, limit: number): Promise<BlockedLogin[]>;
  /** Deletes one counter (an administrator's unlock); false when there was none. */
  deleteLoginThrottle(key: string): Promise<boolean>;
  insertAuditRecord(r: AuditRecord): Promise<void>;
  /** Newest first by default (order `at`, direction desc). */
  listAuditRecords(f: AuditFilter, q: ListQuery): Promise<ListResult<AuditRecord>>;
  /** Deletes up to `limit` records older than `before`; returns how many. */
  purgeAuditRecords(before: number, limit: number): Promise<number>;
  /** Sets a new hash only if the stored one is still `oldHash` (a concurrent password change wins). */
  replacePasswordHash(userUuid: string, oldHash: string, newHash: string): Promise<boolean>;
}

/** Migrations applied to the database against those of this build. */
export interface SchemaVersion {
  /** This build's last migration. */
  expected: number;
  /** The database's highest applied migration; null when never migrated. */
  current: number | null;
  /** This build's migrations not applied (run `xivo-auth migrate`). */
  missing: number[];
  /** Applied migrations this build does not know (a newer release migrated the database). */
  unknown: number[];
}

export interface Store extends StoreTx, SecurityStoreVerbs, ExternalAuthStore, MfaStore, MailOutboxStore, SsoStore {
  readonly engine: 'sqlite' | 'postgresql';
  /** Runs fn in one transaction; rolled back if it throws. */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Applies pending migrations under a lock safe for concurrent instances. */
  migrate(): Promise<void>;
  /**
   * Revocations from every instance (deleteToken, deleteUserSessions,
   * deleteUser notify them when their transaction commits). Expired-token
   * deletions are not notified: a cached record is checked against the clock.
   */
  watchRevocations(handler: RevocationHandler): RevocationWatch;
  /** Resolves when the database answers; throws StoreUnavailableError otherwise. */
  ping(): Promise<void>;
  /** The database's schema version against this build's (readiness); StoreUnavailableError when unreachable. */
  schemaVersion(): Promise<SchemaVersion>;

  // events outbox (issue 4). With events recorded (openStore's recordEvents),
  // every verb that creates or deletes a session, a refresh token or a tenant
  // writes its event (../events/catalog.ts) in the same transaction.
  /** Called after a commit of this instance wrote events (wakes the relay). */
  onEventsCommitted(listener: () => void): void;
  /**
   * The relay's step: the oldest `limit` events go to `publish`, which
   * returns how many of them (a prefix) the broker confirmed; those are
   * deleted. PostgreSQL: one instance relays at a time (an advisory lock
   * held for the step), so events leave in commit order; null when another
   * instance holds it. Returns the number relayed.
   */
  relayEvents(limit: number, publish: (events: OutboxEvent[]) => Promise<number>): Promise<number | null>;
  /** Events waiting in the outbox, and the creation time of the oldest. */
  outboxBacklog(): Promise<{ pending: number; oldestCreatedAt: number | null }>;
  /**
   * Writes `auth_session_expire_soon` for the sessions whose tokens expire
   * by `until`, continuing where the last scan (of any instance) stopped;
   * at most `limit` tokens per call. Returns how many tokens were seen.
   */
  noteExpiringSoon(now: number, until: number, limit: number): Promise<number>;
  close(): Promise<void>;
}
