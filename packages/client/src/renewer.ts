// Keeps a fresh token: logs in, then logs in again when 80% of the token's
// life has passed; on failure retries with exponential back-off (1 s, 2 s,
// 4 s... capped; never sooner than a Retry-After the service sent) until it
// succeeds or is stopped.
import type { Token } from './types.js';
import type { TokenCreateOptions, XivoAuthClient } from './client.js';
import { RateLimitedError, ServiceUnavailableError } from './errors.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface TokenRenewerOptions {
  client: XivoAuthClient;
  /** How to log in (username/password, or refreshToken/clientId), with the lifetime wanted. */
  login: TokenCreateOptions;
  /** Fraction of the token's life after which it is renewed. Default 0.8. */
  renewAt?: number;
  /** First back-off after a failed renewal, in ms. Default 1000. */
  initialBackoff?: number;
  /** Longest back-off, in ms. Default 60000. */
  maxBackoff?: number;
  /** Install each new token as the client's X-Auth-Token. Default true. */
  useForClient?: boolean;
  /** Revoke the previous token once a new one is installed. Default false (it simply expires). */
  revokePrevious?: boolean;
  onToken?: (token: Token, previous: Token | null) => void;
  /** A login failed; the next attempt comes after `retryInMs`. */
  onError?: (error: unknown, retryInMs: number) => void;
  /** For tests. Default: the global timers (unref'd: a renewer alone does not keep the process alive). */
  timers?: Timers;
}

const defaultTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    // Node's timers only: a browser's is a number.
    (t as { unref?: () => void }).unref?.();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Seconds of life of a token, from its own UTC timestamps (the server's clock for both). */
export function tokenLifetimeMs(token: Pick<Token, 'utc_issued_at' | 'utc_expires_at'>): number {
  const issued = Date.parse(`${token.utc_issued_at}Z`);
  const expires = Date.parse(`${token.utc_expires_at}Z`);
  if (Number.isNaN(issued) || Number.isNaN(expires)) throw new Error('token without valid utc_issued_at / utc_expires_at');
  return Math.max(0, expires - issued);
}

export class TokenRenewer {
  private readonly o: Required<
    Pick<TokenRenewerOptions, 'renewAt' | 'initialBackoff' | 'maxBackoff' | 'useForClient' | 'revokePrevious'>
  > &
    TokenRenewerOptions;
  private readonly timers: Timers;
  private timer: unknown = null;
  private failures = 0;
  private stopped = true;
  private token: Token | null = null;
  private first: { resolve(t: Token): void; reject(e: unknown): void } | null = null;

  constructor(options: TokenRenewerOptions) {
    const renewAt = options.renewAt ?? 0.8;
    if (!(renewAt > 0 && renewAt < 1)) throw new RangeError('renewAt must be between 0 and 1');
    this.o = { renewAt, initialBackoff: 1000, maxBackoff: 60_000, useForClient: true, revokePrevious: false, ...options };
    this.timers = options.timers ?? defaultTimers;
  }

  /** The current token, or null before the first login. */
  get current(): Token | null {
    return this.token;
  }

  /** Starts renewing; resolves with the first token (after as many retries as needed). */
  start(): Promise<Token> {
    if (!this.stopped) throw new Error('already started');
    this.stopped = false;
    this.failures = 0;
    return new Promise<Token>((resolve, reject) => {
      this.first = { resolve, reject };
      void this.renew();
    });
  }

  /** Stops renewing; with `revoke`, revokes the current token too. */
  async stop(options: { revoke?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    if (this.first !== null) {
      this.first.reject(new Error('token renewer stopped before the first login'));
      this.first = null;
    }
    const token = this.token;
    if (options.revoke === true && token !== null) {
      this.token = null;
      if (this.o.useForClient && this.o.client.currentToken === token.token) this.o.client.setToken(null);
      await this.o.client.token.revoke(token.token);
    }
  }

  /** Delay before the next attempt after `failures` consecutive failures. */
  backoffMs(failures: number): number {
    return Math.min(this.o.maxBackoff, this.o.initialBackoff * 2 ** Math.max(0, failures - 1));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      void this.renew();
    }, ms);
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    let fresh: Token;
    try {
      fresh = await this.o.client.token.create(this.o.login);
    } catch (err) {
      if (this.stopped) return;
      this.failures++;
      // The service's Retry-After, when it gave one, is a floor.
      const retryAfter =
        err instanceof RateLimitedError || err instanceof ServiceUnavailableError ? (err.retryAfter ?? 0) * 1000 : 0;
      const wait = Math.max(this.backoffMs(this.failures), retryAfter);
      this.o.onError?.(err, wait);
      this.schedule(wait);
      return;
    }
    if (this.stopped) {
      // Stopped while logging in: do not leave a live token behind.
      await this.o.client.token.revoke(fresh.token).catch(() => undefined);
      return;
    }
    this.failures = 0;
    const previous = this.token;
    this.token = fresh;
    if (this.o.useForClient) this.o.client.setToken(fresh.token);
    this.schedule(Math.floor(tokenLifetimeMs(fresh) * this.o.renewAt));
    this.o.onToken?.(fresh, previous);
    if (this.first !== null) {
      this.first.resolve(fresh);
      this.first = null;
    }
    if (previous !== null && this.o.revokePrevious) {
      await this.o.client.token.revoke(previous.token).catch(() => undefined);
    }
  }
}
