#!/usr/bin/env node
// A small Fastify service protected by @xivo-auth/verifier, for
// bench/verifier.js: `node bench/verifier-app.js '<json>'` with
// {authUrl, mode, amqpUrl, exchange}. Prints {"port": N} once listening.
import Fastify from 'fastify';
import { createVerifier } from '@xivo-auth/verifier';
import { xivoAuth } from '@xivo-auth/verifier/fastify';

const opts = JSON.parse(process.argv[2]);
const verifier = createVerifier({
  url: opts.authUrl,
  mode: opts.mode,
  ttl: 60_000,
  ...(opts.mode === 'cached' ? { bus: { url: opts.amqpUrl, exchange: opts.exchange } } : {}),
});
await verifier.ready();
const app = Fastify({ logger: false });
await app.register(xivoAuth, { verifier, closeVerifier: true });
app.get('/users/:user_uuid/lines', { preHandler: app.requireAccess('confd.users.{user_uuid}.read') }, async (request) => ({
  user: request.auth.identity.authId,
}));
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ port: app.server.address().port })}\n`);
process.on('SIGTERM', () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
