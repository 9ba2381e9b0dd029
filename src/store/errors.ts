// Typed store errors: the HTTP layer maps them (conflict → 409, unavailable → 503).

export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A uniqueness or foreign-key rule refused the write. `field` names the column when known. */
export class StoreConflictError extends StoreError {
  constructor(message: string, readonly field?: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The database could not be reached or dropped the connection. */
export class StoreUnavailableError extends StoreError {}
