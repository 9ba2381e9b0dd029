// External accounts (issue 22): what the external-auth domain keeps, and the
// storage verbs it needs (implemented in src/store/external-verbs.ts, both
// engines). Secrets reach the store already sealed (./secret-box.ts): the
// store never sees them in clear.

/** The external auth types this build implements. */
export const EXTERNAL_AUTH_TYPES = ['google', 'microsoft', 'mobile'] as const;
export type ExternalAuthType = (typeof EXTERNAL_AUTH_TYPES)[number];
/** The types connected through an OAuth 2.0 device authorization. */
export type OAuthProviderType = Exclude<ExternalAuthType, 'mobile'>;

export function isExternalAuthType(name: string): name is ExternalAuthType {
  return (EXTERNAL_AUTH_TYPES as readonly string[]).includes(name);
}

/** A tenant's configuration of one type. */
export interface ExternalAuthConfigRecord {
  tenantUuid: string;
  authType: string;
  /** The fields GET returns (client_id, fcm_sender_id, ...). */
  data: Record<string, unknown>;
  /** The write-only fields, sealed JSON; null when there are none. */
  secrets: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A user's connection of one type (mobile push tokens, a provider's tokens). */
export interface ExternalConnectionRecord {
  userUuid: string;
  authType: string;
  /** Non-secret data (the granted scope...). */
  data: Record<string, unknown>;
  /** Sealed JSON (push tokens, access and refresh tokens); null when none. */
  secrets: string | null;
  /** When the provider's access token expires (epoch ms); null when not a provider's. */
  expiresAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type DeviceFlowStatus = 'pending' | 'denied' | 'expired' | 'failed';

/** A device authorization (RFC 8628) started for a user, and how it ended. */
export interface DeviceFlowRecord {
  userUuid: string;
  authType: string;
  /** The tenant whose configuration (client) started it. */
  tenantUuid: string;
  status: DeviceFlowStatus;
  /** The provider's error code when it failed. */
  error: string | null;
  /** Sealed device code. */
  deviceCode: string;
  scope: string[];
  intervalMs: number;
  nextPollAt: number;
  expiresAt: number;
  createdAt: number;
}

/** How a connection is written: a POST creates, a PUT (or a refresh, a completed flow) may replace. */
export type ConnectionWrite = 'create' | 'upsert' | 'update';

/** What writing a connection did: created, updated, or refused (exists for create, missing for update). */
export type ConnectionWritten = 'created' | 'updated' | 'exists' | 'missing';

export interface ExternalAuthStore {
  getExternalAuthConfig(tenantUuid: string, authType: string): Promise<ExternalAuthConfigRecord | null>;
  /** False when the tenant already has one of this type; StoreConflictError for an unknown tenant. */
  createExternalAuthConfig(c: ExternalAuthConfigRecord): Promise<boolean>;
  /** Replaces the stored one (keeps its createdAt); false when there is none. */
  replaceExternalAuthConfig(c: ExternalAuthConfigRecord): Promise<boolean>;
  deleteExternalAuthConfig(tenantUuid: string, authType: string): Promise<boolean>;

  getExternalConnection(userUuid: string, authType: string): Promise<ExternalConnectionRecord | null>;
  /** The types the user has a connection of. */
  listExternalConnectionTypes(userUuid: string): Promise<string[]>;
  /**
   * Writes a connection with its event (auth_user_external_auth_added when
   * created, _updated when replaced) in one transaction; `tenantUuid` is the
   * user's (the event's). A replacement ends any refresh lease.
   */
  writeExternalConnection(c: ExternalConnectionRecord, mode: ConnectionWrite, tenantUuid: string): Promise<ConnectionWritten>;
  /**
   * Deletes the connection and any device authorization of the type, with
   * auth_user_external_auth_deleted when there was a connection. Returns the
   * connection deleted, or null.
   */
  deleteExternalConnection(userUuid: string, authType: string, tenantUuid: string): Promise<ExternalConnectionRecord | null>;
  /** Takes the lease of a refresh of the connection until `until`, unless another holds one; false then. */
  claimExternalRefresh(userUuid: string, authType: string, now: number, until: number): Promise<boolean>;
  releaseExternalRefresh(userUuid: string, authType: string): Promise<void>;
  /**
   * The users of these tenants with a connection of the type who hold a
   * token live at `now` (wazo-auth's "connected users"), by uuid.
   */
  listConnectedUsers(
    authType: string,
    tenantUuids: string[],
    now: number,
    page: { limit?: number; offset?: number },
  ): Promise<{ total: number; items: string[] }>;

  /** Starts (or starts again) the user's device authorization of the type. */
  putDeviceFlow(f: DeviceFlowRecord): Promise<void>;
  getDeviceFlow(userUuid: string, authType: string): Promise<DeviceFlowRecord | null>;
  /**
   * Claims the poll of a pending flow due at `now` (next_poll_at moved one
   * interval on): only one caller, of any instance, gets it. Null when the
   * flow is not pending, not due, or someone else claimed it.
   */
  claimDeviceFlowPoll(userUuid: string, authType: string, now: number): Promise<DeviceFlowRecord | null>;
  /** Pending flows due at `now`, oldest due first. */
  listDueDeviceFlows(now: number, limit: number): Promise<{ userUuid: string; authType: string }[]>;
  /** Ends a flow (denied, expired, failed), or reschedules it (slow_down). */
  updateDeviceFlow(
    userUuid: string,
    authType: string,
    patch: { status?: DeviceFlowStatus; error?: string | null; intervalMs?: number; nextPollAt?: number },
  ): Promise<void>;
  /**
   * A completed flow: the flow deleted and the connection written (added or
   * updated) with auth_user_external_auth_authorized, in one transaction;
   * 'missing' (nothing written) when the flow was gone.
   */
  completeDeviceFlow(c: ExternalConnectionRecord, tenantUuid: string): Promise<ConnectionWritten>;
}
