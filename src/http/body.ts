// Request bodies: JSON whatever the Content-Type says (the seed's clients
// are lax about it), strictly UTF-8, bounded in nesting, never a crash.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidDataError } from '../errors.js';

/** Deeper JSON than this is not something our API ever accepts. */
export const MAX_JSON_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bracket depth outside strings; cheap linear scan before JSON.parse. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i += 1;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === 125 || c === 93) {
      depth -= 1;
    }
  }
  return false;
}

export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, function parseBody(request: FastifyRequest, body: Buffer, done) {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      done(new InvalidDataError('Request body is not valid UTF-8'), undefined);
      return;
    }
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      done(new InvalidDataError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    parseJson(request, text, (err, value) => {
      if (err) done(new InvalidDataError('Request body is not valid JSON'), undefined);
      else done(null, value);
    });
  });
}
