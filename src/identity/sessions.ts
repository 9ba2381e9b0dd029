// Sessions (one per login) seen by administrators. A session outside the
// acting tenant's subtree does not exist for the caller: deleting it answers
// as if done (204) and it survives. Deleting a session revokes its tokens on
// every instance (the store notifies them) and in this one's cache.
import type { ListQuery, ListResult } from '../lists.js';
import type { SessionAdminStore } from './store.js';
import type { Session } from '../tokens/types.js';
import type { TokenRevocations } from './token-revocations.js';
import { isVisible, listTenants, type Caller } from './scope.js';
import type { TenantTree } from './tenant-tree.js';
import type { UserService } from './users.js';

export class SessionService {
  constructor(
    private readonly store: SessionAdminStore,
    private readonly tree: TenantTree,
    private readonly users: UserService,
    private readonly tokens: TokenRevocations,
  ) {}

  async list(caller: Caller, q: ListQuery & { recurse?: boolean }): Promise<ListResult<Session>> {
    return this.store.listSessions({ tenantUuids: await listTenants(this.tree, caller, q.recurse) }, q);
  }

  async listOfUser(caller: Caller, userUuid: string, q: ListQuery): Promise<ListResult<Session>> {
    const user = await this.users.get(userUuid, caller.tenantUuid);
    return this.store.listSessions({ tenantUuids: [user.tenantUuid], userUuid: user.uuid }, q);
  }

  async delete(caller: Caller, sessionUuid: string): Promise<void> {
    const session = await this.store.getSession(sessionUuid);
    if (session === null || !(await isVisible(this.tree, caller, session.tenantUuid))) return;
    this.tokens.forget(await this.store.deleteSession(session.uuid));
  }

  async deleteOfUser(caller: Caller, userUuid: string, sessionUuid: string): Promise<void> {
    const user = await this.users.get(userUuid, caller.tenantUuid);
    const session = await this.store.getSession(sessionUuid);
    if (session === null || session.userUuid !== user.uuid) return;
    this.tokens.forget(await this.store.deleteSession(session.uuid));
  }
}
