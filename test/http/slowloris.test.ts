// Issue 19, item 5(c): hundreds of connections each trickling a request head
// (slowloris) do not stop the service answering other clients, and do not
// hold their connections for long: rest_api.headers_timeout_seconds closes
// them; rest_api.max_connections_per_address refuses one address's excess at
// once (src/http/server-limits.ts).
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestService } from '../helpers/service.js';
import { until } from '../helpers/until.js';

const SLOW = 300;

interface Slow {
  sockets: net.Socket[];
  closed(): number;
  stop(): void;
}

/** `count` connections from `localAddress`, each sending a request head one header line every 500 ms, never ending it. */
async function slowloris(port: number, count: number, localAddress: string): Promise<Slow> {
  const sockets: net.Socket[] = [];
  let closed = 0;
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const socket = net.connect({ port, host: '127.0.0.1', localAddress });
          socket.on('error', () => undefined);
          socket.once('close', () => {
            closed += 1;
          });
          socket.once('connect', () => {
            socket.write('GET /0.1/status HTTP/1.1\r\nHost: xivo-auth\r\n');
            resolve();
          });
          // Refused at once: 'close' without 'connect' in some cases.
          socket.once('close', () => resolve());
          sockets.push(socket);
        }),
    ),
  );
  const timer = setInterval(() => {
    for (const socket of sockets) if (!socket.destroyed) socket.write(`X-Slow-${Math.random().toString(36).slice(2, 8)}: x\r\n`);
  }, 500);
  return {
    sockets,
    closed: () => closed,
    stop() {
      clearInterval(timer);
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** The slowest of `n` plain requests from another client. */
async function slowestOf(url: string, n: number): Promise<number> {
  let slowest = 0;
  for (let i = 0; i < n; i += 1) {
    const started = performance.now();
    const res = await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    await res.text();
    slowest = Math.max(slowest, performance.now() - started);
  }
  return slowest;
}

describe('slow-header clients (slowloris)', () => {
  it(`${SLOW} slow connections: other clients answered within 1 s, the slow ones closed after headers_timeout_seconds`, async () => {
    const t = await startTestService('sqlite', { rest_api: { headers_timeout_seconds: 2, request_timeout_seconds: 5 } });
    const url = await t.service.listen();
    const port = Number(new URL(url).port);
    const slow = await slowloris(port, SLOW, '127.0.0.1');
    try {
      const started = performance.now();
      expect(await slowestOf(url, 20)).toBeLessThan(1000);
      // 2 s, checked every second: gone within ~3 s, answered 408 or reset.
      await until(() => slow.closed() >= SLOW, 'the slow connections closed', 6000);
      expect(performance.now() - started).toBeLessThan(6000);
      expect(await slowestOf(url, 5)).toBeLessThan(1000);
    } finally {
      slow.stop();
    }
  });

  it("max_connections_per_address: one address's excess is refused at once, other addresses are served", async () => {
    const t = await startTestService('sqlite', {
      rest_api: { max_connections_per_address: 50, headers_timeout_seconds: 60, request_timeout_seconds: 120 },
    });
    const url = await t.service.listen();
    const port = Number(new URL(url).port);
    // Linux routes all of 127/8 to the loopback: the attacker is 127.0.0.2.
    const slow = await slowloris(port, SLOW, '127.0.0.2');
    try {
      await until(() => slow.closed() >= SLOW - 50, 'the excess connections closed', 3000);
      await new Promise((r) => setTimeout(r, 300));
      expect(slow.closed()).toBe(SLOW - 50);
      expect(await slowestOf(url, 20)).toBeLessThan(1000);
    } finally {
      slow.stop();
    }
    // Their slots are given back when they close.
    await until(
      async () => {
        const probe = await slowloris(port, 1, '127.0.0.2');
        await new Promise((r) => setTimeout(r, 100));
        const open = probe.closed() === 0;
        probe.stop();
        return open;
      },
      'a new connection from 127.0.0.2 accepted',
      3000,
    );
  });
});
