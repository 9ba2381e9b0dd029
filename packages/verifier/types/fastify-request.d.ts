// Opt-in typing: `import '@xivo-auth/verifier/fastify-request'` once in an
// application types `request.auth` and `app.requireAccess`. Kept apart so the
// package never forces a declaration on a program that already types
// `request.auth` differently.
import type { RequireAccessFn, VerifierAuth } from '../dist/fastify.js';

declare module 'fastify' {
  interface FastifyRequest {
    auth: VerifierAuth | null;
  }
  interface FastifyInstance {
    requireAccess: RequireAccessFn;
  }
}

export {};
