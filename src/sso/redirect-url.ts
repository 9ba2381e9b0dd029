// Where the browser is sent once the IdP is done (SAML and OpenID Connect,
// issue 23): the redirect_url of POST /saml/sso and POST /oidc/authorize.
// An open redirect on the login path is a phishing tool, so: an absolute
// https URL (http only to a loopback host: a desktop softphone's local
// listener), no credentials in it, and, when the tenant's settings have a
// `redirect_url_allowlist`, inside it.
import { InvalidDataError } from '../errors.js';

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function parse(value: string): URL | null {
  try {
    const url = new URL(value);
    if (url.username !== '' || url.password !== '') return null;
    if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname))) return url;
    return null;
  } catch {
    return null;
  }
}

/** One allow-list entry: an origin (https://portal.example.com) or a URL prefix (https://portal.example.com/app/). */
function allows(entry: string, url: URL): boolean {
  const allowed = parse(entry);
  if (allowed === null || allowed.origin !== url.origin) return false;
  // An origin alone allows the whole origin; a prefix only what starts with it.
  if (allowed.pathname === '/' && allowed.search === '') return true;
  return url.href.startsWith(allowed.href);
}

export function assertRedirectUrl(value: string, allowlist: readonly string[] | null | undefined): void {
  const url = parse(value);
  if (url === null) {
    throw new InvalidDataError('redirect_url must be an absolute https URL (http only for a loopback host)', {
      redirect_url: { constraint_id: 'url' },
    });
  }
  if (allowlist && allowlist.length > 0 && !allowlist.some((entry) => allows(entry, url))) {
    throw new InvalidDataError("redirect_url is not in the tenant's redirect_url_allowlist", {
      redirect_url: { constraint_id: 'allowlist' },
    });
  }
}

/** Settings time: every entry must be a URL a redirect_url could match. */
export function assertAllowlist(entries: readonly string[] | null | undefined): void {
  for (const entry of entries ?? []) {
    if (parse(entry) === null) {
      throw new InvalidDataError(
        'redirect_url_allowlist entries are https origins or URL prefixes (http only for a loopback host)',
        {
          redirect_url_allowlist: { constraint_id: 'url' },
        },
      );
    }
  }
}
