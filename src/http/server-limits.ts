// What a slow or greedy client may hold of the HTTP server (rest_api.*):
//  - a connection that has not sent a whole request head within
//    `headers_timeout_seconds` of opening (or of its request's first byte)
//    is answered 408 and closed, and a request not received whole within
//    `request_timeout_seconds` too: a slowloris (hundreds of connections each
//    trickling a header) holds nothing for long. Node checks every
//    CHECK_INTERVAL_MS (its default, 30 s, would let them live that much longer);
//  - idle keep-alive connections close after `keep_alive_timeout_seconds`;
//  - at most `max_connections` connections at once (new ones are refused,
//    keeping file descriptors for the database), at most
//    `max_connections_per_address` from one client address (0: no limit;
//    keep 0 behind a reverse proxy), and `max_requests_per_socket`
//    requests per connection (0: no limit).
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/types.js';

/** How often Node looks for connections past their header or request timeout. */
const CHECK_INTERVAL_MS = 1000;

type RestApiLimits = Pick<
  Config['rest_api'],
  | 'headers_timeout_seconds'
  | 'request_timeout_seconds'
  | 'keep_alive_timeout_seconds'
  | 'max_requests_per_socket'
  | 'max_connections'
  | 'max_connections_per_address'
>;

/** Options of http.createServer / https.createServer (they are only read at creation). */
export function httpServerTimeouts(
  limits: RestApiLimits,
): Pick<http.ServerOptions, 'headersTimeout' | 'requestTimeout' | 'connectionsCheckingInterval' | 'keepAliveTimeout'> {
  const requestTimeout = Math.round(limits.request_timeout_seconds * 1000);
  // Node requires headersTimeout <= requestTimeout.
  const headersTimeout = Math.min(Math.round(limits.headers_timeout_seconds * 1000), requestTimeout);
  return {
    headersTimeout,
    requestTimeout,
    connectionsCheckingInterval: Math.min(CHECK_INTERVAL_MS, headersTimeout),
    keepAliveTimeout: Math.round(limits.keep_alive_timeout_seconds * 1000),
  };
}

/** Applies the connection caps (and the timeouts again: Fastify may read them). */
export function limitConnections(server: http.Server, limits: RestApiLimits): void {
  const timeouts = httpServerTimeouts(limits);
  server.headersTimeout = timeouts.headersTimeout as number;
  server.requestTimeout = timeouts.requestTimeout as number;
  server.keepAliveTimeout = timeouts.keepAliveTimeout as number;
  server.maxRequestsPerSocket = limits.max_requests_per_socket === 0 ? null : limits.max_requests_per_socket;
  if (limits.max_connections > 0) server.maxConnections = limits.max_connections;
  const perAddress = limits.max_connections_per_address;
  if (perAddress > 0) {
    const open = new Map<string, number>();
    // 'connection' comes with the TCP socket, before any byte is parsed
    // (before the TLS handshake with HTTPS).
    server.prependListener('connection', function capPerAddress(socket: Socket) {
      const address = socket.remoteAddress ?? '';
      const count = (open.get(address) ?? 0) + 1;
      if (count > perAddress) {
        socket.destroy();
        return;
      }
      open.set(address, count);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left <= 0) open.delete(address);
        else open.set(address, left);
      });
    });
  }
}
