// The /0.1 API as methods. Method and option names are camelCase; bodies and
// answers are the API's own JSON (see types.ts).
import type {
  ConfigPatchOperation,
  Group,
  GroupCreate,
  GroupUpdate,
  ListParams,
  MfaFactor,
  Page,
  Policy,
  PolicyCreate,
  PolicyUpdate,
  RecoveryCodes,
  RefreshToken,
  Session,
  Status,
  Tenant,
  TenantCreate,
  TenantDomain,
  TenantMfaPolicy,
  TenantUpdate,
  Token,
  TotpEnrolment,
  User,
  UserCreate,
  UserUpdate,
  UserEmail,
  UserEmailUpdate,
  UserListParams,
} from './types.js';
import { InvalidTokenError, MfaRequiredError, MissingPermissionError } from './errors.js';
import { seg, Transport, type CallOptions, type TransportOptions } from './transport.js';

export interface ClientOptions extends TransportOptions {
  /** X-Auth-Token for the management calls (can be changed later with `setToken`). */
  token?: string;
  /** Wazo-Tenant for every call that names none. */
  tenant?: string;
}

export interface TokenCreateOptions extends CallOptions {
  /** Login (username or email) and password: HTTP Basic. Omit them to log in with `refreshToken`. */
  username?: string;
  password?: string;
  /** Lifetime in seconds (default: the service's, 7200). */
  expiration?: number;
  /** Backend name (default `xivo_user`). */
  backend?: string;
  /** `offline` also issues a refresh token (needs `clientId`). */
  accessType?: 'online' | 'offline';
  clientId?: string;
  refreshToken?: string;
  tenantId?: string;
  domainName?: string;
  /** Mark the session (and refresh token) mobile: `Wazo-Session-Type: mobile`. */
  mobile?: boolean;
  /** Second step of a login with a second factor: the MfaRequiredError's `challenge`... */
  mfaChallenge?: string;
  /** ...and the current code of the user's TOTP factor, */
  totp?: string;
  /** ...or one of its recovery codes, */
  recoveryCode?: string;
  /**
   * ...or a passkey's assertion: `PublicKeyCredential.toJSON()` of
   * `navigator.credentials.get()` with the options of
   * `token.webauthnOptions(challenge)`.
   */
  webauthn?: Record<string, unknown>;
  /** Single sign-on: the `oidc_session_id` of POST /oidc/authorize, once the IdP called back (single use). */
  oidcSessionId?: string;
  /** Single sign-on: a `saml_session_id` (single use). */
  samlSessionId?: string;
}

/** What answers a second-factor challenge. */
export type SecondFactorAnswer = { totp: string } | { recoveryCode: string } | { webauthn: Record<string, unknown> };

/** What createWithSecondFactor's `answer` is given. */
export interface SecondFactorChallenge {
  /** The user's factor types: `totp`, `webauthn`, `recovery_code`. */
  factors: string[];
  /** The previous answer was wrong. */
  failed: boolean;
  /** The challenge being answered (single use). */
  challenge: string;
  /** For a passkey: the options of `navigator.credentials.get()` answering this challenge (POST /mfa/webauthn/options). */
  webauthnOptions(): Promise<Record<string, unknown>>;
}

export interface TokenCheckOptions extends CallOptions {
  /** One required access, e.g. `confd.users.read`. */
  scope?: string;
  /** The token's tenant must be this one or an ancestor of it. */
  tenantUuid?: string;
}

export interface IterateOptions extends ListParams, CallOptions {
  /** Items fetched per request while iterating. Default 100. */
  pageSize?: number;
}

type ListFn<T> = (params: ListParams & CallOptions) => Promise<Page<T>>;

/** An async iterator over every item of a paginated list, one page at a time. */
async function* paginate<T>(list: ListFn<T>, options: IterateOptions = {}): AsyncGenerator<T, void, undefined> {
  const { pageSize = 100, limit, offset = 0, ...rest } = options;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer');
  let next = offset;
  let remaining = limit ?? Infinity;
  while (remaining > 0) {
    const size = Math.min(pageSize, remaining);
    const page = await list({ ...rest, offset: next, limit: size });
    for (const item of page.items) yield item;
    if (page.items.length < size) return;
    next += page.items.length;
    remaining -= page.items.length;
  }
}

function listQuery(p: ListParams): Record<string, string | number | boolean | undefined> {
  return { order: p.order, direction: p.direction, limit: p.limit, offset: p.offset, search: p.search, recurse: p.recurse };
}

function userListQuery(p: UserListParams): Record<string, string | number | boolean | undefined> {
  return {
    ...listQuery(p),
    uuid: p.uuid,
    username: p.username,
    firstname: p.firstname,
    lastname: p.lastname,
    purpose: p.purpose,
    email_address: p.email_address,
    group_uuid: p.group_uuid,
    policy_uuid: p.policy_uuid,
    policy_slug: p.policy_slug,
    has_policy_uuid: p.has_policy_uuid,
    has_policy_slug: p.has_policy_slug,
  };
}

function callOpts(o: CallOptions | undefined): CallOptions {
  if (o === undefined) return {};
  const { signal, timeout, tenant, token } = o;
  return { signal, timeout, tenant, token };
}

/** `'me'` or a uuid, as a path segment. */
function who(userUuid: string): string {
  return seg(userUuid);
}

export class XivoAuthClient {
  readonly transport: Transport;

  constructor(options: ClientOptions) {
    this.transport = new Transport(options);
    if (options.token !== undefined) this.transport.token = options.token;
    if (options.tenant !== undefined) this.transport.tenant = options.tenant;
  }

  /** The X-Auth-Token used by calls that name none (null: none). */
  setToken(token: string | null): void {
    this.transport.token = token;
  }

  /** The X-Auth-Token currently used by calls that name none. */
  get currentToken(): string | null {
    return this.transport.token;
  }

  /** Wazo-Tenant for calls that name none (null: the token's tenant). */
  setTenant(tenant: string | null): void {
    this.transport.tenant = tenant;
  }

  /** Close idle keep-alive connections. */
  close(): void {
    this.transport.close();
  }

  private async json<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    o: CallOptions | undefined,
    body?: unknown,
    query?: Record<string, string | number | boolean | undefined>,
  ): Promise<T> {
    const res = await this.transport.request<T>({ method, path, body, query, ...callOpts(o) });
    return res.body;
  }

  private async noContent(method: 'PUT' | 'DELETE', path: string, o: CallOptions | undefined): Promise<void> {
    await this.transport.request({ method, path, ...callOpts(o) });
  }

  private lister<T>(
    path: string,
    query: (p: ListParams) => Record<string, string | number | boolean | undefined> = listQuery,
  ): ListFn<T> {
    return (p) => this.json<Page<T>>('GET', path, p, undefined, query(p));
  }

  readonly token = this.makeTokenApi();
  readonly refreshTokens = {
    /** Refresh tokens of the caller's tenant (`auth.tokens.read`). */
    list: (p: ListParams & CallOptions = {}) => this.lister<RefreshToken>('/tokens')(p),
    iterate: (p: IterateOptions = {}) => paginate(this.lister<RefreshToken>('/tokens'), p),
    /** Refresh tokens of a user (`'me'`: the caller). */
    listForUser: (userUuid: string, p: ListParams & CallOptions = {}) =>
      this.lister<RefreshToken>(`/users/${who(userUuid)}/tokens`)(p),
    /** Delete a user's refresh token (`'me'`: the caller). Access tokens already issued stay valid. */
    delete: (userUuid: string, clientId: string, o?: CallOptions) =>
      this.noContent('DELETE', `/users/${who(userUuid)}/tokens/${seg(clientId)}`, o),
  };

  readonly users = {
    list: (p: UserListParams & CallOptions = {}) => this.lister<User>('/users', userListQuery)(p),
    iterate: (p: IterateOptions & UserListParams = {}) => paginate(this.lister<User>('/users', userListQuery), p),
    get: (uuid: string, o?: CallOptions) => this.json<User>('GET', `/users/${seg(uuid)}`, o),
    create: (body: UserCreate, o?: CallOptions) => this.json<User>('POST', '/users', o, body),
    update: (uuid: string, body: UserUpdate, o?: CallOptions) => this.json<User>('PUT', `/users/${seg(uuid)}`, o, body),
    delete: (uuid: string, o?: CallOptions) => this.noContent('DELETE', `/users/${seg(uuid)}`, o),
    /** Replaces every address of the user; `admin` (PUT /admin/users/{u}/emails) may set `confirmed`. */
    updateEmails: (uuid: string, emails: UserEmailUpdate[], o?: CallOptions & { admin?: boolean }) =>
      this.json<UserEmail[]>('PUT', `${o?.admin === true ? '/admin' : ''}/users/${seg(uuid)}/emails`, o, { emails }),
    /** Change a password (revokes the user's sessions). */
    changePassword: async (uuid: string, p: { oldPassword: string; newPassword: string }, o?: CallOptions) => {
      await this.transport.request({
        method: 'PUT',
        path: `/users/${seg(uuid)}/password`,
        body: { old_password: p.oldPassword, new_password: p.newPassword },
        ...callOpts(o),
      });
    },
    policies: (uuid: string, p: ListParams & CallOptions = {}) => this.lister<Policy>(`/users/${seg(uuid)}/policies`)(p),
    addPolicy: (uuid: string, policyUuid: string, o?: CallOptions) =>
      this.noContent('PUT', `/users/${seg(uuid)}/policies/${seg(policyUuid)}`, o),
    removePolicy: (uuid: string, policyUuid: string, o?: CallOptions) =>
      this.noContent('DELETE', `/users/${seg(uuid)}/policies/${seg(policyUuid)}`, o),
    groups: (uuid: string, p: ListParams & CallOptions = {}) => this.lister<Group>(`/users/${seg(uuid)}/groups`)(p),
    sessions: (uuid: string, p: ListParams & CallOptions = {}) => this.lister<Session>(`/users/${seg(uuid)}/sessions`)(p),
    deleteSession: (uuid: string, sessionUuid: string, o?: CallOptions) =>
      this.noContent('DELETE', `/users/${seg(uuid)}/sessions/${seg(sessionUuid)}`, o),
    /**
     * Second factors (README "Multi-factor authentication"). An administrator
     * lists and removes a user's (`auth.users.{uuid}.mfa.read`,
     * `auth.users.{uuid}.mfa.{factor}.delete`); enrolment is the user's own,
     * with its token (`o.token`: also the enrolment-only token of an
     * MfaEnrolmentRequiredError).
     */
    mfa: {
      /** The user's factors (`'me'`: the caller), never their secrets. */
      list: (userUuid: string, o?: CallOptions) => this.json<Page<MfaFactor>>('GET', `/users/${who(userUuid)}/mfa`, o),
      /** Removes a factor (`'me'`: the caller's); a login no longer asks for it. */
      delete: (userUuid: string, factorUuid: string, o?: CallOptions) =>
        this.noContent('DELETE', `/users/${who(userUuid)}/mfa/${seg(factorUuid)}`, o),
      /** Starts a TOTP enrolment of the caller: the secret, shown once; then confirmTotp() with a code. */
      enrolTotp: (p: { name?: string } = {}, o?: CallOptions) =>
        this.json<TotpEnrolment>('POST', '/users/me/mfa/totp', o, p.name === undefined ? {} : { name: p.name }),
      /** Confirms the caller's new TOTP factor with its current code (InvalidDataError otherwise). */
      confirmTotp: async (factorUuid: string, code: string, o?: CallOptions): Promise<void> => {
        await this.transport.request({
          method: 'PUT',
          path: `/users/me/mfa/totp/${seg(factorUuid)}/confirm`,
          body: { code },
          ...callOpts(o),
        });
      },
      /** 10 new single-use recovery codes of the caller, replacing the previous ones; shown once. */
      newRecoveryCodes: (o?: CallOptions) => this.json<RecoveryCodes>('POST', '/users/me/mfa/recovery_codes', o, {}),
    },
  };

  readonly tenants = {
    list: (p: ListParams & CallOptions = {}) => this.lister<Tenant>('/tenants')(p),
    iterate: (p: IterateOptions = {}) => paginate(this.lister<Tenant>('/tenants'), p),
    get: (uuid: string, o?: CallOptions) => this.json<Tenant>('GET', `/tenants/${seg(uuid)}`, o),
    create: (body: TenantCreate, o?: CallOptions) => this.json<Tenant>('POST', '/tenants', o, body),
    update: (uuid: string, body: TenantUpdate, o?: CallOptions) => this.json<Tenant>('PUT', `/tenants/${seg(uuid)}`, o, body),
    delete: (uuid: string, o?: CallOptions) => this.noContent('DELETE', `/tenants/${seg(uuid)}`, o),
    /** The tenant's domain names (`auth.tenants.{uuid}.domains.read`). */
    domains: (uuid: string, o?: CallOptions) =>
      this.json<{ total: number; items: TenantDomain[] }>('GET', `/tenants/${seg(uuid)}/domains`, o),
    /** Moves the tenant under `parentUuid` (`auth.tenants.{uuid}.parent.{parentUuid}.update`). */
    setParent: (uuid: string, parentUuid: string, o?: CallOptions) =>
      this.noContent('PUT', `/tenants/${seg(uuid)}/parent/${seg(parentUuid)}`, o),
    /** The tenant's `mfa.required_for` rule and the effective one (`auth.tenants.{uuid}.mfa.read`). */
    mfa: (uuid: string, o?: CallOptions) => this.json<TenantMfaPolicy>('GET', `/tenants/${seg(uuid)}/mfa`, o),
    /**
     * Replaces the tenant's rule (`auth.tenants.{uuid}.mfa.update`); it adds
     * to the configuration's and its ancestors', and applies to sub-tenants.
     */
    setMfa: (uuid: string, requiredFor: TenantMfaPolicy['required_for'], o?: CallOptions) =>
      this.json<TenantMfaPolicy>('PUT', `/tenants/${seg(uuid)}/mfa`, o, { required_for: requiredFor }),
  };

  readonly groups = {
    list: (p: ListParams & CallOptions = {}) => this.lister<Group>('/groups')(p),
    iterate: (p: IterateOptions = {}) => paginate(this.lister<Group>('/groups'), p),
    get: (uuid: string, o?: CallOptions) => this.json<Group>('GET', `/groups/${seg(uuid)}`, o),
    create: (body: GroupCreate, o?: CallOptions) => this.json<Group>('POST', '/groups', o, body),
    update: (uuid: string, body: GroupUpdate, o?: CallOptions) => this.json<Group>('PUT', `/groups/${seg(uuid)}`, o, body),
    delete: (uuid: string, o?: CallOptions) => this.noContent('DELETE', `/groups/${seg(uuid)}`, o),
    users: (uuid: string, p: ListParams & CallOptions = {}) => this.lister<User>(`/groups/${seg(uuid)}/users`)(p),
    iterateUsers: (uuid: string, p: IterateOptions = {}) => paginate(this.lister<User>(`/groups/${seg(uuid)}/users`), p),
    addUser: (uuid: string, userUuid: string, o?: CallOptions) =>
      this.noContent('PUT', `/groups/${seg(uuid)}/users/${seg(userUuid)}`, o),
    removeUser: (uuid: string, userUuid: string, o?: CallOptions) =>
      this.noContent('DELETE', `/groups/${seg(uuid)}/users/${seg(userUuid)}`, o),
    policies: (uuid: string, p: ListParams & CallOptions = {}) => this.lister<Policy>(`/groups/${seg(uuid)}/policies`)(p),
    addPolicy: (uuid: string, policyUuid: string, o?: CallOptions) =>
      this.noContent('PUT', `/groups/${seg(uuid)}/policies/${seg(policyUuid)}`, o),
    removePolicy: (uuid: string, policyUuid: string, o?: CallOptions) =>
      this.noContent('DELETE', `/groups/${seg(uuid)}/policies/${seg(policyUuid)}`, o),
  };

  readonly policies = {
    list: (p: ListParams & CallOptions = {}) => this.lister<Policy>('/policies')(p),
    iterate: (p: IterateOptions = {}) => paginate(this.lister<Policy>('/policies'), p),
    get: (uuid: string, o?: CallOptions) => this.json<Policy>('GET', `/policies/${seg(uuid)}`, o),
    create: (body: PolicyCreate, o?: CallOptions) => this.json<Policy>('POST', '/policies', o, body),
    update: (uuid: string, body: PolicyUpdate, o?: CallOptions) => this.json<Policy>('PUT', `/policies/${seg(uuid)}`, o, body),
    delete: (uuid: string, o?: CallOptions) => this.noContent('DELETE', `/policies/${seg(uuid)}`, o),
    /** Add one access to the policy's ACL (a `#` is sent escaped). */
    addAccess: (uuid: string, access: string, o?: CallOptions) =>
      this.noContent('PUT', `/policies/${seg(uuid)}/acl/${seg(access)}`, o),
    removeAccess: (uuid: string, access: string, o?: CallOptions) =>
      this.noContent('DELETE', `/policies/${seg(uuid)}/acl/${seg(access)}`, o),
  };

  readonly sessions = {
    list: (p: ListParams & CallOptions = {}) => this.lister<Session>('/sessions')(p),
    iterate: (p: IterateOptions = {}) => paginate(this.lister<Session>('/sessions'), p),
    /** Delete a session: its tokens stop working at once. */
    delete: (uuid: string, o?: CallOptions) => this.noContent('DELETE', `/sessions/${seg(uuid)}`, o),
  };

  readonly backends = {
    /** Names of the enabled backends (no token needed). */
    list: async (o?: CallOptions): Promise<string[]> => (await this.json<{ data: string[] }>('GET', '/backends', o)).data,
  };

  readonly status = {
    /** Health of the service and its components; answered for 200 and 503 alike. */
    get: async (o?: CallOptions): Promise<Status> =>
      (await this.transport.request<Status>({ method: 'GET', path: '/status', accept: [200, 503], ...callOpts(o) })).body,
    /** True when the service answers 200 to `HEAD /status`. */
    isHealthy: async (o?: CallOptions): Promise<boolean> =>
      (await this.transport.request({ method: 'HEAD', path: '/status', accept: [200, 503], ...callOpts(o) })).status === 200,
  };

  readonly config = {
    /** The running configuration, secrets masked (`auth.config.read`, top tenant). */
    get: (o?: CallOptions) => this.json<Record<string, unknown>>('GET', '/config', o),
    /** JSON-patch the running configuration (`auth.config.update`); only `/debug` today. */
    patch: (operations: ConfigPatchOperation[], o?: CallOptions) =>
      this.json<Record<string, unknown>>('PATCH', '/config', o, operations),
  };

  private makeTokenApi() {
    return {
      /**
       * Log in: HTTP Basic with `username`/`password`, or `refreshToken` with
       * `clientId`. Not retried (a retry could open a second session).
       */
      create: async (o: TokenCreateOptions): Promise<Token> => {
        const headers: Record<string, string> = {};
        if (o.username !== undefined || o.password !== undefined) {
          const basic = base64Utf8(`${o.username ?? ''}:${o.password ?? ''}`);
          headers.authorization = `Basic ${basic}`;
        }
        if (o.mobile === true) headers['wazo-session-type'] = 'mobile';
        const body: Record<string, unknown> = {};
        if (o.expiration !== undefined) body.expiration = o.expiration;
        if (o.backend !== undefined) body.backend = o.backend;
        if (o.accessType !== undefined) body.access_type = o.accessType;
        if (o.clientId !== undefined) body.client_id = o.clientId;
        if (o.refreshToken !== undefined) body.refresh_token = o.refreshToken;
        if (o.oidcSessionId !== undefined) body.oidc_session_id = o.oidcSessionId;
        if (o.samlSessionId !== undefined) body.saml_session_id = o.samlSessionId;
        if (o.tenantId !== undefined) body.tenant_id = o.tenantId;
        if (o.domainName !== undefined) body.domain_name = o.domainName;
        if (o.mfaChallenge !== undefined) body.mfa_challenge = o.mfaChallenge;
        if (o.totp !== undefined) body.totp = o.totp;
        if (o.recoveryCode !== undefined) body.recovery_code = o.recoveryCode;
        if (o.webauthn !== undefined) body.webauthn = o.webauthn;
        const res = await this.transport.request<{ data: Token }>({
          method: 'POST',
          path: '/token',
          body,
          headers,
          tokenEndpoint: true,
          ...callOpts(o),
          token: null,
        });
        return res.body.data;
      },
      /**
       * A login that answers a second-factor challenge when one comes
       * (README "Multi-factor authentication"): `answer` is asked for a code
       * with the user's factor types and whether the previous code was
       * wrong, at most `attempts` times (default 3). Users without a factor
       * log in with one request, as with create(). A single sign-on login
       * (`oidcSessionId`, `samlSessionId`: used up by the first request)
       * answers with the challenge alone: it carries the user the identity
       * provider proved. For a passkey, `answer` gets the assertion options
       * with `webauthnOptions()` and returns `{webauthn: assertion}`.
       */
      createWithSecondFactor: async (
        o: TokenCreateOptions,
        answer: (challenge: SecondFactorChallenge) => Promise<SecondFactorAnswer>,
        attempts = 3,
      ): Promise<Token> => {
        let pending: MfaRequiredError;
        try {
          return await this.token.create(o);
        } catch (err) {
          if (!(err instanceof MfaRequiredError)) throw err;
          pending = err;
        }
        const { oidcSessionId: _oidc, samlSessionId: _saml, ...again } = o;
        for (let i = 0; ; i += 1) {
          const challenge = pending.challenge;
          const given = await answer({
            factors: pending.factors,
            failed: pending.failed,
            challenge,
            webauthnOptions: () => this.token.webauthnOptions(challenge, callOpts(o)),
          });
          try {
            return await this.token.create({ ...again, mfaChallenge: pending.challenge, ...given });
          } catch (err) {
            if (!(err instanceof MfaRequiredError) || i + 1 >= attempts) throw err;
            pending = err;
          }
        }
      },
      /**
       * The options of a passkey assertion answering `mfaChallenge` (no
       * token: the challenge stands for the password), for
       * `navigator.credentials.get({publicKey:
       * PublicKeyCredential.parseRequestOptionsFromJSON(options)})`; then
       * token.create() with `mfaChallenge` and `webauthn:
       * credential.toJSON()`. NotFoundError when the challenge is not live or
       * the user has no passkey.
       */
      webauthnOptions: async (mfaChallenge: string, o: CallOptions = {}): Promise<Record<string, unknown>> => {
        const res = await this.transport.request<Record<string, unknown>>({
          method: 'POST',
          path: '/mfa/webauthn/options',
          body: { mfa_challenge: mfaChallenge },
          ...callOpts(o),
          token: null,
        });
        return res.body;
      },
      /** The token's details; throws InvalidTokenError / MissingPermissionError. */
      get: async (token: string, o: TokenCheckOptions = {}): Promise<Token> => {
        const res = await this.transport.request<{ data: Token }>({
          method: 'GET',
          path: `/token/${seg(token)}`,
          query: { scope: o.scope, tenant: o.tenantUuid },
          tokenEndpoint: true,
          ...callOpts(o),
          token: null,
        });
        return res.body.data;
      },
      /** Resolves when valid (and granting `scope`); throws InvalidTokenError / MissingPermissionError. */
      check: async (token: string, o: TokenCheckOptions = {}): Promise<void> => {
        await this.transport.request({
          method: 'HEAD',
          path: `/token/${seg(token)}`,
          query: { scope: o.scope, tenant: o.tenantUuid },
          tokenEndpoint: true,
          ...callOpts(o),
          token: null,
        });
      },
      /** true / false for valid / invalid or lacking the scope; other failures still throw. */
      isValid: async (token: string, o: TokenCheckOptions = {}): Promise<boolean> => {
        try {
          await this.token.check(token, o);
          return true;
        } catch (err) {
          if (err instanceof InvalidTokenError || err instanceof MissingPermissionError) return false;
          throw err;
        }
      },
      /** Revoke a token (succeeds for unknown tokens too). */
      revoke: async (token: string, o: CallOptions = {}): Promise<void> => {
        await this.transport.request({
          method: 'DELETE',
          path: `/token/${seg(token)}`,
          tokenEndpoint: true,
          ...callOpts(o),
          token: null,
        });
      },
      /** Several scopes at once: `{ scope: granted }`. */
      checkScopes: async (
        token: string,
        scopes: string[],
        o: CallOptions & { tenantUuid?: string } = {},
      ): Promise<Record<string, boolean>> => {
        const body: Record<string, unknown> = { scopes };
        if (o.tenantUuid !== undefined) body.tenant_uuid = o.tenantUuid;
        const res = await this.transport.request<{ scopes: Record<string, boolean> }>({
          method: 'POST',
          path: `/token/${seg(token)}/scopes/check`,
          body,
          tokenEndpoint: true,
          safe: true,
          ...callOpts(o),
          token: null,
        });
        return res.body.scopes;
      },
    };
  }
}

/** Base64 of a string's UTF-8 bytes, in Node (Buffer) and in browsers (btoa). */
function base64Utf8(text: string): string {
  if (typeof Buffer !== 'undefined') return Buffer.from(text, 'utf8').toString('base64');
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
