// The contract of third-party backends (docs/backends.md). A plugin is an
// ES module whose default export (or `createBackend` export) is a
// BackendPluginFactory. Only types here: a plugin needs nothing from
// xivo-auth at run time.

export type PluginPurpose = 'user' | 'internal' | 'external_api';

/** Who a successful login is, as a plugin answers it. */
export interface PluginIdentity {
  /** The identity the plugin vouches for (a non-empty string, at most 256 characters). */
  authId: string;
  /**
   * A local user of xivo-auth this login is (its policies and groups then
   * join the token's ACL, and its tenant is the token's). The user must
   * exist and be enabled, else the login fails.
   */
  userUuid?: string | null;
  /** Tenant of an identity without a local user; default: the top tenant. */
  tenantUuid?: string | null;
  pbxUserUuid?: string | null;
  /** Default 'user'. */
  purpose?: PluginPurpose;
  /** Merged into the token's metadata (JSON values). */
  metadata?: Record<string, unknown>;
  /** ACL granted by the plugin itself, added to the user's. */
  acl?: string[];
}

export interface PluginLoginContext {
  /** `tenant_id` of the login request (uuid or slug), if any. */
  tenantUuid: string | null;
  domainName: string | null;
  remoteAddr: string | null;
}

export interface PluginLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A local user, as plugins see it (no password hash). */
export interface PluginUser {
  uuid: string;
  tenantUuid: string;
  username: string | null;
  emailAddress: string | null;
  purpose: PluginPurpose;
  enabled: boolean;
}

/** What xivo-auth gives a plugin. */
export interface PluginServices {
  /** A child logger named after the plugin. Never log passwords. */
  logger: PluginLogger;
  /** The local user with this username or confirmed email (case-insensitive), or null. */
  findUserByLogin(login: string): Promise<PluginUser | null>;
}

export interface BackendPlugin {
  /**
   * The identity when the password is right, null otherwise. Throwing, or
   * answering after `backend_plugin_timeout`, fails the login (401).
   */
  verifyPassword(login: string, password: string, ctx: PluginLoginContext): Promise<PluginIdentity | null>;
  /** Called once at shutdown. */
  close?(): Promise<void> | void;
}

/** Called once at start-up with the plugin's configured `options`. */
export type BackendPluginFactory = (
  options: Record<string, unknown>,
  services: PluginServices,
) => BackendPlugin | Promise<BackendPlugin>;
