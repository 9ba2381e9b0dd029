// A token's ACL: the default user policy's ACL, plus the ACL of every policy
// linked to the user, plus what the backend itself grants.
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
      for (const policy of await this.store.listUserPolicies(identity.userUuid)) {
        for (const access of policy.acl) acl.add(access);
      }
    }
    return [...acl];
  }
}
