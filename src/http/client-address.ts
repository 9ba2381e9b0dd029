// The client's address behind `rest_api.num_proxies` trusted reverse proxies.
// Fastify 5 (through @fastify/proxy-addr) ignores a numeric `trustProxy`:
// request.ip was always the socket's peer, so X-Forwarded-For was never
// honoured and, behind nginx, every client shared the proxy's address (for
// the token's remote_addr, the audit trail, rate limits and login throttling).
// A trust function counting hops does what num_proxies documents.
import type { IncomingMessage } from 'node:http';

/** Fastify's `trustProxy`: trust the first `numProxies` hops (the peer first). */
export function trustHops(numProxies: number): false | ((address: string, hop: number) => boolean) {
  if (numProxies <= 0) return false;
  return function trustedHop(_address: string, hop: number): boolean {
    return hop < numProxies;
  };
}

/**
 * The same address as Fastify's request.ip under trustHops(numProxies), for
 * code that sees the raw request (the fast check path): the peer, then
 * X-Forwarded-For from the right, skipping `numProxies` trusted hops.
 */
export function clientAddress(req: IncomingMessage, numProxies: number): string {
  const peer = req.socket.remoteAddress ?? '';
  if (numProxies <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const chain = [peer, ...forwarded.reverse()];
  return chain[Math.min(numProxies, chain.length - 1)];
}
