// Types only: see fastify-request.d.ts.
export {};
