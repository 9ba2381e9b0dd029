// POST /users/password/reset?user_uuid= with an administrator's own token
// (not the emailed reset token): setting someone's password lets the caller
// log in as them, so the user must be in the caller's tenant subtree (404
// otherwise, as every user route) and the caller must hold every access the
// user's tokens get (401 naming the first one it lacks: the no-escalation
// rule of docs/isolation.md). Both engines, over HTTP.
import { beforeAll, describe, expect, it } from 'vitest';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

const PRIVILEGED = 'calld.admin.read';

describe.each(ENGINES)('password reset by an administrator on %s', (engine) => {
  let t: TestService;
  let master: string;
  const api = iamApi(() => t);
  let seq = 0;

  const reset = (token: string, uuid: string, password: string) =>
    api.as(token, 'POST', `/0.1/users/password/reset?user_uuid=${uuid}`, { password });

  /** A tenant with an administrator holding auth.users.# (and a policy of its own), a privileged user and a plain one. */
  async function tenantScene() {
    const n = ++seq;
    const tenant = (
      await api.as(master, 'POST', '/0.1/tenants', { name: `reset ${n}`, domain_names: [`reset${n}.example.test`] })
    ).json().uuid as string;
    const h = { 'wazo-tenant': tenant };
    const user = async (username: string) => {
      const res = await api.as(master, 'POST', '/0.1/users', { username, password: `${username}-password` }, h);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().uuid as string;
    };
    const link = async (uuid: string, acl: string[]) => {
      const policy = (await api.as(master, 'POST', '/0.1/policies', { name: `p ${uuid}`, acl }, h)).json().uuid as string;
      expect((await api.as(master, 'PUT', `/0.1/users/${uuid}/policies/${policy}`, undefined, h)).statusCode).toBe(204);
    };
    const adminUuid = await user(`reset-admin-${n}`);
    await link(adminUuid, ['auth.users.#']);
    const boss = await user(`reset-boss-${n}`);
    await link(boss, [PRIVILEGED]);
    const plain = await user(`reset-plain-${n}`);
    const admin = await api.login(`reset-admin-${n}`, `reset-admin-${n}-password`);
    return { n, tenant, admin, boss, plain };
  }

  const loginStatus = async (username: string, password: string) =>
    (
      await t.service.app.inject({
        method: 'POST',
        url: '/0.1/token',
        payload: { expiration: 60 },
        headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
      })
    ).statusCode;

  beforeAll(async () => {
    t = await startTestService(engine);
    master = await api.adminToken();
  });

  it('sets the password of a user the administrator covers, in its tenant', async () => {
    const s = await tenantScene();
    const res = await reset(s.admin, s.plain, 'plain-new-password');
    expect(res.statusCode, res.body).toBe(204);
    expect(await loginStatus(`reset-plain-${s.n}`, 'plain-new-password')).toBe(200);
  });

  it('refuses a user holding an access the administrator lacks (401), password unchanged', async () => {
    const s = await tenantScene();
    const res = await reset(s.admin, s.boss, 'boss-new-password');
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json().details.required_access).toBe(PRIVILEGED);
    expect(await loginStatus(`reset-boss-${s.n}`, 'boss-new-password')).toBe(401);
    expect(await loginStatus(`reset-boss-${s.n}`, `reset-boss-${s.n}-password`)).toBe(200);
    // The master administrator covers it.
    expect((await reset(master, s.boss, 'boss-new-password')).statusCode).toBe(204);
    expect(await loginStatus(`reset-boss-${s.n}`, 'boss-new-password')).toBe(200);
  });

  it('refuses a user of another tenant (404) and the master administrator (404), passwords unchanged', async () => {
    const a = await tenantScene();
    const b = await tenantScene();
    const foreign = await reset(a.admin, b.plain, 'foreign-new-password');
    expect(foreign.statusCode, foreign.body).toBe(404);
    expect(await loginStatus(`reset-plain-${b.n}`, `reset-plain-${b.n}-password`)).toBe(200);
    const adminUuid = (await api.as(master, 'GET', '/0.1/token/' + master)).json().data.metadata.uuid as string;
    const top = await reset(a.admin, adminUuid, 'taken-over-password');
    expect(top.statusCode, top.body).toBe(404);
    expect(await loginStatus('admin', 'taken-over-password')).toBe(401);
  });
});
