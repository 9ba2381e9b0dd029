// Typed storage errors: what a domain or the HTTP layer sees of a failed
// store call (conflict → 409, unavailable → 503, refused value → 400), whatever
// the engine. Raised by the store (src/store/), mapped from driver errors once.

export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A uniqueness or foreign-key rule refused the write. `field` names the column when known. */
export class StoreConflictError extends StoreError {
  constructor(
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The database could not be reached or dropped the connection. */
export class StoreUnavailableError extends StoreError {}

/**
 * The database refused a value as malformed (e.g. a NUL byte in PostgreSQL text).
 * Input is validated upstream, so this is a last line of defence: a 400, never a 500.
 */
export class StoreInvalidInputError extends StoreError {}
