// Fastify plugin: `app.requireAccess('confd.users.{user_uuid}.read')` returns
// a preHandler that verifies the request's token and sets `request.auth`.
//
//   await app.register(xivoAuth, { verifier });
//   app.get('/users/:user_uuid', { preHandler: app.requireAccess('confd.users.{user_uuid}.read') }, handler);
//
// For a typed `request.auth`, add `import '@xivo-auth/verifier/fastify-request'`
// once (it augments FastifyRequest), or read it with `authOf(request)`.
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { requiredAccessFor } from './access.js';
import { refusalFor, tenantFromHeaders, tokenFromHeaders } from './reply.js';
import { VerificationError, type Verifier, type VerifierAuth } from './verifier.js';

export interface XivoAuthPluginOptions {
  verifier: Verifier;
  /** Close the verifier when the app closes. Default false. */
  closeVerifier?: boolean;
}

export type RequireAccessFn = (template?: string | null) => preHandlerAsyncHookHandler;

/** The verified auth of a request (set by a requireAccess preHandler), or throws. */
export function authOf(request: FastifyRequest): VerifierAuth {
  const auth = (request as unknown as { auth?: VerifierAuth | null }).auth;
  if (auth === undefined || auth === null)
    throw new Error('no verified auth on this request: add a requireAccess preHandler to the route');
  return auth;
}

/** A preHandler for one route, without registering the plugin. */
export function requireAccess(verifier: Verifier, template: string | null = null): preHandlerAsyncHookHandler {
  return async function verifyXivoAuthToken(request: FastifyRequest, reply: FastifyReply) {
    const access = template === null ? null : requiredAccessFor(template, request.params as Record<string, unknown>);
    try {
      const auth = await verifier.verify({
        token: tokenFromHeaders(request.headers),
        access,
        tenant: tenantFromHeaders(request.headers),
      });
      (request as unknown as { auth: VerifierAuth }).auth = auth;
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      const refusal = refusalFor(err);
      return reply.code(refusal.status).headers(refusal.headers).send(refusal.body);
    }
  };
}

async function xivoAuthPlugin(app: FastifyInstance, options: XivoAuthPluginOptions): Promise<void> {
  const { verifier } = options;
  if (verifier === undefined) throw new TypeError('@xivo-auth/verifier: the `verifier` option is required');
  if (!app.hasRequestDecorator('auth')) app.decorateRequest('auth', null);
  app.decorate('requireAccess', ((template?: string | null) =>
    requireAccess(verifier, template ?? null)) satisfies RequireAccessFn);
  if (options.closeVerifier === true) app.addHook('onClose', async () => verifier.close());
}

// Decorations must be visible outside the plugin's own context: the same
// metadata the fastify-plugin helper sets, without depending on it.
const meta = xivoAuthPlugin as unknown as Record<symbol, unknown>;
meta[Symbol.for('skip-override')] = true;
meta[Symbol.for('fastify.display-name')] = '@xivo-auth/verifier';
meta[Symbol.for('plugin-meta')] = { name: '@xivo-auth/verifier', fastify: '>=4' };

export const xivoAuth = xivoAuthPlugin;
export default xivoAuthPlugin;
export type { VerifierAuth };
