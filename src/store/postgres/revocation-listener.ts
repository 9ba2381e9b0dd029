// LISTEN for revocation and tenant notices on a dedicated connection (not
// from the pool: LISTEN belongs to one session). When the connection fails or stops
// answering its heartbeat, the handler hears `disconnected` (caches flush and
// stop caching) and the listener reconnects with back-off; `connected` is
// only reported once LISTEN is in place again.
import pg from 'pg';
import type { StoreLogger } from '../store-dialect.js';
import {
  dispatchPayload,
  dispatchTenantPayload,
  REVOCATION_CHANNEL,
  TENANT_CHANNEL,
  type RevocationHandler,
  type RevocationWatch,
} from '../revocations.js';

const HEARTBEAT_MS = 5000;
/** Connecting and each heartbeat give up after this long unless db_timeout_seconds says otherwise. */
const DEFAULT_TIMEOUT_MS = 3000;
const MAX_BACKOFF_MS = 5000;

export function listenForRevocations(
  uri: string,
  handler: RevocationHandler,
  logger: StoreLogger,
  opts: { timeoutMs?: number } = {},
): RevocationWatch {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let closed = false;
  let client: pg.Client | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let retry: NodeJS.Timeout | null = null;
  let backoff = 100;
  let up = false;

  function lost(err: unknown): void {
    if (heartbeat !== null) clearInterval(heartbeat);
    heartbeat = null;
    const old = client;
    client = null;
    old?.removeAllListeners('notification');
    old?.end().catch(() => undefined);
    if (up || err !== null) {
      up = false;
      handler.disconnected(err);
    }
    if (closed) return;
    logger.warn(
      { err: err instanceof Error ? { message: err.message } : err, retry_ms: backoff },
      'revocation listener lost its connection; token cache and tenant tree cache bypassed until it is back',
    );
    retry = setTimeout(connect, backoff);
    retry.unref();
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }

  async function connect(): Promise<void> {
    retry = null;
    if (closed) return;
    const c = new pg.Client({
      connectionString: uri,
      connectionTimeoutMillis: timeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: 'xivo-auth-listener',
    });
    c.on('error', (err) => {
      if (client === c) lost(err);
    });
    c.on('end', () => {
      if (client === c) lost(new Error('connection ended'));
    });
    c.on('notification', (msg) => {
      if (msg.payload === undefined) return;
      if (msg.channel === REVOCATION_CHANNEL) dispatchPayload(msg.payload, handler);
      else if (msg.channel === TENANT_CHANNEL) dispatchTenantPayload(msg.payload, handler);
    });
    try {
      await c.connect();
      // Both before `connected`: caching starts only once every notice can arrive.
      await c.query(`LISTEN ${REVOCATION_CHANNEL}; LISTEN ${TENANT_CHANNEL}`);
    } catch (err) {
      c.removeAllListeners();
      c.on('error', () => undefined);
      await c.end().catch(() => undefined);
      client = null;
      lost(err);
      return;
    }
    if (closed) {
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
    backoff = 100;
    up = true;
    heartbeat = setInterval(() => {
      void beat(c);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    handler.connected();
  }

  /** A connection can die silently (network partition): ask it something. */
  async function beat(c: pg.Client): Promise<void> {
    let timer: NodeJS.Timeout | null = null;
    try {
      await Promise.race([
        c.query('select 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('heartbeat timed out')), timeoutMs);
        }),
      ]);
    } catch (err) {
      if (client === c) lost(err);
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
  }

  void connect();
  return {
    async close() {
      closed = true;
      if (retry !== null) clearTimeout(retry);
      if (heartbeat !== null) clearInterval(heartbeat);
      const c = client;
      client = null;
      if (c !== null) {
        c.removeAllListeners();
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
