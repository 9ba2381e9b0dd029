// SAML 2.0 service provider (issue 23 §2), over @node-saml/node-saml:
//   POST /saml/sso {domain, redirect_url} → {location, saml_session_id}: an AuthnRequest (HTTP-Redirect, signed)
//   POST /saml/acs (SAMLResponse, RelayState)  → the session completed, 302 to redirect_url
//   POST /token {saml_session_id}              → the matched user's token (single use)
//   GET  /saml/logout (a token)                → its session and refresh token revoked, {location} of a LogoutRequest
//   GET  /saml/sls (the IdP's LogoutResponse)  → signature checked, 302 to the login's redirect_url
//   GET  /saml/sls (the IdP's LogoutRequest)   → the NameID's SAML logins revoked, 302 to the IdP with a LogoutResponse
// What a response must prove before a session completes: the assertion is
// signed with a certificate of the tenant's IdP metadata (node-saml; with
// one assertion only, and the signed one being the one read: XML signature
// wrapping is refused), its audience is our entity id, its time window
// holds (small skew), its SubjectConfirmationData names our ACS URL as
// recipient and our pending AuthnRequest's ID (checked here on the signed
// XML, as node-saml reads these from the unsigned envelope), and its ID was
// never accepted before (sso_replays). Sessions live in the store (any
// instance completes them); their ids come from the CSPRNG, stored hashed.
// node-saml checks assertion times against the system clock, not the
// injected one; our own expiries (sessions, replays) use the injected clock.
import { inflateRawSync } from 'node:zlib';
import {
  SAML,
  ValidateInResponseTo,
  type CacheProvider,
  type Profile,
  type SamlConfig as NodeSamlConfig,
} from '@node-saml/node-saml';
import { signXmlMetadata } from '@node-saml/node-saml/lib/utility.js';
import { parseDomFromString, xpath } from '@node-saml/node-saml/lib/xml.js';
import type { ProvenPrincipal } from '../backends/types.js';
import type { Clock } from '../clock.js';
import { AuthenticationFailedError, ConflictError, InvalidDataError, NotFoundError } from '../errors.js';
import type { SamlServiceStore } from './store.js';
import type { Removal, TokenRecord } from '../tokens/types.js';
import { generateToken, hashToken } from '../tokens/material.js';
import type { SamlConfig } from '../config/sections/sso.js';
import { assertAllowlist, assertRedirectUrl } from './redirect-url.js';
import type { SpKeyStore } from './saml-sp-key.js';
import type { SsoConfigRecord } from './types.js';

const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
/** Allowed difference between the IdP's clock and ours. */
const CLOCK_SKEW_MS = 60_000;
/** The largest SAML message we read (the route's body limit is larger: a form wraps it in base64). */
const MAX_MESSAGE_BYTES = 512 * 1024;
/**
 * How old an IdP's LogoutRequest may be (its IssueInstant): a browser
 * carries it at once; an older one is refused even when its NotOnOrAfter is
 * later, which bounds how long its ID must be remembered.
 */
const LOGOUT_REQUEST_MAX_AGE_MS = 5 * 60_000;
const PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';

/** What the IdP metadata says, parsed once when it is uploaded. */
export interface IdpDescription {
  entity_id: string;
  sso_url: string;
  slo_url: string | null;
  /** PEM certificates the IdP signs with. */
  certificates: string[];
}

/** A tenant's SAML settings (GET /backends/saml). */
export interface SamlSettings {
  tenant_uuid: string;
  /** wazo-auth's field: the tenant domain this IdP serves (kept as given; POST /saml/sso names the domain). */
  domain_uuid: string | null;
  /** Our SP entity id, the audience the IdP must name. */
  entity_id: string;
  /** Our POST /0.1/saml/acs as the IdP reaches it (the assertion's recipient). */
  acs_url: string;
  redirect_url_allowlist: string[] | null;
  idp_entity_id: string;
}

export interface SamlSettingsInput {
  domain_uuid?: string | null;
  entity_id?: string;
  acs_url?: string;
  redirect_url_allowlist?: string[] | null;
}

interface StoredSaml {
  domain_uuid: string | null;
  entity_id: string;
  acs_url: string;
  redirect_url_allowlist: string[] | null;
  metadata: string;
  idp: IdpDescription;
}

/** What revoking a SAML login's token needs of the token service. */
export interface SamlTokens {
  lookup(token: string): Promise<{ record: TokenRecord }>;
  forget(removal: Removal | null): void;
}

/** 404 no SAML configuration for the tenant. */
export class NoSamlConfigError extends NotFoundError {
  constructor(tenantUuid: string) {
    super('unknown-saml-config', 'saml configurations', tenantUuid);
  }
}

const badMetadata = (why: string) =>
  new InvalidDataError(`Invalid IdP metadata: ${why}`, { metadata: { constraint_id: 'saml-metadata' } });

function pemOf(base64: string): string {
  const body = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+=*$/.test(body)) throw badMetadata('an X509Certificate is not base64');
  return `-----BEGIN CERTIFICATE-----\n${body.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

async function parseXml(xml: string): Promise<Document> {
  // No DTDs: nothing legitimate in SAML needs one, and entity tricks start there.
  if (/<!DOCTYPE/i.test(xml)) throw new Error('DOCTYPE not allowed');
  return parseDomFromString(xml);
}

/** The IdP's entity id, SSO/SLO endpoints (HTTP-Redirect) and signing certificates. */
export async function parseIdpMetadata(xml: string): Promise<IdpDescription> {
  let doc: Document;
  try {
    doc = await parseXml(xml);
  } catch (err) {
    throw badMetadata(`not well-formed XML (${(err as Error).message.split('\n')[0].slice(0, 200)})`);
  }
  const entity = xpath.selectElements(doc, "//*[local-name()='EntityDescriptor'][*[local-name()='IDPSSODescriptor']]")[0];
  if (entity === undefined) throw badMetadata('no EntityDescriptor with an IDPSSODescriptor');
  const entityId = entity.getAttribute('entityID') ?? '';
  if (entityId.length === 0 || entityId.length > 1024) throw badMetadata('the EntityDescriptor has no entityID');
  const idp = xpath.selectElements(entity, "*[local-name()='IDPSSODescriptor']")[0];
  const endpoint = (name: string): string | null => {
    for (const el of xpath.selectElements(idp, `*[local-name()='${name}']`)) {
      if (el.getAttribute('Binding') === REDIRECT_BINDING && el.getAttribute('Location')) return el.getAttribute('Location');
    }
    return null;
  };
  const ssoUrl = endpoint('SingleSignOnService');
  if (ssoUrl === null) throw badMetadata('no SingleSignOnService with the HTTP-Redirect binding');
  const certificates: string[] = [];
  for (const kd of xpath.selectElements(idp, "*[local-name()='KeyDescriptor']")) {
    const use = kd.getAttribute('use');
    if (use !== null && use !== '' && use !== 'signing') continue;
    for (const c of xpath.selectElements(kd, ".//*[local-name()='X509Certificate']"))
      certificates.push(pemOf(c.textContent ?? ''));
  }
  if (certificates.length === 0) throw badMetadata('no signing X509Certificate in the IDPSSODescriptor');
  return { entity_id: entityId, sso_url: ssoUrl, slo_url: endpoint('SingleLogoutService'), certificates };
}

/** What `xivo-auth import wazo-auth` reads of a tenant's SAML configuration (auth_saml_config). */
export interface ImportedSamlConfig {
  domainUuid: string;
  entityId: string;
  acsUrl: string;
  idpMetadata: string;
}

/**
 * The stored form of a SAML configuration imported from wazo-auth: the same
 * record POST /backends/saml writes (so the login reads no difference), its
 * IdP metadata parsed now (a 400-style InvalidDataError when unreadable).
 * `before`: the tenant's stored record, whose redirect_url_allowlist (a
 * setting wazo-auth does not have) is kept.
 */
export async function importedSamlSettings(
  c: ImportedSamlConfig,
  before: Record<string, unknown> | null,
): Promise<Record<string, unknown>> {
  const data: StoredSaml = {
    domain_uuid: c.domainUuid,
    entity_id: c.entityId,
    acs_url: c.acsUrl,
    redirect_url_allowlist: (before as StoredSaml | null)?.redirect_url_allowlist ?? null,
    metadata: c.idpMetadata,
    idp: await parseIdpMetadata(c.idpMetadata),
  };
  return data as unknown as Record<string, unknown>;
}

/** Whether a stored record already holds what wazo-auth has (a second import then changes nothing). */
export function sameImportedSaml(c: ImportedSamlConfig, stored: Record<string, unknown>): boolean {
  const s = stored as unknown as StoredSaml;
  return s.domain_uuid === c.domainUuid && s.entity_id === c.entityId && s.acs_url === c.acsUrl && s.metadata === c.idpMetadata;
}

/** One pending request ID, answered to node-saml's InResponseTo checks. */
function oneRequestCache(requestId: string | null): CacheProvider {
  return {
    saveAsync: async (_key, value) => ({ value, createdAt: Date.now() }),
    // node-saml reads the value as the request's creation time; our session expiry is the real limit.
    getAsync: async (key) => (requestId !== null && key === requestId ? new Date().toISOString() : null),
    removeAsync: async (key) => key,
  };
}

/** Our GET /saml/sls as the IdP reaches it, next to acs_url; null when acs_url is not ours' shape. */
function slsUrlOf(s: StoredSaml): string | null {
  const sls = s.acs_url.replace(/\/saml\/acs(\?.*)?$/, '/saml/sls');
  return sls === s.acs_url ? null : sls;
}

function newRequestId(): string {
  // An xs:ID must not start with a digit.
  return `_${generateToken()}`;
}

export class SamlService {
  constructor(
    private readonly store: SamlServiceStore,
    private readonly tokens: SamlTokens,
    private readonly clock: Clock,
    private readonly options: SamlConfig,
    private readonly keys: SpKeyStore,
  ) {}

  acsUrlTemplate(): string {
    return this.options.acs_url_template;
  }

  private async stored(tenantUuid: string): Promise<StoredSaml> {
    const rec = await this.store.getSsoConfig(tenantUuid, 'saml');
    if (rec === null) throw new NoSamlConfigError(tenantUuid);
    return rec.data as unknown as StoredSaml;
  }

  private view(tenantUuid: string, s: StoredSaml): SamlSettings {
    return {
      tenant_uuid: tenantUuid,
      domain_uuid: s.domain_uuid,
      entity_id: s.entity_id,
      acs_url: s.acs_url,
      redirect_url_allowlist: s.redirect_url_allowlist,
      idp_entity_id: s.idp.entity_id,
    };
  }

  async getSettings(tenantUuid: string): Promise<SamlSettings> {
    return this.view(tenantUuid, await this.stored(tenantUuid));
  }

  /** The stored IdP metadata, as uploaded. */
  async getIdpMetadata(tenantUuid: string): Promise<string> {
    return (await this.stored(tenantUuid)).metadata;
  }

  /** POST: creates (409 when the tenant has one); every field and the metadata are required. */
  async create(
    tenantUuid: string,
    input: Required<Pick<SamlSettingsInput, 'entity_id' | 'acs_url'>> & SamlSettingsInput,
    metadata: string,
  ): Promise<SamlSettings> {
    if ((await this.store.getSsoConfig(tenantUuid, 'saml')) !== null) {
      throw new ConflictError(
        'saml configurations',
        'tenant_uuid',
        'The tenant already has a SAML configuration (PUT replaces it)',
      );
    }
    return this.save(tenantUuid, null, input, metadata);
  }

  /** PUT: changes what is given (404 when there is none); metadata null: kept. */
  async update(tenantUuid: string, input: SamlSettingsInput, metadata: string | null): Promise<SamlSettings> {
    const existing = await this.store.getSsoConfig(tenantUuid, 'saml');
    if (existing === null) throw new NoSamlConfigError(tenantUuid);
    return this.save(tenantUuid, existing, input, metadata);
  }

  private async save(
    tenantUuid: string,
    existing: SsoConfigRecord | null,
    input: SamlSettingsInput,
    metadata: string | null,
  ): Promise<SamlSettings> {
    const before = existing?.data as unknown as StoredSaml | undefined;
    const entityId = input.entity_id ?? before?.entity_id;
    const acsUrl = input.acs_url ?? before?.acs_url;
    const xml = metadata ?? before?.metadata;
    if (entityId === undefined || acsUrl === undefined || xml === undefined)
      throw new InvalidDataError('entity_id, acs_url and metadata are required');
    try {
      const url = new URL(acsUrl);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    } catch {
      throw new InvalidDataError('acs_url must be an absolute http(s) URL', { acs_url: { constraint_id: 'url' } });
    }
    const allowlist =
      input.redirect_url_allowlist !== undefined ? input.redirect_url_allowlist : (before?.redirect_url_allowlist ?? null);
    assertAllowlist(allowlist);
    const data: StoredSaml = {
      domain_uuid: input.domain_uuid !== undefined ? input.domain_uuid : (before?.domain_uuid ?? null),
      entity_id: entityId,
      acs_url: acsUrl,
      redirect_url_allowlist: allowlist,
      metadata: xml,
      idp: metadata === null && before !== undefined ? before.idp : await parseIdpMetadata(xml),
    };
    const now = this.clock.now();
    await this.store.putSsoConfig({
      tenantUuid,
      kind: 'saml',
      data: data as unknown as Record<string, unknown>,
      secrets: null,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    });
    return this.view(tenantUuid, data);
  }

  async deleteSettings(tenantUuid: string): Promise<void> {
    if (!(await this.store.deleteSsoConfig(tenantUuid, 'saml'))) throw new NoSamlConfigError(tenantUuid);
  }

  /** node-saml for one tenant's IdP; `requestId` is the one InResponseTo may name. */
  private client(s: StoredSaml, requestId: string | null, extra: Partial<NodeSamlConfig> = {}): SAML {
    const { privateKey, certificate } = this.keys.get();
    return new SAML({
      issuer: s.entity_id,
      audience: s.entity_id,
      callbackUrl: s.acs_url,
      entryPoint: s.idp.sso_url,
      logoutUrl: s.idp.slo_url ?? undefined,
      idpIssuer: s.idp.entity_id,
      idpCert: s.idp.certificates,
      privateKey,
      publicCert: certificate,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
      wantAssertionsSigned: true,
      // Entra ID and others sign the assertion only; the envelope's fields that matter are checked on the signed assertion.
      wantAuthnResponseSigned: false,
      acceptedClockSkewMs: CLOCK_SKEW_MS,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: this.options.saml_login_timeout_seconds * 1000,
      cacheProvider: oneRequestCache(requestId),
      generateUniqueId: newRequestId,
      identifierFormat: null,
      disableRequestedAuthnContext: true,
      ...extra,
    });
  }

  /** Our SP metadata, signed with our key (for the IdP's administrator). */
  async spMetadata(tenantUuid: string): Promise<string> {
    const s = await this.stored(tenantUuid);
    const { certificate } = this.keys.get();
    const { privateKey } = this.keys.get();
    let xml = this.client(s, null, {
      signMetadata: false,
      logoutCallbackUrl: slsUrlOf(s) ?? undefined,
    }).generateServiceProviderMetadata(null, certificate);
    // node-saml advertises its SLS with the POST binding; ours is GET /saml/sls (HTTP-Redirect).
    xml = xml.replace(
      /(<SingleLogoutService\b[^>]*Binding=")urn:oasis:names:tc:SAML:2\.0:bindings:HTTP-POST"/,
      `$1${REDIRECT_BINDING}"`,
    );
    return signXmlMetadata(xml, { privateKey, signatureAlgorithm: 'sha256', digestAlgorithm: 'sha256' });
  }

  async sso(domain: string, redirectUrl: string): Promise<{ location: string; saml_session_id: string }> {
    const tenant = await this.store.findTenantByDomainName(domain);
    const rec = tenant === null ? null : await this.store.getSsoConfig(tenant.uuid, 'saml');
    if (tenant === null || rec === null) throw new NotFoundError('unknown-domain', 'domains', domain);
    const s = rec.data as unknown as StoredSaml;
    assertRedirectUrl(redirectUrl, s.redirect_url_allowlist);
    let requestId = '';
    const relayState = generateToken();
    const location = await this.client(s, null, {
      generateUniqueId: () => {
        requestId = newRequestId();
        return requestId;
      },
    }).getAuthorizeUrlAsync(relayState, undefined, {});
    const sessionId = generateToken();
    const now = this.clock.now();
    // Expired sessions and replay entries go here (indexed, usually none): no reaper of their own.
    await this.store.deleteExpiredSso(now);
    await this.store.createSsoSession({
      idHash: hashToken(sessionId),
      requestKeyHash: hashToken(`login:${requestId}`),
      kind: 'saml',
      tenantUuid: tenant.uuid,
      redirectUrl,
      data: { requestId, relayState },
      userUuid: null,
      login: null,
      tokenSessionUuid: null,
      createdAt: now,
      expiresAt: now + this.options.saml_login_timeout_seconds * 1000,
      completedAt: null,
      consumedAt: null,
    });
    return { location, saml_session_id: sessionId };
  }

  /**
   * The IdP's form post. Returns where to send the browser. Any failure is
   * 401 and leaves the session unusable.
   */
  async acs(form: { SAMLResponse: string; RelayState: string }): Promise<string> {
    const xml = decodeBase64Message(form.SAMLResponse, false);
    // Which login this answers: read from the envelope only to find the
    // session; node-saml and the checks below hold it to the signed assertion.
    const inResponseTo = await rootAttribute(xml, 'InResponseTo');
    if (inResponseTo === null) throw new AuthenticationFailedError();
    const now = this.clock.now();
    const session = await this.store.findPendingSsoSession('saml', hashToken(`login:${inResponseTo}`), now);
    if (session === null) throw new AuthenticationFailedError();
    try {
      if (session.data.relayState !== form.RelayState) throw new AuthenticationFailedError();
      const rec = await this.store.getSsoConfig(session.tenantUuid, 'saml');
      if (rec === null) throw new AuthenticationFailedError();
      const s = rec.data as unknown as StoredSaml;
      const requestId = String(session.data.requestId);
      let profile: Profile | null;
      try {
        ({ profile } = await this.client(s, requestId).validatePostResponseAsync({ SAMLResponse: form.SAMLResponse }));
      } catch {
        throw new AuthenticationFailedError();
      }
      if (profile === null || typeof profile.getAssertionXml !== 'function') throw new AuthenticationFailedError();
      const assertion = await signedAssertionFacts(profile.getAssertionXml());
      // The destination of the envelope, when given, and the recipient in the signed assertion: our ACS.
      const destination = await rootAttribute(xml, 'Destination');
      if (
        (destination !== null && destination !== s.acs_url) ||
        !assertion.bearer.some((b) => b.recipient === s.acs_url && b.inResponseTo === requestId)
      ) {
        throw new AuthenticationFailedError();
      }
      // One assertion, one login.
      const replayKey = hashToken(`saml:${s.idp.entity_id}:${assertion.id}`);
      if (!(await this.store.rememberSsoAssertion(replayKey, now + this.options.saml_session_lifetime_seconds * 1000, now))) {
        throw new AuthenticationFailedError();
      }
      const login = profile.nameID;
      if (typeof login !== 'string' || login.length === 0 || login.length > 256) throw new AuthenticationFailedError();
      const user = await this.store.findUserByLogin(login);
      if (user === null || user.tenantUuid !== session.tenantUuid || !user.enabled) throw new AuthenticationFailedError();
      const done = await this.store.completeSsoSession(session.idHash, {
        userUuid: user.uuid,
        login,
        at: now,
        // Kept for single logout; POST /token must come within the login timeout (consume checks completedAt).
        expiresAt: now + this.options.saml_session_lifetime_seconds * 1000,
        data: {
          nameID: profile.nameID,
          nameIDFormat: profile.nameIDFormat,
          nameQualifier: profile.nameQualifier ?? null,
          spNameQualifier: profile.spNameQualifier ?? null,
          sessionIndex: profile.sessionIndex ?? null,
          issuer: profile.issuer,
        },
      });
      if (!done) throw new AuthenticationFailedError();
      return session.redirectUrl;
    } catch (err) {
      await this.store.deleteSsoSession(session.idHash);
      throw err;
    }
  }

  /** POST /token {saml_session_id}: the user it proved, once, within the login timeout. */
  async consume(sessionId: string): Promise<{ principal: ProvenPrincipal; idHash: string }> {
    const now = this.clock.now();
    const session = await this.store.consumeSsoSession('saml', hashToken(sessionId), now);
    if (session === null || session.userUuid === null || session.login === null || session.completedAt === null)
      throw new AuthenticationFailedError();
    if (now > session.createdAt + this.options.saml_login_timeout_seconds * 1000) throw new AuthenticationFailedError();
    return {
      principal: { userUuid: session.userUuid, tenantUuid: session.tenantUuid, login: session.login },
      idHash: session.idHash,
    };
  }

  /** Revokes a token session and the refresh token its tokens came with. */
  private async revoke(sessionUuid: string, refreshTokenUuid: string | null): Promise<void> {
    if (refreshTokenUuid !== null) this.tokens.forget(await this.store.revokeRefreshTokenFamily(refreshTokenUuid));
    this.tokens.forget(await this.store.deleteSession(sessionUuid));
  }

  /**
   * GET /saml/logout: the caller's token session (and its refresh token) is
   * revoked at once, whatever the IdP does next; the answer is where to send
   * the browser to end the IdP's session (a signed LogoutRequest).
   */
  async logout(token: string): Promise<{ location: string }> {
    let record: TokenRecord;
    try {
      ({ record } = await this.tokens.lookup(token));
    } catch {
      throw new AuthenticationFailedError();
    }
    const now = this.clock.now();
    const sso = await this.store.findSsoSessionByTokenSession(record.sessionUuid, now);
    if (sso === null || sso.kind !== 'saml') throw new NotFoundError('unknown-saml-session', 'saml sessions', record.sessionUuid);
    const rec = await this.store.getSsoConfig(sso.tenantUuid, 'saml');
    await this.revoke(record.sessionUuid, record.refreshTokenUuid);
    await this.store.deleteSsoSession(sso.idHash);
    const s = rec === null ? null : (rec.data as unknown as StoredSaml);
    if (s === null || s.idp.slo_url === null) return { location: sso.redirectUrl };
    let requestId = '';
    const relayState = generateToken();
    const d = sso.data;
    const location = await this.client(s, null, {
      generateUniqueId: () => {
        requestId = newRequestId();
        return requestId;
      },
    }).getLogoutUrlAsync(
      {
        issuer: String(d.issuer ?? s.idp.entity_id),
        nameID: String(d.nameID ?? sso.login ?? ''),
        nameIDFormat: String(d.nameIDFormat ?? ''),
        nameQualifier: (d.nameQualifier as string | null) ?? undefined,
        spNameQualifier: (d.spNameQualifier as string | null) ?? undefined,
        sessionIndex: (d.sessionIndex as string | null) ?? undefined,
      },
      relayState,
      {},
    );
    await this.store.createSsoSession({
      idHash: hashToken(generateToken()),
      requestKeyHash: hashToken(`logout:${requestId}`),
      kind: 'saml',
      tenantUuid: sso.tenantUuid,
      redirectUrl: sso.redirectUrl,
      data: { requestId, tokenSessionUuid: record.sessionUuid, refreshTokenUuid: record.refreshTokenUuid },
      userUuid: null,
      login: null,
      tokenSessionUuid: null,
      createdAt: now,
      expiresAt: now + this.options.saml_login_timeout_seconds * 1000,
      completedAt: null,
      consumedAt: null,
    });
    return { location };
  }

  /**
   * GET /saml/sls (HTTP-Redirect): the IdP's LogoutResponse to our
   * LogoutRequest, or the IdP's own LogoutRequest. Returns where to send the
   * browser; null: the IdP's metadata has no HTTP-Redirect
   * SingleLogoutService to answer to (its logins are revoked all the same).
   */
  async sls(query: Record<string, unknown>, rawQuery: string): Promise<string | null> {
    const request = query.SAMLRequest !== undefined;
    if (request === (query.SAMLResponse !== undefined)) throw new AuthenticationFailedError();
    const params = redirectParams(rawQuery, request ? 'SAMLRequest' : 'SAMLResponse');
    if (params === null) throw new AuthenticationFailedError();
    return request ? this.idpLogout(params) : this.logoutAnswered(params);
  }

  /**
   * The IdP's LogoutResponse. Its signature must be there and be the IdP's,
   * and it must answer a logout we started; the session it names is revoked
   * (again, if the logout already did), and the browser goes back to the
   * login's redirect_url.
   */
  private async logoutAnswered(params: RedirectParams): Promise<string> {
    const xml = decodeBase64Message(params.message, true);
    const inResponseTo = await rootAttribute(xml, 'InResponseTo');
    if (inResponseTo === null) throw new AuthenticationFailedError();
    const now = this.clock.now();
    const pending = await this.store.findPendingSsoSession('saml', hashToken(`logout:${inResponseTo}`), now);
    if (pending === null) throw new AuthenticationFailedError();
    try {
      const rec = await this.store.getSsoConfig(pending.tenantUuid, 'saml');
      if (rec === null) throw new AuthenticationFailedError();
      try {
        await this.client(rec.data as unknown as StoredSaml, String(pending.data.requestId)).validateRedirectAsync(
          params.container,
          params.signed,
        );
      } catch {
        throw new AuthenticationFailedError();
      }
      await this.revoke(String(pending.data.tokenSessionUuid), (pending.data.refreshTokenUuid as string | null) ?? null);
      return pending.redirectUrl;
    } finally {
      await this.store.deleteSsoSession(pending.idHash);
    }
  }

  /**
   * IdP-initiated single logout: the IdP ended the user's session (another
   * application logged out, an administrator ended it) and asks us to end
   * ours. The tenants asked are those whose stored IdP has the request's
   * Issuer as entity id, narrowed by what the request says of us (its
   * Destination: our SLS URL; its NameID's SPNameQualifier: our entity id),
   * each holding the request to its own stored certificates. Several tenants
   * may share an IdP (one Keycloak realm, one Entra directory) behind one
   * SLS URL: the request is then applied to every one whose certificates
   * verify it; a login names one user of one tenant, so only that tenant's
   * logins match. The request must be signed, young (IssueInstant within
   * LOGOUT_REQUEST_MAX_AGE_MS, NotOnOrAfter not passed) and never seen; then
   * every completed SAML login of its NameID in those tenants (those of its
   * SessionIndex values when it has some, and those whose index we do not
   * know) loses its token session and refresh tokens. The answer is a signed
   * LogoutResponse (Success: no session of that principal is left here) from
   * the tenant whose logins ended (else the first verified).
   */
  private async idpLogout(params: RedirectParams): Promise<string | null> {
    const xml = decodeBase64Message(params.message, true);
    // Read before the signature is checked, only to know whose keys check it.
    const claimed = await logoutRequestFacts(xml);
    if (claimed === null) throw new AuthenticationFailedError();
    const candidates = (await this.store.findSamlConfigsByIdp(claimed.issuer)).filter((c) => {
      const s = c.data as unknown as StoredSaml;
      return (
        (claimed.destination === null || claimed.destination === slsUrlOf(s)) &&
        (claimed.spNameQualifier === null || claimed.spNameQualifier === s.entity_id)
      );
    });
    const verified: { tenantUuid: string; s: StoredSaml; profile: Profile }[] = [];
    for (const c of candidates) {
      const s = c.data as unknown as StoredSaml;
      try {
        const { profile } = await this.client(s, null).validateRedirectAsync(params.container, params.signed);
        if (profile !== null && profile.nameID === claimed.nameID) verified.push({ tenantUuid: c.tenantUuid, s, profile });
      } catch {
        // Not signed by this tenant's IdP certificates (or refused by node-saml's issuer and time checks).
      }
    }
    if (verified.length === 0) throw new AuthenticationFailedError();
    // The redirect signature covers the whole message: `claimed` is the IdP's word from here.
    // Message times are the IdP's, against the system clock as node-saml's are.
    const wall = Date.now();
    const issued = Date.parse(claimed.issueInstant);
    if (Number.isNaN(issued) || issued > wall + CLOCK_SKEW_MS || wall - CLOCK_SKEW_MS > issued + LOGOUT_REQUEST_MAX_AGE_MS) {
      throw new AuthenticationFailedError();
    }
    if (claimed.notOnOrAfter !== null) {
      const until = Date.parse(claimed.notOnOrAfter);
      if (Number.isNaN(until) || wall - CLOCK_SKEW_MS >= until) throw new AuthenticationFailedError();
    }
    const now = this.clock.now();
    const replayKey = hashToken(`saml-logout:${claimed.issuer}:${claimed.id}`);
    if (!(await this.store.rememberSsoAssertion(replayKey, now + LOGOUT_REQUEST_MAX_AGE_MS + 2 * CLOCK_SKEW_MS, now))) {
      throw new AuthenticationFailedError();
    }
    let answering = verified[0];
    let found = false;
    for (const v of verified) {
      for (const login of await this.store.findCompletedSsoLogins('saml', v.tenantUuid, claimed.nameID, now)) {
        const index = login.data.sessionIndex;
        if (claimed.sessionIndexes.length > 0 && typeof index === 'string' && !claimed.sessionIndexes.includes(index)) continue;
        for (const family of login.refreshTokenUuids) this.tokens.forget(await this.store.revokeRefreshTokenFamily(family));
        if (login.tokenSessionUuid !== null) this.tokens.forget(await this.store.deleteSession(login.tokenSessionUuid));
        // A login not exchanged yet (POST /token) ends too.
        await this.store.deleteSsoSession(login.idHash);
        if (!found) answering = v;
        found = true;
      }
    }
    if (answering.s.idp.slo_url === null) return null;
    return this.client(answering.s, null).getLogoutResponseUrlAsync(
      answering.profile,
      params.container.RelayState ?? '',
      {},
      true,
    );
  }
}

/** The parameters of an HTTP-Redirect message, as received and as node-saml checks them. */
interface RedirectParams {
  /** The SAMLRequest or SAMLResponse, decoded from the URL. */
  message: string;
  container: Record<string, string>;
  /** The signed octets: message, RelayState when given, SigAlg (each as received). */
  signed: string;
}

/**
 * The signed parameters of a redirect-bound message, each given once, and
 * the signature and its algorithm required (node-saml accepts an unsigned
 * one, and picks the octets it verifies by a loose match on the raw query).
 * null: missing, repeated or badly encoded.
 */
function redirectParams(rawQuery: string, messageKey: 'SAMLRequest' | 'SAMLResponse'): RedirectParams | null {
  const pairs = rawQuery.split('&');
  const raw: Record<string, string> = {};
  const container: Record<string, string> = {};
  for (const key of [messageKey, 'RelayState', 'SigAlg', 'Signature']) {
    const found = pairs.filter((p) => p.startsWith(`${key}=`));
    if (found.length > 1) return null;
    if (found.length === 0) continue;
    raw[key] = found[0];
    try {
      container[key] = decodeURIComponent(found[0].slice(key.length + 1).replace(/\+/g, ' '));
    } catch {
      return null;
    }
  }
  if (raw[messageKey] === undefined || raw.SigAlg === undefined || raw.Signature === undefined) return null;
  const signed = [raw[messageKey], raw.RelayState, raw.SigAlg].filter((p) => p !== undefined).join('&');
  return { message: container[messageKey], container, signed };
}

/** What a LogoutRequest says (root attributes and its direct children); null when it is not one. */
async function logoutRequestFacts(xml: string): Promise<{
  id: string;
  issueInstant: string;
  notOnOrAfter: string | null;
  destination: string | null;
  issuer: string;
  nameID: string;
  spNameQualifier: string | null;
  sessionIndexes: string[];
} | null> {
  let doc: Document;
  try {
    doc = await parseXml(xml);
  } catch {
    return null;
  }
  const root = doc.documentElement;
  if (root === null || root.localName !== 'LogoutRequest' || root.namespaceURI !== PROTOCOL_NS) return null;
  const child = (name: string) => xpath.selectElements(root, `*[local-name()='${name}']`);
  const attr = (name: string) => {
    const v = root.getAttribute(name);
    return v === null || v === '' ? null : v;
  };
  const id = attr('ID');
  const issueInstant = attr('IssueInstant');
  const issuer = child('Issuer')[0]?.textContent?.trim() ?? '';
  const nameIds = child('NameID');
  // As node-saml reads it, and as the login kept it (not trimmed).
  const nameID = nameIds[0]?.textContent ?? '';
  // An EncryptedID is not read (we publish no encryption key): no NameID, refused.
  if (id === null || issueInstant === null || issuer === '' || nameIds.length !== 1 || nameID === '' || nameID.length > 256)
    return null;
  const spq = nameIds[0].getAttribute('SPNameQualifier');
  return {
    id,
    issueInstant,
    notOnOrAfter: attr('NotOnOrAfter'),
    destination: attr('Destination'),
    issuer,
    nameID,
    spNameQualifier: spq === null || spq === '' ? null : spq,
    sessionIndexes: child('SessionIndex')
      .map((e) => e.textContent?.trim() ?? '')
      .filter((v) => v !== ''),
  };
}

/** A base64 SAML message (deflated for the redirect binding), as text. */
function decodeBase64Message(value: string, deflated: boolean): string {
  if (value.length > (MAX_MESSAGE_BYTES * 4) / 3 + 4 || !/^[A-Za-z0-9+/=\s]+$/.test(value))
    throw new InvalidDataError('SAML message is not base64');
  let bytes = Buffer.from(value, 'base64');
  if (deflated) {
    try {
      bytes = inflateRawSync(bytes, { maxOutputLength: MAX_MESSAGE_BYTES });
    } catch {
      throw new InvalidDataError('SAML message is not deflated');
    }
  }
  return bytes.toString('utf8');
}

/** An attribute of the document element; null when absent or the XML is not well-formed. */
async function rootAttribute(xml: string, name: string): Promise<string | null> {
  try {
    const doc = await parseXml(xml);
    const value = doc.documentElement?.getAttribute(name);
    return value === undefined || value === null || value === '' ? null : value;
  } catch {
    return null;
  }
}

/** From the assertion node-saml verified: its ID and its bearer confirmations. */
async function signedAssertionFacts(
  assertionXml: string,
): Promise<{ id: string; bearer: { recipient: string | null; inResponseTo: string | null }[] }> {
  let doc: Document;
  try {
    doc = await parseXml(assertionXml);
  } catch {
    throw new AuthenticationFailedError();
  }
  const root = doc.documentElement;
  const id = root?.getAttribute('ID') ?? '';
  if (root === null || root.localName !== 'Assertion' || id === '') throw new AuthenticationFailedError();
  const bearer = xpath
    .selectElements(
      root,
      "*[local-name()='Subject']/*[local-name()='SubjectConfirmation'][@Method='urn:oasis:names:tc:SAML:2.0:cm:bearer']/*[local-name()='SubjectConfirmationData']",
    )
    .map((el) => ({ recipient: el.getAttribute('Recipient'), inResponseTo: el.getAttribute('InResponseTo') }));
  return { id, bearer };
}
