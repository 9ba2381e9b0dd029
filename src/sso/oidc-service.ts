// OpenID Connect relying party (issue 23 §3): per-tenant IdP configuration
// (/backends/oidc) and the authorization code flow with PKCE, `state` and
// `nonce` (openid-client):
//   POST /oidc/authorize {domain, redirect_url} → {location, oidc_session_id}
//   GET  /oidc/callback?code&state              → the session completed, 302 to redirect_url
//   POST /token {oidc_session_id}               → the matched user's token (single use)
// The ID token's signature (the IdP's JWKS), issuer, audience, expiry and
// nonce are checked by openid-client; its jti (or nonce) is remembered until
// it expires, so an ID token is accepted once. Sessions live in the store
// (any instance completes them), their ids from the CSPRNG, stored hashed.
import * as oidc from 'openid-client';
import type { Clock } from '../clock.js';
import { AuthenticationFailedError, InvalidDataError, NotFoundError } from '../errors.js';
import type { SecretBox } from '../external/secret-box.js';
import type { OidcServiceStore } from './store.js';
import { generateToken, hashToken } from '../tokens/material.js';
import type { ProvenPrincipal } from '../backends/types.js';
import type { OidcConfig } from '../config/sections/sso.js';
import { assertAllowlist, assertRedirectUrl } from './redirect-url.js';
import type { SsoConfigRecord } from './types.js';

export interface OidcSettings {
  issuer: string;
  client_id: string;
  /** Our callback (GET /0.1/oidc/callback as the IdP reaches it): registered at the IdP as the redirect URI. */
  callback_url: string;
  scopes: string[];
  /** The ID token claim naming the user: its value is a username or confirmed email of the tenant. */
  user_claim: string;
  /** A claim listing the user's IdP groups; with group_mapping, their values join the mapped groups at login. */
  group_claim: string | null;
  group_mapping: Record<string, string>;
  /** When set, POST /oidc/authorize's redirect_url must be inside it (origins or URL prefixes; src/sso/redirect-url.ts). */
  redirect_url_allowlist: string[] | null;
}

export interface OidcSettingsInput extends OidcSettings {
  /** Write-only; absent on update: kept. */
  client_secret?: string | null;
}

/** 404 no OIDC configuration for the tenant. */
export class NoOidcConfigError extends NotFoundError {
  constructor(tenantUuid: string) {
    super('unknown-oidc-config', 'oidc configurations', tenantUuid);
  }
}

const secretContext = (tenantUuid: string) => `sso_configs:oidc:${tenantUuid}`;

export class OidcService {
  constructor(
    private readonly store: OidcServiceStore,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly options: OidcConfig,
  ) {}

  async getSettings(tenantUuid: string): Promise<OidcSettings> {
    const rec = await this.store.getSsoConfig(tenantUuid, 'oidc');
    if (rec === null) throw new NoOidcConfigError(tenantUuid);
    // Stored before redirect_url_allowlist existed: none.
    const data = rec.data as unknown as OidcSettings;
    return { ...data, redirect_url_allowlist: data.redirect_url_allowlist ?? null };
  }

  async putSettings(tenantUuid: string, input: OidcSettingsInput): Promise<OidcSettings> {
    this.assertIssuer(input.issuer);
    assertAllowlist(input.redirect_url_allowlist);
    const existing = await this.store.getSsoConfig(tenantUuid, 'oidc');
    let secrets = existing?.secrets ?? null;
    if (input.client_secret !== undefined) {
      secrets =
        input.client_secret === null
          ? null
          : this.box.sealJson({ client_secret: input.client_secret }, secretContext(tenantUuid));
    }
    const data: OidcSettings = {
      issuer: input.issuer,
      client_id: input.client_id,
      callback_url: input.callback_url,
      scopes: input.scopes,
      user_claim: input.user_claim,
      group_claim: input.group_claim,
      group_mapping: input.group_mapping,
      redirect_url_allowlist: input.redirect_url_allowlist,
    };
    const now = this.clock.now();
    await this.store.putSsoConfig({
      tenantUuid,
      kind: 'oidc',
      data: data as unknown as Record<string, unknown>,
      secrets,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    });
    return data;
  }

  async deleteSettings(tenantUuid: string): Promise<void> {
    if (!(await this.store.deleteSsoConfig(tenantUuid, 'oidc'))) throw new NoOidcConfigError(tenantUuid);
  }

  private assertIssuer(issuer: string): void {
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      throw new InvalidDataError('issuer must be a URL', { issuer: { constraint_id: 'url' } });
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.options.allow_http_issuers)) {
      throw new InvalidDataError('issuer must be an https URL (oidc.allow_http_issuers allows http)', {
        issuer: { constraint_id: 'url' },
      });
    }
  }

  /** Discovery and the client of the tenant's IdP; ID token signatures checked. */
  private async clientOf(rec: SsoConfigRecord): Promise<{ settings: OidcSettings; config: oidc.Configuration }> {
    const settings = rec.data as unknown as OidcSettings;
    const secret =
      rec.secrets === null ? undefined : String(this.box.openJson(rec.secrets, secretContext(rec.tenantUuid)).client_secret);
    const execute =
      new URL(settings.issuer).protocol === 'http:' && this.options.allow_http_issuers ? [oidc.allowInsecureRequests] : [];
    const timeout = this.options.provider_timeout_seconds;
    let config: oidc.Configuration;
    try {
      config = await oidc.discovery(
        new URL(settings.issuer),
        settings.client_id,
        secret,
        secret === undefined ? oidc.None() : undefined,
        { execute, timeout },
      );
    } catch {
      throw new AuthenticationFailedError();
    }
    oidc.enableNonRepudiationChecks(config);
    return { settings, config };
  }

  async authorize(domain: string, redirectUrl: string): Promise<{ location: string; oidc_session_id: string }> {
    assertRedirectUrl(redirectUrl, null);
    const tenant = await this.store.findTenantByDomainName(domain);
    const rec = tenant === null ? null : await this.store.getSsoConfig(tenant.uuid, 'oidc');
    if (tenant === null || rec === null) throw new NotFoundError('unknown-domain', 'domains', domain);
    assertRedirectUrl(redirectUrl, (rec.data as Partial<OidcSettings>).redirect_url_allowlist);
    const { settings, config } = await this.clientOf(rec);
    const sessionId = generateToken();
    const state = generateToken();
    const nonce = generateToken();
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: settings.callback_url,
      scope: settings.scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const now = this.clock.now();
    // Expired sessions and replay entries go here (indexed, usually none): no reaper of their own.
    await this.store.deleteExpiredSso(now);
    await this.store.createSsoSession({
      idHash: hashToken(sessionId),
      requestKeyHash: hashToken(state),
      kind: 'oidc',
      tenantUuid: tenant.uuid,
      redirectUrl,
      data: { verifier, nonce },
      userUuid: null,
      login: null,
      tokenSessionUuid: null,
      createdAt: now,
      expiresAt: now + this.options.login_timeout_seconds * 1000,
      completedAt: null,
      consumedAt: null,
    });
    return { location: url.href, oidc_session_id: sessionId };
  }

  /**
   * The IdP's redirect: `callbackUrl` is the URL it called (query included).
   * Returns where to send the browser. Any failure is 401 and leaves the
   * session unusable.
   */
  async callback(callbackUrl: URL): Promise<string> {
    const state = callbackUrl.searchParams.get('state');
    if (state === null) throw new AuthenticationFailedError();
    const now = this.clock.now();
    const session = await this.store.findPendingSsoSession('oidc', hashToken(state), now);
    if (session === null) throw new AuthenticationFailedError();
    try {
      const rec = await this.store.getSsoConfig(session.tenantUuid, 'oidc');
      if (rec === null) throw new AuthenticationFailedError();
      const { settings, config } = await this.clientOf(rec);
      // The IdP sees our callback_url: the one the grant is checked against.
      const current = new URL(settings.callback_url);
      current.search = callbackUrl.search;
      let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
      try {
        tokens = await oidc.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: String(session.data.verifier),
          expectedState: state,
          expectedNonce: String(session.data.nonce),
          idTokenExpected: true,
        });
      } catch {
        throw new AuthenticationFailedError();
      }
      const claims = tokens.claims();
      if (claims === undefined) throw new AuthenticationFailedError();
      // One ID token, one login (its jti, else its nonce which is ours and single use).
      const replayKey = hashToken(`oidc:${claims.iss}:${typeof claims.jti === 'string' ? claims.jti : String(claims.nonce)}`);
      if (!(await this.store.rememberSsoAssertion(replayKey, Number(claims.exp) * 1000, now)))
        throw new AuthenticationFailedError();
      // A claim the ID token does not carry may come from the UserInfo endpoint (its subject must be the ID token's).
      let value = claims[settings.user_claim];
      let groups = settings.group_claim === null ? undefined : claims[settings.group_claim];
      if (value === undefined || (settings.group_claim !== null && groups === undefined)) {
        try {
          const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
          value ??= info[settings.user_claim];
          if (settings.group_claim !== null) groups ??= info[settings.group_claim];
        } catch {
          throw new AuthenticationFailedError();
        }
      }
      if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw new AuthenticationFailedError();
      const user = await this.store.findUserByLogin(value);
      if (user === null || user.tenantUuid !== session.tenantUuid || !user.enabled) throw new AuthenticationFailedError();
      await this.joinMappedGroups(settings, groups, user.uuid, user.tenantUuid);
      const done = await this.store.completeSsoSession(session.idHash, {
        userUuid: user.uuid,
        login: value,
        at: now,
        expiresAt: now + this.options.login_timeout_seconds * 1000,
        data: { sub: claims.sub, iss: claims.iss },
      });
      if (!done) throw new AuthenticationFailedError();
      return session.redirectUrl;
    } catch (err) {
      await this.store.deleteSsoSession(session.idHash);
      throw err;
    }
  }

  private async joinMappedGroups(settings: OidcSettings, values: unknown, userUuid: string, tenantUuid: string): Promise<void> {
    if (!Array.isArray(values)) return;
    for (const v of values) {
      const groupUuid = typeof v === 'string' ? settings.group_mapping[v] : undefined;
      if (groupUuid === undefined) continue;
      const group = await this.store.getGroup(groupUuid);
      // Only a group of the user's own tenant: a mapping never reaches across tenants.
      if (group !== null && group.tenantUuid === tenantUuid) await this.store.addGroupUser(groupUuid, userUuid);
    }
  }

  /** POST /token {oidc_session_id}: the user it proved, once. */
  async consume(sessionId: string): Promise<{ principal: ProvenPrincipal; idHash: string }> {
    const session = await this.store.consumeSsoSession('oidc', hashToken(sessionId), this.clock.now());
    if (session === null || session.userUuid === null || session.login === null) throw new AuthenticationFailedError();
    return {
      principal: { userUuid: session.userUuid, tenantUuid: session.tenantUuid, login: session.login },
      idHash: session.idHash,
    };
  }
}
