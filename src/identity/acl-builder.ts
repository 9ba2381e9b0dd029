// A token's ACL: the default user policy's ACL, plus the ACL of every policy
// of every group of the user and of every policy linked to the user, plus what
// the backend itself grants. Two queries. It is computed at issue time and
// stored with the token: later policy or group changes apply to tokens issued
// afterwards, live tokens keep their ACL.
import type { Identity } from '../backends/types.js';
import type { StoreTx } from '../store/types.js';

export class AclBuilder {
  constructor(
    private readonly store: StoreTx,
    private readonly defaultUserPolicy: { tenantUuid: string; slug: string } | null,
  ) {}

  async build(identity: Identity): Promise<string[]> {
    const acl = new Set<string>(identity.acl);
    if (identity.userUuid !== null) {
      if (this.defaultUserPolicy !== null) {
        const policy = await this.store.getPolicyBySlug(this.defaultUserPolicy.tenantUuid, this.defaultUserPolicy.slug);
        for (const access of policy?.acl ?? []) acl.add(access);
      }
      for (const policy of await this.store.listGrantedPolicies(identity.userUuid)) {
        for (const access of policy.acl) acl.add(access);
      }
    }
    return [...acl];
  }
}
