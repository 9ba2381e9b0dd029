// The token service: issue, check, revoke, refresh. HTTP-free: the routes
// hand it plain values and shape what it returns.
import { randomUUID } from 'node:crypto';
import { compileAcl } from '@xivo-auth/acl';
import type { BackendRegistry } from '../backends/registry.js';
import type { Identity, LoginContext, ProvenPrincipal } from '../backends/types.js';
import { loginMethodOfBackend } from '../sso/authentication-methods.js';
import type { Clock } from '../clock.js';
import type { Purpose } from '../identity/types.js';
import {
  AtCapacityError,
  AuthenticationFailedError,
  NoSuchTokenError,
  NotFoundError,
  ScopeDeniedError,
  ServiceUnavailableError,
  TenantDeniedError,
  TooManySessionsError,
} from '../errors.js';
import {
  CHECK_DENIED,
  CHECK_ERROR,
  CHECK_INVALID,
  CHECK_VALID,
  type CheckResult,
  type LoginResult,
  NO_TOKEN_OBSERVER,
  type TokenObserver,
} from '../metrics/token-observer.js';
import type { AuditEntry } from '../security/audit.js';
import type { ListQuery, ListResult } from '../lists.js';
import type { AuditRecord } from '../security/types.js';
import type { IssueRequest } from '../tokens/types.js';
import type { SecondFactorGate, SsoProven } from '../mfa/types.js';
import type { TokenStoreTx } from '../tokens/store.js';
import type { TokenServiceStore } from './store.js';
import type {
  RefreshToken,
  RefreshTokenUse,
  Removal,
  RetiredRefreshToken,
  TokenRecord,
  UserRevocation,
} from '../tokens/types.js';
import type { CachedToken, TokenCache } from '../tokens/cache.js';
import { generateToken, hashToken, MAX_TOKEN_LENGTH } from '../tokens/material.js';
import { refreshTokenExpiry, type RefreshTokenLimits } from '../tokens/refresh-expiry.js';

export type Credentials =
  | { kind: 'password'; login: string; password: string }
  | { kind: 'refresh'; refreshToken: string }
  /** A login an identity provider vouched for (issue 23): the SAML or OIDC session's user, through req.backend's identify. */
  | {
      kind: 'sso';
      method: 'saml' | 'oidc';
      principal: ProvenPrincipal;
      /** The SSO session's reference, for the second-factor gate (issue 24). */
      ref?: string | null;
      /** The principal comes from an mfa_challenge (the second step of an SSO login with a factor): when its proof runs out. */
      provenUntil?: number | null;
    };

/** Which way each user may log in (src/sso/authentication-methods.ts). */
export interface LoginMethodPolicy {
  /** `known`: the user's method and its tenant's default, when the backend read them with the user (Identity.authentication). */
  allows(userUuid: string, method: 'native' | 'ldap' | 'saml' | 'oidc', known?: Identity['authentication']): Promise<boolean>;
}

/**
 * Writes of the caller's, made in the transaction that stores a new token:
 * through tx.settleLogin only (the login's writes may be deferred and sent
 * as one statement, IssueTransactionOptions in ../tokens/store.ts).
 */
export type WithinIssueCommit = (tx: TokenStoreTx, record: TokenRecord) => Promise<void>;

/** The ACL a login's identity gets (src/identity/acl-builder.ts). */
export interface TokenAclSource {
  build(identity: Identity): Promise<string[]>;
}

/** Tenant ancestry (src/identity/tenant-tree.ts): the tenant checks of tokens and refresh-token listings. */
export interface TenantScope {
  isSameOrDescendant(ancestor: string, candidate: string): Promise<boolean>;
  /** The tenant and every descendant (uuids). */
  subtree(root: string): Promise<string[]>;
}

export interface IssuedToken {
  token: string;
  record: TokenRecord;
  refreshToken: string | null;
  /** Pre-existing sessions this login revoked (`Wazo-Sessions-Revoked`): a mobile offline login supersedes the user's mobile refresh tokens. */
  sessionsRevoked: number;
  /** Set when the token is restricted by the second-factor gate (`mfa-enrolment-required`). */
  restricted?: string | null;
}

export interface TokenServiceOptions {
  defaultLifetimeSeconds: number;
  maxUserSessions: number;
  xivoUuid: string | null;
  /** Seconds a client should wait when the hashing pool is saturated. */
  busyRetryAfterSeconds?: number;
  /** The refresh-token lifecycle (config `refresh_tokens`); absent: wazo-auth's (no limit, no rotation). */
  refreshTokens?: RefreshTokenPolicy;
}

/** Config `refresh_tokens` (README, docs/security.md "Refresh-token lifecycle"); 0 turns a limit off. */
export interface RefreshTokenPolicy extends RefreshTokenLimits {
  rotation: boolean;
  reuseGraceSeconds: number;
}

const WAZO_REFRESH_TOKENS: RefreshTokenPolicy = {
  idleTimeoutSeconds: 0,
  absoluteLifetimeSeconds: 0,
  rotation: false,
  reuseGraceSeconds: 0,
};

/**
 * Retired hashes kept per refresh-token family (the newest): a reuse is
 * recognised among the last this many rotations; an older token is only
 * unknown (401 all the same, without revoking the family). Bounds the table
 * to this many rows per live family, however often it refreshes.
 */
export const RETIRED_KEPT_PER_FAMILY = 50;

/** Where the service writes the audit record of a refresh-token reuse (the AuditRecorder). */
export interface ReuseAudit {
  prepare(entry: AuditEntry): AuditRecord | null;
  announce(record: AuditRecord): void;
}

/** The refresh token's hash changed (a concurrent rotation) or it went between its lookup and the login's commit. */
class RefreshTokenGoneError extends Error {}

/** How a failed check is counted. */
function checkResultOf(err: unknown): CheckResult {
  if (err instanceof NoSuchTokenError) return CHECK_INVALID;
  if (err instanceof ScopeDeniedError || err instanceof TenantDeniedError) return CHECK_DENIED;
  return CHECK_ERROR;
}

function loginResultOf(err: unknown): LoginResult {
  // A wrong second factor (401 mfa-invalid) too; mfa-required is not one.
  if (err instanceof AuthenticationFailedError || (err as { errorId?: string }).errorId === 'mfa-invalid') return 'failure';
  if (err instanceof ServiceUnavailableError || err instanceof TooManySessionsError) return 'throttled';
  return 'error';
}

/** RFC 7009 `token_type_hint`. */
export type TokenTypeHint = 'access_token' | 'refresh_token';

/** Purposes whose concurrent sessions are capped. */
const CAPPED: readonly Purpose[] = ['user', 'external_api'];
const CAPPED_PURPOSES: ReadonlySet<string> = new Set(CAPPED);

export class TokenService {
  private readonly refreshPolicy: RefreshTokenPolicy;
  /** Set by the composition root (the audit trail is built after the service). */
  private reuseAudit: ReuseAudit | null = null;
  /** Set by the composition root (src/wiring/mfa.ts). */
  private secondFactor: SecondFactorGate | null = null;
  /** Set by the composition root (issue 23); null: every way is allowed. */
  private loginMethods: LoginMethodPolicy | null = null;

  constructor(
    private readonly store: TokenServiceStore,
    private readonly backends: BackendRegistry,
    private readonly aclBuilder: TokenAclSource,
    private readonly tenants: TenantScope,
    private readonly cache: TokenCache,
    private readonly clock: Clock,
    private readonly options: TokenServiceOptions,
    private readonly observer: TokenObserver = NO_TOKEN_OBSERVER,
  ) {
    this.refreshPolicy = options.refreshTokens ?? WAZO_REFRESH_TOKENS;
  }

  /** The second factor of password logins (issue 24); null: none asked. */
  requireSecondFactorWith(gate: SecondFactorGate | null): void {
    this.secondFactor = gate;
  }

  /** Refuse logins by a way the user is not allowed (issue 23). */
  enforceLoginMethodsWith(policy: LoginMethodPolicy | null): void {
    this.loginMethods = policy;
  }

  /** Where a refresh-token reuse is audited (in the transaction that revokes its family). */
  auditReuseWith(audit: ReuseAudit | null): void {
    this.reuseAudit = audit;
  }

  /**
   * `withinCommit` runs in the transaction that stores the token (the login
   * guard's writes: throttle counters, audit record), so that they commit together.
   */
  async issue(credentials: Credentials, req: IssueRequest, withinCommit?: WithinIssueCommit): Promise<IssuedToken> {
    const started = performance.now();
    // The label is a configured backend name, never what the client sent.
    let backendLabel = 'unknown';
    try {
      const issued = await this.issueFor(
        credentials,
        req,
        (name) => {
          backendLabel = name;
        },
        withinCommit,
      );
      this.observer.loggedIn(backendLabel, 'success', (performance.now() - started) / 1000);
      this.observer.issued(credentials.kind === 'refresh' ? 'refresh_token' : 'password');
      return issued;
    } catch (err) {
      this.observer.loggedIn(backendLabel, loginResultOf(err), (performance.now() - started) / 1000);
      throw err;
    }
  }

  private async issueFor(
    credentials: Credentials,
    req: IssueRequest,
    noteBackend: (name: string) => void,
    withinCommit: WithinIssueCommit | undefined,
  ): Promise<IssuedToken> {
    const ctx: LoginContext = { tenantUuid: req.tenantId, domainName: req.domainName, remoteAddr: req.remoteAddr };
    let backendName = req.backend;
    let login: string;
    let identity: Identity | null;
    let fromRefresh: RefreshToken | null = null;

    if (credentials.kind === 'refresh') {
      const presented = hashToken(credentials.refreshToken);
      fromRefresh = await this.store.findRefreshTokenByHash(presented);
      if (fromRefresh === null) {
        // Unknown, or rotated away: a reuse revokes the family (past the grace).
        await this.refuseRetired(presented, req);
        throw new AuthenticationFailedError();
      }
      if (fromRefresh.clientId !== req.clientId || this.refreshTokenExpired(fromRefresh)) throw new AuthenticationFailedError();
      const backend = this.backends.get(fromRefresh.backend);
      if (backend?.identify === undefined) throw new AuthenticationFailedError();
      backendName = backend.name;
      noteBackend(backendName);
      login = fromRefresh.login;
      // The refresh token's own user in its own tenant, never whoever the
      // stored login names today.
      identity = await backend.identify(
        { userUuid: fromRefresh.userUuid, tenantUuid: fromRefresh.tenantUuid, login },
        { ...ctx, tenantUuid: fromRefresh.tenantUuid },
      );
      if (identity !== null && (identity.userUuid !== fromRefresh.userUuid || identity.tenantUuid !== fromRefresh.tenantUuid)) {
        identity = null;
      }
    } else if (credentials.kind === 'sso') {
      const backend = this.backends.get(req.backend);
      if (backend?.identify === undefined) throw new AuthenticationFailedError();
      backendName = backend.name;
      noteBackend(backendName);
      login = credentials.principal.login;
      identity = await backend.identify(credentials.principal, { ...ctx, tenantUuid: credentials.principal.tenantUuid });
      if (
        identity !== null &&
        (identity.userUuid !== credentials.principal.userUuid || identity.tenantUuid !== credentials.principal.tenantUuid)
      ) {
        identity = null;
      }
    } else {
      const backend = this.backends.get(req.backend);
      if (backend === null) throw new AuthenticationFailedError();
      backendName = backend.name;
      noteBackend(backendName);
      login = credentials.login;
      try {
        // The session cap's count read with the user, where the backend can (Identity.liveSessions).
        const liveSessions = { now: this.clock.now(), atMost: this.options.maxUserSessions, purposes: CAPPED };
        identity = await backend.verifyPassword(login, credentials.password, { ...ctx, liveSessions });
      } catch (err) {
        if (err instanceof AtCapacityError) {
          throw new ServiceUnavailableError('Too many logins in progress', this.options.busyRetryAfterSeconds ?? 1);
        }
        throw err;
      }
    }
    if (identity === null) throw new AuthenticationFailedError();
    // The user's authentication method (issue 23), after the credentials
    // are proven (no hint of the method to someone who does not know them).
    if (credentials.kind !== 'refresh' && this.loginMethods !== null && identity.userUuid !== null) {
      const method = credentials.kind === 'sso' ? credentials.method : loginMethodOfBackend(backendName);
      // What the backend read with the user, when it did (no second fetch).
      if (method !== null && !(await this.loginMethods.allows(identity.userUuid, method, identity.authentication)))
        throw new AuthenticationFailedError();
    }

    const now = this.clock.now();
    if (identity.userUuid !== null && CAPPED_PURPOSES.has(identity.purpose)) {
      const live =
        identity.liveSessions ?? (await this.store.countLiveSessions(identity.userUuid, now, this.options.maxUserSessions));
      if (live >= this.options.maxUserSessions) throw new TooManySessionsError(this.options.maxUserSessions);
    }

    let acl = await this.aclBuilder.build(identity);
    let restricted: string | null = null;
    // Password and single sign-on logins (issue 24); never refresh-token ones.
    if (credentials.kind !== 'refresh' && this.secondFactor !== null) {
      const sso: SsoProven | null =
        credentials.kind === 'sso'
          ? {
              method: credentials.method,
              principal: credentials.principal,
              ref: credentials.ref ?? null,
              provenUntil: credentials.provenUntil ?? null,
            }
          : null;
      ({ acl, restricted } = await this.secondFactor.afterPassword(identity, acl, { backend: backendName, request: req, sso }));
    }
    const token = generateToken();
    const sessionUuid = randomUUID();
    const lifetime = req.expiration ?? this.options.defaultLifetimeSeconds;
    const tenantUuid = identity.tenantUuid;
    const record: TokenRecord = {
      hash: hashToken(token),
      sessionUuid,
      authId: identity.authId,
      userUuid: identity.userUuid,
      tenantUuid,
      pbxUserUuid: identity.pbxUserUuid,
      xivoUuid: this.options.xivoUuid,
      issuedAt: now,
      expiresAt: now + lifetime * 1000,
      acl,
      metadata: {
        ...identity.metadata,
        uuid: identity.userUuid,
        tenant_uuid: tenantUuid,
        auth_id: identity.authId,
        pbx_user_uuid: identity.pbxUserUuid,
        xivo_uuid: this.options.xivoUuid,
        purpose: identity.purpose,
      },
      remoteAddr: req.remoteAddr,
      userAgent: req.userAgent,
      refreshTokenUuid: fromRefresh?.uuid ?? null,
    };

    let refreshToken: string | null = null;
    // A restricted token (enrol first) never comes with a refresh token: its
    // refresh logins would get the full ACL without the second factor.
    const issuedRefresh: RefreshToken | null =
      req.accessType === 'offline' && restricted === null && identity.userUuid !== null && tenantUuid !== null
        ? {
            uuid: randomUUID(),
            hash: '',
            clientId: req.clientId ?? '',
            userUuid: identity.userUuid,
            tenantUuid,
            backend: backendName,
            login,
            mobile: req.mobile,
            createdAt: now,
            lastUsedAt: now,
          }
        : null;
    if (issuedRefresh !== null) {
      refreshToken = generateToken();
      issuedRefresh.hash = hashToken(refreshToken);
      record.refreshTokenUuid = issuedRefresh.uuid;
    } else if (req.accessType === 'offline' && restricted === null) {
      // A backend identity with no local user cannot own a refresh token.
      throw new AuthenticationFailedError();
    }

    // A refresh-token login records its use (idle timeout) and, with
    // rotation, gives a new refresh token for the presented one, in its commit.
    let use: RefreshTokenUse | null = null;
    if (fromRefresh !== null) {
      use = { uuid: fromRefresh.uuid, hash: fromRefresh.hash, at: now };
      if (this.refreshPolicy.rotation && issuedRefresh === null) {
        refreshToken = generateToken();
        use.rotateTo = { hash: hashToken(refreshToken), keepRetired: RETIRED_KEPT_PER_FAMILY };
      }
    }

    let superseded: Removal | null = null;
    // A login writing only its session, its token and the guard's
    // settlement lets the store send them as one statement (PostgreSQL:
    // data-modifying CTEs, no BEGIN/COMMIT; tokens/store.ts).
    const deferWrites = use === null && issuedRefresh === null && identity.settle === undefined;
    try {
      await this.store.transaction(
        async (tx) => {
          // First: of two logins with one refresh token, the second waits here
          // for the first's commit, then fails (rotation: the hash changed).
          if (use !== null && !(await tx.useRefreshToken(use))) throw new RefreshTokenGoneError();
          // wazo-auth 26.04: a mobile offline login supersedes every mobile
          // refresh token of the user (the same client_id's included) and
          // revokes the sessions issued from them; non-mobile ones are left
          // alone. Before the new refresh token exists, so it is never caught.
          if (issuedRefresh !== null && issuedRefresh.mobile) {
            superseded = await tx.deleteMobileRefreshTokens(issuedRefresh.userUuid);
          }
          await tx.createSession({
            uuid: sessionUuid,
            tenantUuid: tenantUuid ?? '',
            userUuid: identity.userUuid,
            mobile: req.mobile,
            createdAt: now,
          });
          await tx.insertToken(record);
          if (issuedRefresh !== null) await tx.replaceRefreshToken(issuedRefresh);
          // The backend's own writes (a password re-hashed on login) commit with the token.
          if (identity.settle !== undefined) await identity.settle(tx);
          if (withinCommit !== undefined) await withinCommit(tx, record);
        },
        { deferWrites },
      );
    } catch (err) {
      if (!(err instanceof RefreshTokenGoneError)) throw err;
      // Rotated away meanwhile (the loser of two concurrent refreshes) or deleted.
      await this.refuseRetired(use?.hash ?? '', req);
      throw new AuthenticationFailedError();
    } finally {
      // After the commit (after a rollback it only drops live entries again).
      this.forget(superseded);
    }
    const revoked = superseded as Removal | null;
    if (revoked !== null) this.observer.revoked('refresh_token_revoked', revoked.tokenHashes.length);
    return { token, record, refreshToken, sessionsRevoked: revoked?.sessions.length ?? 0, restricted };
  }

  /** Past its idle timeout or its absolute lifetime (refresh_tokens config). */
  private refreshTokenExpired(rt: RefreshToken): boolean {
    const { lastUsedBefore, createdBefore } = refreshTokenExpiry(this.refreshPolicy, this.clock.now());
    return (
      (lastUsedBefore !== null && rt.lastUsedAt <= lastUsedBefore) || (createdBefore !== null && rt.createdAt <= createdBefore)
    );
  }

  /**
   * A refresh token presented that is no longer live: if it was rotated away
   * (more than reuse_grace_seconds ago), its whole family is revoked and the
   * reuse audited, in one transaction (OAuth 2.0 Security BCP, RFC 9700
   * §4.14.2). The caller answers 401 in every case.
   */
  private async refuseRetired(hash: string, req: IssueRequest): Promise<void> {
    const retired = await this.store.findRetiredRefreshToken(hash);
    if (retired === null) return;
    if (this.clock.now() - retired.retiredAt < this.refreshPolicy.reuseGraceSeconds * 1000) return;
    let removal: UserRevocation | null = null;
    let audit: AuditRecord | null = null;
    try {
      removal = await this.store.transaction(async (tx) => {
        const revoked = await tx.revokeRefreshTokenFamily(retired.familyUuid);
        audit = this.reuseAuditRecord(retired, revoked, req);
        if (audit !== null) await tx.settleLogin({ clearKeys: [], mark: null, audit });
        return revoked;
      });
    } finally {
      this.forget(removal);
    }
    const revoked = removal as UserRevocation;
    if (audit !== null) this.reuseAudit?.announce(audit);
    if (revoked.tokenHashes.length > 0) this.observer.revoked('refresh_token_revoked', revoked.tokenHashes.length);
  }

  private reuseAuditRecord(retired: RetiredRefreshToken, revoked: UserRevocation, req: IssueRequest): AuditRecord | null {
    const family = revoked.refreshTokens[0] ?? null;
    return (
      this.reuseAudit?.prepare({
        action: 'users.refresh_tokens.revoke',
        outcome: 'success',
        tenantUuid: family?.tenantUuid ?? null,
        actorUuid: family?.userUuid ?? null,
        remoteAddr: req.remoteAddr,
        targetType: 'users',
        targetId: family?.userUuid ?? null,
        statusCode: 401,
        details: {
          reason: 'refresh_token_reuse',
          client_ids: revoked.refreshTokens.map((rt) => rt.clientId),
          retired_at: new Date(retired.retiredAt).toISOString(),
          sessions_revoked: revoked.sessions.length,
          tokens_revoked: revoked.tokenHashes.length,
        },
      }) ?? null
    );
  }

  /**
   * The record of a live token, or NoSuchTokenError. The checks that follow
   * (scope, tenant) run on every call: the cache holds records, not answers.
   */
  async lookup(token: string): Promise<CachedToken> {
    const hash = this.hashOf(token);
    const entry = this.cached(hash) ?? (await this.load(hash));
    return this.live(hash, entry);
  }

  /** The token record if valid for `scope` within `tenant`; throws otherwise (404, 403). */
  async check(token: string, scope: string | undefined, tenant: string | undefined): Promise<TokenRecord> {
    const started = performance.now();
    let fromCache = false;
    try {
      const hash = this.hashOf(token);
      let entry = this.cached(hash);
      if (entry !== undefined) fromCache = true;
      else entry = await this.load(hash);
      this.live(hash, entry);
      if (scope !== undefined && !entry.acl.matches(scope, entry.record)) {
        throw new ScopeDeniedError(scope);
      }
      if (tenant !== undefined) await this.assertTenant(entry.record, tenant);
      this.observer.checked(CHECK_VALID, fromCache, (performance.now() - started) / 1000);
      return entry.record;
    } catch (err) {
      this.observer.checked(checkResultOf(err), fromCache, (performance.now() - started) / 1000);
      throw err;
    }
  }

  /**
   * check() answered from the cache, synchronously (no promise, no
   * microtask): the record when valid; CHECK_INVALID when check() would
   * throw NoSuchTokenError (the cached token expired), CHECK_DENIED when it
   * would throw ScopeDeniedError; counted in the metrics as check() counts
   * them. null when only check() can say: a tenant to check (the tenant
   * tree is asynchronous), the cache off, a token not cached, a token
   * check() refuses before hashing; nothing is counted then, check() counts
   * the lookup it makes.
   */
  checkCached(
    token: string,
    scope: string | undefined,
    tenant: string | undefined,
  ): TokenRecord | typeof CHECK_INVALID | typeof CHECK_DENIED | null {
    if (tenant !== undefined || !this.cache.isActive || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
    const started = performance.now();
    const hash = hashToken(token);
    const entry = this.cache.get(hash);
    if (entry === undefined) return null;
    this.observer.cacheLookup(true);
    try {
      let result: typeof CHECK_VALID | typeof CHECK_INVALID | typeof CHECK_DENIED = CHECK_VALID;
      if (entry.record.expiresAt <= this.clock.now()) {
        this.cache.delete(hash);
        result = CHECK_INVALID;
      } else if (scope !== undefined && !entry.acl.matches(scope, entry.record)) {
        result = CHECK_DENIED;
      }
      this.observer.checked(result, true, (performance.now() - started) / 1000);
      return result === CHECK_VALID ? entry.record : result;
    } catch (err) {
      this.observer.checked(checkResultOf(err), true, (performance.now() - started) / 1000);
      throw err;
    }
  }

  /** `{scope: granted}` for each scope; tenant outside the token's subtree → 403. */
  async checkScopes(token: string, scopes: string[], tenant: string | null): Promise<Record<string, boolean>> {
    const started = performance.now();
    try {
      const entry = await this.lookup(token);
      if (tenant !== null) await this.assertTenant(entry.record, tenant);
      const result: Record<string, boolean> = {};
      for (const scope of scopes) result[scope] = entry.acl.matches(scope, entry.record);
      this.observer.checked(CHECK_VALID, false, (performance.now() - started) / 1000);
      return result;
    } catch (err) {
      this.observer.checked(checkResultOf(err), false, (performance.now() - started) / 1000);
      throw err;
    }
  }

  /**
   * RFC 7662: the record of a live token granting `requiredAccess` (when
   * given) and visible to a caller of `callerTenant`, or null for anything
   * else (unknown, expired, lacking the access, outside the caller's tenant
   * subtree: all alike). Tokens of no tenant are visible to the top tenant
   * only (as audit records are); a caller of no tenant sees none.
   */
  async introspect(token: string, requiredAccess: string | undefined, callerTenant: string | null): Promise<TokenRecord | null> {
    let record: TokenRecord;
    try {
      record = await this.check(token, requiredAccess, undefined);
    } catch (err) {
      if (err instanceof NoSuchTokenError || err instanceof ScopeDeniedError) return null;
      throw err;
    }
    if (callerTenant === null) return null;
    if (record.tenantUuid === null) {
      return callerTenant === (await this.store.getTopTenant())?.uuid ? record : null;
    }
    return (await this.tenants.isSameOrDescendant(callerTenant, record.tenantUuid)) ? record : null;
  }

  /** Whole seconds before the record expires (0 when expired). */
  remainingSeconds(record: TokenRecord): number {
    return Math.max(0, Math.floor((record.expiresAt - this.clock.now()) / 1000));
  }

  private hashOf(token: string): string {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new NoSuchTokenError();
    return hashToken(token);
  }

  /** The cached entry, expired or not; undefined on a miss. */
  private cached(hash: string): CachedToken | undefined {
    if (!this.cache.isActive) return undefined;
    const entry = this.cache.get(hash);
    this.observer.cacheLookup(entry !== undefined);
    return entry;
  }

  private async load(hash: string): Promise<CachedToken> {
    const generation = this.cache.generation;
    const record = await this.store.findTokenByHash(hash);
    if (record === null) throw new NoSuchTokenError();
    const entry = { record, acl: compileAcl(record.acl) };
    this.cache.set(hash, entry, generation);
    return entry;
  }

  private live(hash: string, entry: CachedToken): CachedToken {
    if (entry.record.expiresAt <= this.clock.now()) {
      this.cache.delete(hash);
      throw new NoSuchTokenError();
    }
    return entry;
  }

  /** Idempotent: unknown tokens are fine. */
  async revoke(token: string): Promise<Removal | null> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
    const hash = hashToken(token);
    try {
      const removal = await this.store.deleteToken(hash);
      if (removal !== null) this.observer.revoked('revoked', removal.tokenHashes.length);
      return removal;
    } finally {
      // After the delete: a lookup that read the record before it cannot cache it now.
      this.cache.invalidate([hash]);
    }
  }

  /**
   * RFC 7009: revoke an access token or a refresh token (with every access
   * token issued from it). The hint only decides which is tried first.
   * Unknown tokens are fine: the caller answers 200 anyway.
   */
  async revokeAny(token: string, hint: TokenTypeHint | undefined): Promise<'access_token' | 'refresh_token' | null> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
    const order: TokenTypeHint[] =
      hint === 'refresh_token' ? ['refresh_token', 'access_token'] : ['access_token', 'refresh_token'];
    for (const kind of order) {
      if (kind === 'access_token' && (await this.revoke(token)) !== null) return kind;
      if (kind === 'refresh_token' && (await this.revokeRefreshToken(token))) return kind;
    }
    return null;
  }

  private async revokeRefreshToken(token: string): Promise<boolean> {
    const hash = hashToken(token);
    let removal: Removal | null = null;
    try {
      removal = await this.store.transaction(async (tx) => {
        const rt = await tx.deleteRefreshTokenByHash(hash);
        return rt === null ? null : tx.deleteTokensOfRefreshToken(rt.uuid);
      });
    } finally {
      this.forget(removal);
    }
    if (removal === null) return false;
    this.observer.revoked('refresh_token_revoked', removal.tokenHashes.length);
    return true;
  }

  /**
   * Every session, token and refresh token of a user (disabled, password
   * changed): a refresh token taken before must not mint new tokens after.
   */
  async revokeUser(userUuid: string): Promise<UserRevocation> {
    const removal = await this.store.deleteUserSessions(userUuid, { refreshTokens: true });
    this.forget(removal);
    this.observer.revoked('user_sessions', removal.tokenHashes.length);
    return removal;
  }

  /** Drop revoked tokens from the cache. */
  forget(removal: Removal | null): void {
    if (removal !== null) this.cache.invalidate(removal.tokenHashes);
  }

  /**
   * Refresh tokens of one user (`userUuid`, the caller checked it is
   * visible), or of the tenant `tenantUuid` (with `recurse`, of its subtree too).
   */
  async listRefreshTokens(
    filter: ListQuery & {
      userUuid?: string;
      tenantUuid?: string;
      recurse?: boolean;
      clientId?: string;
      mobile?: boolean;
    },
  ): Promise<ListResult<RefreshToken>> {
    const { userUuid, tenantUuid, recurse, ...rest } = filter;
    if (userUuid !== undefined) return this.store.listRefreshTokens({ ...rest, userUuid });
    if (tenantUuid === undefined) throw new TypeError('listRefreshTokens: a user or a tenant is required');
    const tenantUuids = recurse === true ? await this.tenants.subtree(tenantUuid) : [tenantUuid];
    return this.store.listRefreshTokens({ ...rest, tenantUuids });
  }

  async deleteRefreshToken(userUuid: string, clientId: string): Promise<RefreshToken> {
    const deleted = await this.store.deleteRefreshToken(userUuid, clientId);
    if (deleted === null) {
      throw new NotFoundError('cannot-find-refresh-token-matching-client-id', 'tokens', clientId);
    }
    return deleted;
  }

  private async assertTenant(record: TokenRecord, tenant: string): Promise<void> {
    const own = record.tenantUuid;
    if (own === null || !(await this.tenants.isSameOrDescendant(own, tenant))) {
      throw new TenantDeniedError(tenant);
    }
  }
}
