// Local users: create, read, update, delete, password change. Disabling,
// deleting or changing the password of a user revokes all its sessions.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { ConflictError, InvalidDataError, NotFoundError, WrongPasswordError } from '../errors.js';
import type { PasswordHasher } from '../passwords/hasher.js';
import { StoreConflictError } from '../storage-errors.js';
import type { AuthenticationMethod, Purpose, User, UserEmail, UserEmailInput, UserListQuery, UserPatch } from './types.js';
import type { ListResult } from '../lists.js';
import type { UserStore } from './store.js';
import type { EmailedTokenTx } from './self-service-store.js';
import type { TokenRecord } from '../tokens/types.js';
import type { TokenRevocations } from './token-revocations.js';
import { AclBuilder } from './acl-builder.js';
import { assertMayActAsUsers, assertMayGrant, type GrantedAcls } from './privileges.js';
import type { TenantTree } from './tenant-tree.js';
import type { AuditRecorder } from '../security/audit.js';
import type { PasswordPolicy } from '../security/password-policy.js';

export interface UserInput {
  uuid?: string;
  username: string | null;
  firstname: string | null;
  lastname: string | null;
  /**
   * The main email address (null: none). On update, undefined leaves the
   * addresses as they are; a string replaces the main address, null removes
   * it (another address of the user, if any, becomes main).
   */
  emailAddress: string | null | undefined;
  purpose: Purpose;
  enabled: boolean;
  authenticationMethod: AuthenticationMethod;
}

/** wazo-auth's default method: `native` for services (internal, external_api), `default` for people. */
export function defaultAuthenticationMethod(purpose: Purpose): AuthenticationMethod {
  return purpose === 'user' ? 'default' : 'native';
}

/** A user needs a login: a username, or an email address. */
function assertHasLogin(username: string | null, hasEmail: boolean): void {
  if (username === null && !hasEmail) {
    const message = 'A username is required without an email address';
    throw new InvalidDataError(message, { username: { constraint_id: 'required', message } });
  }
}

/** Who replaces a user's addresses: an administrator may confirm them, the user may not. */
export type EmailsEditor = 'admin' | 'user';

/**
 * Mails the confirmation of addresses a user set for itself, in the
 * transaction that stores them (issue 21, src/identity/self-service.ts);
 * `committed` runs after the commit with what `inTransaction` returned.
 */
export interface EmailConfirmations {
  inTransaction(tx: EmailedTokenTx, user: User, emails: UserEmail[]): Promise<number>;
  committed(count: number): void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class UserService {
  /** Set by the composition root when self-service mails are on (issue 21). */
  private confirmations: EmailConfirmations | null = null;

  constructor(
    private readonly store: UserStore,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenRevocations,
    private readonly tenants: TenantTree,
    private readonly clock: Clock,
    /** Rules for new passwords (issue 7); none when absent. */
    private readonly passwordPolicy: PasswordPolicy | null = null,
    /** Where revocations of refresh tokens are recorded; none when absent. */
    private readonly audit: AuditRecorder | null = null,
    /**
     * What a user's tokens get, weighed before its authentication method
     * changes (the composition root passes the token service's AclBuilder,
     * which knows default_user_policy).
     */
    private readonly grantedAcls: GrantedAcls = new AclBuilder(store, null),
  ) {}

  /** Where the addresses a user sets for itself get their confirmation mail. */
  confirmEmailsWith(confirmations: EmailConfirmations | null): void {
    this.confirmations = confirmations;
  }

  /**
   * `caller`: whose request it is (null: the service itself, an import). The
   * new user joins its tenant's "all users" group, and whoever creates it
   * sets its password (or its address, for a reset): it owns an account
   * with that group's policies. So the caller must be able to grant every
   * access of those policies (no escalation, docs/isolation.md); 401
   * otherwise, nothing created. default_user_policy, which every user gets
   * by the operator's decision, is not weighed.
   */
  async create(tenantUuid: string, input: UserInput, password: string | null, caller: TokenRecord | null = null): Promise<User> {
    const emailAddress = input.emailAddress ?? null;
    assertHasLogin(input.username, emailAddress !== null);
    if (password !== null) this.passwordPolicy?.assertAcceptable(password);
    if (caller !== null) await this.assertMayJoinAllUsers(caller, tenantUuid);
    const passwordHash = password === null ? null : await this.hash(password);
    return this.conflicts(() =>
      this.store.createUser({
        uuid: input.uuid ?? randomUUID(),
        tenantUuid,
        username: input.username,
        firstname: input.firstname,
        lastname: input.lastname,
        emailAddress,
        // An address given by an administrator is trusted as confirmed.
        emailConfirmed: emailAddress !== null,
        passwordHash,
        purpose: input.purpose,
        enabled: input.enabled,
        authenticationMethod: input.authenticationMethod,
        createdAt: this.clock.now(),
      }),
    );
  }

  private async assertMayJoinAllUsers(caller: TokenRecord, tenantUuid: string): Promise<void> {
    const group = await this.store.getAllUsersGroup(tenantUuid);
    if (group === null) return;
    assertMayGrant(
      caller,
      (await this.store.listGroupPolicies(group.uuid)).flatMap((p) => p.acl),
    );
  }

  /** `scopeRoot`: the caller's tenant; users outside its subtree do not exist for it. */
  async get(uuid: string, scopeRoot: string | null): Promise<User> {
    const user = await this.store.getUser(uuid);
    if (user === null || (scopeRoot !== null && !(await this.tenants.isSameOrDescendant(scopeRoot, user.tenantUuid)))) {
      throw new NotFoundError('unknown-user', 'users', uuid);
    }
    return user;
  }

  /**
   * The user an audit filter names (GET /audit?actor=): by uuid or by a
   * login of it, in the caller's subtree; its uuid and every login it may
   * have given (username, addresses), lower-cased. Null: no such user there
   * (the filter then matches the text as given).
   */
  async auditActor(actor: string, scopeRoot: string): Promise<{ uuid: string; logins: string[] } | null> {
    const user = UUID.test(actor) ? await this.store.getUser(actor.toLowerCase()) : await this.store.findUserByLogin(actor);
    if (user === null || !(await this.tenants.isSameOrDescendant(scopeRoot, user.tenantUuid))) return null;
    const logins = [user.username, ...user.emails.map((e) => e.address)]
      .filter((l): l is string => l !== null)
      .map((l) => l.toLowerCase());
    return { uuid: user.uuid, logins };
  }

  /**
   * POST /users/password/reset with a token of the caller's own (not an
   * emailed reset token): an administrator sets another user's password,
   * which makes the administrator able to log in as that user. So the user
   * must be in the caller's tenant subtree (else 404, as every user route)
   * and the caller must hold every access the user's tokens get (the
   * no-escalation rule, docs/isolation.md).
   */
  async assertMayResetPassword(caller: TokenRecord, uuid: string): Promise<void> {
    await this.get(uuid, caller.tenantUuid ?? '');
    await this.assertMayActAs(caller, uuid);
  }

  /**
   * Weakening how another user's account is guarded (setting its password,
   * removing its second factor) is weighed as acting as that user: the
   * caller must hold every access the user's tokens get (401 otherwise).
   */
  async assertMayActAs(caller: TokenRecord, uuid: string): Promise<void> {
    await assertMayActAsUsers(caller, this.grantedAcls, { userUuids: [uuid] });
  }

  list(tenantUuids: string[], q: UserListQuery): Promise<ListResult<User>> {
    return this.store.listUsers(tenantUuids, q);
  }

  /**
   * The users of `scopeRoot`, or of its whole subtree with `recurse` (API.md §4).
   * `total` counts them all; `filtered` those matching `search` and `filters`.
   */
  async listIn(scopeRoot: string, q: UserListQuery & { recurse?: boolean }): Promise<ListResult<User>> {
    return this.store.listUsers(q.recurse ? await this.tenants.subtree(scopeRoot) : [scopeRoot], q);
  }

  /**
   * `editor`: who sets a new main address (`email_address`). One an
   * administrator sets is trusted as confirmed; one a user sets for itself
   * (a caller without `auth.admin.users.{uuid}.emails.update`) is
   * unconfirmed, and its confirmation is mailed.
   *
   * `caller`: whose request it is (null: the service itself). A change of
   * `authenticationMethod` (to or from anything) decides who may log in as
   * the user, so the caller must grant every access of the user's tokens
   * (no escalation, docs/isolation.md); 401 otherwise, nothing changed.
   */
  async update(
    uuid: string,
    scopeRoot: string | null,
    input: Omit<UserInput, 'uuid'>,
    editor: EmailsEditor = 'admin',
    caller: TokenRecord | null = null,
  ): Promise<User> {
    const before = await this.get(uuid, scopeRoot);
    if (caller !== null && input.authenticationMethod !== before.authenticationMethod) {
      await assertMayActAsUsers(caller, this.grantedAcls, { userUuids: [uuid] });
    }
    const email = input.emailAddress;
    const keepsMain = email !== undefined && email !== null && email.toLowerCase() === before.emailAddress?.toLowerCase();
    const remaining =
      email === undefined ? before.emails.length : email === null ? before.emails.filter((e) => !e.main).length : 1;
    assertHasLogin(input.username, remaining > 0);
    const newMain = email !== undefined && email !== null && !keepsMain;
    const patch: UserPatch = {
      username: input.username,
      firstname: input.firstname,
      lastname: input.lastname,
      ...(email === undefined
        ? {}
        : {
            emailAddress: email,
            // The main address kept keeps its flag; one given by an administrator
            // is trusted as confirmed; one the user gives itself is not (an
            // address it already had, promoted to main, keeps its flag).
            ...(!newMain ? {} : editor === 'admin' ? { emailConfirmed: true } : {}),
          }),
      purpose: input.purpose,
      enabled: input.enabled,
      authenticationMethod: input.authenticationMethod,
    };
    const confirmations = this.confirmations;
    let mailed = 0;
    const updated = await this.conflicts(() =>
      editor === 'user' && newMain && confirmations !== null
        ? this.store.transaction(async (tx) => {
            const u = await tx.updateUser(uuid, patch);
            const main = u?.emails.find((e) => e.main && !e.confirmed);
            if (u !== null && main !== undefined) mailed = await confirmations.inTransaction(tx, u, [main]);
            return u;
          })
        : this.store.updateUser(uuid, patch),
    );
    confirmations?.committed(mailed);
    if (updated === null) throw new NotFoundError('unknown-user', 'users', uuid);
    if (before.enabled && !updated.enabled) await this.revokeAll(updated, 'disabled');
    return updated;
  }

  /**
   * Replaces every address of the user (PUT /users/{u}/emails, PUT
   * /admin/users/{u}/emails): exactly one main when any, each address once
   * (case-insensitively), unique across the platform (409). An address the
   * user keeps keeps its uuid; its confirmed flag too, unless an
   * administrator sets it. A user sets its new addresses unconfirmed (they
   * are logins once confirmed).
   */
  async replaceEmails(
    uuid: string,
    scopeRoot: string | null,
    emails: { address: string; main: boolean; confirmed?: boolean | null }[],
    editor: EmailsEditor,
  ): Promise<UserEmail[]> {
    const mains = emails.filter((e) => e.main).length;
    if (emails.length > 0 && mains !== 1) {
      const message = mains === 0 ? 'At least one address should be main' : 'Only one address should be main';
      throw new InvalidDataError(message, { emails: { constraint_id: 'main', message } });
    }
    const seen = new Set<string>();
    for (const e of emails) {
      const key = e.address.toLowerCase();
      if (seen.has(key)) {
        const message = 'The same address can only be used once';
        throw new InvalidDataError(message, { emails: { constraint_id: 'unique', message } });
      }
      seen.add(key);
    }
    const before = await this.get(uuid, scopeRoot);
    const input: UserEmailInput[] = emails.map((e) => ({
      address: e.address,
      main: e.main,
      confirmed: editor === 'admin' ? (e.confirmed ?? null) : null,
    }));
    const confirmations = this.confirmations;
    if (editor === 'admin' || confirmations === null) {
      const replaced = await this.conflicts(() => this.store.replaceUserEmails(uuid, input));
      if (replaced === null) throw new NotFoundError('unknown-user', 'users', uuid);
      return replaced;
    }
    // The addresses the user adds get their confirmation mail, in the same commit.
    const had = new Set(before.emails.map((e) => e.address.toLowerCase()));
    let mailed = 0;
    const replaced = await this.conflicts(() =>
      this.store.transaction(async (tx) => {
        const stored = await tx.replaceUserEmails(uuid, input);
        if (stored !== null) {
          mailed = await confirmations.inTransaction(
            tx,
            before,
            stored.filter((e) => !e.confirmed && !had.has(e.address.toLowerCase())),
          );
        }
        return stored;
      }),
    );
    confirmations.committed(mailed);
    if (replaced === null) throw new NotFoundError('unknown-user', 'users', uuid);
    return replaced;
  }

  async delete(uuid: string, scopeRoot: string | null): Promise<void> {
    await this.get(uuid, scopeRoot);
    const removal = await this.store.deleteUser(uuid);
    this.tokens.forget(removal);
  }

  async changePassword(uuid: string, scopeRoot: string | null, oldPassword: string, newPassword: string): Promise<void> {
    const user = await this.get(uuid, scopeRoot);
    const ok =
      user.passwordHash === null
        ? await this.hasher.verifyDummy(oldPassword)
        : await this.hasher.verify(user.passwordHash as string, oldPassword);
    if (!ok) throw new WrongPasswordError();
    this.passwordPolicy?.assertAcceptable(newPassword, 'new_password');
    await this.store.setUserPassword(uuid, await this.hash(newPassword));
    await this.revokeAll(user, 'password_changed');
  }

  /** Sessions, tokens and refresh tokens; the refresh tokens' removal is audited (their events go with it). */
  private async revokeAll(user: User, reason: 'disabled' | 'password_changed'): Promise<void> {
    const removal = await this.tokens.revokeUser(user.uuid);
    if (removal.refreshTokens.length === 0) return;
    this.audit?.record({
      action: 'users.refresh_tokens.revoke',
      outcome: 'success',
      tenantUuid: user.tenantUuid,
      targetType: 'users',
      targetId: user.uuid,
      details: { reason, client_ids: removal.refreshTokens.map((rt) => rt.clientId) },
    });
  }

  private hash(password: string): Promise<string> {
    return this.hasher.hash(password);
  }

  private async conflicts<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof StoreConflictError) {
        // Usernames and email addresses are logins, global across tenants:
        // a username may not be another user's email address, nor the reverse.
        if (err.field === 'username' || err.field === 'email_address') {
          throw new ConflictError('users', err.field, `This ${err.field} is already another user's username or email address`);
        }
        throw new ConflictError('users', err.field, `A user with this ${err.field ?? 'identifier'} already exists`);
      }
      throw err;
    }
  }
}
