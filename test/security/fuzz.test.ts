// Property-based fuzzing with fast-check: hostile JSON (prototype keys, NUL,
// lone surrogates, huge strings, deep nesting, odd numbers, broken syntax)
// sent to every route of the served OpenAPI document that takes a body, and
// random patterns and accesses given to the ACL matcher.
// Properties: never a 500, never a crash, no prototype pollution; the ACL
// matcher always answers, and keeps its basic laws. fast-check prints the
// seed and the shrunk counter-example on failure.
import { compileAcl } from '@xivo-auth/acl';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { iamApi } from '../helpers/iam.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { securityWith } from './helpers.js';

const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'username',
  'password',
  'name',
  'slug',
  'acl',
  'scopes',
  'expiration',
  'access_type',
  'client_id',
  'refresh_token',
  'tenant_uuid',
  'parent_uuid',
  'uuid',
  'enabled',
  'purpose',
  'old_password',
  'new_password',
  'email_address',
  'domain_names',
  'shared',
  'description',
  'backend',
  'op',
  'path',
  'value',
];
const STRINGS = [
  '',
  '\u0000',
  'a\u0000b',
  '#',
  '*',
  '!',
  '.',
  'auth.#',
  '..',
  'x'.repeat(5000),
  '\ud800',
  '💥',
  '%00',
  '../../etc/passwd',
  '00000000-0000-4000-8000-000000000000',
  'offline',
  'online',
  'user',
  'internal',
  'true',
  '{}',
  '[]',
  ' ',
  'replace',
  '/debug',
];
const NUMBERS = [0, -1, 1, 1.5, 2 ** 31, 2 ** 53 + 2, -0, 1e308, 315360001, 7200];

/** An object literal written as text, so that `__proto__` stays a plain key (as an attacker would send it). */
function objectText(entries: Array<[string, string]>): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

/** JSON texts: values of the interesting kinds, nested, keyed by the API's field names. */
const { json } = fc.letrec<{ json: string; leaf: string; array: string; object: string }>((tie) => ({
  leaf: fc.oneof(
    fc.constantFrom(...STRINGS).map((v) => JSON.stringify(v)),
    fc.string({ unit: 'binary', maxLength: 40 }).map((v) => JSON.stringify(v)),
    fc.constantFrom(...NUMBERS).map((v) => JSON.stringify(v)),
    fc.double().map((v) => JSON.stringify(v)),
    fc.boolean().map(String),
    fc.constant('null'),
  ),
  array: fc.array(tie('json'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
  object: fc.array(fc.tuple(fc.constantFrom(...KEYS), tie('json')), { maxLength: 5 }).map(objectText),
  json: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('array'), tie('object')),
}));

/** A request body: mostly objects (every route takes one), sometimes anything, broken or very deep. */
const requestBody = fc.oneof(
  { arbitrary: fc.array(fc.tuple(fc.constantFrom(...KEYS), json), { maxLength: 6 }).map(objectText), weight: 8 },
  { arbitrary: json, weight: 1 },
  {
    arbitrary: fc.constantFrom('{bad', '{"a":'.repeat(40) + '1' + '}'.repeat(40), '', '[', '{"__proto__":{"polluted":1}}'),
    weight: 1,
  },
);

describe('fuzzing request bodies', () => {
  let t: TestService;
  let admin: string;
  const api = iamApi(() => t);

  beforeAll(async () => {
    t = await startTestService('sqlite', {
      security: securityWith({ rate_limits: { enabled: false }, login_throttle: { enabled: false } }),
    });
    admin = await api.adminToken();
  });

  it('answers every body route with a 4xx or a success, never a 500', async () => {
    const doc = parse((await api.inject({ method: 'GET', url: '/0.1/api/api.yml' })).body) as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    const me = (await api.as(admin, 'GET', `/0.1/token/${admin}`)).json().data.metadata.uuid as string;
    const targets: Array<[string, string]> = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!['post', 'put', 'patch'].includes(method) || op.requestBody === undefined) continue;
        // Path parameters: the caller's own user (most interesting), else a random uuid; never our admin token.
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) =>
          name === 'token' ? 'A'.repeat(43) : name.startsWith('user') ? me : '00000000-0000-4000-8000-000000000001',
        );
        targets.push([method.toUpperCase(), url.startsWith('/0.1') ? url : `/0.1${url}`]);
      }
    }
    expect(targets.length).toBeGreaterThanOrEqual(8);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), requestBody, async ([method, url], payload) => {
        const res = await api.inject({
          method: method as 'POST',
          url,
          payload,
          headers: {
            'content-type': 'application/json',
            'x-auth-token': admin,
            ...(url.endsWith('/token') ? { authorization: 'Basic YWRtaW46bm9wZQ==' } : {}),
          },
        });
        expect(res.statusCode, `${method} ${url} ${payload.slice(0, 200)} → ${res.body.slice(0, 200)}`).toBeLessThan(500);
      }),
      { numRuns: 25 * targets.length },
    );
    expect(Object.prototype).not.toHaveProperty('polluted');
    // Still alive and consistent.
    expect((await api.as(admin, 'GET', '/0.1/users')).statusCode).toBe(200);
  });
});

describe('fuzzing the ACL matcher', () => {
  const identity = { authId: 'me-id', sessionUuid: 'sess' } as never;
  const text = fc.string({
    unit: fc.constantFrom('a', 'b', '.', '*', '#', '!', 'me', 'my_session', 'edit', 'update', '\u0000', '\n', 'é'),
    maxLength: 12,
  });
  /** Accesses without wildcard characters: literal patterns must match them exactly. */
  const literal = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '.', 'x', 'é'), minLength: 1, maxLength: 12 });

  it('always answers a boolean, whatever the patterns and the access', () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 6 }), text, (patterns, access) => {
        expect(typeof compileAcl(patterns).matches(access, identity)).toBe('boolean');
      }),
      { numRuns: 5000 },
    );
  });

  it('keeps its laws: a literal grants itself, # grants all, a negation always wins, an empty ACL grants nothing', () => {
    fc.assert(
      fc.property(literal, fc.array(text, { maxLength: 4 }), (access, others) => {
        expect(compileAcl([access]).matches(access, identity)).toBe(true);
        expect(compileAcl(['#']).matches(access, identity)).toBe(true);
        expect(compileAcl([...others, access, `!${access}`]).matches(access, identity)).toBe(false);
        expect(compileAcl([]).matches(access, identity)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
