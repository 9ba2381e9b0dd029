// Token verification for services protected by xivo-auth.
//
// remote: every request asks xivo-auth (`GET /0.1/token/{token}?scope=...`),
//   compatible with any xivo-auth or wazo-auth.
// cached: the token RECORD (its ACL and identity) is fetched once and cached
//   by the SHA-256 of the token, for at most `ttl` and never past the token's
//   expiry; each access is then decided locally with @xivo-auth/acl, the same
//   matcher the server runs (a record checked for one access never lets the
//   token through for another it lacks). Entries are evicted when the bus
//   announces the session deleted; while the bus connection is down the cache
//   is flushed and bypassed (every request goes remote): fail closed.
import { createHash } from 'node:crypto';
import { compileAcl, type CompiledAcl } from '@xivo-auth/acl';
import { InvalidTokenError, MissingPermissionError, XivoAuthClient, type ClientOptions, type Token } from '@xivo-auth/client';
import { SessionEventListener, type BusOptions, type BusState } from './bus.js';
import { RecordCache } from './record-cache.js';

export type VerifierMode = 'remote' | 'cached';

export interface VerifierOptions {
  /** xivo-auth base URL, e.g. `http://127.0.0.1:9497`. */
  url?: string;
  /** Or a client of your own (its timeout and retries apply). */
  client?: XivoAuthClient;
  /** Options for the client created from `url` (timeout, agentOptions...). */
  clientOptions?: Omit<ClientOptions, 'url'>;
  /** Default `remote`. */
  mode?: VerifierMode;
  /** cached: longest time a record is used, in ms. Default 60000. */
  ttl?: number;
  /** cached: most records kept. Default 10000. */
  maxEntries?: number;
  /** cached: where `auth_session_deleted` events come from. Required in cached mode. */
  bus?: BusOptions;
  /** Clock in ms (tests). Default Date.now. */
  now?: () => number;
}

export interface Identity {
  authId: string;
  /** The user's uuid (metadata.uuid), or null. */
  userUuid: string | null;
  /** The token's own tenant. */
  tenantUuid: string | null;
  sessionUuid: string;
  purpose: string | null;
  pbxUserUuid: string | null;
  metadata: Record<string, unknown>;
}

/** What a protected handler sees as `request.auth`. */
export interface VerifierAuth {
  /** The caller's token (to call other services on its behalf). */
  token: string;
  identity: Identity;
  /** The tenant the request acts on: `Wazo-Tenant` when given (and allowed), else the token's. */
  tenantUuid: string | null;
  acl: readonly string[];
  /** When the token expires (ms since the epoch, local clock). */
  expiresAt: number;
  /** Does the token grant `access`? Decided locally from the token's ACL. */
  can(access: string): boolean;
}

export type DenyReason = 'not_found_or_expired' | 'missing_permission_or_invalid_tenant';

/** The request is refused: 401 (token) or 503 (xivo-auth unreachable). */
export class VerificationError extends Error {
  override name = 'VerificationError';
  constructor(
    readonly status: 401 | 503,
    readonly reason: DenyReason | 'service_unavailable',
    readonly requiredAccess: string | null,
    readonly hadToken: boolean,
    cause?: unknown,
  ) {
    super(status === 503 ? 'Authentication service unavailable' : 'Unauthorized', cause === undefined ? undefined : { cause });
  }
}

export interface VerifyRequest {
  token: string | null;
  /** The required access, already substituted; null: any valid token. */
  access: string | null;
  /** `Wazo-Tenant`, when the request names one. */
  tenant?: string | null;
}

export interface VerifierStats {
  remoteChecks: number;
  cacheHits: number;
  cacheEntries: number;
  evictions: number;
  flushes: number;
}

/** ms since the epoch of a `YYYY-MM-DDTHH:MM:SS.ffffff` UTC timestamp. */
function utcMs(value: string): number {
  const ms = Date.parse(`${value}Z`);
  if (Number.isNaN(ms)) throw new Error(`bad timestamp ${value}`);
  return ms;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

function identityOf(r: Omit<Token, 'token'>): Identity {
  const m = (r.metadata ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  return {
    authId: r.auth_id,
    userUuid: str(m.uuid) ?? r.uuid ?? null,
    tenantUuid: str(m.tenant_uuid),
    sessionUuid: r.session_uuid,
    purpose: str(m.purpose),
    pbxUserUuid: r.xivo_user_uuid ?? null,
    metadata: m,
  };
}

function authFrom(
  token: string,
  record: Omit<Token, 'token'>,
  acl: CompiledAcl,
  expiresAt: number,
  tenant: string | null,
): VerifierAuth {
  const identity = identityOf(record);
  const ctx = { authId: record.auth_id, sessionUuid: record.session_uuid };
  return {
    token,
    identity,
    tenantUuid: tenant ?? identity.tenantUuid,
    acl: acl.acl,
    expiresAt,
    can: (access: string) => acl.matches(access, ctx),
  };
}

export class Verifier {
  readonly mode: VerifierMode;
  readonly client: XivoAuthClient;
  private readonly ownClient: boolean;
  private readonly ttl: number;
  private readonly now: () => number;
  private readonly cache: RecordCache;
  private readonly bus: SessionEventListener | null;
  /** The cache is used only while the bus is up. */
  private cacheOn = false;
  /** Bumped by every eviction and flush: a fetch that raced one is not cached. */
  private epoch = 0;
  private readonly counters = { remoteChecks: 0, cacheHits: 0, evictions: 0, flushes: 0 };

  constructor(options: VerifierOptions) {
    this.mode = options.mode ?? 'remote';
    if (options.client === undefined && options.url === undefined) throw new TypeError('url or client is required');
    this.client = options.client ?? new XivoAuthClient({ url: options.url as string, ...options.clientOptions });
    this.ownClient = options.client === undefined;
    this.ttl = options.ttl ?? 60_000;
    this.now = options.now ?? Date.now;
    this.cache = new RecordCache(options.maxEntries ?? 10_000);
    if (this.mode === 'cached') {
      if (options.bus === undefined) {
        throw new TypeError('cached mode needs `bus`: without session events a revoked token would be served until the TTL');
      }
      this.bus = new SessionEventListener(options.bus, {
        onSessionDeleted: (session) => {
          this.epoch++;
          this.counters.evictions += this.cache.evictSession(session);
        },
        onUp: () => {
          this.epoch++;
          this.cache.clear();
          this.cacheOn = true;
        },
        onDown: () => {
          this.cacheOn = false;
          this.epoch++;
          this.cache.clear();
          this.counters.flushes++;
        },
      });
      this.bus.start();
    } else if (this.mode === 'remote') {
      this.bus = null;
    } else {
      throw new TypeError(`unknown mode ${String(this.mode)}`);
    }
  }

  /** cached: the bus connection's state; remote: null. */
  get busState(): BusState | null {
    return this.bus?.status ?? null;
  }

  /** Is the cache in use right now (cached mode with the bus up)? */
  get cacheActive(): boolean {
    return this.cacheOn;
  }

  get stats(): VerifierStats {
    return { ...this.counters, cacheEntries: this.cache.size };
  }

  /** Resolves when the verifier can use its cache (remote mode: at once). */
  async ready(): Promise<void> {
    await this.bus?.whenUp();
  }

  /** Forget a session's tokens (for callers with their own event source). */
  evictSession(sessionUuid: string): void {
    this.epoch++;
    this.counters.evictions += this.cache.evictSession(sessionUuid);
  }

  async close(): Promise<void> {
    this.cacheOn = false;
    this.cache.clear();
    await this.bus?.close();
    if (this.ownClient) this.client.close();
  }

  /** Resolves with the request's auth, or rejects with a VerificationError. */
  async verify(req: VerifyRequest): Promise<VerifierAuth> {
    const { token, access } = req;
    const tenant = typeof req.tenant === 'string' && req.tenant !== '' ? req.tenant : null;
    if (token === null || token === '') throw new VerificationError(401, 'not_found_or_expired', access, false);
    if (this.mode === 'remote') return this.remote(token, access, tenant);

    const now = this.now();
    const hash = tokenHash(token);
    let entry = this.cacheOn ? this.cache.get(hash, now) : null;
    if (entry !== null) {
      this.counters.cacheHits++;
    } else {
      const epoch = this.epoch;
      const fetched = await this.fetch(token, null, null, access);
      const expiresAt = now + fetched.remainingMs;
      entry = { record: fetched.record, acl: compileAcl(fetched.record.acl), expiresAt, validUntil: now + this.ttl };
      // Cache only when nothing was evicted or flushed meanwhile (the record
      // might predate a revocation) and the bus is up.
      if (this.cacheOn && epoch === this.epoch && fetched.remainingMs > 0) this.cache.set(hash, entry);
    }
    const record = entry.record;
    if (access !== null && !entry.acl.matches(access, { authId: record.auth_id, sessionUuid: record.session_uuid })) {
      throw new VerificationError(401, 'missing_permission_or_invalid_tenant', access, true);
    }
    const own = identityOf(record).tenantUuid;
    if (tenant !== null && tenant !== own) {
      // Is the tenant in the token's subtree? Only xivo-auth knows the tree.
      return this.remote(token, access, tenant);
    }
    return authFrom(token, record, entry.acl, entry.expiresAt, tenant);
  }

  private async remote(token: string, access: string | null, tenant: string | null): Promise<VerifierAuth> {
    const now = this.now();
    const fetched = await this.fetch(token, access, tenant);
    return authFrom(token, fetched.record, compileAcl(fetched.record.acl), now + fetched.remainingMs, tenant);
  }

  /** GET /token/{token}; the remaining life is measured on the server's clock. */
  private async fetch(
    token: string,
    access: string | null,
    tenant: string | null,
    reported: string | null = access,
  ): Promise<{ record: Omit<Token, 'token'>; remainingMs: number }> {
    this.counters.remoteChecks++;
    let answer: { body: { data: Token }; headers: Record<string, unknown> };
    try {
      answer = await this.client.transport.request<{ data: Token }>({
        method: 'GET',
        path: `/token/${encodeURIComponent(token)}`,
        query: { scope: access ?? undefined, tenant: tenant ?? undefined },
        tokenEndpoint: true,
        token: null,
      });
    } catch (err) {
      if (err instanceof InvalidTokenError && !(err instanceof MissingPermissionError)) {
        throw new VerificationError(401, 'not_found_or_expired', reported, true);
      }
      if (err instanceof MissingPermissionError) {
        throw new VerificationError(401, 'missing_permission_or_invalid_tenant', reported, true);
      }
      throw new VerificationError(503, 'service_unavailable', reported, true, err);
    }
    const { token: _secret, ...record } = answer.body.data;
    void _secret;
    // Remaining life on the server's clock (Date header, 1 s resolution:
    // counted as a full second less), so clock skew cannot extend it.
    const dateHeader = answer.headers.date;
    const serverNow = typeof dateHeader === 'string' ? Date.parse(dateHeader) : Number.NaN;
    const expires = utcMs(record.utc_expires_at);
    // xivo-auth just said the token is valid: this request passes; a record
    // with no life left is simply not reused (its expiresAt is already past).
    const remainingMs = Number.isNaN(serverNow) ? expires - Date.now() : expires - serverNow - 1000;
    return { record, remainingMs: Math.max(0, remainingMs) };
  }
}

export function createVerifier(options: VerifierOptions): Verifier {
  return new Verifier(options);
}
