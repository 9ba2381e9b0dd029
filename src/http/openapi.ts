// The OpenAPI 3 document, built from the very schemas that validate
// requests and serialise responses (collected as routes are registered).
import type { RouteOptions } from 'fastify';
import { stringify } from 'yaml';

declare module 'fastify' {
  interface FastifySchema {
    summary?: string;
    description?: string;
    tags?: string[];
  }
}

interface RouteDoc {
  method: string;
  url: string;
  schema: Record<string, unknown>;
}

/** Deep copy keeping only JSON Schema (TypeBox adds symbol keys, JSON drops them). */
function plain(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

function openApiPath(url: string): string {
  return url.replace(/:(\w+)/g, '{$1}');
}

function parameters(schema: Record<string, unknown>, where: 'path' | 'query' | 'header', part: unknown) {
  if (part === undefined) return [];
  const s = plain(part) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' ? true : (s.required ?? []).includes(name),
    ...(prop.description ? { description: prop.description } : {}),
    schema: prop,
  }));
}

export class OpenApiCollector {
  private readonly routes: RouteDoc[] = [];
  private cached: string | null = null;

  onRoute = (route: RouteOptions): void => {
    // `hide`: not part of the API (the console's static files, issue 25).
    if (!route.schema || (route.schema as { hide?: boolean }).hide === true) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      this.routes.push({ method: method.toLowerCase(), url: route.url, schema: route.schema as Record<string, unknown> });
    }
    this.cached = null;
  };

  document(info: { title: string; version: string }): string {
    if (this.cached !== null) return this.cached;
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const s = r.schema;
      const op: Record<string, unknown> = {
        summary: s.summary,
        ...(s.description ? { description: s.description } : {}),
        ...(s.tags ? { tags: s.tags } : {}),
        parameters: [
          ...parameters(s, 'path', s.params),
          ...parameters(s, 'query', s.querystring),
          ...parameters(s, 'header', s.headers),
        ],
        responses: {} as Record<string, unknown>,
      };
      if (s.body !== undefined) {
        op.requestBody = { required: true, content: { 'application/json': { schema: plain(s.body) } } };
      }
      const responses = op.responses as Record<string, unknown>;
      for (const [code, schema] of Object.entries((s.response ?? {}) as Record<string, unknown>)) {
        const body = plain(schema);
        responses[code] =
          body.type === 'null'
            ? { description: `${code}` }
            : { description: `${code}`, content: { 'application/json': { schema: body } } };
      }
      if (Object.keys(responses).length === 0) responses['200'] = { description: 'OK' };
      const path = openApiPath(r.url);
      paths[path] ??= {};
      paths[path][r.method] = op;
    }
    this.cached = stringify({
      openapi: '3.0.3',
      info: { ...info, description: 'xivo-auth: tokens, ACLs and users (XiVO /0.1 wire-compatible)' },
      paths,
      components: { securitySchemes: { token: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' } } },
    });
    return this.cached;
  }
}
