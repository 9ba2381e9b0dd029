// mfa.required_for.acl: does a user's ACL hold an access matching one of the
// configured patterns? Both ways round: an access the rule matches (the rule
// `auth.#` holds `auth.users.me.tokens.#`), or an access that covers the
// rule itself (`#` or `auth.#` hold what `auth.#` names).
import { compileAcl } from '@xivo-auth/acl';

export function matchAccess(rule: readonly string[], acl: readonly string[]): boolean {
  const compiledRule = compileAcl(rule);
  const positive = acl.filter((a) => !a.startsWith('!'));
  if (positive.some((access) => compiledRule.matches(access))) return true;
  const held = compileAcl(positive);
  return rule.some((pattern) => held.matches(pattern));
}
