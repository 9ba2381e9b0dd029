// Token records cached by the SHA-256 of the token (never the token itself,
// never a yes/no for one access): bounded, least recently used out first,
// each entry kept at most `ttl` and never past the token's expiry, and
// indexed by session so a session-deleted event evicts its tokens.
import type { CompiledAcl } from '@xivo-auth/acl';
import type { Token } from '@xivo-auth/client';

export interface CachedRecord {
  record: Omit<Token, 'token'>;
  acl: CompiledAcl;
  /** Local clock (ms) after which the entry is not used. */
  validUntil: number;
  /** Local clock (ms) at which the token expires. */
  expiresAt: number;
}

export class RecordCache {
  private readonly entries = new Map<string, CachedRecord>();
  private readonly bySession = new Map<string, Set<string>>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(hash: string, now: number): CachedRecord | null {
    const entry = this.entries.get(hash);
    if (entry === undefined) return null;
    if (now >= entry.validUntil || now >= entry.expiresAt) {
      this.delete(hash);
      return null;
    }
    // Most recently used last.
    this.entries.delete(hash);
    this.entries.set(hash, entry);
    return entry;
  }

  set(hash: string, entry: CachedRecord): void {
    if (this.maxEntries <= 0) return;
    this.delete(hash);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
    this.entries.set(hash, entry);
    const session = entry.record.session_uuid;
    let set = this.bySession.get(session);
    if (set === undefined) this.bySession.set(session, (set = new Set()));
    set.add(hash);
  }

  /** Drops every token of a session; returns how many entries went. */
  evictSession(sessionUuid: string): number {
    const set = this.bySession.get(sessionUuid);
    if (set === undefined) return 0;
    this.bySession.delete(sessionUuid);
    for (const hash of set) this.entries.delete(hash);
    return set.size;
  }

  clear(): void {
    this.entries.clear();
    this.bySession.clear();
  }

  private delete(hash: string): void {
    const entry = this.entries.get(hash);
    if (entry === undefined) return;
    this.entries.delete(hash);
    const session = entry.record.session_uuid;
    const set = this.bySession.get(session);
    if (set !== undefined) {
      set.delete(hash);
      if (set.size === 0) this.bySession.delete(session);
    }
  }
}
