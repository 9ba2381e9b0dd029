// What the events domain needs of the storage: the outbox written in the
// transactions of the changes it reports, and the relay's steps
// (src/store/kysely-store.ts, both engines).
import type { OutboxEvent } from './catalog.js';

export interface OutboxStore {
  // events outbox (issue 4). With events recorded (openStore's recordEvents),
  // every verb that creates or deletes a session, a refresh token or a tenant
  // writes its event (../events/catalog.ts) in the same transaction.
  /** Called after a commit of this instance wrote events (wakes the relay). */
  onEventsCommitted(listener: () => void): void;
  /**
   * The relay's step: the oldest `limit` events go to `publish`, which
   * returns how many of them (a prefix) the broker confirmed; those are
   * deleted. PostgreSQL: one instance relays at a time (an advisory lock
   * held for the step), so events leave in commit order; null when another
   * instance holds it. Returns the number relayed.
   */
  relayEvents(limit: number, publish: (events: OutboxEvent[]) => Promise<number>): Promise<number | null>;
  /** Events waiting in the outbox, and the creation time of the oldest. */
  outboxBacklog(): Promise<{ pending: number; oldestCreatedAt: number | null }>;
  /**
   * Writes `auth_session_expire_soon` for the sessions whose tokens expire
   * by `until`, continuing where the last scan (of any instance) stopped;
   * at most `limit` tokens per call. Returns how many tokens were seen.
   */
  noteExpiringSoon(now: number, until: number, limit: number): Promise<number>;
}
