// A token's ACL: the default user policy's ACL, plus the ACL of every policy
// of every group of the user and of every policy linked to the user, plus what
// the backend itself grants. Two queries. It is computed at issue time and
// stored with the token: later policy or group changes apply to tokens issued
// afterwards, live tokens keep their ACL.
//
// At most MAX_TOKEN_ACCESSES distinct accesses: past that, the login is
// refused (403 too-many-accesses) rather than a token issued with some
// accesses left out (leaving out a negative one would widen the token). The
// cap bounds the cost of every check of the token (docs/security.md).
import { DomainError } from '../errors.js';
import { MAX_TOKEN_ACCESSES } from '../access-limits.js';
import type { UserSelection } from './types.js';
import type { PolicyGrantStore } from './store.js';

/** 403 at login: the identity's policies grant more accesses than a token may carry. */
export class TooManyAccessesError extends DomainError {
  constructor(count: number) {
    super(
      403,
      'too-many-accesses',
      `The policies of this identity grant ${count} distinct accesses; a token carries at most ${MAX_TOKEN_ACCESSES}`,
      { accesses: count, max_accesses: MAX_TOKEN_ACCESSES },
    );
  }
}

/**
 * Whom a token's ACL is built for: the local user whose policies it gets
 * (null: none), and the accesses its backend grants itself (a login's
 * Identity, src/backends/types.ts).
 */
export interface AclSubject {
  userUuid: string | null;
  acl: string[];
}

export class AclBuilder {
  constructor(
    private readonly store: PolicyGrantStore,
    private defaultUserPolicy: { tenantUuid: string; slug: string } | null,
  ) {}

  /** A configuration reload (default_user_policy): the next tokens issued get it. */
  setDefaultUserPolicy(policy: { tenantUuid: string; slug: string } | null): void {
    this.defaultUserPolicy = policy;
  }

  async build(identity: AclSubject): Promise<string[]> {
    const acl = new Set<string>(identity.acl);
    if (identity.userUuid !== null) {
      for (const access of await this.defaultUserAcl()) acl.add(access);
      for (const policy of await this.store.listGrantedPolicies(identity.userUuid)) {
        for (const access of policy.acl) acl.add(access);
      }
    }
    if (acl.size > MAX_TOKEN_ACCESSES) throw new TooManyAccessesError(acl.size);
    return [...acl];
  }

  /**
   * Every access the policies give to tokens of the selected users, as
   * build() computes it for each of them (their backends' own accesses
   * aside: local users' backends add none), without the cap. [] when the
   * selection holds no user. Three queries, whatever the number of users.
   */
  async grantedTo(who: UserSelection): Promise<string[]> {
    const { users, policies } = await this.store.listPoliciesGrantedToUsers(who);
    if (users === 0) return [];
    const acl = new Set<string>(await this.defaultUserAcl());
    for (const policy of policies) for (const access of policy.acl) acl.add(access);
    return [...acl];
  }

  private async defaultUserAcl(): Promise<string[]> {
    if (this.defaultUserPolicy === null) return [];
    const policy = await this.store.getPolicyBySlug(this.defaultUserPolicy.tenantUuid, this.defaultUserPolicy.slug);
    return policy?.acl ?? [];
  }
}
