// Listens for `auth_session_deleted` (API.md §5) on the xivo-auth exchange and
// reports each deleted session; reports the connection going down and coming
// back, reconnecting with back-off. amqplib is loaded only when used.
export interface BusOptions {
  /** e.g. `amqp://guest:guest@127.0.0.1:5672`. */
  url: string;
  /** Default `xivo`. */
  exchange?: string;
  /** Default `topic`. */
  exchangeType?: string;
  /** Reconnection back-off bounds in ms. Defaults 200 and 10000. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Heartbeat in seconds (detects a silent broker). Default 10. */
  heartbeat?: number;
}

export type BusState = 'connecting' | 'up' | 'down' | 'closed';

export interface BusHandlers {
  onSessionDeleted(sessionUuid: string): void;
  onUp(): void;
  onDown(reason: string): void;
}

const ROUTING_KEY = 'auth.sessions.*.deleted';

/** The session uuid of an `auth_session_deleted` message, or null. */
export function deletedSessionOf(routingKey: string, body: Buffer): string | null {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { data?: { uuid?: unknown } };
    if (typeof parsed?.data?.uuid === 'string' && parsed.data.uuid !== '') return parsed.data.uuid;
  } catch {
    // fall back to the routing key
  }
  const m = /^auth\.sessions\.(.+)\.deleted$/.exec(routingKey);
  return m === null ? null : m[1];
}

/** A URL safe for logs (no password). */
function redact(message: string): string {
  return message.replace(/amqps?:\/\/[^\s]*/g, 'amqp://…');
}

interface Closable {
  close(): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

export class SessionEventListener {
  private state: BusState = 'connecting';
  private connection: Closable | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delay: number;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly options: BusOptions,
    private readonly handlers: BusHandlers,
  ) {
    this.minDelay = options.reconnectMinMs ?? 200;
    this.maxDelay = options.reconnectMaxMs ?? 10_000;
    this.delay = this.minDelay;
  }

  get status(): BusState {
    return this.state;
  }

  start(): void {
    void this.connect();
  }

  /** Resolves once subscribed (immediately when already up). */
  whenUp(): Promise<void> {
    if (this.state === 'up') return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.state = 'closed';
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const c = this.connection;
    this.connection = null;
    if (c !== null) await c.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.state === 'closed') return;
    let connection: Closable | null = null;
    try {
      const amqp = (await import('amqplib')).default;
      const exchange = this.options.exchange ?? 'xivo';
      const conn = await amqp.connect(this.options.url, { heartbeat: this.options.heartbeat ?? 10 });
      connection = conn as unknown as Closable;
      const lost = (why: string) => this.lost(conn as unknown as Closable, why);
      conn.on('error', (err: Error) => lost(err.message));
      conn.on('close', () => lost('connection closed'));
      const channel = await conn.createChannel();
      channel.on('error', (err: Error) => lost(err.message));
      channel.on('close', () => lost('channel closed'));
      await channel.assertExchange(exchange, this.options.exchangeType ?? 'topic', { durable: true });
      const q = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      await channel.bindQueue(q.queue, exchange, ROUTING_KEY);
      await channel.consume(
        q.queue,
        (msg) => {
          if (msg === null) {
            lost('consumer cancelled');
            return;
          }
          const session = deletedSessionOf(msg.fields.routingKey, msg.content);
          if (session !== null) this.handlers.onSessionDeleted(session);
        },
        { noAck: true },
      );
      if ((this.state as BusState) === 'closed') {
        await conn.close().catch(() => undefined);
        return;
      }
      this.connection = connection;
      this.state = 'up';
      this.delay = this.minDelay;
      this.handlers.onUp();
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    } catch (err) {
      if (connection !== null) await connection.close().catch(() => undefined);
      this.down(redact(err instanceof Error ? err.message : String(err)));
    }
  }

  private lost(connection: Closable, why: string): void {
    if (this.connection !== connection) return; // an older connection, already handled
    this.connection = null;
    void connection.close().catch(() => undefined);
    this.down(redact(why));
  }

  private down(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'down';
    this.handlers.onDown(reason);
    if (this.timer !== null) return;
    const wait = this.delay;
    this.delay = Math.min(this.maxDelay, this.delay * 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, wait);
    this.timer.unref();
  }
}
