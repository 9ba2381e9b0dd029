// A printable copy of the configuration with secrets hidden (for
// `xivo-auth config show` and logs).

export const MASK = '********';

// password_hash: a service account's hash could be attacked offline (issue 6).
const SECRET_KEY = /^(password|password_hash|secret|token|private_key)$|_(password|secret|token)$/i;

/** True for keys whose value is a secret: password, password_hash, *_password, private_key, secret, token. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * Hides the password of a URI: `postgresql://u:secret@h/db` → `postgresql://u:********@h/db`,
 * and a `password=` query parameter. Other strings are returned unchanged.
 */
export function maskUriPassword(value: string): string {
  let out = value;
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.exec(out);
  if (scheme) {
    const start = scheme[0].length;
    const firstAt = out.indexOf('@', start);
    if (firstAt !== -1) {
      // The user-info ends at the last '@' before the first '/', '?' or '#'
      // following the first '@' (tolerates unencoded '@' or '/' in passwords).
      const rest = out.slice(firstAt);
      const endMatch = /[/?#]/.exec(rest);
      const authorityEnd = endMatch ? firstAt + endMatch.index : out.length;
      const lastAt = out.lastIndexOf('@', authorityEnd - 1);
      const userInfo = out.slice(start, lastAt);
      const colon = userInfo.indexOf(':');
      if (colon !== -1) {
        out = `${out.slice(0, start + colon + 1)}${MASK}${out.slice(lastAt)}`;
      }
    }
  }
  return out.replace(/([?&]password=)[^&#]*/gi, `$1${MASK}`);
}

/**
 * Deep copy of `config` with secrets replaced by `********`: values of secret
 * keys (see isSecretKey; null stays null so "not set" remains visible) and
 * passwords inside URIs in any string (db_uri, amqp.uri, …).
 */
export function maskSecrets(config: object): Record<string, unknown> {
  return maskValue(config, undefined) as Record<string, unknown>;
}

function maskValue(value: unknown, key: string | undefined): unknown {
  if (key !== undefined && isSecretKey(key) && value !== null && value !== undefined) return MASK;
  // tracing.headers: the collector's credentials (API keys...), every value hidden.
  if (key === 'headers' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.keys(value).map((k) => [k, MASK]));
  }
  if (typeof value === 'string') return maskUriPassword(value);
  if (Array.isArray(value)) return value.map((item) => maskValue(item, undefined));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskValue(v, k);
    return out;
  }
  return value;
}
