// End to end: the built CLI (`node bin/xivo-auth.js -f -c <file>`) as a real
// process, spoken to over real sockets, on both engines. Needs `npm run build`
// (npm test runs it in pretest) and PostgreSQL at 127.0.0.1:5432.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  assertBuilt,
  basicAuth,
  emptyConfDir,
  killAllClis,
  runCli,
  startCli,
  writeConfigFile,
  CLI_FAST_HASHING,
  type CliService,
} from '../helpers/cli.js';
import { createTestDatabase } from '../helpers/pg.js';
import { tempSqliteUri } from '../helpers/sqlite.js';

type Engine = 'sqlite' | 'postgresql';

/** Tests that start and stop several processes (each start is a couple of seconds). */
const PROCESS_TEST_TIMEOUT = 60_000;

// ---------------------------------------------------------------------------
// Databases: a fresh one per use, dropped after the file.

interface TestDb {
  uri: string;
  /** `SELECT count(*)` with one text parameter, on a connection of our own. */
  count(sql: string, param: string): Promise<number>;
  cleanup(): Promise<void>;
}

const databases: TestDb[] = [];

async function freshDb(engine: Engine): Promise<TestDb> {
  let db: TestDb;
  if (engine === 'sqlite') {
    const t = tempSqliteUri();
    db = {
      uri: t.uri,
      async count(sql, param) {
        const conn = new Database(t.path, { readonly: true, fileMustExist: true });
        try {
          const row = conn.prepare(sql.replace(/\$1/g, '?')).get(param) as { n: number };
          return Number(row.n);
        } finally {
          conn.close();
        }
      },
      cleanup: async () => t.cleanup(),
    };
  } else {
    const t = await createTestDatabase();
    db = {
      uri: t.uri,
      async count(sql, param) {
        const client = new pg.Client({ connectionString: t.uri, connectionTimeoutMillis: 3000 });
        await client.connect();
        try {
          const res = await client.query<{ n: string | number }>(sql, [param]);
          return Number(res.rows[0].n);
        } finally {
          await client.end();
        }
      },
      cleanup: () => t.drop(),
    };
  }
  databases.push(db);
  return db;
}

// Processes first (they hold the databases), then the databases.
afterAll(async () => {
  await killAllClis();
  for (const db of databases.splice(0)) await db.cleanup().catch(() => undefined);
});

beforeAll(() => assertBuilt());

// ---------------------------------------------------------------------------
// HTTP over real sockets (node:http, one connection per request).

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of any shape
  json(): any;
}

function request(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
    const req = http.request(`${base}${path}`, { method, headers, agent: false });
    let answered = false;
    const timer = setTimeout(
      () => req.destroy(new Error(`${method} ${path}: no answer within ${opts.timeoutMs ?? 10_000} ms`)),
      opts.timeoutMs ?? 10_000,
    );
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: () => {
            try {
              return JSON.parse(text);
            } catch {
              throw new Error(
                `${method} ${path}: ${res.statusCode} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`,
              );
            }
          },
        });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    // Once answered, a late write error (the server may stop reading an oversized body) does not matter.
    req.on('error', (err) => {
      if (!answered) {
        clearTimeout(timer);
        reject(err);
      }
    });
    req.end(opts.body);
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };

async function login(svc: CliService, username: string, password: string, body: Record<string, unknown> = {}) {
  const res = await request(svc.url, 'POST', '/0.1/token', {
    headers: { ...JSON_TYPE, authorization: basicAuth(username, password) },
    body: JSON.stringify(body),
  });
  expect(res.status, `login ${username}: ${res.text}`).toBe(200);
  return res.json().data as { token: string; auth_id: string; session_uuid: string; acl: string[] };
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
    await sleep(100);
    last = await probe();
  }
  return last;
}

/** The JSON log lines of a process (stdout), parsed. */
function logEntries(svc: CliService): Array<Record<string, unknown>> {
  return svc
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

// ---------------------------------------------------------------------------

describe.each<Engine>(['sqlite', 'postgresql'])('xivo-auth CLI end to end on %s', (engine) => {
  // One long-running service (debug logging on) for the walkthrough, expiry,
  // bad input and log checks; restart and SIGTERM get processes of their own.
  let db: TestDb;
  let svc: CliService;
  let adminToken: string;
  /** Every secret that went over the wire to `svc`: none may appear in its logs. */
  const secrets: Array<[string, string]> = [];

  beforeAll(async () => {
    db = await freshDb(engine);
    svc = await startCli({
      dbUri: db.uri,
      args: ['-d'],
      extraConfig: {
        token_cleanup_interval: 1,
        // Large enough that a 100000-deep document (200000 bytes) reaches the JSON parser.
        rest_api: { max_body_bytes: 204_800 },
        default_policies: { e2e_user: { acl: ['confd.users.me.read', 'auth.users.me.read'] } },
        default_user_policy: 'e2e_user',
      },
    });
    secrets.push(
      ['admin password', svc.admin.password],
      ['admin Basic payload', Buffer.from(`admin:${svc.admin.password}`).toString('base64')],
    );
    adminToken = (await login(svc, 'admin', svc.admin.password)).token;
    secrets.push(['admin token', adminToken]);
  });

  it('a. README walkthrough: admin creates alice, alice logs in, checks, revokes', async () => {
    const alicePassword = `alice-${Date.now()}-pw`;
    secrets.push(['alice password', alicePassword]);
    const created = await request(svc.url, 'POST', '/0.1/users', {
      headers: { ...JSON_TYPE, 'x-auth-token': adminToken },
      body: JSON.stringify({ username: 'alice', password: alicePassword, firstname: 'Alice' }),
    });
    expect(created.status, created.text).toBe(200);
    const alice = created.json() as { uuid: string };
    expect(alice.uuid).toMatch(/^[0-9a-f-]{36}$/);

    const issued = await login(svc, 'alice', alicePassword, { backend: 'xivo_user', expiration: 600 });
    const token = issued.token;
    secrets.push(['alice token', token]);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(issued.auth_id).toBe(alice.uuid);

    const head = await request(svc.url, 'HEAD', `/0.1/token/${token}`);
    expect(head.status).toBe(204);
    expect(head.text).toBe('');

    const get = await request(svc.url, 'GET', `/0.1/token/${token}`);
    expect(get.status, get.text).toBe(200);
    const data = get.json().data;
    expect(data.token).toBe(token);
    expect(data.auth_id).toBe(alice.uuid);
    expect(data.acl).toEqual(expect.arrayContaining(['confd.users.me.read']));

    expect((await request(svc.url, 'HEAD', `/0.1/token/${token}?scope=confd.users.me.read`)).status).toBe(204);
    const denied = await request(svc.url, 'HEAD', `/0.1/token/${token}?scope=confd.users.read`);
    expect(denied.status).toBe(403);
    const deniedGet = await request(svc.url, 'GET', `/0.1/token/${token}?scope=confd.users.read`);
    expect(deniedGet.status).toBe(403);
    expect(deniedGet.json().reason).toEqual(['Unauthorized for confd.users.read']);

    const check = await request(svc.url, 'POST', `/0.1/token/${token}/scopes/check`, {
      headers: JSON_TYPE,
      body: JSON.stringify({ scopes: ['confd.users.me.read', 'confd.users.read'] }),
    });
    expect(check.status, check.text).toBe(200);
    expect(check.json()).toEqual({ scopes: { 'confd.users.me.read': true, 'confd.users.read': false } });

    const revoke = await request(svc.url, 'DELETE', `/0.1/token/${token}`);
    expect(revoke.status).toBe(200);
    expect(revoke.json()).toEqual({ data: { message: 'success' } });
    expect((await request(svc.url, 'HEAD', `/0.1/token/${token}`)).status).toBe(404);
    expect((await request(svc.url, 'GET', `/0.1/token/${token}`)).json().reason).toEqual(['No such token']);
  });

  it(
    'b. tokens and revocations survive a SIGTERM and a restart on the same database',
    async () => {
      const own = await freshDb(engine);
      const first = await startCli({ dbUri: own.uri });
      const a = (await login(first, 'admin', first.admin.password, { expiration: 3600 })).token;
      const b = (await login(first, 'admin', first.admin.password, { expiration: 3600 })).token;
      expect((await request(first.url, 'DELETE', `/0.1/token/${b}`)).status).toBe(200);
      expect((await request(first.url, 'HEAD', `/0.1/token/${a}`)).status).toBe(204);
      expect((await request(first.url, 'HEAD', `/0.1/token/${b}`)).status).toBe(404);

      const exit = await first.stop('SIGTERM');
      expect(exit, `${exit.stdout}\n${exit.stderr}`).toMatchObject({ code: 0, signal: null });
      expect(exit.stdout).toContain('"msg":"stopped"');

      // Same database, same bootstrap password (so the administrator is left as it is).
      const second = await startCli({ dbUri: own.uri, adminPassword: first.admin.password });
      expect(second.port).toBeGreaterThan(0);
      expect((await request(second.url, 'HEAD', `/0.1/token/${a}`)).status).toBe(204);
      expect((await request(second.url, 'GET', `/0.1/token/${a}`)).json().data.token).toBe(a);
      expect((await request(second.url, 'HEAD', `/0.1/token/${b}`)).status).toBe(404);
      expect(await own.count('SELECT count(*) AS n FROM tokens WHERE hash = $1', sha256(a))).toBe(1);
      expect(await own.count('SELECT count(*) AS n FROM tokens WHERE hash = $1', sha256(b))).toBe(0);
      const exit2 = await second.stop();
      expect(exit2.code, exit2.stderr).toBe(0);
    },
    PROCESS_TEST_TIMEOUT,
  );

  it('c. an expired token is 404 at once and its rows are reaped (token_cleanup_interval: 1)', async () => {
    const issued = await login(svc, 'admin', svc.admin.password, { expiration: 1 });
    const issuedAt = Date.now();
    secrets.push(['short-lived token', issued.token]);
    expect((await request(svc.url, 'HEAD', `/0.1/token/${issued.token}`)).status, 'a 1 s token, checked at once').toBe(204);
    const hash = sha256(issued.token);
    expect(await db.count('SELECT count(*) AS n FROM tokens WHERE hash = $1', hash), 'the token row, right after login').toBe(1);
    expect(await db.count('SELECT count(*) AS n FROM sessions WHERE uuid = $1', issued.session_uuid)).toBe(1);

    await sleep(Math.max(0, issuedAt + 2000 - Date.now()));
    expect((await request(svc.url, 'HEAD', `/0.1/token/${issued.token}`)).status).toBe(404);
    expect((await request(svc.url, 'GET', `/0.1/token/${issued.token}`)).status).toBe(404);

    await pollUntil(
      'rows of the expired token in "tokens"',
      5000,
      () => db.count('SELECT count(*) AS n FROM tokens WHERE hash = $1', hash),
      (n) => n === 0,
    );
    await pollUntil(
      'its session in "sessions"',
      5000,
      () => db.count('SELECT count(*) AS n FROM sessions WHERE uuid = $1', issued.session_uuid),
      (n) => n === 0,
    );
    // The reaper only removes what has expired.
    expect(await db.count('SELECT count(*) AS n FROM tokens WHERE hash = $1', sha256(adminToken))).toBe(1);
  });

  it(
    'd. SIGTERM during a keep-alive burst: accepted requests are answered, none reset; exit 0',
    async () => {
      const own = await freshDb(engine);
      const target = await startCli({ dbUri: own.uri });
      const token = (await login(target, 'admin', target.admin.password)).token;
      const tokenPath = `/0.1/token/${token}`;

      // Deterministic in-flight requests: logins (they need the store) sent with
      // `Expect: 100-continue`. "100 Continue" proves the server parsed the headers
      // and routed the request (before it started closing); the body is sent only
      // once the service has logged that it is stopping. They must complete
      // normally: 200 with a token.
      const HELD = 6;
      const heldAgent = new http.Agent({ keepAlive: true, maxSockets: HELD });
      const body = JSON.stringify({ expiration: 60 });
      let releaseHeld!: () => void;
      const heldReleased = new Promise<void>((r) => {
        releaseHeld = r;
      });
      const continued: Array<Promise<void>> = [];
      const held = Array.from({ length: HELD }, () => {
        let onContinue!: () => void;
        continued.push(
          new Promise<void>((r) => {
            onContinue = r;
          }),
        );
        return new Promise<{ status?: number; body?: string; error?: string }>((resolve) => {
          const req = http.request(`${target.url}/0.1/token`, {
            method: 'POST',
            agent: heldAgent,
            headers: {
              ...JSON_TYPE,
              authorization: basicAuth('admin', target.admin.password),
              expect: '100-continue',
              'content-length': Buffer.byteLength(body),
            },
          });
          req.on('continue', () => {
            onContinue();
            void heldReleased.then(() => req.end(body));
          });
          req.on('response', (res) => {
            let text = '';
            res
              .setEncoding('utf8')
              .on('data', (c: string) => {
                text += c;
              })
              .on('end', () => resolve({ status: res.statusCode, body: text }));
          });
          req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
          req.flushHeaders();
        });
      });
      await withTimeout(Promise.all(continued), 10_000, 'the held requests got no "100 Continue"');

      // The burst: 200 checks over 16 keep-alive connections; SIGTERM after the 60th answer.
      const N = 200;
      const SIGNAL_AFTER = 60;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
      const answeredOn = new WeakMap<Socket, number>();
      let signalled = false;
      let answers = 0;
      interface Outcome {
        i: number;
        method: string;
        status?: number;
        error?: string;
        writtenBeforeSignal: boolean;
        onUsedConnection: boolean;
      }
      const outcomes = await Promise.all(
        Array.from(
          { length: N },
          (_, i) =>
            new Promise<Outcome>((resolve) => {
              const method = i % 2 === 0 ? 'HEAD' : 'GET';
              const o: Outcome = { i, method, writtenBeforeSignal: false, onUsedConnection: false };
              let socket: Socket | null = null;
              let connected = false;
              let finished = false;
              const markWritten = () => {
                if (connected && finished && !signalled && socket !== null) {
                  o.writtenBeforeSignal = true;
                  // The server has already answered on this connection: it did accept it.
                  o.onUsedConnection = (answeredOn.get(socket) ?? 0) > 0;
                }
              };
              const req = http.request(`${target.url}${tokenPath}`, { method, agent, timeout: 10_000 });
              req.on('timeout', () => req.destroy(Object.assign(new Error('no answer within 10 s'), { code: 'TIMEOUT' })));
              req.on('socket', (s) => {
                socket = s;
                if (s.connecting)
                  s.once('connect', () => {
                    connected = true;
                    markWritten();
                  });
                else connected = true;
              });
              req.on('finish', () => {
                finished = true;
                markWritten();
              });
              req.on('response', (res) => {
                res.resume();
                res.on('end', () => {
                  if (socket !== null) answeredOn.set(socket, (answeredOn.get(socket) ?? 0) + 1);
                  o.status = res.statusCode;
                  answers += 1;
                  if (answers === SIGNAL_AFTER && !signalled) {
                    signalled = true;
                    target.proc.kill('SIGTERM');
                  }
                  resolve(o);
                });
                res.on('error', (err) => {
                  o.error = (err as NodeJS.ErrnoException).code ?? err.message;
                  resolve(o);
                });
              });
              req.on('error', (err) => {
                o.error = (err as NodeJS.ErrnoException).code ?? err.message;
                resolve(o);
              });
              req.end();
            }),
        ),
      );

      // Release the held bodies once the service is draining (it logged so).
      await pollUntil(
        'the "stopping" log line',
        10_000,
        async () => target.logs().includes('"msg":"stopping: draining in-flight requests"'),
        (v) => v,
      );
      releaseHeld();
      const heldResults = await Promise.all(held);
      agent.destroy();
      heldAgent.destroy();
      const exit = await target.waitExit(15_000);

      const tally: Record<string, number> = {};
      for (const o of outcomes) {
        const key = `${o.status ?? o.error} (${o.writtenBeforeSignal ? `written before SIGTERM${o.onUsedConnection ? ', on an answered connection' : ', on a new connection'}` : 'written after SIGTERM or never'})`;
        tally[key] = (tally[key] ?? 0) + 1;
      }
      const summary = JSON.stringify(tally, null, 1);

      // The requests in flight when the drain began were all answered normally.
      for (const r of heldResults) {
        expect(r, `held request: ${summary}`).toMatchObject({ status: 200 });
        expect(JSON.parse(r.body ?? '').data.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      }
      // Every answer is a valid one: the check's own status, or 503 once closing.
      for (const o of outcomes.filter((x) => x.status !== undefined)) {
        expect([o.method === 'HEAD' ? 204 : 200, 503], `request ${o.i} (${o.method}): ${summary}`).toContain(o.status);
      }
      // Failures are only the connection-level ones of a closing listener.
      for (const o of outcomes.filter((x) => x.error !== undefined)) {
        expect(['ECONNREFUSED', 'ECONNRESET', 'EPIPE'], `request ${o.i}: ${summary}`).toContain(o.error);
      }
      // No request written before SIGTERM fails: not on a connection the server
      // had answered on, nor on one still waiting in the kernel's accept queue
      // (the service keeps accepting for a grace period before closing the listener).
      const resetBeforeSignal = outcomes.filter((o) => o.error !== undefined && o.writtenBeforeSignal);
      expect(
        resetBeforeSignal.map((o) => o.i),
        `requests written before SIGTERM that failed: ${summary}`,
      ).toEqual([]);
      // The signal came in the middle: the first 60 were answered before it, and some after.
      expect(outcomes.filter((o) => o.status !== undefined).length).toBeGreaterThanOrEqual(SIGNAL_AFTER);
      expect(outcomes.filter((o) => !o.writtenBeforeSignal).length, summary).toBeGreaterThan(0);

      expect(exit, `${exit.stdout.slice(-3000)}\n${exit.stderr}`).toMatchObject({ code: 0, signal: null });
      expect(exit.stdout).toContain('"msg":"stopped"');
    },
    PROCESS_TEST_TIMEOUT,
  );

  it('e. malformed input over a real socket: 4xx JSON answers, and the process keeps serving', async () => {
    const admin = { authorization: basicAuth('admin', svc.admin.password) };
    const check4xx = (res: Res, status: number, what: string) => {
      expect(res.status, `${what}: ${res.text.slice(0, 300)}`).toBe(status);
      expect(res.headers['content-type'], what).toMatch(/^application\/json/);
      return res.json();
    };

    const badUtf8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    let body = check4xx(
      await request(svc.url, 'POST', '/0.1/token', { headers: { ...JSON_TYPE, ...admin }, body: badUtf8 }),
      400,
      'invalid UTF-8',
    );
    expect(body.status_code).toBe(400);

    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    body = check4xx(
      await request(svc.url, 'POST', '/0.1/token', { headers: { ...JSON_TYPE, ...admin }, body: deep }),
      400,
      '100000-deep nesting (token)',
    );
    expect(body.status_code).toBe(400);
    body = check4xx(
      await request(svc.url, 'POST', '/0.1/users', { headers: { ...JSON_TYPE, 'x-auth-token': adminToken }, body: deep }),
      400,
      '100000-deep nesting (users)',
    );
    expect(body.error_id).toBe('invalid-data');

    const huge = JSON.stringify({ pad: 'x'.repeat(206 * 1024) }); // over max_body_bytes (200 KiB)
    check4xx(
      await request(svc.url, 'POST', '/0.1/token', { headers: { ...JSON_TYPE, ...admin }, body: huge }),
      413,
      'oversized body',
    );

    for (const authorization of [
      'Basic !!!not-base64!!!',
      `Basic ${Buffer.from('admin-without-colon').toString('base64')}`,
      `Bearer ${adminToken}`,
      'Basic',
      `Basic ${Buffer.from(`admin:${svc.admin.password}\u0000`).toString('base64')}`,
    ]) {
      body = check4xx(
        await request(svc.url, 'POST', '/0.1/token', { headers: { ...JSON_TYPE, authorization }, body: '{}' }),
        401,
        `Authorization ${authorization.slice(0, 20)}`,
      );
      expect(body.reason).toEqual(['Authentication Failed']);
    }

    body = check4xx(await request(svc.url, 'GET', '/0.1/token/%00'), 404, 'GET /0.1/token/%00');
    expect(body.reason).toEqual(['No such token']);
    expect((await request(svc.url, 'HEAD', '/0.1/token/%00')).status).toBe(404);
    check4xx(
      await request(svc.url, 'POST', '/0.1/token/%00/scopes/check', { headers: JSON_TYPE, body: '{"scopes":[]}' }),
      404,
      'scopes check on %00',
    );
    expect((await request(svc.url, 'HEAD', `/0.1/token/${adminToken}?scope=a%00`)).status).toBe(204); // '#' grants any access
    check4xx(await request(svc.url, 'GET', `/0.1/token/${adminToken}?tenant=%00`), 403, 'tenant with NUL');

    expect(svc.proc.exitCode).toBeNull();
    const status = await request(svc.url, 'GET', '/0.1/status');
    expect(status.status, status.text).toBe(200);
    expect(status.json().rest_api).toEqual({ status: 'ok' });
    expect((await request(svc.url, 'HEAD', `/0.1/token/${adminToken}`)).status).toBe(204);
  });

  it('g. debug logs never contain a token, a password or an Authorization payload', async () => {
    const issued = await login(svc, 'admin', svc.admin.password, { expiration: 600 });
    secrets.push(['g token', issued.token]);
    expect((await request(svc.url, 'HEAD', `/0.1/token/${issued.token}?scope=auth.users.read`)).status).toBe(204);
    expect(
      (await request(svc.url, 'GET', `/0.1/token/${issued.token}`, { headers: { 'x-auth-token': issued.token } })).status,
    ).toBe(200);
    expect((await request(svc.url, 'DELETE', `/0.1/token/${issued.token}`)).status).toBe(200);

    // With -d the requests are logged (so the check below is not vacuous), their URLs redacted.
    type Line = { req?: { method?: string; url?: string }; method?: string; url?: string };
    const method = (e: Line) => e.req?.method ?? e.method;
    const url = (e: Line) => e.req?.url ?? e.url;
    await pollUntil(
      'a log line for the DELETE /0.1/token/... request (with -d, requests are logged)',
      5000,
      async () => logEntries(svc).some((e) => method(e) === 'DELETE'),
      (v) => v,
    );
    const entries = logEntries(svc);
    expect(entries.filter((e) => method(e) === 'DELETE').map(url)).toContain('/0.1/token/<redacted>');
    expect(entries.some((e) => method(e) === 'HEAD' && url(e) === '/0.1/token/<redacted>?scope=auth.users.read')).toBe(true);

    const out = svc.logs();
    const err = svc.errors();
    for (const [what, secret] of secrets) {
      expect(out.includes(secret), `${what} appears in the logs (stdout)`).toBe(false);
      expect(err.includes(secret), `${what} appears on stderr`).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------

// Independent one-shot commands: run side by side to keep the file short.
describe.concurrent('xivo-auth command line (sqlite)', () => {
  const fileConfig = (extra: Record<string, unknown> = {}) => ({
    password_hashing: CLI_FAST_HASHING,
    extra_config_files: emptyConfDir(),
    ...extra,
  });

  it('--help prints the usage with every flag and command, exit 0', async () => {
    const res = await runCli(['--help']);
    expect(res.code, res.stderr).toBe(0);
    for (const flag of [
      '-h, --help',
      '-c, --config-file',
      '-u, --user',
      '-d, --debug',
      '-f, --foreground',
      '-l, --log-level',
      '--listen-port',
      '--db-upgrade-on-startup',
      'serve',
      'bootstrap',
      '--username',
      '--password',
      'migrate',
      'config show',
      'XIVO_AUTH_',
    ]) {
      expect(res.stdout, flag).toContain(flag);
    }
    expect(res.stdout.startsWith('usage: xivo-auth')).toBe(true);
  });

  it('an invalid value exits 2 naming the key and the file', async () => {
    const file = writeConfigFile(fileConfig({ rest_api: { port: 'abc' } }));
    const res = await runCli(['-f', '-c', file]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain('rest_api.port');
    expect(res.stderr).toContain(file);
    expect(res.stdout).not.toContain('listening');
  });

  it('a file that is not YAML exits 2 naming the file', async () => {
    const file = writeConfigFile('rest_api: {port: [\n  db_uri: x\n', 'broken.yml');
    const res = await runCli(['-f', '-c', file]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain(file);
    expect(res.stderr).toMatch(/YAML/);
  });

  it(
    'an unknown key only warns: the service starts',
    async () => {
      const db = await freshDb('sqlite');
      const svc = await startCli({ dbUri: db.uri, extraConfig: { no_such_key: 1, rest_api: { no_such_option: true } } });
      expect(svc.errors()).toContain('unknown configuration key "no_such_key"');
      expect(svc.errors()).toContain('unknown configuration key "rest_api.no_such_option"');
      expect(svc.errors()).toContain(svc.configFile);
      expect((await request(svc.url, 'GET', '/0.1/status')).status).toBe(200);
      expect((await svc.stop()).code).toBe(0);
    },
    PROCESS_TEST_TIMEOUT,
  );

  it('config show prints the effective YAML with the database password masked', async () => {
    const file = writeConfigFile(fileConfig({ db_uri: 'postgresql://u:secret@127.0.0.1/x' }));
    const res = await runCli(['-c', file, 'config', 'show'], {
      env: { XIVO_AUTH_REST_API__PORT: '9999', XIVO_AUTH_AMQP__URI: 'amqp://guest:secret@broker:5672/' },
    });
    expect(res.code, res.stderr).toBe(0);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the whole configuration, as printed
    const shown = YAML.parse(res.stdout) as Record<string, any>;
    expect(shown.db_uri).toBe('postgresql://u:********@127.0.0.1/x');
    expect(shown.amqp.uri).toBe('amqp://guest:********@broker:5672/');
    expect(shown.rest_api.port).toBe(9999);
    expect(shown.password_hashing.memory_kib).toBe(1024);
    expect(res.stdout).not.toContain('secret');
    expect(res.stderr).not.toContain('secret');
  });

  it(
    'bootstrap twice: a generated password once, then nothing changed; the password logs in',
    async () => {
      const db = await freshDb('sqlite');
      const file = writeConfigFile(fileConfig({ db_uri: db.uri }));
      const first = await runCli(['-c', file, 'bootstrap']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain('created administrator "admin"');
      const password = /^password: (\S+)$/m.exec(first.stdout)?.[1];
      expect(password, first.stdout).toBeDefined();
      expect(password!.length).toBeGreaterThanOrEqual(16);
      expect(first.stdout.split(password!).length - 1, 'the password is printed exactly once').toBe(1);

      const second = await runCli(['-c', file, 'bootstrap']);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toContain('nothing changed');
      expect(second.stdout).not.toMatch(/^password:/m);

      const svc = await startCli({ dbUri: db.uri, bootstrap: false });
      const issued = await login(svc, 'admin', password!);
      expect(issued.acl).toContain('#');
      expect((await svc.stop()).code).toBe(0);
    },
    PROCESS_TEST_TIMEOUT,
  );

  it('migrate applies the schema and exits 0', async () => {
    const db = await freshDb('sqlite');
    const file = writeConfigFile(fileConfig({ db_uri: db.uri }));
    const res = await runCli(['-c', file, 'migrate']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('migrations applied to sqlite:');
    expect(await db.count("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1", 'tokens')).toBe(1);
  });

  it('-u drops privileges to that user after binding, and still serves', async () => {
    const { readFileSync } = await import('node:fs');
    const nobody = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[0] === 'nobody');
    expect(nobody, 'the test needs the user "nobody"').toBeDefined();
    expect(process.getuid?.(), 'the test runs as root, as CI does').toBe(0);
    const db = await freshDb('sqlite');
    const svc = await startCli({ dbUri: db.uri, args: ['-u', 'nobody'] });
    try {
      const status = readFileSync(`/proc/${svc.pid}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)\s+(\d+)/m.exec(status)?.slice(1)).toEqual([nobody![2], nobody![2]]);
      expect(/^Gid:\s+(\d+)/m.exec(status)?.[1]).toBe(nobody![3]);
      expect(/^Groups:\s*(.*)$/m.exec(status)?.[1].split(/\s+/).filter(Boolean)).not.toContain('0');
      const res = await fetch(`${svc.url}/0.1/token`, {
        method: 'POST',
        headers: { authorization: basicAuth('admin', svc.admin.password), 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(200);
    } finally {
      await svc.stop();
    }
  });
});
