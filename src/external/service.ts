// External accounts (issue 22): each tenant's configuration of an external
// auth type, users' mobile push tokens, and their Google and Microsoft
// connections through the OAuth 2.0 device authorization grant (RFC 8628).
//
// Secrets (client secrets, push credentials, device codes, the providers'
// tokens) are sealed (./secret-box.ts) before they reach the store, opened
// only to be sent where they belong, never returned by the configuration
// API, never logged.
//
// A device authorization lives in the store, so any instance can complete
// it: the poller (./device-poller.ts) of every instance, and a GET of the
// token, claim each poll of the provider through the store (one of them
// polls at the provider's interval), and the first to get the tokens
// stores the connection with its events.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { InvalidDataError } from '../errors.js';
import type { TenantTree } from '../identity/tenant-tree.js';
import type { User } from '../identity/types.js';
import type { OAuthProviderConfig } from '../config/sections/external.js';
import {
  ExternalAuthConfigExistsError,
  ExternalAuthExistsError,
  ExternalAuthNotReadyError,
  ProviderRefusedError,
  ProviderUnavailableError,
  UnknownExternalAuthConfigError,
  UnknownExternalAuthError,
  UnknownExternalAuthTypeError,
} from './errors.js';
import type { ClientCredentials, OAuthClient, Outcome, ProviderEndpoints, TokenSet } from './oauth-client.js';
import type { SecretBox } from './secret-box.js';
import {
  EXTERNAL_AUTH_TYPES,
  type DeviceFlowRecord,
  type ExternalAuthConfigRecord,
  type ExternalAuthStore,
  type ExternalAuthType,
  type ExternalConnectionRecord,
  type OAuthProviderType,
} from './types.js';

/** The fields of a type's configuration: returned, write-only, and what a secret belongs to. */
interface ConfigFields {
  public: readonly string[];
  secret: readonly string[];
  /** A stored secret is kept by a PUT that omits it only while this field keeps its value. */
  boundTo: Readonly<Record<string, string>>;
  required: readonly string[];
}

const OAUTH_CONFIG: ConfigFields = {
  public: ['client_id'],
  secret: ['client_secret'],
  boundTo: { client_secret: 'client_id' },
  required: ['client_id'],
};

export const CONFIG_FIELDS: Readonly<Record<ExternalAuthType, ConfigFields>> = {
  google: OAUTH_CONFIG,
  microsoft: OAUTH_CONFIG,
  mobile: {
    public: ['fcm_sender_id', 'ios_apn_certificate', 'use_sandbox'],
    secret: ['fcm_service_account_info', 'fcm_api_key', 'ios_apn_private'],
    boundTo: { fcm_service_account_info: 'fcm_sender_id', fcm_api_key: 'fcm_sender_id', ios_apn_private: 'ios_apn_certificate' },
    required: [],
  },
};

export const MOBILE_FIELDS = ['token', 'apns_token', 'apns_voip_token', 'apns_notification_token'] as const;
export type MobileTokens = Record<(typeof MOBILE_FIELDS)[number], string | null>;

/** What a client gets of a provider connection. */
export interface ProviderToken {
  accessToken: string;
  /** Epoch ms; null when the provider gave no lifetime. */
  expiresAt: number | null;
  scope: string[];
}

export interface DeviceAuthorizationStarted {
  verificationUri: string;
  verificationUriComplete: string | null;
  userCode: string;
  expiresIn: number;
  interval: number;
}

export interface ExternalAuthListItem {
  type: string;
  enabled: boolean;
  data: Record<string, unknown>;
  pluginInfo: Record<string, unknown>;
}

export interface ExternalAuthServiceOptions {
  /** The enabled types (enabled_external_auth_plugins). */
  enabled: readonly ExternalAuthType[];
  providers: Readonly<Record<OAuthProviderType, OAuthProviderConfig>>;
  refreshMarginSeconds: number;
  /** external_auth.provider_timeout_seconds, in ms (a refresh lease outlives one request to the provider). */
  providerTimeoutMs: number;
}

/** The additional data binding a sealed value to its row. */
const where = {
  config: (tenantUuid: string, authType: string) => `external_auth_configs/${tenantUuid}/${authType}`,
  connection: (userUuid: string, authType: string) => `user_external_auths/${userUuid}/${authType}`,
  deviceCode: (userUuid: string, authType: string) => `external_auth_device_flows/${userUuid}/${authType}`,
};

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });

export class ExternalAuthService {
  private readonly enabled: ReadonlySet<string>;

  constructor(
    private readonly store: ExternalAuthStore,
    private readonly users: { get(uuid: string, scopeRoot: string | null): Promise<User> },
    private readonly tenants: Pick<TenantTree, 'subtree'>,
    private readonly box: SecretBox,
    private readonly oauth: OAuthClient,
    private readonly clock: Clock,
    private readonly logger: Pick<Logger, 'info' | 'warn' | 'debug'>,
    private readonly options: ExternalAuthServiceOptions,
  ) {
    this.enabled = new Set(options.enabled);
  }

  isEnabled(authType: string): authType is ExternalAuthType {
    return this.enabled.has(authType);
  }

  private assertEnabled(authType: string): ExternalAuthType {
    if (!this.isEnabled(authType)) throw new UnknownExternalAuthTypeError(authType);
    return authType;
  }

  // ---- tenant configuration

  async getConfig(authType: string, tenantUuid: string): Promise<Record<string, unknown>> {
    this.assertEnabled(authType);
    const config = await this.store.getExternalAuthConfig(tenantUuid, authType);
    if (config === null) throw new UnknownExternalAuthConfigError(authType);
    return config.data;
  }

  async createConfig(authType: string, tenantUuid: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const type = this.assertEnabled(authType);
    const fields = this.checkConfigInput(type, input);
    const now = this.clock.now();
    const secrets = pickPresent(input, fields.secret);
    const record: ExternalAuthConfigRecord = {
      tenantUuid,
      authType: type,
      data: pickPresent(input, fields.public),
      secrets: this.sealOrNull(secrets, where.config(tenantUuid, type)),
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.store.createExternalAuthConfig(record))) throw new ExternalAuthConfigExistsError(type);
    return record.data;
  }

  /**
   * Replaces the configuration. A write-only field left out keeps its stored
   * value while the field it belongs to (client_id...) is unchanged; null
   * removes it. (A changed client_id with the old secret would send the
   * secret to another client.)
   */
  async replaceConfig(authType: string, tenantUuid: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const type = this.assertEnabled(authType);
    const fields = this.checkConfigInput(type, input);
    const stored = await this.store.getExternalAuthConfig(tenantUuid, type);
    if (stored === null) throw new UnknownExternalAuthConfigError(type);
    const context = where.config(tenantUuid, type);
    const storedSecrets = this.box.openJson(stored.secrets, context);
    const data = pickPresent(input, fields.public);
    const secrets: Record<string, unknown> = {};
    for (const name of fields.secret) {
      if (Object.prototype.hasOwnProperty.call(input, name)) {
        if (input[name] !== null) secrets[name] = input[name];
        continue;
      }
      if (storedSecrets[name] === undefined) continue;
      const owner = fields.boundTo[name];
      if (owner !== undefined && data[owner] !== stored.data[owner]) {
        const message = `required when ${owner} changes (null removes it)`;
        throw new InvalidDataError(`${name} is ${message}`, { [name]: { constraint_id: 'required', message } });
      }
      secrets[name] = storedSecrets[name];
    }
    const record: ExternalAuthConfigRecord = {
      ...stored,
      data,
      secrets: this.sealOrNull(secrets, context),
      updatedAt: this.clock.now(),
    };
    if (!(await this.store.replaceExternalAuthConfig(record))) throw new UnknownExternalAuthConfigError(type);
    return data;
  }

  async deleteConfig(authType: string, tenantUuid: string): Promise<void> {
    const type = this.assertEnabled(authType);
    if (!(await this.store.deleteExternalAuthConfig(tenantUuid, type))) throw new UnknownExternalAuthConfigError(type);
  }

  /** Fields of another type are refused, as are missing required ones. */
  private checkConfigInput(type: ExternalAuthType, input: Record<string, unknown>): ConfigFields {
    const fields = CONFIG_FIELDS[type];
    const known = new Set([...fields.public, ...fields.secret]);
    const details: Record<string, unknown> = {};
    for (const name of Object.keys(input)) {
      if (!known.has(name)) details[name] = { constraint_id: 'unknown', message: `not a field of the ${type} configuration` };
    }
    for (const name of fields.required) {
      if (input[name] === undefined || input[name] === null) details[name] = { constraint_id: 'required', message: 'required' };
    }
    const names = Object.keys(details);
    if (names.length > 0) throw new InvalidDataError(`Invalid ${type} configuration: ${names.join(', ')}`, details);
    return fields;
  }

  private sealOrNull(secrets: Record<string, unknown>, context: string): string | null {
    return Object.keys(secrets).length === 0 ? null : this.box.sealJson(secrets, context);
  }

  // ---- a user's connections

  /** Every enabled type, with whether the user is connected to it (wazo-auth's list; no secret in `data`). */
  async list(
    userUuid: string,
    scopeRoot: string,
    q: { search?: string; direction?: 'asc' | 'desc'; limit?: number; offset?: number },
  ) {
    await this.users.get(userUuid, scopeRoot);
    const connected = new Set(await this.store.listExternalConnectionTypes(userUuid));
    const types = EXTERNAL_AUTH_TYPES.filter((t) => this.enabled.has(t)).sort();
    if (q.direction === 'desc') types.reverse();
    const search = q.search?.toLowerCase();
    const matching = search === undefined || search === '' ? types : types.filter((t) => t.includes(search));
    const offset = q.offset ?? 0;
    const page = matching.slice(offset, q.limit === undefined ? undefined : offset + q.limit);
    const items: ExternalAuthListItem[] = page.map((type) => ({ type, enabled: connected.has(type), data: {}, pluginInfo: {} }));
    return { total: types.length, filtered: matching.length, items };
  }

  /** The users of the tenant (recurse: and below) connected to the type and logged in, as wazo-auth lists them. */
  async connectedUsers(authType: string, scopeRoot: string, q: { recurse?: boolean; limit?: number; offset?: number }) {
    const type = this.assertEnabled(authType);
    const tenantUuids = q.recurse ? await this.tenants.subtree(scopeRoot) : [scopeRoot];
    const { total, items } = await this.store.listConnectedUsers(type, tenantUuids, this.clock.now(), {
      limit: q.limit,
      offset: q.offset,
    });
    return { total, filtered: total, items: items.map((uuid) => ({ uuid })) };
  }

  // ---- mobile push tokens

  async createMobile(userUuid: string, scopeRoot: string, tokens: MobileTokens): Promise<MobileTokens> {
    return this.writeMobile(userUuid, scopeRoot, tokens, 'create');
  }

  /** Creates or replaces the user's push tokens. */
  async putMobile(userUuid: string, scopeRoot: string, tokens: MobileTokens): Promise<MobileTokens> {
    return this.writeMobile(userUuid, scopeRoot, tokens, 'upsert');
  }

  private async writeMobile(
    userUuid: string,
    scopeRoot: string,
    tokens: MobileTokens,
    mode: 'create' | 'upsert',
  ): Promise<MobileTokens> {
    const user = await this.users.get(userUuid, scopeRoot);
    const now = this.clock.now();
    const written = await this.store.writeExternalConnection(
      {
        userUuid: user.uuid,
        authType: 'mobile',
        data: {},
        secrets: this.box.sealJson(tokens, where.connection(user.uuid, 'mobile')),
        expiresAt: null,
        createdAt: now,
        updatedAt: now,
      },
      mode,
      user.tenantUuid,
    );
    if (written === 'exists') throw new ExternalAuthExistsError('mobile');
    return tokens;
  }

  async getMobile(userUuid: string, scopeRoot: string): Promise<MobileTokens> {
    const user = await this.users.get(userUuid, scopeRoot);
    const connection = await this.store.getExternalConnection(user.uuid, 'mobile');
    if (connection === null) throw new UnknownExternalAuthError('mobile');
    const stored = this.box.openJson(connection.secrets, where.connection(user.uuid, 'mobile'));
    const tokens = {} as MobileTokens;
    for (const name of MOBILE_FIELDS) tokens[name] = typeof stored[name] === 'string' ? (stored[name] as string) : null;
    return tokens;
  }

  async deleteMobile(userUuid: string, scopeRoot: string): Promise<void> {
    const user = await this.users.get(userUuid, scopeRoot);
    if ((await this.store.deleteExternalConnection(user.uuid, 'mobile', user.tenantUuid)) === null) {
      throw new UnknownExternalAuthError('mobile');
    }
  }

  /** The FCM sender id of the user's tenant; 404 when its mobile configuration has none. */
  async mobileSenderId(userUuid: string, scopeRoot: string): Promise<string> {
    const user = await this.users.get(userUuid, scopeRoot);
    const config = await this.store.getExternalAuthConfig(user.tenantUuid, 'mobile');
    const senderId = config?.data.fcm_sender_id;
    if (typeof senderId !== 'string' || senderId === '') throw new UnknownExternalAuthConfigError('mobile');
    return senderId;
  }

  // ---- provider connections (OAuth 2.0 device authorization)

  /**
   * Starts a connection: asks the provider for a device code (with the
   * client of the user's tenant) and keeps it, sealed, for the polls.
   * Starting again replaces an authorization in progress; a connection
   * already there stays until the new one completes.
   */
  async startAuthorization(
    authType: OAuthProviderType,
    userUuid: string,
    scopeRoot: string,
    scope: string[] | undefined,
  ): Promise<DeviceAuthorizationStarted> {
    const user = await this.users.get(userUuid, scopeRoot);
    const client = await this.clientOf(authType, user.tenantUuid);
    const wanted = scope ?? this.options.providers[authType].scope;
    const answer = await this.oauth.authorizeDevice(this.endpoints(authType), client, wanted);
    if (!answer.ok) {
      if (answer.kind === 'refused' && answer.error === 'invalid_scope') {
        throw new InvalidDataError(`${authType} refused the scope`, {
          scope: { constraint_id: 'invalid_scope', message: `refused by ${authType}` },
        });
      }
      throw this.providerError(authType, answer);
    }
    const a = answer.value;
    const now = this.clock.now();
    const intervalMs = Math.max(1, a.interval) * 1000;
    await this.store.putDeviceFlow({
      userUuid: user.uuid,
      authType,
      tenantUuid: user.tenantUuid,
      status: 'pending',
      error: null,
      deviceCode: this.box.seal(a.deviceCode, where.deviceCode(user.uuid, authType)),
      scope: wanted,
      intervalMs,
      nextPollAt: now + intervalMs,
      expiresAt: now + a.expiresIn * 1000,
      createdAt: now,
    });
    this.logger.info({ user_uuid: user.uuid, auth_type: authType }, 'external auth: device authorization started');
    return {
      verificationUri: a.verificationUri,
      verificationUriComplete: a.verificationUriComplete,
      userCode: a.userCode,
      expiresIn: a.expiresIn,
      interval: a.interval,
    };
  }

  /**
   * The user's access token, refreshed first when it expires within the
   * margin. While the authorization is in progress, a due poll is made now
   * (a client asking is as good a time as the poller's).
   */
  async getToken(authType: OAuthProviderType, userUuid: string, scopeRoot: string): Promise<ProviderToken> {
    const user = await this.users.get(userUuid, scopeRoot);
    let connection = await this.store.getExternalConnection(user.uuid, authType);
    if (connection === null) {
      const flow = await this.store.getDeviceFlow(user.uuid, authType);
      if (flow === null) throw new UnknownExternalAuthError(authType);
      if (flow.status === 'pending') {
        await this.pollFlow(user.uuid, authType);
        connection = await this.store.getExternalConnection(user.uuid, authType);
      }
      if (connection === null) {
        const ended = await this.store.getDeviceFlow(user.uuid, authType);
        if (ended === null) throw new UnknownExternalAuthError(authType);
        throw new ExternalAuthNotReadyError(authType, ended.status, ended.status === 'failed' ? ended.error : null);
      }
    }
    const now = this.clock.now();
    if (connection.expiresAt === null || connection.expiresAt - now > this.options.refreshMarginSeconds * 1000) {
      return this.tokenOf(connection);
    }
    return this.refresh(authType, user, connection);
  }

  /**
   * Forgets the connection (and an authorization in progress), revoking
   * the tokens at the provider first when it has a revocation endpoint. A
   * provider that does not answer does not keep the user connected: the
   * connection is forgotten all the same (logged).
   */
  async deleteConnection(authType: OAuthProviderType, userUuid: string, scopeRoot: string): Promise<void> {
    const user = await this.users.get(userUuid, scopeRoot);
    const connection = await this.store.getExternalConnection(user.uuid, authType);
    const flow = connection === null ? await this.store.getDeviceFlow(user.uuid, authType) : null;
    if (connection === null && flow === null) throw new UnknownExternalAuthError(authType);
    const revocationUrl = this.options.providers[authType].revocation_url;
    if (connection !== null && revocationUrl !== null) await this.revoke(authType, user, connection, revocationUrl);
    await this.store.deleteExternalConnection(user.uuid, authType, user.tenantUuid);
  }

  /** The poller's step: polls the device authorizations due now; returns how many were polled. */
  async pollDue(limit: number): Promise<number> {
    const due = await this.store.listDueDeviceFlows(this.clock.now(), limit);
    for (const flow of due) {
      if (flow.authType !== 'google' && flow.authType !== 'microsoft') continue;
      await this.pollFlow(flow.userUuid, flow.authType).catch((err: unknown) => {
        this.logger.warn(
          { user_uuid: flow.userUuid, auth_type: flow.authType, err: { message: (err as Error).message } },
          'external auth: device authorization poll failed',
        );
      });
    }
    return due.length;
  }

  /** One poll of the provider for the flow, if due and claimed here; how it ended is stored. */
  async pollFlow(userUuid: string, authType: OAuthProviderType): Promise<void> {
    const now = this.clock.now();
    const flow = await this.store.claimDeviceFlowPoll(userUuid, authType, now);
    if (flow === null) {
      const current = await this.store.getDeviceFlow(userUuid, authType);
      if (current?.status === 'pending' && current.expiresAt <= now)
        await this.store.updateDeviceFlow(userUuid, authType, { status: 'expired' });
      return;
    }
    if (flow.expiresAt <= now) {
      await this.store.updateDeviceFlow(userUuid, authType, { status: 'expired' });
      return;
    }
    const config = await this.store.getExternalAuthConfig(flow.tenantUuid, authType);
    if (config === null) {
      await this.store.updateDeviceFlow(userUuid, authType, { status: 'failed', error: 'no_configuration' });
      return;
    }
    const client = this.credentials(config);
    const deviceCode = this.box.open(flow.deviceCode, where.deviceCode(userUuid, authType));
    const answer = await this.oauth.pollDevice(this.endpoints(authType), client, deviceCode);
    if (answer.ok) {
      await this.complete(flow, answer.value, now);
      return;
    }
    if (answer.kind === 'unavailable') {
      // Tried again at the next interval, until the code expires.
      this.logger.debug(
        { user_uuid: userUuid, auth_type: authType, reason: answer.detail },
        'external auth: provider unavailable for a poll',
      );
      return;
    }
    switch (answer.error) {
      case 'authorization_pending':
        return;
      case 'slow_down': {
        // RFC 8628 §3.5: five more seconds between polls from now on.
        const intervalMs = flow.intervalMs + 5000;
        await this.store.updateDeviceFlow(userUuid, authType, { intervalMs, nextPollAt: now + intervalMs });
        return;
      }
      case 'access_denied':
        await this.store.updateDeviceFlow(userUuid, authType, { status: 'denied' });
        this.logger.info({ user_uuid: userUuid, auth_type: authType }, 'external auth: the user denied the authorization');
        return;
      case 'expired_token':
        await this.store.updateDeviceFlow(userUuid, authType, { status: 'expired' });
        return;
      default:
        await this.store.updateDeviceFlow(userUuid, authType, { status: 'failed', error: answer.error });
        this.logger.warn(
          { user_uuid: userUuid, auth_type: authType, error: answer.error },
          'external auth: the provider refused the authorization',
        );
    }
  }

  private async complete(flow: DeviceFlowRecord, tokens: TokenSet, now: number): Promise<void> {
    const connection = this.connectionRecord(flow.userUuid, flow.authType, tokens, null, flow.scope, now);
    const written = await this.store.completeDeviceFlow(connection, flow.tenantUuid);
    if (written !== 'missing') {
      this.logger.info({ user_uuid: flow.userUuid, auth_type: flow.authType }, 'external auth: authorization completed');
    }
  }

  private connectionRecord(
    userUuid: string,
    authType: string,
    tokens: TokenSet,
    previousRefreshToken: string | null,
    previousScope: string[],
    now: number,
  ): ExternalConnectionRecord {
    return {
      userUuid,
      authType,
      data: { scope: tokens.scope ?? previousScope, token_type: tokens.tokenType },
      // A provider may keep the refresh token (no new one in the answer).
      secrets: this.box.sealJson(
        { access_token: tokens.accessToken, refresh_token: tokens.refreshToken ?? previousRefreshToken },
        where.connection(userUuid, authType),
      ),
      expiresAt: tokens.expiresIn === null ? null : now + tokens.expiresIn * 1000,
      createdAt: now,
      updatedAt: now,
    };
  }

  private tokenOf(connection: ExternalConnectionRecord): ProviderToken {
    const secrets = this.box.openJson(connection.secrets, where.connection(connection.userUuid, connection.authType));
    const scope = Array.isArray(connection.data.scope)
      ? connection.data.scope.filter((s): s is string => typeof s === 'string')
      : [];
    return { accessToken: String(secrets.access_token ?? ''), expiresAt: connection.expiresAt, scope };
  }

  /**
   * Refreshes under a lease held in the store: one caller (of any
   * instance) refreshes, the others wait for its result, or get the
   * current token while it is still valid.
   */
  private async refresh(authType: OAuthProviderType, user: User, connection: ExternalConnectionRecord): Promise<ProviderToken> {
    const context = where.connection(user.uuid, authType);
    const secrets = this.box.openJson(connection.secrets, context);
    const refreshToken = typeof secrets.refresh_token === 'string' ? secrets.refresh_token : null;
    let now = this.clock.now();
    const stillValid = connection.expiresAt !== null && connection.expiresAt > now;
    if (refreshToken === null) {
      if (stillValid) return this.tokenOf(connection);
      await this.store.deleteExternalConnection(user.uuid, authType, user.tenantUuid);
      throw new ExternalAuthNotReadyError(authType, 'revoked');
    }
    const leaseMs = this.options.providerTimeoutMs + 5000;
    if (!(await this.store.claimExternalRefresh(user.uuid, authType, now, now + leaseMs))) {
      if (stillValid) return this.tokenOf(connection);
      return this.awaitRefresh(authType, connection);
    }
    let answer: Outcome<TokenSet>;
    try {
      const client = await this.clientOf(authType, user.tenantUuid);
      answer = await this.oauth.refresh(this.endpoints(authType), client, refreshToken);
    } catch (err) {
      await this.store.releaseExternalRefresh(user.uuid, authType);
      throw err;
    }
    now = this.clock.now();
    if (answer.ok) {
      const previousScope = Array.isArray(connection.data.scope) ? (connection.data.scope as string[]) : [];
      const refreshed = {
        ...this.connectionRecord(user.uuid, authType, answer.value, refreshToken, previousScope, now),
        createdAt: connection.createdAt,
      };
      if ((await this.store.writeExternalConnection(refreshed, 'update', user.tenantUuid)) === 'missing') {
        // Deleted while refreshing: the user disconnected.
        throw new UnknownExternalAuthError(authType);
      }
      return this.tokenOf(refreshed);
    }
    await this.store.releaseExternalRefresh(user.uuid, authType);
    if (answer.kind === 'refused' && answer.error === 'invalid_grant') {
      // The provider no longer accepts the refresh token (revoked by the
      // user, expired): the connection is of no use any more.
      await this.store.deleteExternalConnection(user.uuid, authType, user.tenantUuid);
      this.logger.info(
        { user_uuid: user.uuid, auth_type: authType },
        'external auth: refresh token refused, connection forgotten',
      );
      throw new ExternalAuthNotReadyError(authType, 'revoked');
    }
    // The provider is down: the current token while it lasts.
    if (answer.kind === 'unavailable' && stillValid) return this.tokenOf(connection);
    throw this.providerError(authType, answer);
  }

  /** Another caller refreshes: its result, as soon as it is stored (or 503 when it never comes). */
  private async awaitRefresh(authType: OAuthProviderType, before: ExternalConnectionRecord): Promise<ProviderToken> {
    const deadline = Date.now() + this.options.providerTimeoutMs;
    while (Date.now() < deadline) {
      await sleep(100);
      const current = await this.store.getExternalConnection(before.userUuid, authType);
      if (current === null) throw new ExternalAuthNotReadyError(authType, 'revoked');
      if (current.updatedAt !== before.updatedAt) return this.tokenOf(current);
    }
    throw new ProviderUnavailableError(authType, 'a refresh in progress did not complete');
  }

  private async revoke(
    authType: OAuthProviderType,
    user: User,
    connection: ExternalConnectionRecord,
    revocationUrl: string,
  ): Promise<void> {
    const config = await this.store.getExternalAuthConfig(user.tenantUuid, authType);
    if (config === null) {
      this.logger.warn(
        { user_uuid: user.uuid, auth_type: authType },
        'external auth: no configuration left to revoke the tokens with; forgotten only',
      );
      return;
    }
    const secrets = this.box.openJson(connection.secrets, where.connection(user.uuid, authType));
    // Revoking the refresh token ends the grant (and its access tokens) at
    // providers that implement RFC 7009 §2.1's recommendation.
    const [token, hint] =
      typeof secrets.refresh_token === 'string'
        ? [secrets.refresh_token, 'refresh_token' as const]
        : [String(secrets.access_token ?? ''), 'access_token' as const];
    const answer = await this.oauth.revoke(revocationUrl, this.credentials(config), token, hint);
    if (!answer.ok) {
      const reason = answer.kind === 'refused' ? answer.error : answer.detail;
      this.logger.warn(
        { user_uuid: user.uuid, auth_type: authType, reason },
        'external auth: revocation at the provider failed; the connection is forgotten all the same',
      );
    }
  }

  private endpoints(authType: OAuthProviderType): ProviderEndpoints {
    const p = this.options.providers[authType];
    return { deviceAuthorizationUrl: p.device_authorization_url, tokenUrl: p.token_url, revocationUrl: p.revocation_url };
  }

  private async clientOf(authType: OAuthProviderType, tenantUuid: string): Promise<ClientCredentials> {
    const config = await this.store.getExternalAuthConfig(tenantUuid, authType);
    if (config === null) throw new UnknownExternalAuthConfigError(authType);
    return this.credentials(config);
  }

  private credentials(config: ExternalAuthConfigRecord): ClientCredentials {
    const secrets = this.box.openJson(config.secrets, where.config(config.tenantUuid, config.authType));
    return {
      clientId: String(config.data.client_id ?? ''),
      clientSecret: typeof secrets.client_secret === 'string' ? secrets.client_secret : null,
    };
  }

  private providerError(authType: string, failure: Exclude<Outcome<unknown>, { ok: true }>): Error {
    return failure.kind === 'unavailable'
      ? new ProviderUnavailableError(authType, failure.detail)
      : new ProviderRefusedError(authType, failure.error);
  }
}

function pickPresent(input: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) if (input[name] !== undefined && input[name] !== null) out[name] = input[name];
  return out;
}
