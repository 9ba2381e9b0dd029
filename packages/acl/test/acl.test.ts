import { describe, expect, it } from 'vitest';

import { compileAcl, explain, hasAccess, type AclContext } from '@xivo-auth/acl';

// API.md section 2 examples use auth_id `123` and session `S`.
const ctx: AclContext = { authId: '123', sessionUuid: 'S' };
const can = (acl: readonly string[], access: string | null | undefined, c: AclContext = ctx): boolean =>
  hasAccess(acl, access, c);

describe('API.md section 2 examples', () => {
  it('foo.bar.# grants foo.bar.x.y but not foo.bar', () => {
    expect(can(['foo.bar.#'], 'foo.bar.x.y')).toBe(true);
    expect(can(['foo.bar.#'], 'foo.bar')).toBe(false);
  });

  it('foo.*.* grants foo.bar.toto but not foo.bar', () => {
    expect(can(['foo.*.*'], 'foo.bar.toto')).toBe(true);
    expect(can(['foo.*.*'], 'foo.bar')).toBe(false);
  });

  it('users.me.# grants users.123.x and users.me.x but not users.456.x', () => {
    expect(can(['users.me.#'], 'users.123.x')).toBe(true);
    expect(can(['users.me.#'], 'users.me.x')).toBe(true);
    expect(can(['users.me.#'], 'users.456.x')).toBe(false);
  });

  it('foo.# with !foo.me.bar.# denies foo.123.bar.1', () => {
    expect(can(['foo.#', '!foo.me.bar.#'], 'foo.123.bar.1')).toBe(false);
    expect(can(['foo.#', '!foo.me.bar.#'], 'foo.me.bar.1')).toBe(false);
    // ...but only for this identity
    expect(can(['foo.#', '!foo.me.bar.#'], 'foo.456.bar.1')).toBe(true);
  });

  it('!*.bar, foo.bar denies foo.bar', () => {
    expect(can(['!*.bar', 'foo.bar'], 'foo.bar')).toBe(false);
  });

  it('a required access !foo.bar is literal text', () => {
    expect(can(['foo.bar'], '!foo.bar')).toBe(false);
    expect(can(['!foo.bar'], '!foo.bar')).toBe(false);
    expect(can(['\\!foo.bar'], '!foo.bar')).toBe(false);
    expect(can(['!!foo.bar', '#'], '!foo.bar')).toBe(false); // negative pattern `!foo.bar`
    expect(can(['!!foo.bar', '#'], 'foo.bar')).toBe(true);
    expect(can(['#'], '!foo.bar')).toBe(true);
    expect(can(['!*'], '!foo')).toBe(false);
  });
});

describe('rules', () => {
  it('no required access is allowed (undefined and null)', () => {
    expect(can([], undefined)).toBe(true);
    expect(can([], null)).toBe(true);
    expect(can(['!#'], undefined)).toBe(true);
    expect(compileAcl([]).matches(undefined)).toBe(true);
  });

  it("the empty string is a literal required access (wazo-auth's `?scope=`)", () => {
    // Granted only by a pattern matching the empty string: `#`, `*` (zero
    // characters of a segment), an empty entry.
    expect(can([], '')).toBe(false);
    expect(can(['confd.users.me.read', 'foo.#', 'me', 'edit', 'a*'], '')).toBe(false);
    expect(can(['#'], '')).toBe(true);
    expect(can(['*'], '')).toBe(true);
    expect(can([''], '')).toBe(true);
    expect(can(['#', '!*'], '')).toBe(false);
    expect(compileAcl(['confd.#']).matches('')).toBe(false);
    expect(compileAcl(['#']).matches('')).toBe(true);
  });

  it('an empty ACL denies', () => {
    expect(can([], 'foo.bar')).toBe(false);
    expect(can([], 'x')).toBe(false);
  });

  it('negative patterns win whatever the order', () => {
    expect(can(['!foo.bar', 'foo.bar'], 'foo.bar')).toBe(false);
    expect(can(['foo.bar', '!foo.bar'], 'foo.bar')).toBe(false);
    expect(can(['#', '!foo.*'], 'foo.bar')).toBe(false);
    expect(can(['!foo.*', '#'], 'foo.bar')).toBe(false);
    expect(can(['!foo.*', '#'], 'foo.bar.baz')).toBe(true);
  });

  it('negative patterns alone never grant', () => {
    expect(can(['!foo.bar'], 'other')).toBe(false);
  });

  it('the pattern must match the whole access', () => {
    expect(can(['foo.bar'], 'foo.bar.baz')).toBe(false);
    expect(can(['foo.bar'], 'xfoo.bar')).toBe(false);
    expect(can(['foo.bar'], 'foo.ba')).toBe(false);
    expect(can(['foo.bar'], 'foo.bar')).toBe(true);
  });

  it('a trailing newline or NUL makes a different access', () => {
    expect(can(['foo.bar'], 'foo.bar\n')).toBe(false);
    expect(can(['foo.bar'], 'foo.bar\0')).toBe(false);
    expect(can(['foo.*'], 'foo.bar\n.x')).toBe(false);
    expect(can(['foo.ba*'], 'foo.bar\n')).toBe(true); // `*` takes any char but `.` and `#`
    expect(can(['foo.me'], 'foo.123\n')).toBe(false);
    expect(can(['foo.me'], 'foo.123\0')).toBe(false);
    expect(can(['foo.edit'], 'foo.update\n')).toBe(false);
  });
});

describe('`*` wildcard', () => {
  it('matches part of a segment', () => {
    expect(can(['conf*'], 'confd')).toBe(true);
    expect(can(['conf*'], 'conf')).toBe(true);
    expect(can(['conf*.users.read'], 'confd.users.read')).toBe(true);
    expect(can(['*d.users'], 'confd.users')).toBe(true);
    expect(can(['c*f*d'], 'confd')).toBe(true);
    expect(can(['c*f*d'], 'confe')).toBe(false);
  });

  it('does not cross dots', () => {
    expect(can(['*'], 'foo')).toBe(true);
    expect(can(['*'], 'foo.bar')).toBe(false);
    expect(can(['foo.*'], 'foo.bar.baz')).toBe(false);
    expect(can(['conf*'], 'conf.d')).toBe(false);
    expect(can(['a*b'], 'a.b')).toBe(false);
  });

  it('may be empty', () => {
    expect(can(['foo.*'], 'foo.')).toBe(true);
    expect(can(['foo.*.bar'], 'foo..bar')).toBe(true);
    expect(can(['a**b'], 'ab')).toBe(true);
  });

  it('does not match `#` characters', () => {
    expect(can(['foo.*'], 'foo.a#b')).toBe(false);
    expect(can(['foo.#'], 'foo.a#b')).toBe(true);
  });
});

describe('`#` wildcard', () => {
  it('alone matches everything', () => {
    for (const a of ['x', 'foo.bar', 'a.b.c.d.e', '.', '..', '#', '*', 'foo\nbar', '\0', '!x']) {
      expect(can(['#'], a)).toBe(true);
    }
  });

  it('crosses dots and may be empty', () => {
    expect(can(['foo.#'], 'foo.')).toBe(true);
    expect(can(['foo.#'], 'foo.a.b.c')).toBe(true);
    expect(can(['foo#'], 'foo')).toBe(true);
    expect(can(['#.read'], 'confd.users.read')).toBe(true);
    expect(can(['#.read'], 'confd.users.reads')).toBe(false);
    expect(can(['a.#.z'], 'a.b.c.z')).toBe(true);
    expect(can(['a.#.z'], 'a.z')).toBe(false);
    expect(can(['a#z'], 'az')).toBe(true);
    expect(can(['a#b#c'], 'a.x.b.y.c')).toBe(true);
    expect(can(['a#b#c'], 'acb')).toBe(false);
  });

  it('combines with `*`', () => {
    expect(can(['#.*.read'], 'a.b.c.read')).toBe(true);
    expect(can(['#.*.read'], 'read')).toBe(false);
    expect(can(['*.#'], 'a.b')).toBe(true);
    expect(can(['*.#'], 'ab')).toBe(false);
    expect(can(['a*#*b'], 'a.x.b')).toBe(true);
    expect(can(['#ab*'], 'xab.c')).toBe(false);
    expect(can(['#ab*'], 'x.aab.abc')).toBe(true);
    expect(can(['#a*b.c'], 'xa.ab.c')).toBe(true);
  });
});

describe('reserved segments', () => {
  it('`me` matches the auth_id, not other ids, and literal `me`', () => {
    expect(can(['users.me.read'], 'users.123.read')).toBe(true);
    expect(can(['users.me.read'], 'users.me.read')).toBe(true);
    expect(can(['users.me.read'], 'users.456.read')).toBe(false);
    expect(can(['users.me.read'], 'users.1234.read')).toBe(false);
    expect(can(['users.me.read'], 'users.12.read')).toBe(false);
    expect(can(['me'], '123')).toBe(true);
    expect(can(['me.#'], '123.x')).toBe(true);
    expect(can(['#.me'], 'x.123')).toBe(true);
    // between two `#`, the earliest-ending of `me` / auth_id must be taken
    expect(can(['#.me.#y.me.z'], 'a.me.y.123.z')).toBe(true);
    expect(can(['#.me.#y.me.z'], 'a.123.y.me.z')).toBe(true);
  });

  it('`me` only as a whole segment', () => {
    expect(can(['users.me*.read'], 'users.123.read')).toBe(false);
    expect(can(['users.me*.read'], 'users.meow.read')).toBe(true);
    expect(can(['users.xme.read'], 'users.x123.read')).toBe(false);
    expect(can(['users#me.read'], 'users.123.read')).toBe(false);
    expect(can(['usersme.read'], 'users123.read')).toBe(false);
  });

  it('`me` without an auth_id only matches itself', () => {
    expect(can(['users.me.read'], 'users.me.read', {})).toBe(true);
    expect(can(['users.me.read'], 'users..read', {})).toBe(false);
    expect(can(['users.me.read'], 'users..read', { authId: '' })).toBe(false);
    expect(can(['users.me.read'], 'users.null.read', { authId: null })).toBe(false);
    expect(can(['users.me.read'], 'users.undefined.read', {})).toBe(false);
  });

  it('`my_session` matches the session_uuid', () => {
    expect(can(['auth.sessions.my_session.delete'], 'auth.sessions.S.delete')).toBe(true);
    expect(can(['auth.sessions.my_session.delete'], 'auth.sessions.my_session.delete')).toBe(true);
    expect(can(['auth.sessions.my_session.delete'], 'auth.sessions.T.delete')).toBe(false);
    expect(can(['auth.sessions.my_session.delete'], 'auth.sessions.123.delete')).toBe(false);
    expect(can(['auth.sessions.me.delete'], 'auth.sessions.S.delete')).toBe(false);
  });

  it('`edit` also matches `update`, but `update` does not match `edit`', () => {
    expect(can(['x.edit'], 'x.update')).toBe(true);
    expect(can(['x.edit'], 'x.edit')).toBe(true);
    expect(can(['x.edit.y'], 'x.update.y')).toBe(true);
    expect(can(['x.update'], 'x.edit')).toBe(false);
    expect(can(['x.update'], 'x.update')).toBe(true);
    expect(can(['x.edit*'], 'x.update')).toBe(false);
    expect(can(['x.edit'], 'x.updated')).toBe(false);
    expect(can(['!x.edit', '#'], 'x.update')).toBe(false);
  });

  it('identity values are literal text', () => {
    const weird: AclContext = { authId: 'a.*(b)', sessionUuid: '#' };
    expect(can(['u.me.r'], 'u.a.*(b).r', weird)).toBe(true);
    expect(can(['u.me.r'], 'u.a.x(b).r', weird)).toBe(false);
    expect(can(['u.my_session.r'], 'u.#.r', weird)).toBe(true);
    expect(can(['u.my_session.r'], 'u.x.r', weird)).toBe(false);
  });

  it('an auth_id containing dots may span segments', () => {
    const dotted: AclContext = { authId: 'me.x' };
    expect(can(['u.me.r'], 'u.me.x.r', dotted)).toBe(true);
    expect(can(['u.me.r'], 'u.me.r', dotted)).toBe(true);
    expect(can(['me.x#x'], 'me.x.x', dotted)).toBe(true);
    expect(can(['me.x#x'], 'me.x', dotted)).toBe(false);
    expect(can(['#.me.*'], 'a.me.x.b', dotted)).toBe(true);
  });
});

describe('regex metacharacters are literal', () => {
  it.each(['(', ')', '+', '?', '[', ']', '{', '}', '^', '$', '|', '\\', '.'])('%s', (ch) => {
    const pattern = `a${ch}b`;
    expect(can([pattern], `a${ch}b`)).toBe(true);
    expect(can([pattern], 'axb')).toBe(false);
    expect(can([pattern], 'ab')).toBe(false);
    expect(can([`${pattern}.#`], `a${ch}b.c`)).toBe(true);
  });

  it('quantifiers, classes and anchors do nothing', () => {
    expect(can(['a.b+'], 'a.bb')).toBe(false);
    expect(can(['a.b+'], 'a.b+')).toBe(true);
    expect(can(['a.b?'], 'a.b')).toBe(false);
    expect(can(['a.b?'], 'a.b?')).toBe(true);
    expect(can(['a.[x]'], 'a.[x]')).toBe(true);
    expect(can(['a.[x]'], 'a.x')).toBe(false);
    expect(can(['a.[xy]'], 'a.y')).toBe(false);
    expect(can(['a.b{2}'], 'a.bb')).toBe(false);
    expect(can(['^a$'], 'a')).toBe(false);
    expect(can(['^a$'], '^a$')).toBe(true);
    expect(can(['a|b'], 'a')).toBe(false);
    expect(can(['a|b'], 'a|b')).toBe(true);
    expect(can(['a\\.b'], 'a.b')).toBe(false);
    expect(can(['a\\.b'], 'a\\.b')).toBe(true);
    expect(can(['a.b'], 'axb')).toBe(false);
    expect(can(['(a)'], 'a')).toBe(false);
    expect(can(['.*'], 'anything')).toBe(false);
    expect(can(['.*'], '.x')).toBe(true);
  });
});

describe('pathological patterns finish (a backtracking regex would hang)', () => {
  it('# repeated 1000 times then x', () => {
    const p = '#'.repeat(1000) + 'x';
    expect(can([p], 'a'.repeat(10_000))).toBe(false);
    expect(can([p], 'a'.repeat(10_000) + 'x')).toBe(true);
  });

  it('*. repeated 500 times', () => {
    const p = '*.'.repeat(500);
    expect(can([p], 'a.'.repeat(500))).toBe(true);
    expect(can([p], '.'.repeat(500))).toBe(true);
    expect(can([p], 'a.'.repeat(499))).toBe(false);
    expect(can([p], 'a.'.repeat(501))).toBe(false);
    expect(can([p], 'a'.repeat(10_000))).toBe(false);
    expect(can([p + 'x'], 'a.'.repeat(499) + 'a'.repeat(10_000) + '.y')).toBe(false);
  });

  it('10 KB of alternating #a', () => {
    const p = '#a'.repeat(5_000);
    expect(p.length).toBe(10_000);
    expect(can([p], 'a'.repeat(10_000))).toBe(true);
    expect(can([p], 'a'.repeat(4_999))).toBe(false);
    expect(can([p], 'a'.repeat(10_000) + 'b')).toBe(false);
    expect(can([p], 'b'.repeat(10_000))).toBe(false);
    expect(can([p], 'ab'.repeat(5_000))).toBe(false);
    expect(can([p + '#'], 'ab'.repeat(5_000))).toBe(true);
  });

  it('many stars in one segment', () => {
    const p = 'a*'.repeat(1_000) + 'b';
    expect(can([p], 'a'.repeat(10_000))).toBe(false);
    expect(can([p], 'a'.repeat(10_000) + 'b')).toBe(true);
    expect(can([p], 'a'.repeat(999) + 'b')).toBe(false);
    const q = '#' + 'a*'.repeat(1_000) + 'b#';
    expect(can([q], 'x.' + 'a'.repeat(5_000) + 'c.' + 'a'.repeat(1_000) + 'b.z')).toBe(true);
    expect(can([q], 'x.' + 'a'.repeat(5_000) + 'c.' + 'a'.repeat(999) + 'b.z')).toBe(false);
  });

  it('mixed # and * with reserved segments', () => {
    const p = '#.*.me.*'.repeat(300) + '.z';
    const access = 'q.w.123.e'.repeat(300) + '.z';
    expect(can([p], access)).toBe(true);
    expect(can([p], access.slice(0, -1) + 'y')).toBe(false);
    expect(can([p], 'q.w.456.e'.repeat(300) + '.z')).toBe(false);
  });

  it('a huge access against many patterns', () => {
    const acl = Array.from({ length: 200 }, (_, i) => `s${i}.#.x*y.#`);
    expect(can(acl, 's5.' + 'x'.repeat(100_000))).toBe(false);
    expect(can(acl, 's5.a.xzzy.b')).toBe(true);
  });
});

// A straightforward reference built from the spec text as a RegExp (fine for
// the tiny inputs used here), to cross-check every internal matcher path
// (plain literal, segment walk, literal alternatives, NFA, `#` chunks).
function referenceMatch(pattern: string, access: string, c: AclContext): boolean {
  const esc = (t: string): string => t.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  const alt = (word: string, value: string | null | undefined): string => (value ? `(?:${esc(word)}|${esc(value)})` : esc(word));
  const body = pattern
    .split('.')
    .map((seg) => {
      if (seg === 'me') return alt('me', c.authId);
      if (seg === 'my_session') return alt('my_session', c.sessionUuid);
      if (seg === 'edit') return alt('edit', 'update');
      return [...seg].map((ch) => (ch === '*' ? '[^.#]*' : ch === '#' ? '[\\s\\S]*' : esc(ch))).join('');
    })
    .join('\\.');
  return new RegExp(`^${body}$`).test(access);
}

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

describe('agrees with a reference implementation of the spec', () => {
  const rnd = prng(20240611);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const patternTokens = ['a', 'b', '.', '.', '.', '*', '*', '#', 'me', 'my_session', 'edit', 'update', '(', '+', '\\'];
  const accessTokens = ['a', 'b', '.', '.', '#', '123', 'S', 'me', 'my_session', 'update', 'edit', '(', '+', '\\', '\n'];
  const instantiate = (pattern: string): string =>
    pattern
      .split('.')
      .map((seg) => {
        if (seg === 'me') return pick(['me', '123', '456']);
        if (seg === 'my_session') return pick(['my_session', 'S', 'T']);
        if (seg === 'edit') return pick(['edit', 'update', 'updat']);
        return [...seg]
          .map((ch) =>
            ch === '*' ? pick(['', 'a', 'ab', '#', 'b']) : ch === '#' ? pick(['', 'a', '.', 'a.b', '#', '.me.']) : ch,
          )
          .join('');
      })
      .join('.');
  const contexts: AclContext[] = [ctx, {}, { authId: 'a', sessionUuid: 'b.a' }, { authId: 'me.a', sessionUuid: 'a' }];

  it('on random patterns and accesses', () => {
    let checked = 0;
    let granted = 0;
    for (let iter = 0; iter < 4000; iter++) {
      const pattern = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => pick(patternTokens)).join('');
      const accesses = [
        instantiate(pattern),
        instantiate(pattern),
        Array.from({ length: 1 + Math.floor(rnd() * 7) }, () => pick(accessTokens)).join(''),
      ];
      for (const c of contexts) {
        const compiled = compileAcl([pattern], c);
        for (const access of [...accesses, '']) {
          const expected = referenceMatch(pattern, access, c);
          const got = compiled.matches(access);
          if (got !== expected) expect({ pattern, access, c, got }).toEqual({ pattern, access, c, got: expected });
          checked++;
          if (expected) granted++;
        }
      }
    }
    expect(checked).toBeGreaterThan(30_000);
    expect(granted).toBeGreaterThan(5_000);
  });

  it('on random ACLs (negatives first, then positives)', () => {
    const services = ['confd', 'auth', 'conf*', '*', '#', 'me'];
    const rest = ['users.me.read', 'users.*.read', '#', 'users.me.#', 'x.edit', 'a', 'users.123.*'];
    const accesses = [
      'confd.users.123.read',
      'auth.users.me.read',
      'confd.x.update',
      'me.a',
      '123.a',
      'confd',
      'x.y',
      'auth.users.123.z',
    ];
    for (let iter = 0; iter < 1500; iter++) {
      const acl = Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => {
        const body = rnd() < 0.15 ? pick(services) : `${pick(services)}.${pick(rest)}`;
        return rnd() < 0.3 ? `!${body}` : body;
      });
      const compiled = compileAcl(acl, ctx);
      for (const access of accesses) {
        const negatives = acl.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
        const positives = acl.filter((p) => !p.startsWith('!'));
        const expected =
          !negatives.some((p) => referenceMatch(p, access, ctx)) && positives.some((p) => referenceMatch(p, access, ctx));
        if (compiled.matches(access) !== expected) expect({ acl, access }).toEqual({ acl, access, expected });
        expect(compiled.explain(access).allowed).toBe(expected);
      }
    }
  });
});

describe('CompiledAcl', () => {
  it('compiles once and checks many times, with ctx per call', () => {
    const acl = compileAcl(['users.me.#', '!users.me.secret', 'confd.users.read']);
    expect(acl.matches('users.123.x', ctx)).toBe(true);
    expect(acl.matches('users.123.secret', ctx)).toBe(false);
    expect(acl.matches('confd.users.read', ctx)).toBe(true);
    // another identity rebinds
    expect(acl.matches('users.456.x', { authId: '456' })).toBe(true);
    expect(acl.matches('users.123.x', { authId: '456' })).toBe(false);
    expect(acl.matches('users.123.x', ctx)).toBe(true);
    // no ctx, none at compile time: `me` is only literal
    expect(acl.matches('users.123.x')).toBe(false);
    expect(acl.matches('users.me.x')).toBe(true);
  });

  it('uses the compile-time ctx when matches() gets none', () => {
    const acl = compileAcl(['users.me.#', 's.my_session'], ctx);
    expect(acl.matches('users.123.x')).toBe(true);
    expect(acl.matches('s.S')).toBe(true);
    expect(acl.matches('users.456.x')).toBe(false);
    expect(acl.matches('users.456.x', { authId: '456' })).toBe(true);
    expect(acl.matches('users.123.x')).toBe(true);
  });

  it('accepts an object with extra fields as ctx (e.g. a token record)', () => {
    const record = { token: 't', authId: '123', sessionUuid: 'S', acl: ['users.me.read'] };
    expect(compileAcl(record.acl).matches('users.123.read', record)).toBe(true);
  });

  it('ACLs sharing patterns stay independent', () => {
    const a = compileAcl(['users.me.read', 'x.*'], { authId: '1' });
    const b = compileAcl(['users.me.read', '!x.*'], { authId: '2' });
    expect(a.matches('users.1.read')).toBe(true);
    expect(b.matches('users.1.read')).toBe(false);
    expect(b.matches('users.2.read')).toBe(true);
    expect(a.matches('users.2.read')).toBe(false);
    expect(a.matches('x.y')).toBe(true);
    expect(b.matches('x.y')).toBe(false);
  });

  it('denies a non-string access from an untyped caller', () => {
    expect(compileAcl(['#']).matches(42 as unknown as string)).toBe(false);
    expect(compileAcl(['#']).explain({} as unknown as string)).toEqual({ allowed: false, pattern: null });
  });

  it('keeps the ACL as given', () => {
    const list = ['b', 'a', 'b'];
    const acl = compileAcl(list);
    list.push('c');
    expect(acl.acl).toEqual(['b', 'a', 'b']);
  });

  it('handles duplicates and empty patterns', () => {
    expect(can(['foo', 'foo', '!bar', '!bar'], 'foo')).toBe(true);
    expect(can(['', '!'], 'x')).toBe(false);
    expect(can(['', '!'], '')).toBe(false); // the empty negative entry matches ''
    expect(can([''], '')).toBe(true);
  });

  it('agrees with explain() on a mixed ACL', () => {
    const patterns = ['confd.#', '!confd.users.*.delete', 'auth.users.me.edit', '*.status', '!#.secret'];
    const acl = compileAcl(patterns, ctx);
    const accesses = [
      'confd.users.read',
      'confd.users.1.delete',
      'confd.users.1.2.delete',
      'auth.users.123.update',
      'auth.users.123.edit',
      'auth.users.4.update',
      'x.status',
      'x.y.status',
      'confd.secret',
      'secret',
    ];
    for (const a of accesses) expect(acl.matches(a)).toBe(acl.explain(a).allowed);
  });
});

describe('explain()', () => {
  it('names the granting pattern', () => {
    expect(explain(['a.b', 'foo.#', 'foo.*'], 'foo.bar', ctx)).toEqual({ allowed: true, pattern: 'foo.#' });
    expect(explain(['users.me.#'], 'users.123.x', ctx)).toEqual({ allowed: true, pattern: 'users.me.#' });
    expect(explain(['x.edit'], 'x.update', ctx)).toEqual({ allowed: true, pattern: 'x.edit' });
  });

  it('names the denying negative pattern, whatever the order', () => {
    expect(explain(['foo.#', '!foo.me.bar.#'], 'foo.123.bar.1', ctx)).toEqual({
      allowed: false,
      pattern: '!foo.me.bar.#',
    });
    expect(explain(['foo.bar', '!*.bar'], 'foo.bar', ctx)).toEqual({ allowed: false, pattern: '!*.bar' });
  });

  it('returns null when nothing matched', () => {
    expect(explain(['foo.bar'], 'foo.baz', ctx)).toEqual({ allowed: false, pattern: null });
    expect(explain([], 'foo.baz', ctx)).toEqual({ allowed: false, pattern: null });
    expect(explain(['!foo.bar'], 'foo.baz', ctx)).toEqual({ allowed: false, pattern: null });
  });

  it('returns null when no access is required', () => {
    expect(explain(['!#'], undefined, ctx)).toEqual({ allowed: true, pattern: null });
    expect(explain([], null, ctx)).toEqual({ allowed: true, pattern: null });
  });

  it('explains the empty required access like any other', () => {
    expect(explain([], '', ctx)).toEqual({ allowed: false, pattern: null });
    expect(explain(['foo.#', '#'], '', ctx)).toEqual({ allowed: true, pattern: '#' });
    expect(explain(['#', '!*'], '', ctx)).toEqual({ allowed: false, pattern: '!*' });
  });

  it('is available on a CompiledAcl', () => {
    const acl = compileAcl(['!a.secret', 'a.*']);
    expect(acl.explain('a.secret')).toEqual({ allowed: false, pattern: '!a.secret' });
    expect(acl.explain('a.public')).toEqual({ allowed: true, pattern: 'a.*' });
  });
});
