// The token check answered by its two paths — the fast path in front of
// Fastify (src/http/fast-check.ts) and the Fastify route (debug on, or CORS
// enabled, make Fastify answer everything) — gives the same status and the
// same headers over a real socket: valid, unknown and expired tokens, scopes
// granted and denied, tenants, a store outage (503 + Retry-After), and
// shutdown (Fastify's return503OnClosing on a connection still open).
// Three services share one database: one per configuration.
import http from 'node:http';
import net from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import type { Config } from '../../src/config/types.js';
import { scanPlainQuery, scanned } from '../../src/http/fast-check.js';
import { createService, type Service } from '../../src/main.js';
import { StoreUnavailableError } from '../../src/store/errors.js';
import { closeAtEnd } from '../helpers/cleanup.js';
import { createTestDatabase } from '../helpers/pg.js';
import { ADMIN, basic, ENGINES, testConfig, type Engine } from '../helpers/service.js';
import { tempSqliteUri } from '../helpers/sqlite.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const ORIGIN = 'https://app.example.com';

interface Answer {
  status: number;
  headers: Record<string, string>;
}

/** Hop-by-hop and per-answer headers that say nothing about the check. */
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);
/** What CORS adds (the CORS configuration's answers carry them on top). */
const isCors = (name: string) => name === 'vary' || name.startsWith('access-control-');

function headersOf(raw: string[], dropCors: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (TRANSPORT.has(name) || (dropCors && isCors(name))) continue;
    out[name] = out[name] === undefined ? raw[i + 1] : `${out[name]}, ${raw[i + 1]}`;
  }
  return out;
}

/** One HEAD over a new connection, every header the server wrote. */
function head(base: string, path: string, headers: Record<string, string> = {}): Promise<Answer & { raw: string[] }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: 'HEAD', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: headersOf(res.rawHeaders, false), raw: res.rawHeaders }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

interface Instances {
  fast: Service;
  debug: Service;
  cors: Service;
  urls: { fast: string; debug: string; cors: string };
  clock: FakeClock;
  /** Takes the store away from every instance, and brings it back. */
  outage: { start(): Promise<void>; end(): Promise<void> };
}

/**
 * Three instances over one fresh database of `engine`, the token cache off
 * (every check reads the store) unless `cacheEntries` > 0.
 */
async function startInstances(engine: Engine, cacheEntries = 0): Promise<Instances> {
  let uri: string;
  let proxy: TcpProxy | null = null;
  let drop: () => Promise<void>;
  if (engine === 'sqlite') {
    const t = tempSqliteUri();
    uri = t.uri;
    drop = async () => t.cleanup();
  } else {
    // Through a proxy the test can cut: a real outage, the shared server untouched.
    const db = await createTestDatabase();
    const url = new URL(db.uri);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    url.host = `127.0.0.1:${proxy.port}`;
    uri = url.toString();
    drop = db.drop;
  }
  const clock = new FakeClock(Date.now());
  const common = {
    token_cache: { max_entries: cacheEntries },
    default_policies: { p: { acl: ['confd.users.me.read', '!confd.users.me.delete'] } },
    default_user_policy: 'p',
  };
  const start = async (overrides: Partial<Config> | Record<string, unknown>) => {
    const service = await createService(
      testConfig(uri, { ...common, ...overrides } as Parameters<typeof testConfig>[1]),
      pino({ level: 'silent' }, { write() {} }),
      { clock, drainGraceMs: 0 },
    );
    await service.app.ready();
    return service;
  };
  // One after the other: the first one migrates and bootstraps.
  const fast = await start({});
  const debug = await start({ debug: true });
  const cors = await start({
    rest_api: { cors: { enabled: true, allow_origins: [ORIGIN], allow_headers: ['Content-Type', 'X-Auth-Token'] } },
  });
  closeAtEnd(async () => {
    for (const s of [cors, debug, fast]) await s.close().catch(() => undefined);
    await proxy?.close();
    await drop();
  });
  const urls = { fast: await fast.listen(), debug: await debug.listen(), cors: await cors.listen() };

  // SQLite has no connection to cut (reads go on whatever holds the write
  // lock): its driver failing is what the store turns into StoreUnavailableError.
  const stubbed: Array<() => void> = [];
  const outage =
    proxy !== null
      ? { start: () => proxy.cut(), end: () => proxy.restore() }
      : {
          async start() {
            for (const s of [fast, debug, cors]) {
              const store = s.store as unknown as { findTokenByHash: (hash: string) => Promise<unknown> };
              const original = store.findTokenByHash;
              store.findTokenByHash = async () => {
                throw new StoreUnavailableError('database is locked');
              };
              stubbed.push(() => {
                store.findTokenByHash = original;
              });
            }
          },
          async end() {
            while (stubbed.length > 0) stubbed.pop()!();
          },
        };
  return { fast, debug, cors, urls, clock, outage };
}

/** A user, robin, with the default policy, and two of its tokens: one for 600 s, one for 5 s. */
async function robinsTokens(service: Service): Promise<{ token: string; tenant: string; expiring: string }> {
  const login = (authorization: string, expiration: number) =>
    service.app.inject({ method: 'POST', url: '/0.1/token', headers: { authorization }, payload: { expiration } });
  const admin = (await login(basic(ADMIN.username, ADMIN.password), 600)).json().data.token;
  const created = await service.app.inject({
    method: 'POST',
    url: '/0.1/users',
    headers: { 'x-auth-token': admin },
    payload: { username: 'robin', password: 'robin-password' },
  });
  expect(created.statusCode).toBe(200);
  const data = (await login(basic('robin', 'robin-password'), 600)).json().data;
  const expiring = (await login(basic('robin', 'robin-password'), 5)).json().data.token;
  return { token: data.token, tenant: data.metadata.tenant_uuid, expiring };
}

describe.each(ENGINES)('token check: fast path and Fastify route over a socket on %s', (engine) => {
  let s: Instances;
  let token: string;
  let expiring: string;
  let tenant: string;

  /** The same HEAD on the three instances: the fast path's answer, after checking the two others match it. */
  async function same(path: string, what: string): Promise<Answer> {
    const fast = await head(s.urls.fast, path);
    const debug = await head(s.urls.debug, path);
    const cors = await head(s.urls.cors, path, { origin: ORIGIN });
    expect(debug.status, `${what}: debug status`).toBe(fast.status);
    expect(debug.headers, `${what}: debug headers`).toEqual(fast.headers);
    expect(cors.status, `${what}: CORS status`).toBe(fast.status);
    expect(headersOf(cors.raw, true), `${what}: CORS headers`).toEqual(fast.headers);
    // The CORS configuration's answer is the route's, with CORS on top.
    expect(cors.headers['access-control-allow-origin'], `${what}: CORS`).toBe(ORIGIN);
    return fast;
  }

  beforeAll(async () => {
    s = await startInstances(engine);
    ({ token, tenant, expiring } = await robinsTokens(s.fast));
  });

  it('answers every outcome with the same status and headers', async () => {
    const cases: Array<[string, string, number]> = [
      ['valid', `/0.1/token/${token}`, 204],
      ['scope granted', `/0.1/token/${token}?scope=confd.users.me.read`, 204],
      ['scope not granted', `/0.1/token/${token}?scope=confd.users.read`, 403],
      ['scope denied by a negation', `/0.1/token/${token}?scope=confd.users.me.delete`, 403],
      ['own tenant', `/0.1/token/${token}?tenant=${tenant}`, 204],
      ['scope and own tenant', `/0.1/token/${token}?scope=confd.users.me.read&tenant=${tenant}`, 204],
      ['other tenant', `/0.1/token/${token}?tenant=00000000-0000-4000-8000-000000000000`, 403],
      ['unknown token', '/0.1/token/not-a-token', 404],
      ['unknown token with a scope', '/0.1/token/not-a-token?scope=confd.users.me.read', 404],
      ['expiring token, still valid', `/0.1/token/${expiring}`, 204],
    ];
    for (const [what, path, status] of cases) {
      const answer = await same(path, what);
      expect(answer.status, what).toBe(status);
      // Every answer is no-store; a HEAD answer has no body, so none of the
      // security headers about a body (src/http/hardening.ts BODY_SECURITY_HEADERS).
      expect(answer.headers['cache-control'], what).toBe('no-store');
      expect(answer.headers['x-content-type-options'], what).toBeUndefined();
      expect(answer.headers['content-security-policy'], what).toBeUndefined();
      expect(answer.headers['content-type'], what).toBeUndefined();
      expect(answer.headers['retry-after'], what).toBeUndefined();
    }
  });

  it('answers an expired token 404 on both paths', async () => {
    s.clock.advance(6_000);
    try {
      expect((await same(`/0.1/token/${expiring}`, 'expired')).status).toBe(404);
    } finally {
      s.clock.advance(-6_000);
    }
  });

  it('answers 503 + Retry-After on both paths while the store is unreachable, 204 once it is back', async () => {
    await s.outage.start();
    try {
      for (const path of [`/0.1/token/${token}`, `/0.1/token/${token}?scope=confd.users.me.read`]) {
        const answer = await same(path, `outage ${path.slice(-30)}`);
        expect(answer.status).toBe(503);
        expect(answer.headers['retry-after']).toBe('1');
      }
    } finally {
      await s.outage.end();
    }
    let status = 0;
    for (let i = 0; i < 100 && status !== 204; i += 1) {
      status = (await head(s.urls.fast, `/0.1/token/${token}`)).status;
      if (status !== 204) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(204);
    expect((await same(`/0.1/token/${token}`, 'after the outage')).status).toBe(204);
  });

  it('leaves requests arriving while closing to Fastify (503, Connection: close) on both paths', async () => {
    const answers: Record<string, { status: number; headers: Record<string, string> }> = {};
    for (const name of ['fast', 'debug'] as const) {
      answers[name] = await checkWhileClosing(s[name], s.urls[name], token);
    }
    expect(answers.fast.status).toBe(503);
    expect(answers.fast.headers.connection).toBe('close');
    expect(answers.debug).toEqual(answers.fast);
  });
});

// With the token cache on, the fast path answers a cached token at once
// (TokenService.checkCached, no promise) while the Fastify route still goes
// through check(): both must give the same answers, and count them alike.
describe.each(ENGINES)('token check answered from the cache: fast path and Fastify route on %s', (engine) => {
  let s: Instances;
  let token: string;
  let expiring: string;
  let tenant: string;

  async function same(path: string, what: string): Promise<Answer> {
    const fast = await head(s.urls.fast, path);
    const debug = await head(s.urls.debug, path);
    expect(debug.status, `${what}: debug status`).toBe(fast.status);
    expect(debug.headers, `${what}: debug headers`).toEqual(fast.headers);
    return fast;
  }

  const metric = async (service: Service, series: string) => {
    const text = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
    return Number(
      text
        .split('\n')
        .find((l) => l.startsWith(series))
        ?.split(' ')[1] ?? 0,
    );
  };
  const HITS = 'xivo_auth_token_cache_lookups_total{result="hit"}';

  beforeAll(async () => {
    s = await startInstances(engine, 1000);
    ({ token, tenant, expiring } = await robinsTokens(s.fast));
  });

  it('answers every outcome of a cached token with the same status and headers, counted as cache hits', async () => {
    const cases: Array<[string, string, number]> = [
      ['valid', `/0.1/token/${token}`, 204],
      ['scope granted', `/0.1/token/${token}?scope=confd.users.me.read`, 204],
      ['scope not granted', `/0.1/token/${token}?scope=confd.users.read`, 403],
      ['scope denied by a negation', `/0.1/token/${token}?scope=confd.users.me.delete`, 403],
      ['own tenant', `/0.1/token/${token}?tenant=${tenant}`, 204],
      ['other tenant', `/0.1/token/${token}?tenant=00000000-0000-4000-8000-000000000000`, 403],
      ['unknown token', '/0.1/token/not-a-token', 404],
      ['expiring token, still valid', `/0.1/token/${expiring}`, 204],
    ];
    // Twice: the first answer fills each instance's cache, the second is answered from it.
    for (let round = 0; round < 2; round += 1) {
      for (const [what, path, status] of cases) {
        const answer = await same(path, `${what} (round ${round + 1})`);
        expect(answer.status, what).toBe(status);
        expect(answer.headers['x-content-type-options'], what).toBeUndefined();
        expect(answer.headers['cache-control'], what).toBe('no-store');
        expect(answer.headers.pragma, what).toBe('no-cache');
        expect(answer.headers['content-type'], what).toBeUndefined();
      }
    }
    // One more check of the cached token: one cache hit, one valid check from the cache, one denied.
    const VALID = 'xivo_auth_token_checks_total{result="valid",source="cache"}';
    const DENIED = 'xivo_auth_token_checks_total{result="denied",source="cache"}';
    const before = [await metric(s.fast, HITS), await metric(s.fast, VALID), await metric(s.fast, DENIED)];
    expect((await head(s.urls.fast, `/0.1/token/${token}?scope=confd.users.me.read`)).status).toBe(204);
    expect((await head(s.urls.fast, `/0.1/token/${token}?scope=confd.users.read`)).status).toBe(403);
    expect([await metric(s.fast, HITS), await metric(s.fast, VALID), await metric(s.fast, DENIED)]).toEqual([
      before[0] + 2,
      before[1] + 1,
      before[2] + 1,
    ]);
  });

  it('answers GET|HEAD /authz of a cached token as the route does (status, identity headers), counted as cache hits', async () => {
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    const cases: Array<[string, string, Record<string, string>, number]> = [
      ['granted', '/0.1/authz?access=confd.users.me.read', bearer(token), 200],
      ['no access asked', '/0.1/authz', bearer(token), 200],
      ['not granted', '/0.1/authz?access=confd.users.read', bearer(token), 403],
      ['denied by a negation', '/0.1/authz?access=confd.users.me.delete', bearer(token), 403],
      ['unknown token', '/0.1/authz?access=confd.users.me.read', bearer('not-a-token'), 401],
      ['no token', '/0.1/authz?access=confd.users.me.read', {}, 401],
      ['other tenant', '/0.1/authz', { ...bearer(token), 'wazo-tenant': '00000000-0000-4000-8000-000000000000' }, 403],
    ];
    for (let round = 0; round < 2; round += 1) {
      for (const [what, path, headers, status] of cases) {
        const fast = await head(s.urls.fast, path, headers);
        const route = await head(s.urls.debug, path, headers);
        expect(fast.status, `${what} (round ${round + 1})`).toBe(status);
        expect(route.status, `${what} (round ${round + 1}): route status`).toBe(fast.status);
        expect(route.headers, `${what} (round ${round + 1}): route headers`).toEqual(fast.headers);
      }
    }
    const granted = await head(s.urls.fast, '/0.1/authz?access=confd.users.me.read', bearer(token));
    expect(granted.headers['x-auth-tenant-uuid']).toBe(tenant);
    expect(granted.headers['x-content-type-options']).toBeUndefined();
    const before = await metric(s.fast, HITS);
    expect((await head(s.urls.fast, '/0.1/authz?access=confd.users.me.read', bearer(token))).status).toBe(200);
    expect(await metric(s.fast, HITS)).toBe(before + 1);
  });

  it('answers a cached token that expired 404 on both paths', async () => {
    expect((await same(`/0.1/token/${expiring}`, 'cached, valid')).status).toBe(204);
    s.clock.advance(6_000);
    try {
      expect((await same(`/0.1/token/${expiring}`, 'cached, expired')).status).toBe(404);
    } finally {
      s.clock.advance(-6_000);
    }
  });

  it('sees a revocation at once on the fast path', async () => {
    const fresh = (
      await s.fast.app.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { authorization: basic('robin', 'robin-password') },
        payload: { expiration: 600 },
      })
    ).json().data.token;
    expect((await head(s.urls.fast, `/0.1/token/${fresh}`)).status).toBe(204);
    expect((await head(s.urls.fast, `/0.1/token/${fresh}`)).status).toBe(204);
    expect((await s.fast.app.inject({ method: 'DELETE', url: `/0.1/token/${fresh}` })).statusCode).toBe(200);
    expect((await head(s.urls.fast, `/0.1/token/${fresh}`)).status).toBe(404);
  });
});

/**
 * A login whose body is held back keeps a connection busy (so closing leaves
 * it open); the app starts closing; the body then arrives with a check
 * pipelined behind it. Returns the check's answer.
 */
async function checkWhileClosing(
  service: Service,
  base: string,
  token: string,
): Promise<{ status: number; headers: Record<string, string> }> {
  const { port } = new URL(base);
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const body = '{}';
  socket.write(
    `POST /0.1/token HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic(ADMIN.username, ADMIN.password)}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 1)}`,
  );
  await new Promise((r) => setTimeout(r, 100));
  const closed = service.app.close();
  await new Promise((r) => setTimeout(r, 100));
  socket.write(`${body.slice(1)}HEAD /0.1/token/${token} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await Promise.race([ended, new Promise((r) => setTimeout(r, 5000))]);
  socket.destroy();
  await closed;
  // Two answers: the login's (with its body), then the check's.
  const second = received.indexOf('HTTP/1.1 ', received.indexOf('\r\n\r\n'));
  expect(second, received.slice(0, 200)).toBeGreaterThan(0);
  const [statusLine, ...lines] = received.slice(second).split('\r\n\r\n')[0].split('\r\n');
  const raw: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    raw.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const headers = headersOf(raw, false);
  const connection = raw.findIndex((v, i) => i % 2 === 0 && v.toLowerCase() === 'connection');
  if (connection >= 0) headers.connection = raw[connection + 1].toLowerCase();
  return { status: Number(statusLine.split(' ')[1]), headers };
}

// The fast path reads `scope` and `tenant` (and /authz's `access`) with its
// own scanner when the query needs no decoding; querystring parses the rest.
// Every query of up to five pieces below must read alike both ways.
describe("the fast path's query scanner", () => {
  const PIECES = ['scope', 'tenant', '=', '&', 'x', 'sc', '%41', '+', ''];
  function* queries(depth: number, prefix: string): Generator<string> {
    yield prefix;
    if (depth === 0) return;
    for (const p of PIECES) if (p !== '') yield* queries(depth - 1, prefix + p);
  }

  it('reads what node:querystring reads, or declines', () => {
    let scannedCount = 0;
    for (const q of queries(5, '')) {
      const url = `/0.1/token/t?${q}`;
      const parsed = parseQuery(q);
      const plain = !q.includes('%') && !q.includes('+') && !Array.isArray(parsed.scope) && !Array.isArray(parsed.tenant);
      const ok = scanPlainQuery(url, url.indexOf('?') + 1, 'scope', 'tenant');
      // It declines exactly the queries querystring must decode or that repeat a parameter.
      expect(ok, q).toBe(plain);
      if (!ok) continue;
      scannedCount += 1;
      expect([scanned.first, scanned.second], q).toEqual([parsed.scope, parsed.tenant]);
    }
    expect(scannedCount).toBeGreaterThan(1000);
  });

  it('reads one parameter (/authz access) alike', () => {
    for (const q of ['access=a.b', 'access', 'access=', 'x=1&access=a=b', 'accessx=1', 'access=a&access=b', 'a=1&&access=c&']) {
      const url = `/0.1/authz?${q}`;
      const parsed = parseQuery(q).access;
      const ok = scanPlainQuery(url, url.indexOf('?') + 1, 'access', null);
      expect(ok, q).toBe(!Array.isArray(parsed));
      if (ok) expect(scanned.first, q).toBe(parsed);
    }
  });

  it("declines a query long enough for querystring's 1,000-pair cap to drop the scope", () => {
    const q = `${'&'.repeat(1000)}scope=a`;
    expect(parseQuery(q).scope).toBeUndefined();
    const url = `/0.1/token/t?${q}`;
    expect(scanPlainQuery(url, url.indexOf('?') + 1, 'scope', 'tenant')).toBe(false);
  });
});
