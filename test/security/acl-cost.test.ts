// Issue 16, finding 5: the cost of ACL matching is bounded by construction.
// Accesses hold at most 16 wildcards (400 where they are written; a
// configuration error in default_policies), required accesses are at most
// 512 characters like accesses (400 on HEAD/GET /token/{t}?scope= and
// scopes/check, which also takes at most 100 scopes), a token carries at most
// 1,024 accesses (a login past it: 403), token checks are rate limited per
// client address by default (429 with Retry-After), and the worst ACL those
// limits allow is checked in under 10 ms (the matcher's own cases:
// packages/acl/test/cost.test.ts; figures: docs/security.md).
import { beforeAll, describe, expect, it } from 'vitest';
import { LIMITS, worstCases } from '../../bench/lib/acl-worst-case.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/loader.js';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import {
  ACCESS_WILDCARDS_PATTERN,
  MAX_ACCESS_LENGTH,
  MAX_ACCESS_WILDCARDS,
  MAX_SCOPES_PER_CHECK,
  MAX_TOKEN_ACCESSES,
  accessWildcards,
} from '../../src/access-limits.js';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';
import { securityWith } from './helpers.js';

/** An access of `n` wildcards: `a.*.*…`. */
const starred = (n: number) => `a${'.*'.repeat(n)}`;
const JSON_HEADERS = { 'content-type': 'application/json' };

describe('ACL limits', () => {
  it('are the ones the matcher cost test and the benchmark use', () => {
    expect(LIMITS).toEqual({ entries: MAX_TOKEN_ACCESSES, length: MAX_ACCESS_LENGTH, wildcards: MAX_ACCESS_WILDCARDS });
    for (const c of worstCases()) {
      for (const access of c.acl) {
        expect(access.length, access).toBeLessThanOrEqual(MAX_ACCESS_LENGTH);
        expect(accessWildcards(access), access).toBeLessThanOrEqual(MAX_ACCESS_WILDCARDS);
      }
    }
  });

  it('count `*`, `#` and the whole segments me, my_session, edit; the configuration pattern agrees', () => {
    expect(accessWildcards('confd.users.me.lines.*.edit')).toBe(3);
    expect(accessWildcards('!me.#')).toBe(2);
    expect(accessWildcards('a.mex.xme.meme.my_sessions.**')).toBe(2);
    expect(accessWildcards('!!me')).toBe(0);
    const pattern = new RegExp(ACCESS_WILDCARDS_PATTERN, 'u');
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const tokens = ['*', '#', '.', 'me', 'my_session', 'edit', 'a', '!', 'mex', '.me', 'me.', 'update'];
    for (let i = 0; i < 20_000; i++) {
      const access = Array.from({ length: Math.floor(rnd() * 40) }, () => tokens[Math.floor(rnd() * tokens.length)]).join('');
      expect(pattern.test(access), access).toBe(accessWildcards(access) <= MAX_ACCESS_WILDCARDS);
    }
  });

  it('refuse a default_policies access with too many wildcards at load time, naming it', () => {
    const load = (yaml: string) => () =>
      loadConfig({
        argv: { configFile: '/conf/config.yml' },
        env: {},
        readFile: (file) => {
          if (file === '/conf/config.yml') return `extra_config_files: /conf/conf.d\n${yaml}`;
          throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
        },
        listDir: () => [],
      });
    const ok = load(`default_policies:\n  p:\n    acl: ["${starred(MAX_ACCESS_WILDCARDS)}"]\n`)();
    expect(ok.config.default_policies.p.acl).toEqual([starred(MAX_ACCESS_WILDCARDS)]);
    for (const bad of [
      starred(MAX_ACCESS_WILDCARDS + 1),
      `x${'.me'.repeat(MAX_ACCESS_WILDCARDS + 1)}`,
      `x.${'a'.repeat(MAX_ACCESS_LENGTH)}`,
    ]) {
      let error: unknown;
      try {
        load(`default_policies:\n  p:\n    acl: [ok.read, "${bad}"]\n`)();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.join('\n')).toMatch(
        /^default_policies\.p\.acl\[1\]: expected an access of at most 512 characters with at most 16 wildcards/m,
      );
    }
  });

  it('rate-limit token checks by default', () => {
    expect(DEFAULT_CONFIG.security.rate_limits.enabled).toBe(true);
    expect(DEFAULT_CONFIG.security.rate_limits.checks.per_second).toBeGreaterThanOrEqual(1000);
  });
});

describe.each(ENGINES)('ACL matching cost on %s', (engine) => {
  let t: TestService;
  let admin: string;
  const api = iamApi(() => t);

  /** A new user holding `acl` (in policies of 100 accesses: request bodies are bounded); returns its token. */
  async function userWith(name: string, acl: string[]): Promise<string> {
    const uuid = await api.createUser(admin, name, `${name}-password`);
    for (let i = 0; i < acl.length; i += 100) {
      const policy = await api.as(admin, 'POST', '/0.1/policies', { name: `${name} ${i}`, acl: acl.slice(i, i + 100) });
      expect(policy.statusCode, policy.body).toBe(200);
      expect((await api.as(admin, 'PUT', `/0.1/users/${uuid}/policies/${policy.json().uuid}`)).statusCode).toBe(204);
    }
    return api.login(name, `${name}-password`);
  }

  const aclOf = async (token: string) =>
    (await api.inject({ method: 'GET', url: `/0.1/token/${token}` })).json().data.acl as string[];
  /** Accesses every user's token carries before any policy of its own (groups, defaults). */
  const baseAccesses = async (name: string) => {
    await api.createUser(admin, name, `${name}-password`);
    return (await aclOf(await api.login(name, `${name}-password`))).length;
  };

  beforeAll(async () => {
    t = await startTestService(engine);
    admin = await api.adminToken();
  });

  it('refuses an access with more than 16 wildcards where accesses are written (400 naming the field)', async () => {
    const over = starred(MAX_ACCESS_WILDCARDS + 1);
    const created = await api.as(admin, 'POST', '/0.1/policies', { name: 'wild', acl: ['confd.*.read', over] });
    expect(created.statusCode).toBe(400);
    expect(created.json()).toMatchObject({ error_id: 'invalid-data', details: { 'acl.1': { constraint_id: 'max_wildcards' } } });
    expect(Object.keys(created.json().details)).toEqual(['acl.1']);
    // Substitution segments count as wildcards.
    const substitutions = await api.as(admin, 'POST', '/0.1/policies', {
      name: 'wild',
      acl: [`x${'.me'.repeat(MAX_ACCESS_WILDCARDS + 1)}`],
    });
    expect(substitutions.statusCode).toBe(400);
    expect(substitutions.json().details).toHaveProperty(['acl.0', 'constraint_id'], 'max_wildcards');

    // 16 is fine.
    const policy = await api.as(admin, 'POST', '/0.1/policies', { name: 'wild', acl: [starred(MAX_ACCESS_WILDCARDS)] });
    expect(policy.statusCode, policy.body).toBe(200);
    const uuid = policy.json().uuid as string;

    const replaced = await api.as(admin, 'PUT', `/0.1/policies/${uuid}`, { name: 'wild', acl: [over] });
    expect(replaced.statusCode).toBe(400);
    expect(replaced.json()).toMatchObject({ error_id: 'invalid-data', details: { 'acl.0': { constraint_id: 'max_wildcards' } } });

    const added = await api.as(admin, 'PUT', `/0.1/policies/${uuid}/acl/${encodeURIComponent(over)}`);
    expect(added.statusCode).toBe(400);
    expect(added.json()).toMatchObject({ error_id: 'invalid-data', details: { access: { constraint_id: 'max_wildcards' } } });

    expect((await api.as(admin, 'GET', `/0.1/policies/${uuid}`)).json().acl).toEqual([starred(MAX_ACCESS_WILDCARDS)]);
  });

  it('refuses a required access longer than 512 characters on HEAD/GET ?scope= and scopes/check (400)', async () => {
    const token = await userWith('scoped', ['confd.#']);
    const longest = `confd.${'a'.repeat(MAX_ACCESS_LENGTH - 6)}`;
    const tooLong = `${longest}a`;
    const check = (method: 'HEAD' | 'GET', scope: string) => api.inject({ method, url: `/0.1/token/${token}?scope=${scope}` });
    expect((await check('HEAD', longest)).statusCode).toBe(204);
    expect((await check('GET', longest)).statusCode).toBe(200);
    expect((await check('HEAD', tooLong)).statusCode).toBe(400);
    const get = await check('GET', tooLong);
    expect(get.statusCode).toBe(400);
    expect(get.json()).toMatchObject({ status_code: 400, reason: [expect.stringMatching(/scope/)] });

    // The same on the fast path in front of Fastify.
    const url = await t.service.listen();
    expect((await fetch(`${url}/0.1/token/${token}?scope=${longest}`, { method: 'HEAD' })).status).toBe(204);
    expect((await fetch(`${url}/0.1/token/${token}?scope=${tooLong}`, { method: 'HEAD' })).status).toBe(400);

    const scopes = (list: unknown[]) =>
      api.inject({ method: 'POST', url: `/0.1/token/${token}/scopes/check`, headers: JSON_HEADERS, payload: { scopes: list } });
    const bad = await scopes(['confd.users.read', tooLong]);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ status_code: 400 });
    const full = Array.from({ length: MAX_SCOPES_PER_CHECK }, (_, i) => (i === 0 ? longest : `confd.s${i}`));
    const answered = await scopes(full);
    expect(answered.statusCode, answered.body).toBe(200);
    expect(Object.values(answered.json().scopes)).toEqual(Array(MAX_SCOPES_PER_CHECK).fill(true));
    expect((await scopes([...full, 'confd.one.more'])).statusCode).toBe(400);
  });

  it(`refuses a login whose token would carry more than ${MAX_TOKEN_ACCESSES} accesses (403 too-many-accesses)`, async () => {
    const base = await baseAccesses('hoarder-probe');
    const uuid = await api.createUser(admin, 'hoarder', 'hoarder-password');
    const many = Array.from({ length: 1000 }, (_, i) => `svc.a${i}.read`);
    const rest = Array.from({ length: MAX_TOKEN_ACCESSES - base - 1000 + 1 }, (_, i) => `svc.b${i}.read`);
    const policies: string[] = [];
    for (const acl of [many, rest, many.slice(0, 10)]) {
      const policy = await api.as(admin, 'POST', '/0.1/policies', { name: `hoard ${policies.length}`, acl });
      expect(policy.statusCode, policy.body).toBe(200);
      policies.push(policy.json().uuid as string);
      expect((await api.as(admin, 'PUT', `/0.1/users/${uuid}/policies/${policy.json().uuid}`)).statusCode).toBe(204);
    }
    const refused = await api.inject({
      method: 'POST',
      url: '/0.1/token',
      headers: { ...JSON_HEADERS, authorization: `Basic ${Buffer.from('hoarder:hoarder-password').toString('base64')}` },
      payload: {},
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      status_code: 403,
      reason: [expect.stringContaining(`at most ${MAX_TOKEN_ACCESSES}`)],
    });
    // Duplicates count once: one access fewer and it fits exactly.
    expect((await api.as(admin, 'DELETE', `/0.1/policies/${policies[1]}/acl/svc.b0.read`)).statusCode).toBe(204);
    expect(await aclOf(await api.login('hoarder', 'hoarder-password'))).toHaveLength(MAX_TOKEN_ACCESSES);
  });

  it('checks a token holding the worst ACL the limits allow in under 10 ms', async () => {
    const worst = worstCases().find((c) => c.name === 'star-literal');
    if (worst === undefined) throw new Error('no star-literal case');
    const base = await baseAccesses('worst-probe');
    const token = await userWith('worst', worst.acl.slice(0, MAX_TOKEN_ACCESSES - base));
    expect(await aclOf(token)).toHaveLength(MAX_TOKEN_ACCESSES);
    const head = () => api.inject({ method: 'HEAD', url: `/0.1/token/${token}?scope=${worst.scope}` });
    expect((await head()).statusCode).toBe(403);
    const cpu: number[] = [];
    for (let i = 0; i < 7; i++) {
      const started = process.cpuUsage();
      expect((await head()).statusCode).toBe(403);
      const used = process.cpuUsage(started);
      cpu.push((used.user + used.system) / 1000);
    }
    cpu.sort((a, b) => a - b);
    expect(cpu[3], `CPU ms per check: ${cpu.map((c) => c.toFixed(2)).join(' ')}`).toBeLessThan(10);
  });

  it('states the limits in the served API document', async () => {
    const doc = (await api.inject({ method: 'GET', url: '/0.1/api/api.yml' })).body;
    // (The YAML folds long descriptions: short fragments.)
    expect(doc).toContain('ACL pattern: an access of at most 512 characters with at most 16');
    expect(doc).toContain('One required access (at most 512 characters, as an access)');
    expect(doc).toMatch(/maxItems: 100\b/);
  });

  it('rate-limits checks per client address: 429 with Retry-After past the limit, on the fast path too', async () => {
    const limited = await startTestService(engine, {
      security: securityWith({ rate_limits: { checks: { per_second: 0.01, burst: 3 } } }),
    });
    const own = iamApi(() => limited);
    const token = await own.adminToken();
    const head = (address: string) =>
      limited.service.app.inject({ method: 'HEAD', url: `/0.1/token/${token}?scope=auth.users.read`, remoteAddress: address });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await head('198.51.100.16')).statusCode);
    expect(statuses).toEqual([204, 204, 204]);
    const refused = await head('198.51.100.16');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const get = await limited.service.app.inject({ method: 'GET', url: `/0.1/token/${token}`, remoteAddress: '198.51.100.16' });
    expect(get.statusCode).toBe(429);
    expect(get.json()).toMatchObject({ status_code: 429 });
    // Per address: another one is not affected.
    expect((await head('198.51.100.17')).statusCode).toBe(204);

    const url = await limited.service.listen();
    const heads = [];
    for (let i = 0; i < 4; i++) heads.push(await fetch(`${url}/0.1/token/${token}`, { method: 'HEAD' }));
    expect(heads.map((h) => h.status)).toEqual([204, 204, 204, 429]);
    expect(heads[3].headers.get('retry-after')).not.toBeNull();
    await limited.close();
  });
});
