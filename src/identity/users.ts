// Local users: create, read, update, delete, password change. Disabling,
// deleting or changing the password of a user revokes all its sessions.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import {
  ConflictError, NotFoundError, ServiceUnavailableError, WrongPasswordError,
} from '../errors.js';
import { HasherBusyError, type PasswordHasher } from '../passwords/hasher.js';
import { StoreConflictError } from '../store/errors.js';
import type { ListQuery, ListResult, Purpose, Store, User } from '../store/types.js';
import type { TokenService } from '../tokens/service.js';
import type { TenantTree } from './tenant-tree.js';
import type { PasswordPolicy } from '../security/password-policy.js';

export interface UserInput {
  uuid?: string;
  username: string | null;
  firstname: string | null;
  lastname: string | null;
  emailAddress: string | null;
  purpose: Purpose;
  enabled: boolean;
}

export class UserService {
  constructor(
    private readonly store: Store,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly tenants: TenantTree,
    private readonly clock: Clock,
    /** Rules for new passwords (issue 7); none when absent. */
    private readonly passwordPolicy: PasswordPolicy | null = null,
  ) {}

  async create(tenantUuid: string, input: UserInput, password: string | null): Promise<User> {
    if (password !== null) this.passwordPolicy?.assertAcceptable(password);
    const passwordHash = password === null ? null : await this.hash(password);
    return this.conflicts(() => this.store.createUser({
      uuid: input.uuid ?? randomUUID(),
      tenantUuid,
      username: input.username,
      firstname: input.firstname,
      lastname: input.lastname,
      emailAddress: input.emailAddress,
      // An address given by an administrator is trusted as confirmed.
      emailConfirmed: input.emailAddress !== null,
      passwordHash,
      purpose: input.purpose,
      enabled: input.enabled,
      createdAt: this.clock.now(),
    }));
  }

  /** `scopeRoot`: the caller's tenant; users outside its subtree do not exist for it. */
  async get(uuid: string, scopeRoot: string | null): Promise<User> {
    const user = await this.store.getUser(uuid);
    if (user === null || (scopeRoot !== null && !(await this.tenants.isSameOrDescendant(scopeRoot, user.tenantUuid)))) {
      throw new NotFoundError('unknown-user', 'users', uuid);
    }
    return user;
  }

  list(tenantUuids: string[], q: ListQuery): Promise<ListResult<User>> {
    return this.store.listUsers(tenantUuids, q);
  }

  /** The users of `scopeRoot`, or of its whole subtree with `recurse` (API.md §4). */
  async listIn(scopeRoot: string, q: ListQuery & { recurse?: boolean }): Promise<ListResult<User>> {
    return this.store.listUsers(q.recurse ? await this.tenants.subtree(scopeRoot) : [scopeRoot], q);
  }

  async update(uuid: string, scopeRoot: string | null, input: Omit<UserInput, 'uuid'>): Promise<User> {
    const before = await this.get(uuid, scopeRoot);
    const updated = await this.conflicts(() => this.store.updateUser(uuid, {
      username: input.username,
      firstname: input.firstname,
      lastname: input.lastname,
      emailAddress: input.emailAddress,
      emailConfirmed: input.emailAddress === null ? false
        : (input.emailAddress === before.emailAddress ? before.emailConfirmed : true),
      purpose: input.purpose,
      enabled: input.enabled,
    }));
    if (updated === null) throw new NotFoundError('unknown-user', 'users', uuid);
    if (before.enabled && !updated.enabled) await this.tokens.revokeUser(uuid);
    return updated;
  }

  async delete(uuid: string, scopeRoot: string | null): Promise<void> {
    await this.get(uuid, scopeRoot);
    const removal = await this.store.deleteUser(uuid);
    this.tokens.forget(removal);
  }

  async changePassword(uuid: string, scopeRoot: string | null, oldPassword: string, newPassword: string): Promise<void> {
    const user = await this.get(uuid, scopeRoot);
    const ok = user.passwordHash === null
      ? await this.guard(() => this.hasher.verifyDummy(oldPassword))
      : await this.guard(() => this.hasher.verify(user.passwordHash as string, oldPassword));
    if (!ok) throw new WrongPasswordError();
    this.passwordPolicy?.assertAcceptable(newPassword, 'new_password');
    await this.store.setUserPassword(uuid, await this.hash(newPassword));
    await this.tokens.revokeUser(uuid);
  }

  private hash(password: string): Promise<string> {
    return this.guard(() => this.hasher.hash(password));
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof HasherBusyError) throw new ServiceUnavailableError('Too many password operations in progress', 1);
      throw err;
    }
  }

  private async conflicts<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof StoreConflictError) {
        throw new ConflictError('users', err.field, `A user with this ${err.field ?? 'identifier'} already exists`);
      }
      throw err;
    }
  }
}
