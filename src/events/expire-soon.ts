// Announces sessions about to expire (`auth_session_expire_soon`), once per
// token, when it has `delaySeconds` or less to live. The scan continues from
// a cursor kept in the store, so instances share the work and never announce
// a token twice; a token issued with less than `delaySeconds` of life is not
// announced (it was "expiring soon" from the start).
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { OutboxStore } from './store.js';

export interface ExpireSoonOptions {
  delaySeconds: number;
  intervalSeconds: number;
  batchSize: number;
}

export class ExpireSoonNotifier {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly store: Pick<OutboxStore, 'noteExpiringSoon'>,
    private readonly clock: Clock,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly options: ExpireSoonOptions,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      void this.runOnce();
    }, this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** One scan up to now + delay; returns the tokens seen. Never runs twice at once. */
  runOnce(): Promise<number> {
    this.running ??= this.scan().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private async scan(): Promise<number> {
    const { delaySeconds, batchSize } = this.options;
    let total = 0;
    try {
      for (;;) {
        const now = this.clock.now();
        const seen = await this.store.noteExpiringSoon(now, now + delaySeconds * 1000, batchSize);
        total += seen;
        if (seen < batchSize) return total;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      this.logger.warn({ err }, 'expire-soon scan failed; will retry at the next interval');
      return total;
    }
  }
}
