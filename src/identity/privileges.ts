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
import { compileAcl } from '@xivo-auth/acl';
import { UnauthorizedError } from '../errors.js';
import type { TokenRecord } from '../store/types.js';

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
