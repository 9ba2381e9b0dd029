// The generic seam of the storage: running a domain's verbs in one
// transaction. Each domain declares the verbs it needs in its own folder
// (identity/store.ts, tokens/store.ts, ...) and, when it needs a transaction,
// `Transactional<ItsTx>`; src/store/types.ts composes them into the one
// store that implements them all.

/** A store that runs `fn` in one transaction, rolled back if it throws. */
export interface Transactional<Tx> {
  /** Runs fn in one transaction; rolled back if it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}
