// LDAP strings built from what a client sends: every value is escaped, so a
// login can never change the shape of a filter or a DN (no LDAP injection).
// RFC 4515 (filters) and RFC 4514 (DNs).
import { Filter, FilterParser } from 'ldapts';

/** An attribute description: a name (RFC 4512 descr) or an OID. */
export const ATTRIBUTE_PATTERN = '^([A-Za-z][A-Za-z0-9-]{0,63}|[0-9]+(\\.[0-9]+){1,31})$';

export const DEFAULT_SEARCH_FILTER = '({user_login_attribute}={username})';

/** `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`. */
export function escapeFilterValue(value: string): string {
  return Filter.escape(value);
}

/**
 * The search filter for a login: `{user_login_attribute}` becomes the
 * attribute name, `{username}` the escaped login, in one pass (an escaped
 * login that happens to contain `{username}` is not substituted again).
 */
export function buildSearchFilter(template: string | null, loginAttribute: string, login: string): string {
  const text = (template ?? DEFAULT_SEARCH_FILTER).trim();
  const filled = text.replace(/\{(user_login_attribute|username)\}/g, (_, name: string) =>
    name === 'username' ? escapeFilterValue(login) : loginAttribute,
  );
  return filled.startsWith('(') ? filled : `(${filled})`;
}

/** Null when the template makes a valid filter; else why not. */
export function searchFilterProblem(template: string): string | null {
  if (!template.includes('{username}')) return 'must contain {username}';
  // Parentheses in values are escaped (\28, \29), so every literal one is structure.
  let depth = 0;
  for (const c of buildSearchFilter(template, 'uid', 'probe')) {
    depth += c === '(' ? 1 : c === ')' ? -1 : 0;
    if (depth < 0) break;
  }
  if (depth !== 0) return 'has unbalanced parentheses';
  try {
    FilterParser.parseString(buildSearchFilter(template, 'uid', 'probe'));
    return null;
  } catch (err) {
    return `not a valid LDAP filter (${(err as Error).message})`;
  }
}

/**
 * One attribute value of a DN (RFC 4514 section 2.4): `"+,;<>\=` escaped with
 * a backslash, NUL as `\00`, a leading `#` or space and a trailing space too.
 */
export function escapeDnValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\u0000') out += '\\00';
    else if ('"+,;<>\\='.includes(c)) out += `\\${c}`;
    else if ((i === 0 && (c === '#' || c === ' ')) || (i === value.length - 1 && c === ' ')) out += `\\${c}`;
    else out += c;
  }
  return out;
}

/** The DN of a user when there is no service account to search with. */
export function buildUserDn(loginAttribute: string, login: string, baseDn: string): string {
  return `${loginAttribute}=${escapeDnValue(login)},${baseDn}`;
}
