// What the identity domain needs of the storage: tenants, users, groups,
// policies. Implemented over Kysely in src/store/ (both engines); part of the
// store's transaction (StoreTx). Below the verbs, what each identity service
// uses of them (and of the token domain's sessions and tokens, and of the
// mail outbox), with the transactions it runs (../storage.ts).
import type {
  Group,
  GroupFilter,
  GroupPatch,
  NewUser,
  Policy,
  PolicyFilter,
  PolicyLinks,
  PolicyPatch,
  Purpose,
  SelectionGrants,
  Tenant,
  TenantMove,
  TenantPatch,
  User,
  UserEmail,
  UserEmailInput,
  UserFilter,
  UserListQuery,
  UserPatch,
  UserSelection,
} from './types.js';
import type { ListQuery, ListResult } from '../lists.js';
import type { Removal } from '../tokens/types.js';
import type { TokenStoreTx } from '../tokens/store.js';
import type { Transactional } from '../storage.js';
import type { EmailedTokenTx, SelfServiceTx } from './self-service-store.js';

export interface IdentityStoreTx {
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
  /** findUserByLogin, with what a password login checks next read in the same statement. */
  findLoginUser(login: string, liveSessions?: LiveSessionsAsked): Promise<LoginUser | null>;
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

  // lookups by login context (LDAP, single sign-on, self-service)
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

/** The identity verbs, and transactions of them (tenants, provisioning). */
export interface IdentityStore extends IdentityStoreTx, Transactional<IdentityStoreTx> {}

/** A transaction of the user service: it may mail the confirmation of the addresses it stores (./self-service.ts). */
export interface UserTx extends IdentityStoreTx, EmailedTokenTx {}

/** What the user service uses (./users.ts). */
export interface UserStore extends IdentityStoreTx, Transactional<UserTx> {}

/** The sessions administrators see (./sessions.ts): the token domain's. */
export type SessionAdminStore = Pick<TokenStoreTx, 'listSessions' | 'getSession' | 'deleteSession'>;

/** Tenant ancestry (./tenant-tree.ts). */
export type TenantTreeStore = Pick<IdentityStoreTx, 'getTenant' | 'listTenantSubtree'>;

/** The policies a token's ACL comes from (./acl-builder.ts). */
export type PolicyGrantStore = Pick<IdentityStoreTx, 'listGrantedPolicies' | 'listPoliciesGrantedToUsers' | 'getPolicyBySlug'>;

/**
 * A transaction of self-service (./self-service.ts): a registration's
 * tenant and user, an emailed token used up, a password reset ending the
 * user's sessions, the mails.
 */
export interface SelfServiceStoreTx
  extends IdentityStoreTx, SelfServiceTx, EmailedTokenTx, Pick<TokenStoreTx, 'deleteToken' | 'deleteUserSessions'> {}

/** What self-service uses outside its transactions: finding the account a reset names. */
export interface SelfServiceStore
  extends
    Pick<IdentityStoreTx, 'findUserByLogin' | 'getUser'>,
    Pick<SelfServiceTx, 'findUserUuidByUsername' | 'findUserUuidByConfirmedEmail'>,
    Transactional<SelfServiceStoreTx> {}

/** The user a login names, with its tenant's default_authentication_method (null: the tenant is gone). */
/** The session cap's count, asked of the read of a login's user (src/backends/types.ts LoginContext.liveSessions). */
export interface LiveSessionsAsked {
  now: number;
  atMost: number;
  purposes: readonly Purpose[];
}

export interface LoginUser {
  user: User;
  tenantAuthenticationMethod: string | null;
  /** With `liveSessions` asked, for a user of one of its purposes: its sessions with a token live at `now`, counted up to `atMost`. */
  liveSessions?: number;
}
