// A real OAuth 2.0 authorization server on loopback for the external-auth
// tests (issue 22): panva's oidc-provider with the device flow, revocation
// and introspection, one confidential client, and its development login and
// consent pages, which `approve` fills in as the user would. The server can
// be made to refuse connections (`down`), hang, or answer 500, and every
// token it hands out is recorded (to look for it where it must not be).
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { closeAtEnd } from './cleanup.js';

export const CLIENT_ID = 'xivo-auth-test-client';
export const CLIENT_SECRET = 'oauth-client-secret-d41d8cd98f00b204e980';
export const SCOPES = ['openid', 'offline_access', 'contacts.read'];

export type ProviderMode = 'up' | 'down' | 'hang' | 'error';

export interface TestOAuthProvider {
  issuer: string;
  deviceAuthorizationUrl: string;
  tokenUrl: string;
  revocationUrl: string;
  /** Tokens and codes the server handed out (access, refresh, device codes). */
  issued: string[];
  /** Requests to the token endpoint, by grant type. */
  tokenRequests: string[];
  /** Seconds a device code lives (for codes issued from now on). */
  deviceCodeTtl: number;
  mode: ProviderMode;
  /** Approves (or denies) a user code through the server's pages, as the user would in a browser. */
  approve(verificationUri: string, userCode: string, options?: { deny?: boolean; login?: string }): Promise<void>;
  /** What a user does in the provider's account settings: ends the grant behind this access token (all its tokens). */
  revokeGrantOf(accessToken: string): Promise<void>;
  /** RFC 7662: is this token active? */
  introspect(token: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function startOAuthProvider(): Promise<TestOAuthProvider> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: Pick<TestOAuthProvider, 'issued' | 'tokenRequests' | 'deviceCodeTtl' | 'mode'> = {
    issued: [],
    tokenRequests: [],
    deviceCodeTtl: 600,
    mode: 'up',
  };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    scopes: SCOPES,
    // (The policies and pages given here only keep the server's notices off the test output.)
    features: {
      deviceFlow: {
        enabled: true,
        userCodeInputSource: async (ctx, form) => {
          ctx.body = `<html><body>${form}</body></html>`;
        },
        successSource: async (ctx) => {
          ctx.body = '<html><body><h1>Sign-in Success</h1></body></html>';
        },
      },
      revocation: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      devInteractions: { enabled: true },
    },
    cookies: { keys: ['xivo-auth-test-cookie-key'] },
    jwks: { keys: [generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })] },
    // Whoever logs in on the development login page is an account.
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    ttl: {
      DeviceCode: () => state.deviceCodeTtl,
      AccessToken: () => 3600,
      RefreshToken: () => 14 * 24 * 3600,
      IdToken: () => 3600,
      Grant: () => 14 * 24 * 3600,
      Interaction: () => 600,
      Session: () => 3600,
    },
    // Every refresh token is used once (the stricter case for the client).
    rotateRefreshToken: () => true,
  });
  provider.on('server_error', () => undefined);
  // Requests to the token endpoint, answered or refused (authorization_pending...).
  const grantType = (ctx: { oidc?: { params?: Record<string, unknown> } }) => {
    const grant = ctx.oidc?.params?.grant_type;
    if (typeof grant === 'string') state.tokenRequests.push(grant);
  };
  provider.on('grant.success', grantType);
  provider.on('grant.error', grantType);

  const handle = provider.callback();
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    if (state.mode === 'down') {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (req, res) => {
    if (state.mode === 'hang') return;
    if (state.mode === 'error') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
      return;
    }
    recordIssued(res, state);
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
  /** Follows redirects; returns the page it lands on. */
  const follow = async (res: Response): Promise<{ url: string; html: string }> => {
    let current = res;
    let url = current.url;
    for (let hops = 0; current.status >= 300 && current.status < 400; hops += 1) {
      if (hops > 10) throw new Error('too many redirects');
      url = new URL(current.headers.get('location')!, issuer).toString();
      current = await browse(url);
    }
    return { url, html: await current.text() };
  };
  const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  const formAction = (html: string) => /<form[^>]*action="([^"]+)"/.exec(html)?.[1];

  return {
    issuer,
    deviceAuthorizationUrl: `${issuer}/device/auth`,
    tokenUrl: `${issuer}/token`,
    revocationUrl: `${issuer}/token/revocation`,
    get issued() {
      return state.issued;
    },
    get tokenRequests() {
      return state.tokenRequests;
    },
    get deviceCodeTtl() {
      return state.deviceCodeTtl;
    },
    set deviceCodeTtl(v) {
      state.deviceCodeTtl = v;
    },
    get mode() {
      return state.mode;
    },
    set mode(v) {
      state.mode = v;
      if (v !== 'up') for (const socket of sockets) socket.destroy();
    },

    async approve(verificationUri, userCode, options = {}) {
      cookies.clear();
      // The code entry page (its form carries the anti-forgery value).
      const entry = await follow(await browse(verificationUri));
      const xsrf = field(entry.html, 'xsrf');
      if (xsrf === undefined) throw new Error(`no device form at ${entry.url}`);
      const decision: Record<string, string> = options.deny ? { abort: 'yes' } : { confirm: 'yes' };
      let page = await follow(await browse(verificationUri, { xsrf, user_code: userCode, ...decision }));
      if (options.deny) return;
      // Login, then consent (devInteractions), until the success page.
      for (let step = 0; step < 4 && !page.html.includes('Sign-in Success'); step += 1) {
        const action = formAction(page.html);
        const prompt = field(page.html, 'prompt');
        if (action === undefined || prompt === undefined)
          throw new Error(`unexpected page at ${page.url}: ${page.html.slice(0, 300)}`);
        const form: Record<string, string> =
          prompt === 'login' ? { prompt, login: options.login ?? 'provider-user', password: 'any' } : { prompt };
        page = await follow(await browse(action, form));
      }
      if (!page.html.includes('Sign-in Success')) throw new Error(`the device was not approved: ${page.html.slice(0, 300)}`);
    },

    async revokeGrantOf(accessToken) {
      const at = await provider.AccessToken.find(accessToken);
      if (at?.grantId === undefined) throw new Error('no grant behind this access token');
      await provider.AccessToken.revokeByGrantId(at.grantId);
      await provider.RefreshToken.revokeByGrantId(at.grantId);
      await (await provider.Grant.find(at.grantId))?.destroy();
    },

    async introspect(token) {
      const res = await fetch(`${issuer}/token/introspection`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
      });
      return ((await res.json()) as { active: boolean }).active;
    },

    close: closeAtEnd(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  };
}

/** Keeps the codes and tokens of the JSON answers. */
function recordIssued(res: http.ServerResponse, state: { issued: string[] }): void {
  const chunks: Buffer[] = [];
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (chunk) chunks.push(Buffer.from(chunk as string));
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof res.write;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as string));
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      for (const key of ['device_code', 'access_token', 'refresh_token', 'id_token']) {
        if (typeof body[key] === 'string') state.issued.push(body[key] as string);
      }
    } catch {
      // Not a JSON answer.
    }
    return (end as (...a: unknown[]) => http.ServerResponse)(chunk, ...rest);
  }) as typeof res.end;
}
