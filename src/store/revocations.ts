// Cross-instance revocation notices. Instances cache token records; when a
// token is revoked on one instance, every other instance must forget it at
// once. With PostgreSQL the revoking transaction NOTIFYs (delivered only if
// it commits) and every instance LISTENs. With SQLite there is one instance,
// whose own revocations already reach its cache.

/** Channel of the notices; payload: hashes joined by ',' or FLUSH. */
export const REVOCATION_CHANNEL = 'xivo_auth_token_revoked';
export const FLUSH = '*';
/** 64-hex hashes per NOTIFY, well under PostgreSQL's 8000-byte payload limit. */
export const HASHES_PER_NOTICE = 100;
/** Past this many hashes in one revocation, one "flush everything" notice is cheaper. */
export const FLUSH_THRESHOLD = 1000;

export interface RevocationHandler {
  /** These token hashes were revoked somewhere. */
  revoked(hashes: string[]): void;
  /** Forget everything (a revocation too large to list). */
  flushed(): void;
  /** Notices are flowing: caching is safe. */
  connected(): void;
  /** Notices may be missed: stop trusting cached records. */
  disconnected(err: unknown): void;
}

export interface RevocationWatch {
  close(): Promise<void>;
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
