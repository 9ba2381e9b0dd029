// Polls the providers for the device authorizations in progress (issue 22),
// in the background, on every instance: each step lists the flows due and
// claims each poll through the store, so that a flow is polled at the
// provider's interval whichever instances run, and completes even when the
// instance that started it is gone.
import type { Logger } from 'pino';

/** Flows polled per step at most (the rest wait for the next step). */
const BATCH = 50;

export class DevicePoller {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly service: { pollDue(limit: number): Promise<number> },
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly intervalSeconds: number,
  ) {}

  start(): void {
    if (this.timer !== null || this.intervalSeconds <= 0) return;
    this.timer = setInterval(() => {
      void this.runOnce();
    }, this.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** One step; never runs twice at once. Returns the number of flows polled. */
  runOnce(): Promise<number> {
    if (this.running === null) {
      this.running = this.service
        .pollDue(BATCH)
        .catch((err: unknown) => {
          this.logger.warn({ err: { message: (err as Error).message } }, 'external auth: device authorization polling failed');
          return 0;
        })
        .finally(() => {
          this.running = null;
        });
    }
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
