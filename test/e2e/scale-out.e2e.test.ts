// Three real instances (the CLI, as operators run it) over one PostgreSQL
// database, behind a real nginx load balancer configured with the snippet of
// the README (docs/deployment/nginx-load-balancer.conf), publishing to the
// real RabbitMQ: tokens work on every instance, revocations reach every
// instance, one instance killed with SIGKILL mid-load leaves the others
// serving its tokens, and no event is lost (the survivors relay what the dead
// one committed). Issue 19, item 5(a): the kill lands in the middle of a
// login and of a revocation on the killed instance (their transactions held
// open at a lock), and afterwards the database holds no half-written login
// (a session without its token, a token without its session), and every
// revocation the database committed, answered or not, is seen by every
// survivor, whose caches held the tokens.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMQP_URI, type BusConsumer, startBusConsumer } from '../helpers/bus.js';
import { basicAuth, type CliService, killAllClis, startCli } from '../helpers/cli.js';
import { type Nginx, request, startNginx } from '../helpers/nginx.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';
import { until } from '../helpers/until.js';

const ADMIN_PASSWORD = 'scale-out-admin-password';
const SNIPPET = path.join(import.meta.dirname, '../../docs/deployment/nginx-load-balancer.conf');

describe('three instances behind nginx over one PostgreSQL', () => {
  let db: TestDatabase;
  let bus: BusConsumer;
  let a: CliService;
  let b: CliService;
  let c: CliService;
  let lb: Nginx;

  const portOf = (s: CliService) => s.port;
  const login = async (port: number) => {
    const res = await request(
      port,
      'POST',
      '/0.1/token',
      { authorization: basicAuth('admin', ADMIN_PASSWORD), 'content-type': 'application/json' },
      '{}',
    );
    return res.status === 200 ? (JSON.parse(res.body).data as { token: string; session_uuid: string }) : null;
  };
  const check = async (port: number, token: string) => (await request(port, 'HEAD', `/0.1/token/${token}`)).status;

  beforeAll(async () => {
    db = await createTestDatabase();
    bus = await startBusConsumer();
    const extraConfig = {
      amqp: {
        enabled: true,
        uri: AMQP_URI,
        exchange_name: bus.exchange,
        poll_interval_ms: 50,
        retry_min_ms: 50,
        retry_max_ms: 500,
      },
      token_cleanup_interval: 1,
    };
    // One after the other: the first migrates and bootstraps, the second finds it done.
    a = await startCli({ dbUri: db.uri, adminPassword: ADMIN_PASSWORD, extraConfig });
    [b, c] = await Promise.all([
      startCli({ dbUri: db.uri, adminPassword: ADMIN_PASSWORD, extraConfig }),
      startCli({ dbUri: db.uri, adminPassword: ADMIN_PASSWORD, extraConfig }),
    ]);
    lb = await startNginx(
      (port) => `
  upstream xivo_auth_pool {
    server 127.0.0.1:${portOf(a)} max_fails=1 fail_timeout=30s;
    server 127.0.0.1:${portOf(b)} max_fails=1 fail_timeout=30s;
    server 127.0.0.1:${portOf(c)} max_fails=1 fail_timeout=30s;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    include ${SNIPPET};
  }`,
    );
  });

  it('the README shows the very snippet under test', () => {
    const readme = readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readme).toContain(readFileSync(SNIPPET, 'utf8'));
  });

  afterAll(async () => {
    await lb?.stop();
    await killAllClis();
    await bus?.close();
    await db?.drop();
  });

  it('a token issued through the balancer is valid on each instance at once, and revoked on each at once', async () => {
    const issued = [];
    for (let i = 0; i < 6; i++) {
      const data = await login(lb.port);
      expect(data).not.toBeNull();
      issued.push(data!);
    }
    for (const { token } of issued) {
      for (const instance of [a, b, c]) expect(await check(portOf(instance), token)).toBe(204);
    }
    // Warm both caches, then revoke through the balancer (either instance).
    for (const { token } of issued.slice(0, 3)) {
      expect((await request(lb.port, 'DELETE', `/0.1/token/${token}`)).status).toBe(200);
    }
    for (const { token } of issued.slice(0, 3)) {
      await until(
        async () =>
          (await check(portOf(a), token)) === 404 &&
          (await check(portOf(b), token)) === 404 &&
          (await check(portOf(c), token)) === 404,
        'revocation on every instance',
        2000,
      );
    }
    for (const { token } of issued.slice(3)) expect(await check(lb.port, token)).toBe(204);
  });

  it('SIGKILL of one instance mid-load: the others keep serving, its tokens stay valid, no event is lost', async () => {
    const issued: { token: string; session_uuid: string }[] = [];
    const revoked: { token: string; session_uuid: string }[] = [];
    /** Every token obtained, whatever became of its revocation (answered, failed, in flight at the kill). */
    const obtained: string[] = [];
    const failures: number[] = [];
    let killedAt = Number.POSITIVE_INFINITY;
    let stop = false;
    const sql = new pg.Client({ connectionString: db.uri });
    sql.on('error', () => undefined);
    await sql.connect();
    let holder: pg.Client | null = null;
    try {
      // Four clients logging in, checking and revoking through the balancer,
      // continuously; every token is checked on both survivors-to-be first,
      // so that their caches hold it when it is revoked.
      const client = async () => {
        for (let round = 0; !stop; round++) {
          const data = await login(lb.port).catch(() => null);
          if (data === null) {
            failures.push(Date.now());
            continue;
          }
          obtained.push(data.token);
          const status = await check(lb.port, data.token).catch(() => 0);
          if (status !== 204) failures.push(Date.now());
          for (const survivor of [b, c]) {
            if ((await check(portOf(survivor), data.token).catch(() => 0)) !== 204) failures.push(Date.now());
          }
          if (round % 4 === 3) {
            const del = await request(lb.port, 'DELETE', `/0.1/token/${data.token}`).catch(() => null);
            if (del?.status === 200) revoked.push(data);
            else failures.push(Date.now());
          } else {
            issued.push(data);
          }
        }
      };

      // A user whose login and revocation on A will be caught mid-transaction.
      const adminToken = (await login(portOf(a)))!.token;
      const created = await request(
        portOf(a),
        'POST',
        '/0.1/users',
        { 'x-auth-token': adminToken, 'content-type': 'application/json' },
        JSON.stringify({ username: 'victim', password: 'victim-password' }),
      );
      expect(created.status).toBe(200);
      const victimLogin = () =>
        request(
          portOf(a),
          'POST',
          '/0.1/token',
          { authorization: basicAuth('victim', 'victim-password'), 'content-type': 'application/json' },
          '{}',
        );
      const marksBefore = new Set(
        (await sql.query<{ key: string }>("select key from login_throttle where key like 't:%'")).rows.map((r) => r.key),
      );
      const first = await victimLogin();
      expect(first.status).toBe(200);
      const victim = JSON.parse(first.body).data as { token: string; session_uuid: string };
      obtained.push(victim.token);
      // The throttle's mark of (victim, this address): written last in each of its logins' transactions.
      const marks = (await sql.query<{ key: string }>("select key from login_throttle where key like 't:%'")).rows
        .map((r) => r.key)
        .filter((k) => !marksBefore.has(k));
      expect(marks).toHaveLength(1);
      for (const survivor of [b, c]) expect(await check(portOf(survivor), victim.token)).toBe(204);

      const clients = Array.from({ length: 4 }, client);
      await until(() => issued.length >= 20, 'load under way', 15_000);
      const beforeKill = issued.length;

      // Hold the rows the victim's next login and revocation will write: on
      // A, each transaction then waits with its first writes done (the
      // login: its session and token inserted; the revocation: nothing yet).
      holder = new pg.Client({ connectionString: db.uri });
      holder.on('error', () => undefined);
      await holder.connect();
      const holderPid = (await holder.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
      await holder.query('begin');
      await holder.query('select 1 from login_throttle where key = $1 for update', [marks[0]]);
      await holder.query('select 1 from tokens where hash = $1 for update', [
        createHash('sha256').update(victim.token).digest('hex'),
      ]);
      const inFlight = [
        victimLogin().catch(() => null),
        request(portOf(a), 'DELETE', `/0.1/token/${victim.token}`).catch(() => null),
      ];
      // Both wait for the holder (and nothing else does: no one else writes those rows).
      const blocked = async () =>
        (
          await sql.query<{ pid: number }>('select pid from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [holderPid])
        ).rows.map((r) => r.pid);
      await until(async () => (await blocked()).length === 2, 'the login and the revocation waiting mid-transaction', 2500);
      // The login's transaction has written its session and its token (uncommitted): a half-written login, were it to survive.
      const written = await sql.query<{ relation: string }>(
        `select distinct l.relation::regclass::text as relation from pg_locks l
        where l.pid = any($1) and l.granted and l.mode = 'RowExclusiveLock'
          and l.relation in ('sessions'::regclass, 'tokens'::regclass)`,
        [await blocked()],
      );
      expect(written.rows.map((r) => r.relation).sort()).toEqual(['sessions', 'tokens']);

      killedAt = Date.now();
      const exit = await a.stop('SIGKILL');
      expect(exit.signal).toBe('SIGKILL');
      // Their client is gone: released, they cannot commit.
      await holder.query('rollback');
      await holder.end();
      holder = null;
      for (const res of await Promise.all(inFlight)) expect(res).toBeNull();

      await until(() => issued.length >= beforeKill + 40, 'load after the kill', 15_000);
      stop = true;
      await Promise.all(clients);

      // No login half-written: every session has its token, every token its session.
      const orphans = await sql.query<{ sessions: string; tokens: string }>(`select
        (select count(*) from sessions s where not exists (select 1 from tokens t where t.session_uuid = s.uuid)) as sessions,
        (select count(*) from tokens t where not exists (select 1 from sessions s where s.uuid = t.session_uuid)) as tokens`);
      expect(orphans.rows[0]).toEqual({ sessions: '0', tokens: '0' });
      // The victim's login caught at the kill left nothing; its revocation did not happen.
      const victimSessions = await sql.query<{ uuid: string }>(
        "select s.uuid from sessions s join users u on u.uuid = s.user_uuid where u.username = 'victim'",
      );
      expect(victimSessions.rows.map((r) => r.uuid)).toEqual([victim.session_uuid]);
      // Every token, revoked or not, answers on each survivor as the database
      // says (a revocation committed whose answer was lost included), though
      // both caches held it.
      const live = new Set((await sql.query<{ hash: string }>('select hash from tokens')).rows.map((r) => r.hash));
      let gone = 0;
      for (const token of obtained) {
        const expected = live.has(createHash('sha256').update(token).digest('hex')) ? 204 : 404;
        if (expected === 404) gone += 1;
        for (const survivor of [b, c])
          expect(await check(portOf(survivor), token), `${token} on ${survivor.port}`).toBe(expected);
      }
      expect(gone).toBeGreaterThanOrEqual(revoked.length);
      expect(await check(portOf(b), victim.token)).toBe(204);
    } finally {
      stop = true;
      await holder?.end().catch(() => undefined);
      await sql.end();
    }

    // At most the requests in flight at the kill failed; none after it settled.
    expect(failures.length).toBeLessThanOrEqual(4);
    expect(failures.filter((t) => t > killedAt + 1000)).toEqual([]);
    // Every token issued, by any instance, is valid on the survivors; every revoked one is not.
    for (const { token } of issued) {
      expect(await check(portOf(b), token)).toBe(204);
      expect(await check(portOf(c), token)).toBe(204);
    }
    expect(revoked.length).toBeGreaterThan(0);
    for (const { token } of revoked) expect(await check(portOf(c), token)).toBe(404);
    // Every session's creation reaches the bus, including those the killed
    // instance committed but had not published: the survivor relays them.
    const expected = [...issued, ...revoked]
      .map((d) => `auth.sessions.${d.session_uuid}.created`)
      .concat(revoked.map((d) => `auth.sessions.${d.session_uuid}.deleted`));
    await until(() => expected.every((k) => bus.messages.some((m) => m.routingKey === k)), 'every session event', 15_000);
    const status = JSON.parse((await request(portOf(b), 'GET', '/0.1/status')).body);
    expect(status.store.status).toBe('ok');
    expect(status.bus.status).toBe('ok');
  });
});
