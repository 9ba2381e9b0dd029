// The events of API.md §5, built from domain objects. Pure: the store writes
// what these return into the outbox in the transaction of the change, and the
// relay (./relay.ts) turns each into an AMQP message.
import { createHash } from 'node:crypto';
import { auditRecordJson } from '../security/audit.js';
import type { Tenant } from '../identity/types.js';
import type { AuditRecord } from '../security/types.js';
import type { RefreshToken, Session } from '../tokens/types.js';

/** An event as committed to the outbox, before the relay adds headers. */
export interface PendingEvent {
  name: string;
  routingKey: string;
  tenantUuid: string | null;
  /** The user concerned (the `user_uuid:<uuid>` header), if any. */
  userUuid: string | null;
  data: Record<string, unknown>;
}

/** A committed event read back by the relay. */
export interface OutboxEvent extends PendingEvent {
  id: number;
  /** Epoch milliseconds of the commit's clock. */
  createdAt: number;
}

/** AMQP 0-9-1 limits a routing key (a shortstr) to 255 bytes. */
export const MAX_ROUTING_KEY_BYTES = 255;

/**
 * A routing key segment that cannot go on the wire as is (a `client_id` may
 * be 1,024 characters) is replaced by `sha256-` and the SHA-256 (hex) of its
 * value: still unique per value, stable, and the body keeps the full value.
 * Segments that fit are kept, so consumers of short keys see no change.
 */
export function routingKey(template: readonly string[], variable: { index: number; value: string }): string {
  const parts = [...template];
  parts[variable.index] = variable.value;
  const key = parts.join('.');
  if (Buffer.byteLength(key, 'utf8') <= MAX_ROUTING_KEY_BYTES) return key;
  parts[variable.index] = `sha256-${createHash('sha256').update(variable.value, 'utf8').digest('hex')}`;
  return parts.join('.');
}

export function sessionCreated(s: Session): PendingEvent {
  return {
    name: 'auth_session_created',
    routingKey: `auth.sessions.${s.uuid}.created`,
    tenantUuid: s.tenantUuid,
    userUuid: s.userUuid,
    data: { uuid: s.uuid, tenant_uuid: s.tenantUuid, user_uuid: s.userUuid, mobile: s.mobile },
  };
}

/** Revocation, session delete, expiry, password change, user disabled or deleted. */
export function sessionDeleted(s: Session): PendingEvent {
  return {
    name: 'auth_session_deleted',
    routingKey: `auth.sessions.${s.uuid}.deleted`,
    tenantUuid: s.tenantUuid,
    userUuid: s.userUuid,
    data: { uuid: s.uuid, tenant_uuid: s.tenantUuid, user_uuid: s.userUuid },
  };
}

export function sessionExpireSoon(s: Pick<Session, 'uuid' | 'tenantUuid' | 'userUuid'>): PendingEvent {
  return {
    name: 'auth_session_expire_soon',
    routingKey: `auth.users.${s.userUuid ?? 'unknown'}.sessions.${s.uuid}.expire_soon`,
    tenantUuid: s.tenantUuid,
    userUuid: s.userUuid,
    data: { uuid: s.uuid, tenant_uuid: s.tenantUuid, user_uuid: s.userUuid },
  };
}

function refreshTokenEvent(rt: RefreshToken, verb: 'created' | 'deleted'): PendingEvent {
  return {
    name: `auth_refresh_token_${verb}`,
    routingKey: routingKey(['auth', 'users', rt.userUuid, 'tokens', '', verb], { index: 4, value: rt.clientId }),
    tenantUuid: rt.tenantUuid,
    userUuid: rt.userUuid,
    data: { client_id: rt.clientId, mobile: rt.mobile, user_uuid: rt.userUuid, tenant_uuid: rt.tenantUuid },
  };
}

export function refreshTokenCreated(rt: RefreshToken): PendingEvent {
  return refreshTokenEvent(rt, 'created');
}

export function refreshTokenDeleted(rt: RefreshToken): PendingEvent {
  return refreshTokenEvent(rt, 'deleted');
}

function tenantEvent(t: Tenant, name: string, verb: string): PendingEvent {
  const data: Record<string, unknown> = { uuid: t.uuid, name: t.name };
  if (t.slug !== null) data.slug = t.slug;
  return { name, routingKey: `auth.tenants.${t.uuid}.${verb}`, tenantUuid: t.uuid, userUuid: null, data };
}

export function tenantAdded(t: Tenant): PendingEvent {
  return tenantEvent(t, 'auth_tenant_added', 'created');
}

export function tenantUpdated(t: Tenant): PendingEvent {
  return tenantEvent(t, 'auth_tenant_updated', 'updated');
}

export function tenantDeleted(t: Tenant): PendingEvent {
  return tenantEvent(t, 'auth_tenant_deleted', 'deleted');
}

/**
 * An audit record (issue 7) as an event: who did what, from where, with what
 * outcome; never a secret (the recorder is given none).
 */
export function auditRecorded(r: AuditRecord): PendingEvent {
  const segments = `${r.action}.${r.outcome}`.split('.').map((s) => s.replace(/[^A-Za-z0-9_-]/g, '_'));
  return {
    name: 'auth_audit_recorded',
    routingKey: routingKey(['auth', 'audit', ''], { index: 2, value: segments.join('.') }),
    tenantUuid: r.tenantUuid,
    userUuid: r.actorUuid,
    data: auditRecordJson(r),
  };
}

/** AMQP headers of an event (API.md §5); the body is these plus `data`. */
export function eventHeaders(e: OutboxEvent, originUuid: string | null): Record<string, unknown> {
  const headers: Record<string, unknown> = {
    name: e.name,
    origin_uuid: originUuid,
    timestamp: new Date(e.createdAt).toISOString(),
    tenant_uuid: e.tenantUuid,
    required_access: `event.${e.name}`,
  };
  if (e.userUuid !== null) headers[`user_uuid:${e.userUuid}`] = true;
  return headers;
}

/**
 * A user's external account (issue 22): `verb` is created (added), updated,
 * deleted or authorized (an OAuth 2.0 authorization completed). The payload
 * names the user and the type, never a token.
 */
export function externalAuthEvent(
  verb: 'created' | 'updated' | 'deleted' | 'authorized',
  e: { userUuid: string; tenantUuid: string; authType: string },
): PendingEvent {
  const name = verb === 'created' ? 'auth_user_external_auth_added' : `auth_user_external_auth_${verb}`;
  return {
    name,
    routingKey: routingKey(['auth', 'users', e.userUuid, 'external', '', verb], { index: 4, value: e.authType }),
    tenantUuid: e.tenantUuid,
    userUuid: e.userUuid,
    data: { user_uuid: e.userUuid, external_auth_name: e.authType },
  };
}

/** A user's second factor added (confirmed) or deleted (issue 24): never the secret, only its type and uuid. */
export function mfaFactorEvent(
  verb: 'added' | 'deleted',
  f: { uuid: string; userUuid: string; tenantUuid: string; type: string },
): PendingEvent {
  return {
    name: `auth_user_mfa_${verb}`,
    routingKey: routingKey(['auth', 'users', '', 'mfa', verb], { index: 2, value: f.userUuid }),
    tenantUuid: f.tenantUuid,
    userUuid: f.userUuid,
    data: { user_uuid: f.userUuid, factor_uuid: f.uuid, type: f.type },
  };
}

/** A tenant's own mfa.required_for rule set or replaced (issue 24, PUT /tenants/{uuid}/mfa). */
export function mfaTenantPolicyUpdated(p: { tenantUuid: string; acl: string[]; purposes: string[] }): PendingEvent {
  return {
    name: 'auth_tenant_mfa_updated',
    routingKey: routingKey(['auth', 'tenants', '', 'mfa', 'updated'], { index: 2, value: p.tenantUuid }),
    tenantUuid: p.tenantUuid,
    userUuid: null,
    data: { tenant_uuid: p.tenantUuid, required_for: { acl: p.acl, purposes: p.purposes } },
  };
}
