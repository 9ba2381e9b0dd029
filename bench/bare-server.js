#!/usr/bin/env node
// The baseline: a bare Node `http` server answering 204 to everything, in its
// own process, on a free loopback port. Prints {"port": N} once listening.
import http from 'node:http';

const server = http.createServer((req, res) => {
  res.statusCode = 204;
  res.end();
});
// Same keep-alive behaviour as the service (Fastify's default is 72 s).
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port, pid: process.pid })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
