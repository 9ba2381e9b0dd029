// The client side of an OAuth 2.0 provider (issue 22): the device
// authorization grant (RFC 8628), the refresh token grant (RFC 6749 §6) and
// revocation (RFC 7009), over plain fetch. Every request has a deadline;
// every failure becomes an outcome the service maps to a clear answer
// (the provider refused: its error code; it did not answer: unavailable),
// never an exception. Nothing here logs: secrets travel in these bodies.

export interface ProviderEndpoints {
  deviceAuthorizationUrl: string;
  tokenUrl: string;
  revocationUrl: string | null;
}

/** The tenant's client at the provider; without a secret, a public client (client_id only). */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string | null;
}

export type Outcome<T> =
  | { ok: true; value: T }
  /** The provider answered with an OAuth error (RFC 6749 §5.2, RFC 8628 §3.5). */
  | { ok: false; kind: 'refused'; error: string; status: number }
  /** No usable answer: unreachable, timed out, 5xx, or not OAuth. `detail` names what, never a secret. */
  | { ok: false; kind: 'unavailable'; detail: string };

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  expiresIn: number;
  interval: number;
}

export interface TokenSet {
  accessToken: string;
  refreshToken: string | null;
  /** Seconds; null when the provider does not say. */
  expiresIn: number | null;
  /** Null when the provider does not say (the scope asked was granted). */
  scope: string[] | null;
  tokenType: string | null;
}

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** RFC 8628 §3.5: the interval when the provider gives none. */
const DEFAULT_INTERVAL_SECONDS = 5;

export class OAuthClient {
  constructor(private readonly timeoutMs: number) {}

  async authorizeDevice(
    endpoints: ProviderEndpoints,
    client: ClientCredentials,
    scope: string[],
  ): Promise<Outcome<DeviceAuthorization>> {
    const answer = await this.post(endpoints.deviceAuthorizationUrl, client, { scope: scope.join(' ') });
    if (!answer.ok) return answer;
    const b = answer.value;
    // Google names it verification_url.
    const verificationUri = str(b.verification_uri) ?? str(b.verification_url);
    const deviceCode = str(b.device_code);
    const userCode = str(b.user_code);
    const expiresIn = num(b.expires_in);
    if (deviceCode === null || userCode === null || verificationUri === null || expiresIn === null) {
      return {
        ok: false,
        kind: 'unavailable',
        detail: 'the device authorization response lacks device_code, user_code, verification_uri or expires_in',
      };
    }
    return {
      ok: true,
      value: {
        deviceCode,
        userCode,
        verificationUri,
        verificationUriComplete: str(b.verification_uri_complete),
        expiresIn,
        interval: num(b.interval) ?? DEFAULT_INTERVAL_SECONDS,
      },
    };
  }

  /** One poll of the token endpoint with a device code: tokens, or `authorization_pending`, `slow_down`, `access_denied`, `expired_token`... */
  async pollDevice(endpoints: ProviderEndpoints, client: ClientCredentials, deviceCode: string): Promise<Outcome<TokenSet>> {
    return tokenSet(await this.post(endpoints.tokenUrl, client, { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode }));
  }

  async refresh(endpoints: ProviderEndpoints, client: ClientCredentials, refreshToken: string): Promise<Outcome<TokenSet>> {
    return tokenSet(await this.post(endpoints.tokenUrl, client, { grant_type: 'refresh_token', refresh_token: refreshToken }));
  }

  /** RFC 7009: 200 whether or not the token was known. */
  async revoke(
    revocationUrl: string,
    client: ClientCredentials,
    token: string,
    hint: 'refresh_token' | 'access_token',
  ): Promise<Outcome<null>> {
    const answer = await this.post(revocationUrl, client, { token, token_type_hint: hint }, { emptyOk: true });
    return answer.ok ? { ok: true, value: null } : answer;
  }

  /** A form POST with client_secret_post authentication; the JSON answer, or why there is none. */
  private async post(
    url: string,
    client: ClientCredentials,
    params: Record<string, string>,
    options: { emptyOk?: boolean } = {},
  ): Promise<Outcome<Record<string, unknown>>> {
    const body = new URLSearchParams({ ...params, client_id: client.clientId });
    if (client.clientSecret !== null) body.set('client_secret', client.clientSecret);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string } };
      const detail =
        e.name === 'TimeoutError'
          ? `no answer within ${this.timeoutMs} ms`
          : `unreachable (${e.cause?.code ?? e.name ?? 'error'})`;
      return { ok: false, kind: 'unavailable', detail };
    }
    let json: Record<string, unknown> | null = null;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
    } catch {
      // Not JSON: judged by the status below.
    }
    if (response.ok) {
      if (json !== null) return { ok: true, value: json };
      if (options.emptyOk) return { ok: true, value: {} };
      return { ok: false, kind: 'unavailable', detail: `HTTP ${response.status} without a JSON body` };
    }
    // An error code is a short token (RFC 6749 §5.2): anything else is not shown.
    const error =
      json === null
        ? null
        : str(json.error)
            ?.replace(/[^\x21-\x7e]/g, '')
            .slice(0, 64) || null;
    if (response.status >= 400 && response.status < 500 && error !== null) {
      return { ok: false, kind: 'refused', error, status: response.status };
    }
    return { ok: false, kind: 'unavailable', detail: `HTTP ${response.status}` };
  }
}

function tokenSet(answer: Outcome<Record<string, unknown>>): Outcome<TokenSet> {
  if (!answer.ok) return answer;
  const b = answer.value;
  const accessToken = str(b.access_token);
  if (accessToken === null) return { ok: false, kind: 'unavailable', detail: 'the token response has no access_token' };
  const scope = str(b.scope);
  return {
    ok: true,
    value: {
      accessToken,
      refreshToken: str(b.refresh_token),
      expiresIn: num(b.expires_in),
      scope: scope === null ? null : scope.split(' ').filter((s) => s !== ''),
      tokenType: str(b.token_type),
    },
  };
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function num(v: unknown): number | null {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null;
}
