// /console/: the admin web console (issue 25), a single-page app built by
// `npm run build` (console/, Vite) into dist/console and served here as
// static files. Its answers carry their own Content-Security-Policy (scripts,
// styles and API calls from this origin only; no inline script, no frame),
// replacing the API's `default-src 'none'`; hashed assets are cached for a
// year, index.html is revalidated on every load. The SPA routes with the URL
// fragment (#/users), so the server knows no client-side paths.
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

export const CONSOLE_CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** dist/console from both src/http/routes (tests) and dist/http/routes (the build). */
export const DEFAULT_CONSOLE_ROOT = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

export interface ConsoleRouteDeps {
  logger: Logger;
  /** Directory of the built console; default dist/console. */
  root?: string;
}

export async function consoleRoutes(app: FastifyInstance, deps: ConsoleRouteDeps): Promise<void> {
  const root = deps.root ?? DEFAULT_CONSOLE_ROOT;
  await app.register(async function adminConsole(scope) {
    scope.addHook('onSend', async function consoleHeaders(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
      reply.header('Content-Security-Policy', CONSOLE_CSP);
      reply.removeHeader('Pragma');
      const immutable = request.url.startsWith('/console/assets/') && reply.statusCode === 200;
      reply.header('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      return payload;
    });
    scope.get('/console', async function consoleRedirect(_request, reply) {
      return reply.redirect('/console/', 301);
    });
    if (!existsSync(`${root}/index.html`)) {
      deps.logger.warn({ root }, 'console enabled but not built (npm run build): /console/ answers 503');
      scope.get('/console/*', async function consoleNotBuilt(_request, reply) {
        return reply.code(503).type('text/plain; charset=utf-8').send('The console is not built: run `npm run build`.\n');
      });
      return;
    }
    await scope.register(fastifyStatic, {
      root,
      prefix: '/console/',
      cacheControl: false,
      etag: true,
      lastModified: true,
      index: ['index.html'],
      wildcard: true,
      serveDotFiles: false,
      schemaHide: true,
    });
  });
}
