// Express (or any connect-style) middleware:
//
//   const auth = expressAuth(verifier);
//   app.get('/users/:user_uuid', auth.requireAccess('confd.users.{user_uuid}.read'), (req, res) => res.json(req.auth.identity));
//
// Written against Node's own request/response, so it needs no Express types.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requiredAccessFor } from './access.js';
import { refusalFor, tenantFromHeaders, tokenFromHeaders } from './reply.js';
import { VerificationError, type Verifier, type VerifierAuth } from './verifier.js';

export interface ExpressLikeRequest extends IncomingMessage {
  params?: Record<string, string>;
  auth?: VerifierAuth;
}

export type Next = (err?: unknown) => void;
/** Generic in the request type, so Express keeps inferring its own `req` for the next handlers. */
export type Middleware = <Req extends IncomingMessage>(req: Req, res: ServerResponse, next: Next) => void;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by @xivo-auth/verifier's requireAccess middleware. */
      auth?: VerifierAuth;
    }
  }
}

export function requireAccessMiddleware(verifier: Verifier, template: string | null = null): Middleware {
  return function verifyXivoAuthToken<Req extends IncomingMessage>(request: Req, res: ServerResponse, next: Next) {
    const req = request as unknown as ExpressLikeRequest;
    let access: string | null;
    try {
      access = template === null ? null : requiredAccessFor(template, req.params);
    } catch (err) {
      next(err);
      return;
    }
    verifier.verify({ token: tokenFromHeaders(req.headers), access, tenant: tenantFromHeaders(req.headers) }).then(
      (auth) => {
        req.auth = auth;
        next();
      },
      (err: unknown) => {
        if (!(err instanceof VerificationError)) {
          next(err);
          return;
        }
        const refusal = refusalFor(err);
        const payload = JSON.stringify(refusal.body);
        res.statusCode = refusal.status;
        for (const [k, v] of Object.entries(refusal.headers)) res.setHeader(k, v);
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.setHeader('content-length', Buffer.byteLength(payload));
        res.end(payload);
      },
    );
  };
}

export function expressAuth(verifier: Verifier): { requireAccess(template?: string | null): Middleware } {
  return { requireAccess: (template) => requireAccessMiddleware(verifier, template ?? null) };
}
