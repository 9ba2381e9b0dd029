// The audit trail on both engines: a record for each kind of event (logins,
// throttling, revocation, password change, administrative changes), GET
// /0.1/audit (access, tenant scope, recurse, pagination), the log line, the
// onRecord hook, and the retention purge.
import { Writable } from 'node:stream';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { AuditRecorder } from '../../src/security/audit.js';
import type { AuditRecord } from '../../src/store/types.js';
import { iamApi } from '../helpers/iam.js';
import { ADMIN, ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { login, securityWith } from './helpers.js';

interface AuditItem {
  action: string;
  outcome: string;
  tenant_uuid: string | null;
  user_uuid: string | null;
  login: string | null;
  remote_addr: string | null;
  target_type: string | null;
  target_id: string | null;
  status_code: number | null;
  details: Record<string, unknown>;
  timestamp: string;
}

for (const engine of ENGINES) {
  describe(`audit trail (${engine})`, () => {
    let t: TestService;
    let clock: FakeClock;
    let admin: string;
    const api = iamApi(() => t);
    const published: AuditRecord[] = [];

    const audit = async (token: string, query = '', headers: Record<string, string> = {}) => {
      await t.service.security.audit.flush();
      return api.as(token, 'GET', `/0.1/audit${query}`, undefined, headers);
    };
    const items = async (query = '?limit=1000') => (await audit(admin, query)).json().items as AuditItem[];

    beforeAll(async () => {
      clock = new FakeClock(Date.UTC(2026, 5, 1));
      t = await startTestService(engine, { security: securityWith({ rate_limits: { enabled: false } }) }, clock);
      t.service.security.audit.onRecord = (r) => published.push(r);
      admin = await api.adminToken();
    });

    it('records login success, failure and throttling, never the password', async () => {
      await api.createUser(admin, 'auditee', 'auditee-password');
      expect((await login(t.service, 'auditee', 'auditee-password', '198.51.100.5')).statusCode).toBe(200);
      for (let i = 0; i < 6; i++) await login(t.service, 'auditee', 'secret-guess-xyz', '198.51.100.6');
      await login(t.service, 'nobody-at-all', 'another-guess', '198.51.100.6');
      const records = await items();
      const logins = records.filter((r) => r.action === 'login' && r.login === 'auditee');
      const success = logins.find((r) => r.outcome === 'success')!;
      expect(success).toMatchObject({ remote_addr: '198.51.100.5', status_code: 200, target_type: 'sessions' });
      expect(success.user_uuid).not.toBeNull();
      expect(success.tenant_uuid).not.toBeNull();
      expect(logins.filter((r) => r.outcome === 'failure')).toHaveLength(5);
      const throttled = logins.find((r) => r.outcome === 'throttled')!;
      expect(throttled).toMatchObject({ remote_addr: '198.51.100.6', status_code: 429, details: { scope: 'address' } });
      // Unknown users: attached to no tenant, still visible to the top tenant.
      expect(records.find((r) => r.login === 'nobody-at-all')).toMatchObject({ outcome: 'failure', tenant_uuid: null });
      expect(JSON.stringify(records)).not.toContain('secret-guess-xyz');
      expect(JSON.stringify(records)).not.toContain('auditee-password');
      expect(published.some((r) => r.action === 'login' && r.outcome === 'throttled')).toBe(true);
      // Ten more refusals in a row: audited at the 2nd, 4th and 8th only.
      for (let i = 0; i < 10; i++)
        expect((await login(t.service, 'auditee', 'secret-guess-xyz', '198.51.100.6')).statusCode).toBe(429);
      const again = (await items()).filter((r) => r.action === 'login' && r.login === 'auditee' && r.outcome === 'throttled');
      expect(again.map((r) => r.details.refused).sort((a, b) => Number(a) - Number(b))).toEqual([1, 2, 4, 8]);
    });

    it('records revocations, password changes and administrative changes, with who and the target', async () => {
      const uuid = await api.createUser(admin, 'changer', 'changer-password');
      const changerToken = await api.login('changer', 'changer-password');
      expect((await api.as(admin, 'PUT', `/0.1/users/${uuid}`, { username: 'changer', firstname: 'C' })).statusCode).toBe(200);
      expect(
        (
          await api.as(admin, 'PUT', `/0.1/users/${uuid}/password`, {
            old_password: 'changer-password',
            new_password: 'changer-new-password',
          })
        ).statusCode,
      ).toBe(204);
      const tenant = await api.as(admin, 'POST', '/0.1/tenants', { name: 'audited' });
      expect(tenant.statusCode).toBe(200);
      const group = await api.as(admin, 'POST', '/0.1/groups', { name: 'audited-group' });
      expect(group.statusCode).toBe(200);
      expect((await api.as(admin, 'PUT', `/0.1/groups/${group.json().uuid}/users/${uuid}`)).statusCode).toBe(204);
      const policy = await api.as(admin, 'POST', '/0.1/policies', { name: 'audited-policy', acl: ['auth.users.read'] });
      expect(policy.statusCode).toBe(200);
      const other = await api.login('changer', 'changer-new-password');
      const session = (await api.as(admin, 'GET', `/0.1/users/${uuid}/sessions`)).json().items[0].uuid as string;
      expect((await api.as(admin, 'DELETE', `/0.1/sessions/${session}`)).statusCode).toBe(204);
      expect((await api.inject({ method: 'DELETE', url: `/0.1/token/${other}` })).statusCode).toBe(200);
      expect((await api.as(admin, 'DELETE', `/0.1/users/${uuid}`)).statusCode).toBe(204);
      // A refused change is recorded too.
      expect((await api.as(changerToken, 'DELETE', `/0.1/users/${uuid}`)).statusCode).toBe(401);

      const records = await items();
      const adminUuid = (await api.as(admin, 'GET', `/0.1/token/${admin}`)).json().data.metadata.uuid as string;
      const find = (action: string, outcome = 'success') => records.find((r) => r.action === action && r.outcome === outcome);
      expect(find('users.update')).toMatchObject({
        user_uuid: adminUuid,
        target_type: 'users',
        target_id: uuid,
        status_code: 200,
      });
      expect(find('users.password.change')).toMatchObject({ user_uuid: adminUuid, target_id: uuid, status_code: 204 });
      expect(find('tenants.create')).toMatchObject({ user_uuid: adminUuid, target_type: 'tenants' });
      expect(find('groups.create')).toBeDefined();
      expect(find('groups.users.update')).toMatchObject({
        target_id: group.json().uuid,
        details: { params: { group_uuid: group.json().uuid, user_uuid: uuid } },
      });
      expect(find('policies.create')).toBeDefined();
      expect(find('sessions.delete')).toMatchObject({ target_id: session });
      expect(find('users.delete')).toMatchObject({ target_id: uuid });
      expect(find('users.delete', 'denied')).toMatchObject({ status_code: 401 });
      const revoke = find('token.revoke')!;
      expect(revoke).toMatchObject({ status_code: 200, target_id: null });
      expect(JSON.stringify(records)).not.toContain(other);
      expect(JSON.stringify(records)).not.toContain('changer-new-password');
    });

    it('serves GET /0.1/audit only with auth.audit.read, scoped to the tenant, with recurse and pagination', async () => {
      expect((await audit('not-a-token')).statusCode).toBe(401);
      const plain = await api.login('auditee', 'auditee-password');
      const refused = await audit(plain);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().details.required_access).toBe('auth.audit.read');

      // A sub-tenant with its own administrator.
      const sub = (await api.as(admin, 'POST', '/0.1/tenants', { name: 'sub-audit' })).json().uuid as string;
      const subAdminUuid = await api.createUser(admin, 'sub-admin', 'sub-admin-password', sub);
      const readAudit = (
        await api.as(
          admin,
          'POST',
          '/0.1/policies',
          { name: 'audit-reader', acl: ['auth.audit.read', 'auth.users.#'] },
          { 'wazo-tenant': sub },
        )
      ).json().uuid as string;
      expect(
        (await api.as(admin, 'PUT', `/0.1/users/${subAdminUuid}/policies/${readAudit}`, undefined, { 'wazo-tenant': sub }))
          .statusCode,
      ).toBe(204);
      const subAdmin = await api.login('sub-admin', 'sub-admin-password');
      await api.createUser(subAdmin, 'sub-user', 'sub-user-password');

      const subView = (await audit(subAdmin, '?limit=1000')).json();
      expect(subView.items.length).toBeGreaterThan(0);
      expect(subView.items.every((r: AuditItem) => r.tenant_uuid === sub)).toBe(true);
      expect(subView.items.some((r: AuditItem) => r.action === 'users.create')).toBe(true);
      // The top tenant: its own records only, unless recurse; unknown-user records too.
      const top = (await audit(admin, '?limit=1000')).json().items as AuditItem[];
      expect(top.some((r) => r.tenant_uuid === sub)).toBe(false);
      expect(top.some((r) => r.tenant_uuid === null)).toBe(true);
      const all = (await audit(admin, '?limit=1000&recurse=true')).json().items as AuditItem[];
      expect(all.some((r) => r.tenant_uuid === sub)).toBe(true);
      // Wazo-Tenant narrows the top administrator's view to the sub-tenant.
      const narrowed = (await audit(admin, '?limit=1000', { 'wazo-tenant': sub })).json().items as AuditItem[];
      expect(narrowed.length).toBe(subView.items.length);
      // The sub-tenant's administrator cannot look above.
      expect(
        (
          await audit(subAdmin, '', {
            'wazo-tenant': (await api.as(admin, 'GET', `/0.1/token/${admin}`)).json().data.metadata.tenant_uuid,
          })
        ).statusCode,
      ).toBe(401);

      // Pagination: newest first, limit/offset, total and filtered.
      const page1 = (await audit(admin, '?limit=2&recurse=true')).json();
      const page2 = (await audit(admin, '?limit=2&offset=2&recurse=true')).json();
      expect(page1.total).toBe(all.length);
      expect(page1.items).toHaveLength(2);
      expect(page2.items).toHaveLength(2);
      expect(page1.items[0].timestamp >= page2.items[0].timestamp).toBe(true);
      expect(new Set([...page1.items, ...page2.items].map((r: { uuid: string }) => r.uuid)).size).toBe(4);
      const searched = (await audit(admin, '?search=password.change&recurse=true')).json();
      expect(searched.filtered).toBeGreaterThan(0);
      expect(searched.items.every((r: AuditItem) => r.action.includes('password.change'))).toBe(true);
      expect((await audit(admin, '?order=nope')).statusCode).toBe(400);
      const asc = (await audit(admin, '?order=at&direction=asc&limit=1&recurse=true')).json().items[0];
      expect(asc.timestamp <= all[0].timestamp).toBe(true);
    });

    it('purges records past the retention', async () => {
      await t.service.security.audit.flush();
      const before = (await audit(admin, '?recurse=true')).json().total as number;
      expect(before).toBeGreaterThan(0);
      clock.advance(29 * 86_400_000);
      await login(t.service, ADMIN.username, ADMIN.password, '192.0.2.77');
      await t.service.security.audit.flush();
      clock.advance(2 * 86_400_000);
      await t.service.security.janitor.runOnce();
      const left = (await audit(await api.adminToken(), '?recurse=true&limit=1000')).json().items as AuditItem[];
      // Only what happened within the last 30 days is left: the login 2 days ago and the one just now.
      expect(left.length).toBeLessThan(before);
      expect(left.every((r) => Date.parse(r.timestamp) >= clock.now() - 30 * 86_400_000)).toBe(true);
      expect(left.some((r) => r.remote_addr === '192.0.2.77')).toBe(true);
    });
  });
}

describe('AuditRecorder', () => {
  it('writes one structured log line per record, bound with audit=true', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const inserted: AuditRecord[] = [];
    const store = {
      insertAuditRecord: async (r: AuditRecord) => {
        inserted.push(r);
      },
    } as never;
    const seen: AuditRecord[] = [];
    const recorder = new AuditRecorder(
      store,
      new FakeClock(0),
      pino({ level: 'info' }, stream),
      { enabled: true, retention_days: 30, purge_interval_seconds: 60 },
      { onRecord: (r) => seen.push(r) },
    );
    recorder.record({ action: 'login', outcome: 'failure', login: `bad\u0000${'x'.repeat(400)}`, remoteAddr: '192.0.2.1' });
    await recorder.flush();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ audit: true, record: { action: 'login', outcome: 'failure', remoteAddr: '192.0.2.1' } });
    expect(inserted).toHaveLength(1);
    expect(inserted[0].login).toHaveLength(256);
    expect(inserted[0].login).not.toContain('\u0000');
    expect(seen).toEqual(inserted);
    const off = new AuditRecorder(store, new FakeClock(0), pino({ level: 'info' }, stream), {
      enabled: false,
      retention_days: 30,
      purge_interval_seconds: 60,
    });
    expect(off.record({ action: 'login', outcome: 'success' })).toBeNull();
    expect(inserted).toHaveLength(1);
  });
});
