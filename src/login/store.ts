// What the login use cases need of the storage, in their own words: the
// token domain's verbs, and a login's transaction, which also carries the
// backend's own writes (Identity.settle: a password re-hashed).
import type { LoginSettleTx } from '../backends/store.js';
import type { Transactional } from '../storage.js';
import type { IssueTransactionOptions, TokenStoreTx } from '../tokens/store.js';

/** A login's transaction: the token domain's writes, and the backend's own (Identity.settle, ../backends/types.ts). */
export interface TokenIssueTx extends TokenStoreTx, LoginSettleTx {}

/** What the token service uses (./token-service.ts). */
export interface TokenServiceStore extends TokenStoreTx, Transactional<TokenIssueTx> {
  transaction<T>(fn: (tx: TokenIssueTx) => Promise<T>, options?: IssueTransactionOptions): Promise<T>;
  /** The top tenant (no parent), or null before the first start: tokens of no tenant are its to introspect. */
  getTopTenant(): Promise<{ uuid: string } | null>;
}
