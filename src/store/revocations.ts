// Cross-instance revocation notices. Instances cache token records; when a
// token is revoked on one instance, every other instance must forget it at
// once. With PostgreSQL the revoking transaction NOTIFYs (delivered only if
// it commits) and every instance LISTENs. With SQLite there is one instance,
// whose own revocations already reach its cache.
//
// Tenant changes travel the same way, on a channel of their own (same
// listening connection): instances remember tenant parents
// (identity/tenant-tree.ts), and a tenant deleted, moved or created commits a
// notice naming it; every instance forgets what it remembered of it. SQLite:
// another connection (`xivo-auth import`, another process) may change tenants
// too, which no notice reports: `poll()` asks SQLite (PRAGMA data_version)
// and reports it as "every tenant changed".

/** Channel of the notices; payload: hashes joined by ',' or FLUSH. */
export const REVOCATION_CHANNEL = 'xivo_auth_token_revoked';
export const FLUSH = '*';
/** Channel of the tenant notices; payload: tenant uuids joined by ',' or FLUSH (every tenant). */
export const TENANT_CHANNEL = 'xivo_auth_tenant_changed';
/** 36-character uuids per NOTIFY, well under PostgreSQL's 8000-byte payload limit. */
export const TENANTS_PER_NOTICE = 100;
/** 64-hex hashes per NOTIFY, well under PostgreSQL's 8000-byte payload limit. */
export const HASHES_PER_NOTICE = 100;
/** Past this many hashes in one revocation, one "flush everything" notice is cheaper. */
export const FLUSH_THRESHOLD = 1000;

export interface RevocationHandler {
  /** These token hashes were revoked somewhere. */
  revoked(hashes: string[]): void;
  /** Forget everything (a revocation too large to list). */
  flushed(): void;
  /** These tenants were deleted, moved or created somewhere; null: any tenant may have changed. */
  tenantsChanged(uuids: readonly string[] | null): void;
  /** Notices are flowing: caching is safe. */
  connected(): void;
  /** Notices may be missed: stop trusting cached records. */
  disconnected(err: unknown): void;
}

export interface RevocationWatch {
  close(): Promise<void>;
  /**
   * Reports at once (to the handler) the changes that no notice carries:
   * SQLite: another connection committed since the last call (PRAGMA
   * data_version moved) → tenantsChanged(null). Cheap (no I/O); call it
   * before trusting a cached tenant. Absent where notices carry everything
   * (PostgreSQL).
   */
  poll?(): void;
}

/** Payloads for one revocation. */
export function revocationPayloads(hashes: readonly string[]): string[] {
  if (hashes.length === 0) return [];
  if (hashes.length > FLUSH_THRESHOLD) return [FLUSH];
  const payloads: string[] = [];
  for (let i = 0; i < hashes.length; i += HASHES_PER_NOTICE) {
    payloads.push(hashes.slice(i, i + HASHES_PER_NOTICE).join(','));
  }
  return payloads;
}

export function dispatchPayload(payload: string, handler: RevocationHandler): void {
  if (payload === FLUSH) handler.flushed();
  else handler.revoked(payload.split(',').filter((h) => /^[0-9a-f]{64}$/.test(h)));
}

/** Payloads for one tenant change; null: every tenant. */
export function tenantPayloads(uuids: readonly string[] | null): string[] {
  if (uuids === null) return [FLUSH];
  const payloads: string[] = [];
  for (let i = 0; i < uuids.length; i += TENANTS_PER_NOTICE) {
    payloads.push(uuids.slice(i, i + TENANTS_PER_NOTICE).join(','));
  }
  return payloads;
}

export function dispatchTenantPayload(payload: string, handler: RevocationHandler): void {
  if (payload === FLUSH) handler.tenantsChanged(null);
  else handler.tenantsChanged(payload.split(',').filter((uuid) => uuid.length > 0));
}
