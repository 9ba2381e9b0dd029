// Issue 19, item 2: the refresh-token lifecycle, over HTTP on both engines,
// with the fake clock and the real RabbitMQ:
//  - the defaults keep wazo-auth's behaviour apart from expiry: no rotation
//    (a refresh token is reusable, the answer carries no refresh_token), a
//    90-day idle timeout that each use starts again, a 365-day absolute
//    lifetime that use does not extend; the reaper purges expired refresh
//    tokens with their auth_refresh_token_deleted events;
//  - with `rotation: true`, each refresh-token login answers a new
//    refresh_token and retires the one presented; presenting a retired one
//    (past reuse_grace_seconds) revokes the whole family: refresh token,
//    access tokens, sessions, with their events and an audit record; within
//    the grace it is refused without revoking anything; of two concurrent
//    refreshes with one token exactly one wins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../src/clock.js';
import { hashToken } from '../../src/tokens/material.js';
import { AMQP_URI, type BusConsumer, startBusConsumer } from '../helpers/bus.js';
import { iamApi } from '../helpers/iam.js';
import { basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { until } from '../helpers/until.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const DAY_MS = 86_400_000;

interface Issued {
  token: string;
  session_uuid: string;
  refresh_token?: string;
  metadata: { uuid: string; tenant_uuid: string };
}

describe.each(ENGINES)('refresh-token lifecycle on %s', (engine) => {
  let bus: BusConsumer;

  beforeAll(async () => {
    bus = await startBusConsumer();
  });
  afterAll(async () => {
    await bus?.close();
  });

  /** A service (its own database, the file's bus), and request helpers bound to it. */
  class Harness {
    t!: TestService;
    readonly api = iamApi(() => this.t);

    constructor(private readonly refreshTokens: Partial<TestService['config']['refresh_tokens']>) {}

    get clock(): FakeClock {
      return this.t.clock as FakeClock;
    }

    async start(): Promise<void> {
      this.t = await startTestService(engine, {
        amqp: {
          enabled: true,
          uri: AMQP_URI,
          exchange_name: bus.exchange,
          poll_interval_ms: 50,
          retry_min_ms: 50,
          retry_max_ms: 200,
        },
        default_policies: { own_tokens: { acl: ['auth.users.me.tokens.#'] } },
        default_user_policy: 'own_tokens',
        refresh_tokens: {
          idle_timeout_seconds: 7_776_000,
          absolute_lifetime_seconds: 31_536_000,
          rotation: false,
          reuse_grace_seconds: 10,
          ...this.refreshTokens,
        },
      });
      await this.t.service.listen(); // the outbox relay
    }

    /** A fresh administrator token (the clock moves past token lifetimes). */
    admin(): Promise<string> {
      return this.api.adminToken();
    }

    async user(username: string): Promise<string> {
      return this.api.createUser(await this.admin(), username, `${username}-password`);
    }

    async offline(username: string, clientId: string): Promise<Issued> {
      const res = await this.api.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { ...JSON_HEADERS, authorization: basic(username, `${username}-password`) },
        payload: { access_type: 'offline', client_id: clientId },
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data as Issued;
    }

    refresh(refreshToken: string, clientId: string) {
      return this.api.inject({
        method: 'POST',
        url: '/0.1/token',
        headers: JSON_HEADERS,
        payload: { refresh_token: refreshToken, client_id: clientId },
      });
    }

    async refreshed(refreshToken: string, clientId: string): Promise<Issued> {
      const res = await this.refresh(refreshToken, clientId);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data as Issued;
    }

    async live(token: string): Promise<number> {
      return (await this.api.inject({ method: 'HEAD', url: `/0.1/token/${token}` })).statusCode;
    }

    async clientIds(userUuid: string): Promise<string[]> {
      const res = await this.api.as(await this.admin(), 'GET', `/0.1/users/${userUuid}/tokens`);
      expect(res.statusCode, res.body).toBe(200);
      return (res.json().items as { client_id: string }[]).map((i) => i.client_id).sort();
    }

    advance(ms: number): void {
      this.clock.advance(ms);
    }
  }
  const harness = (refreshTokens: Partial<TestService['config']['refresh_tokens']>) => new Harness(refreshTokens);

  const named = (name: string, pred: (data: Record<string, unknown>) => boolean) =>
    bus.messages.filter((m) => m.headers.name === name && pred(m.body.data as Record<string, unknown>));

  describe('defaults: no rotation (wazo-auth), 90 days idle, 365 days in all', () => {
    const h = harness({});
    beforeAll(async () => {
      await h.start();
    });
    afterAll(async () => {
      await h.t?.close();
    });

    it('a refresh-token login answers no refresh_token; the same refresh token serves again', async () => {
      await h.user('wazo-like');
      const first = await h.offline('wazo-like', 'softphone');
      expect(first.refresh_token).toEqual(expect.any(String));
      const a = await h.refreshed(first.refresh_token!, 'softphone');
      expect(a).not.toHaveProperty('refresh_token');
      const b = await h.refreshed(first.refresh_token!, 'softphone');
      expect(b.token).not.toBe(a.token);
      expect(await h.live(a.token)).toBe(204);
      expect(await h.live(b.token)).toBe(204);
    });

    it('idle timeout: refused once unused for 90 days; each use within the window starts it again', async () => {
      await h.user('idler');
      const { refresh_token: rt } = await h.offline('idler', 'app');
      h.advance(89 * DAY_MS);
      await h.refreshed(rt!, 'app');
      h.advance(89 * DAY_MS); // 178 days after the login, 89 after the last use
      await h.refreshed(rt!, 'app');
      h.advance(90 * DAY_MS + 1000);
      expect((await h.refresh(rt!, 'app')).statusCode).toBe(401);
    });

    it('absolute lifetime: refused 365 days after the login, however regularly used', async () => {
      await h.user('regular');
      const { refresh_token: rt } = await h.offline('regular', 'app');
      for (let day = 80; day <= 320; day += 80) {
        h.advance(80 * DAY_MS);
        await h.refreshed(rt!, 'app');
      }
      h.advance(46 * DAY_MS); // day 366, last used 46 days ago
      const res = await h.refresh(rt!, 'app');
      expect(res.statusCode).toBe(401);
      expect(res.json().reason).toEqual(['Authentication Failed']);
    });

    it('the reaper purges expired refresh tokens with their events, and only those', async () => {
      const gone = await h.user('reaped');
      const kept = await h.user('kept');
      await h.offline('reaped', 'reaped-app');
      h.advance(60 * DAY_MS);
      const keptLogin = await h.offline('kept', 'kept-app');
      h.advance(31 * DAY_MS); // reaped: 91 days idle; kept: 31
      expect(await h.clientIds(gone)).toEqual(['reaped-app']);
      await h.t.service.reaper.runOnce();
      expect(await h.clientIds(gone)).toEqual([]);
      expect(await h.clientIds(kept)).toEqual(['kept-app']);
      await until(
        () => named('auth_refresh_token_deleted', (d) => d.user_uuid === gone).length === 1,
        'auth_refresh_token_deleted of the expired refresh token',
      );
      expect(named('auth_refresh_token_deleted', (d) => d.user_uuid === gone)[0].body.data).toEqual({
        client_id: 'reaped-app',
        mobile: false,
        user_uuid: gone,
        tenant_uuid: keptLogin.metadata.tenant_uuid,
      });
      expect(named('auth_refresh_token_deleted', (d) => d.user_uuid === kept)).toEqual([]);
      await h.refreshed(keptLogin.refresh_token!, 'kept-app');
    });
  });

  describe('rotation', () => {
    const h = harness({ rotation: true, idle_timeout_seconds: 3600, absolute_lifetime_seconds: 7200, reuse_grace_seconds: 10 });
    beforeAll(async () => {
      await h.start();
    });
    afterAll(async () => {
      await h.t?.close();
    });

    it('each refresh-token login answers a new refresh token; the one presented is refused afterwards', async () => {
      await h.user('rotor');
      const login = await h.offline('rotor', 'app');
      const first = await h.refreshed(login.refresh_token!, 'app');
      expect(first.refresh_token).toEqual(expect.any(String));
      expect(first.refresh_token).not.toBe(login.refresh_token);
      const second = await h.refreshed(first.refresh_token!, 'app');
      expect(second.refresh_token).not.toBe(first.refresh_token);
      // Within the grace: refused, nothing revoked.
      expect((await h.refresh(first.refresh_token!, 'app')).statusCode).toBe(401);
      expect(await h.live(second.token)).toBe(204);
      await h.refreshed(second.refresh_token!, 'app');
    });

    it('reusing a retired refresh token revokes its family: refresh token, access tokens and sessions, with events and an audit record', async () => {
      const victim = await h.user('victim');
      const other = await h.offline('victim', 'desktop'); // another family of the same user
      const login = await h.offline('victim', 'phone');
      const first = await h.refreshed(login.refresh_token!, 'phone');
      const second = await h.refreshed(first.refresh_token!, 'phone');
      const family = [login, first, second];
      for (const f of family) expect(await h.live(f.token)).toBe(204);
      h.advance(11_000); // past the grace

      // The first refresh token again (stolen, or replayed).
      const reuse = await h.refresh(login.refresh_token!, 'phone');
      expect(reuse.statusCode).toBe(401);
      expect(reuse.json().reason).toEqual(['Authentication Failed']);
      for (const f of family) expect(await h.live(f.token)).toBe(404);
      // The family's live refresh token too.
      expect((await h.refresh(second.refresh_token!, 'phone')).statusCode).toBe(401);
      expect(await h.clientIds(victim)).toEqual(['desktop']);
      expect(await h.live(other.token)).toBe(204);
      await h.refreshed(other.refresh_token!, 'desktop');

      await until(
        () => named('auth_refresh_token_deleted', (d) => d.user_uuid === victim).length === 1,
        'auth_refresh_token_deleted of the family',
      );
      expect(named('auth_refresh_token_deleted', (d) => d.user_uuid === victim)[0].body.data).toMatchObject({
        client_id: 'phone',
        user_uuid: victim,
      });
      const sessions = new Set(family.map((f) => f.session_uuid));
      await until(
        () => named('auth_session_deleted', (d) => sessions.has(d.uuid as string)).length === sessions.size,
        'auth_session_deleted of each session of the family',
      );
      await until(
        () =>
          named('auth_audit_recorded', (d) => d.action === 'users.refresh_tokens.revoke' && d.target_id === victim).length === 1,
        'auth_audit_recorded of the reuse',
      );

      await h.t.service.security.audit.flush();
      const audit = (await h.api.as(await h.admin(), 'GET', '/0.1/audit?limit=100')).json().items as Record<string, unknown>[];
      const record = audit.find((r) => r.action === 'users.refresh_tokens.revoke' && r.target_id === victim);
      expect(record).toMatchObject({
        outcome: 'success',
        user_uuid: victim,
        tenant_uuid: login.metadata.tenant_uuid,
        target_type: 'users',
        status_code: 401,
        details: {
          reason: 'refresh_token_reuse',
          client_ids: ['phone'],
          sessions_revoked: 3,
          tokens_revoked: 3,
          retired_at: expect.any(String),
        },
      });
      // The attempt itself is audited as every failed login.
      expect(
        audit.some(
          (r) => r.action === 'login' && r.outcome === 'failure' && (r.details as { method: string }).method === 'refresh_token',
        ),
      ).toBe(true);

      // A second reuse finds nothing left to revoke: a plain 401.
      expect((await h.refresh(first.refresh_token!, 'phone')).statusCode).toBe(401);
      // The user logs in again: a new family.
      const again = await h.offline('victim', 'phone');
      await h.refreshed(again.refresh_token!, 'phone');
    });

    it('of two concurrent refreshes with one refresh token exactly one wins; the family survives', async () => {
      await h.user('racer');
      const login = await h.offline('racer', 'app');
      const answers = await Promise.all([h.refresh(login.refresh_token!, 'app'), h.refresh(login.refresh_token!, 'app')]);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 401]);
      const winner = answers.find((r) => r.statusCode === 200)!.json().data as Issued;
      expect(await h.live(winner.token)).toBe(204);
      expect(await h.live(login.token)).toBe(204);
      await h.refreshed(winner.refresh_token!, 'app');
    });

    it('rotation extends the idle window, never the absolute lifetime', async () => {
      await h.user('rotating-long');
      const login = await h.offline('rotating-long', 'app');
      h.advance(3000_000);
      const first = await h.refreshed(login.refresh_token!, 'app');
      h.advance(3000_000); // 6000 s after the login, 3000 s after the last use
      const second = await h.refreshed(first.refresh_token!, 'app');
      h.advance(1300_000); // 7300 s after the login
      expect((await h.refresh(second.refresh_token!, 'app')).statusCode).toBe(401);
    });

    it('an idle refresh token is refused, and its family reaped with its retired hashes', async () => {
      const idle = await h.user('rotated-idle');
      const login = await h.offline('rotated-idle', 'app');
      const first = await h.refreshed(login.refresh_token!, 'app');
      h.advance(3601_000);
      expect((await h.refresh(first.refresh_token!, 'app')).statusCode).toBe(401);
      await h.t.service.reaper.runOnce();
      expect(await h.clientIds(idle)).toEqual([]);
      await until(
        () => named('auth_refresh_token_deleted', (d) => d.user_uuid === idle).length === 1,
        'auth_refresh_token_deleted of the idle family',
      );
      // Its retired hash went with it: presenting it is only unknown.
      expect(await h.t.service.store.findRetiredRefreshToken(hashToken(login.refresh_token!))).toBeNull();
    });
  });

  describe('rotation with no grace: every reuse revokes', () => {
    const h = harness({ rotation: true, reuse_grace_seconds: 0 });
    beforeAll(async () => {
      await h.start();
    });
    afterAll(async () => {
      await h.t?.close();
    });

    it("the loser of two concurrent refreshes revokes the family, the winner's new refresh token included", async () => {
      await h.user('strict');
      const login = await h.offline('strict', 'app');
      const answers = await Promise.all([h.refresh(login.refresh_token!, 'app'), h.refresh(login.refresh_token!, 'app')]);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 401]);
      const winner = answers.find((r) => r.statusCode === 200)!.json().data as Issued;
      expect(await h.live(winner.token)).toBe(404);
      expect(await h.live(login.token)).toBe(404);
      expect((await h.refresh(winner.refresh_token!, 'app')).statusCode).toBe(401);
    });
  });
});
