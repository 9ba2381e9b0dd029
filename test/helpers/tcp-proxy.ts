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
  /** Accept connections again (same port); frozen connections are reset. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  let frozen = false;

  const listen = () => new Promise<void>((resolve, reject) => {
    const s = net.createServer((client) => {
      sockets.add(client);
      client.on('error', () => client.destroy()).on('close', () => sockets.delete(client));
      // Frozen: accepted, never forwarded.
      if (frozen) return;
      const upstream = net.connect(targetPort, targetHost);
      sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      port = (s.address() as net.AddressInfo).port;
      server = s;
      resolve();
    });
  });

  const stop = () => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.resetAndDestroy();
    sockets.clear();
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

  await listen();
  return { get port() { return port; }, cut: stop, freeze, restore, close: stop };
}

/**
 * A service on a fresh PostgreSQL database reached through a TcpProxy (so a
 * test can cut the database without touching the shared server), with the
 * token cache off (every check reaches the database). Closed in afterAll.
 */
export async function startServiceBehindProxy(overrides: Parameters<typeof testConfig>[1] = {}): Promise<{ service: Service; proxy: TcpProxy }> {
  const db = await createTestDatabase();
  const url = new URL(db.uri);
  const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
  url.host = `127.0.0.1:${proxy.port}`;
  const service = await createService(testConfig(url.toString(), { token_cache: { max_entries: 0 }, ...overrides }), pino({ level: 'silent' }));
  await service.app.ready();
  closeAtEnd(async () => {
    await service.close();
    await proxy.close();
    await db.drop();
  });
  return { service, proxy };
}
