// Size limits on access-control data, shared by the request schemas and the
// services that grow an ACL one entry at a time.
//
// Together they bound the cost of one ACL check by construction (issue 16,
// docs/security.md "Cost of ACL matching"): the matcher (@xivo-auth/acl) is
// close to linear in the length of the required access for each pattern, and
// patterns, required accesses, wildcards per pattern and patterns per token
// are all bounded here.

/** Most accesses one policy may hold (POST/PUT /policies, PUT /policies/{uuid}/acl/{access}). */
export const MAX_ACL_ENTRIES = 1000;
/** Longest access pattern accepted; also the longest required access (scope) a check accepts. */
export const MAX_ACCESS_LENGTH = 512;
/**
 * Most wildcards in one access: `*` and `#` characters, and the substitution
 * segments `me`, `my_session` and `edit` (each can match more than its own
 * text). Real policies use one to four; each one adds an element the matcher
 * may have to place, so the bound keeps a pathological access's cost a small
 * multiple of a plain one's.
 */
export const MAX_ACCESS_WILDCARDS = 16;
/**
 * Most accesses a token may carry (the union of the backend's, the default
 * user policy's and every linked policy's, without duplicates): a login that
 * would exceed it is refused (403 too-many-accesses).
 */
export const MAX_TOKEN_ACCESSES = 1024;
/** Most scopes in one POST /0.1/token/{token}/scopes/check. */
export const MAX_SCOPES_PER_CHECK = 100;

const SUBSTITUTIONS = new Set(['me', 'my_session', 'edit']);

/** Wildcards of an access in the sense of MAX_ACCESS_WILDCARDS (a leading `!` is not one). */
export function accessWildcards(access: string): number {
  let count = 0;
  let segmentStart = 0;
  for (let i = 0; i <= access.length; i++) {
    const c = i < access.length ? access.charCodeAt(i) : 0x2e;
    if (c === 0x2a || c === 0x23) count++;
    else if (c === 0x2e) {
      let segment = access.slice(segmentStart, i);
      if (segmentStart === 0 && segment.startsWith('!')) segment = segment.slice(1);
      if (SUBSTITUTIONS.has(segment)) count++;
      segmentStart = i + 1;
    }
  }
  return count;
}

/**
 * The same rule as a regular expression, for schemas checked without code
 * (the configuration file): at most MAX_ACCESS_WILDCARDS units, each a `*`,
 * a `#` or a whole `me` / `my_session` / `edit` segment, among characters
 * that start none. Linear: a character either starts a unit or it does not.
 */
export const ACCESS_WILDCARDS_PATTERN = (() => {
  const segmentStart = '(?:(?<=^!?)|(?<=\\.))';
  const word = '(?:me|my_session|edit)';
  const unit = `(?:[*#]|${segmentStart}${word}(?=\\.|$))`;
  const plain = `(?:(?!${segmentStart}${word}(?:\\.|$))[^*#])`;
  return `^!?(?:${plain}*${unit}){0,${MAX_ACCESS_WILDCARDS}}${plain}*$`;
})();

/** What a configuration or API user reads when an access breaks these limits. */
export const ACCESS_LIMITS_TEXT = `an access of at most ${MAX_ACCESS_LENGTH} characters with at most ${MAX_ACCESS_WILDCARDS} wildcards (*, # and the segments me, my_session, edit)`;
