// A real OpenID Connect provider on loopback for the SSO tests (issue 23):
// panva's oidc-provider with one confidential client using the
// authorization code flow (PKCE required), its development login and
// consent pages, which `login` fills in as a browser would. Whoever logs in
// is an account whose email claim is the login. `rewriteIdToken` changes
// the ID tokens the token endpoint hands out (re-signed with the provider's
// key, or with another key) to play a broken or hostile IdP.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, SignJWT } from 'jose';
import Provider from 'oidc-provider';
import { closeAtEnd } from './cleanup.js';

export const OIDC_CLIENT_ID = 'xivo-auth-sso-client';
export const OIDC_CLIENT_SECRET = 'oidc-client-secret-9e107d9d372bb6826bd81d3542a419d6';

export interface IdTokenRewrite {
  claims?: (claims: Record<string, unknown>) => Record<string, unknown>;
  /** Sign with a key the provider does not publish. */
  foreignKey?: boolean;
  /** Hand out this ID token instead (a replay). */
  replace?: string;
}

export interface TestOidcProvider {
  issuer: string;
  rewriteIdToken: IdTokenRewrite | null;
  /** The ID tokens handed out, in order. */
  idTokens: string[];
  /** Logs `login` in at `authorizationUrl` as a browser would; returns the callback URL the IdP redirects to. */
  login(authorizationUrl: string, login: string, callbackUrl: string): Promise<string>;
  close(): Promise<void>;
}

const KID = 'sso-test-key';

export async function startOidcProvider(callbackUrl: string): Promise<TestOidcProvider> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const foreign: KeyObject = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const state: { rewriteIdToken: IdTokenRewrite | null; idTokens: string[] } = { rewriteIdToken: null, idTokens: [] };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: OIDC_CLIENT_ID,
        client_secret: OIDC_CLIENT_SECRET,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [callbackUrl],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
    scopes: ['openid', 'email', 'profile'],
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['xivo-auth-sso-test-cookie-key'] },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: KID, use: 'sig', alg: 'RS256' }] },
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, email: sub, email_verified: true, groups: ['sso-admins'] }),
    }),
    ttl: { AccessToken: 3600, IdToken: 3600, Grant: 3600, Interaction: 600, Session: 3600, AuthorizationCode: 60 },
  });
  provider.on('server_error', () => undefined);
  const handle = provider.callback();

  server.on('request', (req, res) => {
    if (req.url?.startsWith('/token')) rewriteTokenAnswer(res, state, privateKey, foreign);
    handle(req, res);
  });

  const cookies = new Map<string, string>();
  const browse = async (url: string, form?: Record<string, string>): Promise<Response> => {
    const res = await fetch(new URL(url, issuer), {
      method: form === undefined ? 'GET' : 'POST',
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body: form === undefined ? undefined : new URLSearchParams(form),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  };
  const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  const formAction = (html: string) => /<form[^>]*action="([^"]+)"/.exec(html)?.[1];

  return {
    issuer,
    get rewriteIdToken() {
      return state.rewriteIdToken;
    },
    set rewriteIdToken(v) {
      state.rewriteIdToken = v;
    },
    get idTokens() {
      return state.idTokens;
    },
    async login(authorizationUrl, login, callback) {
      cookies.clear();
      let res = await browse(authorizationUrl);
      for (let step = 0; step < 20; step += 1) {
        if (res.status >= 300 && res.status < 400) {
          const location = new URL(res.headers.get('location')!, issuer).toString();
          if (location.startsWith(callback)) return location;
          res = await browse(location);
          continue;
        }
        const html = await res.text();
        const action = formAction(html);
        const prompt = field(html, 'prompt');
        if (action === undefined || prompt === undefined) throw new Error(`unexpected IdP page: ${html.slice(0, 300)}`);
        res = await browse(action, prompt === 'login' ? { prompt, login, password: 'any' } : { prompt });
      }
      throw new Error('the IdP never redirected to the callback');
    },
    close: closeAtEnd(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  };
}

/** Buffers the token endpoint's JSON answer, rewrites its id_token, then sends it. */
function rewriteTokenAnswer(
  res: http.ServerResponse,
  state: { rewriteIdToken: IdTokenRewrite | null; idTokens: string[] },
  key: KeyObject,
  foreign: KeyObject,
): void {
  const chunks: Buffer[] = [];
  const end = res.end.bind(res);
  res.write = ((chunk: unknown) => {
    if (chunk) chunks.push(Buffer.from(chunk as string));
    return true;
  }) as typeof res.write;
  res.end = ((chunk?: unknown) => {
    if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as string));
    const text = Buffer.concat(chunks).toString('utf8');
    void (async () => {
      let out = text;
      try {
        const body = JSON.parse(text) as Record<string, unknown>;
        if (typeof body.id_token === 'string') {
          const rewrite = state.rewriteIdToken;
          if (rewrite?.replace !== undefined) {
            body.id_token = rewrite.replace;
          } else if (rewrite !== null) {
            const claims = (rewrite.claims ?? ((c) => c))(decodeJwt(body.id_token) as Record<string, unknown>);
            body.id_token = await new SignJWT(claims)
              .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' })
              .sign(rewrite.foreignKey ? foreign : key);
          }
          state.idTokens.push(body.id_token as string);
          out = JSON.stringify(body);
        }
      } catch {
        // Not a JSON answer.
      }
      if (!res.headersSent) res.setHeader('content-length', Buffer.byteLength(out));
      end(out);
    })();
    return res;
  }) as typeof res.end;
}
