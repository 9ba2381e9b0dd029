// No privilege escalation through policy edits: a caller may hand out only
// what its own token grants, and take away only what its own token grants.
//
// The rule, checked access by access against the caller's token ACL:
//   - adding a positive access `a` (to a policy, or to a user/group by linking
//     a policy) requires that the caller's ACL grants `a` taken as a literal
//     required access. Wildcards in `a` are then plain characters: `auth.#` is
//     granted only by a pattern that covers the text "auth.#" (`auth.#`, `#`),
//     never by `auth.users.*`, since `*` does not match `#` or `.`. And because
//     a caller's negative patterns cannot be proved disjoint from a wildcard
//     access, a caller holding any negative pattern may not add wildcard
//     accesses at all;
//   - adding a negative access `!a` only narrows: always allowed;
//   - removing `a` or `!a` requires that the caller's ACL grants `a`
//     (removing a negative widens someone else's access to `a`).
// A refusal is 401 `unauthorized` naming the access in details.required_access.
// Choosing how users log in (authentication methods, a tenant's default, its
// identity providers: src/sso/escalation.ts) hands their accesses to whoever
// runs that way of logging in, so it is weighed as granting them
// (assertMayActAsUsers; docs/isolation.md).
import { compileAcl } from '@xivo-auth/acl';
import { UnauthorizedError } from '../errors.js';
import type { UserSelection } from './types.js';
import type { TokenRecord } from '../tokens/types.js';

const WILDCARD = /[*#]/;

function refuse(access: string): never {
  // The caller's token value is not known here and never shown anyway.
  throw new UnauthorizedError('', 'missing_permission_or_invalid_tenant', access);
}

export function assertMayGrant(caller: TokenRecord, accesses: Iterable<string>): void {
  const acl = compileAcl(caller.acl);
  const holdsNegatives = caller.acl.some((p) => p.startsWith('!'));
  for (const access of accesses) {
    if (access.startsWith('!')) continue;
    if (!acl.matches(access, caller)) refuse(access);
    if (holdsNegatives && WILDCARD.test(access)) refuse(access);
  }
}

export function assertMayRevoke(caller: TokenRecord, accesses: Iterable<string>): void {
  const acl = compileAcl(caller.acl);
  for (const access of accesses) {
    const granted = access.startsWith('!') ? access.slice(1) : access;
    if (!acl.matches(granted, caller)) refuse(access);
  }
}

/** The accesses tokens of users get, computed as at login (AclBuilder.grantedTo). */
export interface GrantedAcls {
  grantedTo(who: UserSelection): Promise<string[]>;
}

/**
 * Choosing how users log in (their authentication method, their tenant's
 * default, the tenant's identity provider) hands whoever runs that way of
 * logging in every access of theirs: the caller must be able to grant each
 * positive access the selected users' tokens get (assertMayGrant), as if it
 * linked their policies to a user of its own. No user selected: nothing to
 * weigh.
 */
export async function assertMayActAsUsers(caller: TokenRecord, acls: GrantedAcls, who: UserSelection): Promise<void> {
  assertMayGrant(caller, await acls.grantedTo(who));
}
