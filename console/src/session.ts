// The console's session: one XivoAuthClient sending with fetch, a token kept
// in memory only (never localStorage or a cookie) and renewed by
// TokenRenewer with a refresh token (the password is forgotten once the
// first login is done). An expired or revoked token sends back to the login
// page (onExpired).
import { hasAccess } from '@xivo-auth/acl';
import {
  ApiError,
  InvalidTokenError,
  TokenRenewer,
  XivoAuthClient,
  type Token,
  type TokenCreateOptions,
} from '@xivo-auth/client';

const CLIENT_ID = 'xivo-auth-console';

export const client = new XivoAuthClient({
  url: location.origin,
  fetch: globalThis.fetch.bind(globalThis),
  timeout: 15_000,
  retries: 1,
});

let renewer: TokenRenewer | null = null;
let token: Token | null = null;
let expiredHandler: (reason: 'expired' | 'logout') => void = () => {};

/** Called when the session ends: the token expired or was revoked, or the user logged out. */
export function onExpired(fn: (reason: 'expired' | 'logout') => void): void {
  expiredHandler = fn;
}

export function currentToken(): Token | null {
  return token;
}

/** Does the caller's token grant `access`? (what the screens show as clickable) */
export function can(access: string): boolean {
  if (token === null) return false;
  return hasAccess(token.acl, access, { authId: token.auth_id, sessionUuid: token.session_uuid });
}

function ended(): void {
  void renewer?.stop();
  renewer = null;
  token = null;
  client.setToken(null);
  client.setTenant(null);
  expiredHandler('expired');
}

/** Logs in (MfaRequiredError when a second factor is due; retried with `second`). */
export async function login(
  username: string,
  password: string,
  second?: Pick<TokenCreateOptions, 'mfaChallenge' | 'totp' | 'recoveryCode'>,
): Promise<Token> {
  const first = await client.token.create({
    username,
    password,
    expiration: 3600,
    accessType: 'offline',
    clientId: CLIENT_ID,
    ...second,
  });
  if (first.refresh_token === undefined) {
    install(first);
    return first;
  }
  const refresh = first.refresh_token;
  renewer = new TokenRenewer({
    client,
    login: { refreshToken: refresh, clientId: CLIENT_ID, expiration: 3600 },
    revokePrevious: true,
    onToken: (fresh) => install(fresh),
    onError: (err) => {
      if (err instanceof ApiError && (err.status === 401 || err.status === 400)) ended();
    },
  });
  await renewer.start();
  await client.token.revoke(first.token).catch(() => undefined);
  return token ?? first;
}

function install(fresh: Token): void {
  token = fresh;
  client.setToken(fresh.token);
}

/** Revokes the token (and the console's refresh token), then back to the login page. */
export async function logout(): Promise<void> {
  const r = renewer;
  renewer = null;
  const current = token;
  if (current !== null) {
    await client.transport.request({ method: 'DELETE', path: `/users/me/tokens/${CLIENT_ID}` }).catch(() => undefined);
  }
  if (r !== null) await r.stop({ revoke: true }).catch(() => undefined);
  else if (current !== null) await client.token.revoke(current.token).catch(() => undefined);
  token = null;
  client.setToken(null);
  client.setTenant(null);
  expiredHandler('logout');
}

export interface Page<T> {
  total: number;
  filtered: number;
  items: T[];
}

/** One API call (path under /0.1, already escaped); an invalid token ends the session. */
export async function api<T = unknown>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  options: { body?: unknown; query?: Record<string, string | number | boolean | undefined> } = {},
): Promise<T> {
  try {
    const answer = await client.transport.request<T>({ method, path, body: options.body, query: options.query });
    return answer.body;
  } catch (err) {
    if (err instanceof InvalidTokenError) ended();
    throw err;
  }
}

export const enc = encodeURIComponent;
