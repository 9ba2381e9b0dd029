// Property-based fuzzing without a library (fast-check is not a dependency):
// a seeded generator of hostile JSON (prototype keys, NUL, huge strings,
// deep nesting, odd numbers) sent to every route of the OpenAPI document
// that takes a body, and random patterns/accesses given to the ACL matcher.
// Property: never a 500, never a crash; the seed is printed on failure.
import { compileAcl } from '@xivo-auth/acl';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { iamApi } from '../helpers/iam.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { securityWith } from './helpers.js';

/** mulberry32: small, seeded, good enough to explore inputs reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['__proto__', 'constructor', 'prototype', 'username', 'password', 'name', 'slug', 'acl', 'scopes', 'expiration',
  'access_type', 'client_id', 'refresh_token', 'tenant_uuid', 'parent_uuid', 'uuid', 'enabled', 'purpose', 'old_password',
  'new_password', 'email_address', 'domain_names', 'shared', 'description', 'backend', 'op', 'path', 'value'];
const STRINGS = ['', '\u0000', 'a\u0000b', '#', '*', '!', '.', 'auth.#', '..', 'x'.repeat(5000), '\ud800', '💥', '%00', '../../etc/passwd',
  '00000000-0000-4000-8000-000000000000', 'offline', 'online', 'user', 'internal', 'true', '{}', '[]', ' ', 'replace', '/debug'];
const NUMBERS = [0, -1, 1, 1.5, 2 ** 31, 2 ** 53 + 2, -0, 1e308, 315360001, 7200];

function value(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth > 3 || r < 0.35) {
    const k = rand();
    if (k < 0.4) return STRINGS[Math.floor(rand() * STRINGS.length)];
    if (k < 0.65) return NUMBERS[Math.floor(rand() * NUMBERS.length)];
    if (k < 0.8) return rand() < 0.5;
    return null;
  }
  if (r < 0.55) return Array.from({ length: Math.floor(rand() * 4) }, () => value(rand, depth + 1));
  return object(rand, depth + 1);
}

function object(rand: () => number, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = Math.floor(rand() * 5);
  for (let i = 0; i < n; i++) {
    Object.defineProperty(o, KEYS[Math.floor(rand() * KEYS.length)], { value: value(rand, depth), enumerable: true, configurable: true, writable: true });
  }
  return o;
}

function body(rand: () => number): string {
  const r = rand();
  if (r < 0.05) return '{"a":'.repeat(40) + '1' + '}'.repeat(40);
  if (r < 0.1) return '{bad';
  if (r < 0.15) return JSON.stringify(value(rand, 2));
  return JSON.stringify(object(rand, 0));
}

describe('fuzzing request bodies', () => {
  let t: TestService;
  let admin: string;
  const api = iamApi(() => t);

  beforeAll(async () => {
    t = await startTestService('sqlite', { security: securityWith({ rate_limits: { enabled: false }, login_throttle: { enabled: false } }) });
    admin = await api.adminToken();
  });

  it('answers every body route with a 4xx or a success, never a 500', async () => {
    const doc = parse((await api.inject({ method: 'GET', url: '/0.1/api/api.yml' })).body) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    const me = (await api.as(admin, 'GET', `/0.1/token/${admin}`)).json().data.metadata.uuid as string;
    const targets: Array<[string, string]> = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!['post', 'put', 'patch'].includes(method) || op.requestBody === undefined) continue;
        // Path parameters: the caller's own user (most interesting), else a random uuid; never our admin token.
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'token' ? 'A'.repeat(43) : name.startsWith('user') ? me : '00000000-0000-4000-8000-000000000001'));
        targets.push([method.toUpperCase(), url.startsWith('/0.1') ? url : `/0.1${url}`]);
      }
    }
    expect(targets.length).toBeGreaterThanOrEqual(8);
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    const rand = prng(seed);
    for (let i = 0; i < 25; i++) {
      for (const [method, url] of targets) {
        const payload = body(rand);
        const res = await api.inject({
          method: method as 'POST', url, payload,
          headers: { 'content-type': 'application/json', 'x-auth-token': admin, ...(url.endsWith('/token') ? { authorization: 'Basic YWRtaW46bm9wZQ==' } : {}) },
        });
        expect(res.statusCode, `seed ${seed}: ${method} ${url} ${payload.slice(0, 200)} → ${res.body.slice(0, 200)}`).toBeLessThan(500);
      }
    }
    expect(Object.prototype).not.toHaveProperty('polluted');
    // Still alive and consistent.
    expect((await api.as(admin, 'GET', '/0.1/users')).statusCode).toBe(200);
  });
});

describe('fuzzing the ACL matcher', () => {
  it('never throws on random patterns and accesses', () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    const rand = prng(seed);
    const alphabet = ['a', 'b', '.', '*', '#', '!', 'me', 'my_session', 'edit', 'update', '\u0000', '\n', 'é', '.'];
    const word = () => Array.from({ length: Math.floor(rand() * 12) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let i = 0; i < 2000; i++) {
      const patterns = Array.from({ length: Math.floor(rand() * 6) }, word);
      const acl = compileAcl(patterns);
      for (let j = 0; j < 5; j++) {
        const access = word();
        const granted = acl.matches(access, { authId: 'me-id', sessionUuid: 'sess' } as never);
        expect(typeof granted, `seed ${seed}: ${JSON.stringify(patterns)} ${JSON.stringify(access)}`).toBe('boolean');
      }
    }
    // A sanity anchor: the matcher is not trivially false.
    expect(compileAcl(['a.*']).matches('a.b', { authId: 'x', sessionUuid: 'y' } as never)).toBe(true);
  });
});
