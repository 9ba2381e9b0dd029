// A TCP proxy on loopback that a test can cut and restore, to take a real
// database "down" and bring it back without touching the shared server.
import net from 'node:net';
import pino from 'pino';
import { createService, type Service } from '../../src/main.js';
import { closeAtEnd } from './cleanup.js';
import { createTestDatabase } from './pg.js';
import { testConfig } from './service.js';

export interface TcpProxy {
  port: number;
  /** Refuse new connections and reset every open one. */
  cut(): Promise<void>;
  /**
   * A network partition: connections stay open (and new ones are accepted)
   * but nothing goes through any more, and no error tells either side.
   */
  freeze(): void;
  /**
   * Packets dropped (a route gone, a firewall DROP): nothing goes through in
   * either direction and no error tells either side; new connections get no
   * answer. Unlike freeze(), when the route comes back (restore()) the
   * connections that are still open carry on, with what was sent meanwhile
   * delivered late (TCP retransmits), and the connections attempted meanwhile
   * reach the server then.
   */
  blackhole(): void;
  /**
   * Accept connections again (same port); frozen connections are reset,
   * blackholed ones resume.
   */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  /** Open client → upstream pairs (upstream null: accepted during a blackhole, not connected yet). */
  type Pair = { client: net.Socket; upstream: net.Socket | null };
  const pairs = new Set<Pair>();
  let server: net.Server | null = null;
  let port = 0;
  let frozen = false;
  let blackholed = false;

  const forward = (pair: Pair) => {
    const { client } = pair;
    const upstream = net.connect(targetPort, targetHost);
    pair.upstream = upstream;
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    client.resume();
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer((client) => {
        sockets.add(client);
        client.on('error', () => client.destroy()).on('close', () => sockets.delete(client));
        // Frozen: accepted, never forwarded.
        if (frozen) return;
        const pair: Pair = { client, upstream: null };
        pairs.add(pair);
        client.once('close', () => {
          if (pair.upstream === null) pairs.delete(pair);
        });
        // Blackholed: held until the route comes back.
        if (blackholed) {
          client.pause();
          return;
        }
        forward(pair);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.resetAndDestroy();
      sockets.clear();
      pairs.clear();
      if (server === null) return resolve();
      server.close(() => resolve());
      server = null;
    });

  const freeze = () => {
    frozen = true;
    // Stop both directions of every open pair; data is kept, never delivered.
    for (const socket of sockets) {
      socket.unpipe();
      socket.pause();
    }
  };

  const restore = async () => {
    if (frozen) {
      frozen = false;
      await stop();
    }
    if (server === null) await listen();
  };

  const blackhole = () => {
    blackholed = true;
    for (const { client, upstream } of pairs) {
      client.unpipe();
      client.pause();
      if (upstream !== null) {
        upstream.unpipe();
        upstream.pause();
      }
    }
  };

  const resume = () => {
    blackholed = false;
    for (const pair of [...pairs]) {
      if (pair.client.destroyed) continue;
      if (pair.upstream === null) {
        forward(pair);
      } else if (!pair.upstream.destroyed) {
        pair.client.pipe(pair.upstream).pipe(pair.client);
        pair.client.resume();
        pair.upstream.resume();
      }
    }
  };

  await listen();
  return {
    get port() {
      return port;
    },
    cut: stop,
    freeze,
    blackhole,
    async restore() {
      if (blackholed) resume();
      await restore();
    },
    close: stop,
  };
}

/**
 * A service on a fresh PostgreSQL database reached through a TcpProxy (so a
 * test can cut the database without touching the shared server), with the
 * token cache off (every check reaches the database). Closed in afterAll.
 */
export async function startServiceBehindProxy(
  overrides: Parameters<typeof testConfig>[1] = {},
): Promise<{ service: Service; proxy: TcpProxy }> {
  const db = await createTestDatabase();
  const url = new URL(db.uri);
  const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
  url.host = `127.0.0.1:${proxy.port}`;
  const service = await createService(
    testConfig(url.toString(), { token_cache: { max_entries: 0 }, ...overrides }),
    pino({ level: 'silent' }),
  );
  await service.app.ready();
  closeAtEnd(async () => {
    await service.close();
    await proxy.close();
    await db.drop();
  });
  return { service, proxy };
}
