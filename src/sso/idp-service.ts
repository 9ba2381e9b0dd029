// /idp (issue 23 §1): the authentication methods there are, and setting or
// resetting users' methods. As wazo-auth's IDPService: adding sets the
// method; removing resets it to `default` only when it is that method.
// A change decides who may log in as the user: the caller must grant every
// access of the users it changes (no escalation, docs/isolation.md), else
// 401 and nothing changes; setting a method a user already has is no change.
import { NotFoundError } from '../errors.js';
import { assertMayActAsUsers, type GrantedAcls } from '../identity/privileges.js';
import type { User } from '../identity/types.js';
import type { IdentityStoreTx } from '../identity/store.js';
import type { TokenRecord } from '../tokens/types.js';
import { IDP_TYPES, isIdpType, type IdpType } from './authentication-methods.js';

export class UnknownIdpTypeError extends NotFoundError {
  constructor(type: string) {
    super('unknown-idp-type', 'idp', type);
    this.message = `No such IDP type: "${type}"`;
  }
}

export class IdpService {
  constructor(
    private readonly store: Pick<IdentityStoreTx, 'updateUser'>,
    /** The user if visible from scopeRoot, else 404 (UserService.get). */
    private readonly users: { get(uuid: string, scopeRoot: string | null): Promise<User> },
    /** What users' tokens get (AclBuilder). */
    private readonly grantedAcls: GrantedAcls,
  ) {}

  types(): readonly IdpType[] {
    return IDP_TYPES;
  }

  private assertType(type: string): asserts type is IdpType {
    if (!isIdpType(type)) throw new UnknownIdpTypeError(type);
  }

  async addUser(caller: TokenRecord, type: string, userUuid: string, scopeRoot: string): Promise<void> {
    await this.addUsers(caller, type, [userUuid], scopeRoot);
  }

  /** Every user is checked before any changes: all visible and covered, or nothing changed. */
  async addUsers(caller: TokenRecord, type: string, userUuids: string[], scopeRoot: string): Promise<void> {
    this.assertType(type);
    const changed: string[] = [];
    for (const uuid of new Set(userUuids)) {
      if ((await this.users.get(uuid, scopeRoot)).authenticationMethod !== type) changed.push(uuid);
    }
    // One weighing for the whole batch (a few queries, whatever its size).
    await assertMayActAsUsers(caller, this.grantedAcls, { userUuids: changed });
    for (const uuid of changed) await this.store.updateUser(uuid, { authenticationMethod: type });
  }

  async removeUser(caller: TokenRecord, type: string, userUuid: string, scopeRoot: string): Promise<void> {
    this.assertType(type);
    const user = await this.users.get(userUuid, scopeRoot);
    if (user.authenticationMethod !== type) return;
    await assertMayActAsUsers(caller, this.grantedAcls, { userUuids: [userUuid] });
    await this.store.updateUser(userUuid, { authenticationMethod: 'default' });
  }
}
