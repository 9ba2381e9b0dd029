// /idp (issue 23 §1): the authentication methods there are, and setting or
// resetting users' methods. As wazo-auth's IDPService: adding sets the
// method; removing resets it to `default` only when it is that method.
import { NotFoundError } from '../errors.js';
import type { Store, User } from '../store/types.js';
import { IDP_TYPES, isIdpType, type IdpType } from './authentication-methods.js';

export class UnknownIdpTypeError extends NotFoundError {
  constructor(type: string) {
    super('unknown-idp-type', 'idp', type);
    this.message = `No such IDP type: "${type}"`;
  }
}

export class IdpService {
  constructor(
    private readonly store: Pick<Store, 'updateUser'>,
    /** The user if visible from scopeRoot, else 404 (UserService.get). */
    private readonly users: { get(uuid: string, scopeRoot: string | null): Promise<User> },
  ) {}

  types(): readonly IdpType[] {
    return IDP_TYPES;
  }

  private assertType(type: string): asserts type is IdpType {
    if (!isIdpType(type)) throw new UnknownIdpTypeError(type);
  }

  async addUser(type: string, userUuid: string, scopeRoot: string): Promise<void> {
    this.assertType(type);
    await this.users.get(userUuid, scopeRoot);
    await this.store.updateUser(userUuid, { authenticationMethod: type });
  }

  /** Every user is checked before any changes: all or nothing visible. */
  async addUsers(type: string, userUuids: string[], scopeRoot: string): Promise<void> {
    this.assertType(type);
    for (const uuid of userUuids) await this.users.get(uuid, scopeRoot);
    for (const uuid of userUuids) await this.store.updateUser(uuid, { authenticationMethod: type });
  }

  async removeUser(type: string, userUuid: string, scopeRoot: string): Promise<void> {
    this.assertType(type);
    const user = await this.users.get(userUuid, scopeRoot);
    if (user.authenticationMethod === type) await this.store.updateUser(userUuid, { authenticationMethod: 'default' });
  }
}
