// OpenTelemetry traces (issue 26, item 4): the built CLI as a real process
// with tracing.enabled, exporting OTLP/HTTP (JSON) to a receiver started
// here. A login and a check carrying a W3C traceparent: server spans with
// the route template and status, in the caller's trace; child spans for the
// store and the hashing; no token, password or Authorization value anywhere
// in what is exported. Needs `npm run build`.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, basicAuth, killAllClis, startCli } from '../helpers/cli.js';
import { tempSqliteUri, type TempSqlite } from '../helpers/sqlite.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: OtlpValue }[];
}

const sqlite: TempSqlite[] = [];
let receiver: http.Server;
const bodies: string[] = [];
const paths: string[] = [];

beforeAll(async () => {
  assertBuilt();
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await killAllClis();
  for (const db of sqlite.splice(0)) db.cleanup();
  await new Promise((resolve) => receiver.close(resolve));
});

function spans(): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  for (const body of bodies) {
    const doc = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
    for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) out.push(...ss.spans);
  }
  return out;
}

function attr(span: OtlpSpan, key: string): unknown {
  const v = span.attributes.find((a) => a.key === key)?.value;
  if (v === undefined) return undefined;
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
}

async function waitForSpan(match: (s: OtlpSpan) => boolean, what: string): Promise<OtlpSpan> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = spans().find(match);
    if (found) return found;
    if (Date.now() > deadline)
      throw new Error(
        `no span ${what}; got: ${spans()
          .map((s) => s.name)
          .join(', ')}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

const SERVER = 2;

describe('tracing', () => {
  it('exports server spans with store and hashing children, honouring traceparent, without secrets', async () => {
    const db = tempSqliteUri();
    sqlite.push(db);
    const port = (receiver.address() as AddressInfo).port;
    const svc = await startCli({
      dbUri: db.uri,
      extraConfig: { tracing: { enabled: true, endpoint: `http://127.0.0.1:${port}/v1/traces`, batch_delay_ms: 100 } },
    });
    try {
      const loginTrace = randomBytes(16).toString('hex');
      const loginParent = randomBytes(8).toString('hex');
      const authorization = basicAuth('admin', svc.admin.password);
      const login = await fetch(`${svc.url}/0.1/token`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', traceparent: `00-${loginTrace}-${loginParent}-01` },
        body: '{}',
      });
      expect(login.status).toBe(200);
      const token = ((await login.json()) as { data: { token: string } }).data.token;

      const checkTrace = randomBytes(16).toString('hex');
      const checkParent = randomBytes(8).toString('hex');
      const check = await fetch(`${svc.url}/0.1/token/${token}`, {
        method: 'HEAD',
        headers: { traceparent: `00-${checkTrace}-${checkParent}-01` },
      });
      expect(check.status).toBe(204);

      const server = await waitForSpan((s) => s.name === 'POST /0.1/token' && s.traceId === loginTrace, 'for the login');
      expect(server.kind).toBe(SERVER);
      expect(server.parentSpanId).toBe(loginParent);
      expect(attr(server, 'http.route')).toBe('/0.1/token');
      expect(attr(server, 'http.request.method')).toBe('POST');
      expect(attr(server, 'http.response.status_code')).toBe(200);

      // Children in the login's trace: the password verification and store statements.
      const inTrace = () => spans().filter((s) => s.traceId === loginTrace);
      await waitForSpan((s) => s.traceId === loginTrace && s.name === 'password verify', 'for the hashing');
      const store = await waitForSpan((s) => s.traceId === loginTrace && attr(s, 'db.system.name') === 'sqlite', 'for the store');
      expect(String(attr(store, 'db.operation.name'))).toMatch(/^(SELECT|INSERT|UPDATE|DELETE)$/);
      const ids = new Set(inTrace().map((s) => s.spanId));
      for (const s of inTrace()) if (s.spanId !== server.spanId) expect(ids.has(s.parentSpanId ?? ''), s.name).toBe(true);

      // The check (fast path): its own server span in the caller's trace.
      const checked = await waitForSpan((s) => s.traceId === checkTrace && s.kind === SERVER, 'for the check');
      expect(checked.name).toBe('HEAD /0.1/token/:token');
      expect(checked.parentSpanId).toBe(checkParent);
      expect(attr(checked, 'http.route')).toBe('/0.1/token/:token');
      expect(attr(checked, 'http.response.status_code')).toBe(204);

      // Nothing secret in anything exported.
      const everything = bodies.join('\n');
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(svc.admin.password);
      expect(everything).not.toContain(authorization);
      expect(everything).not.toContain(authorization.slice('Basic '.length));
      expect(paths.every((p) => p.startsWith('POST /v1/traces application/json'))).toBe(true);

      const exit = await svc.stop();
      expect(exit.code).toBe(0);
    } finally {
      if (svc.proc.exitCode === null) await svc.stop().catch(() => undefined);
    }
  }, 60_000);
});
