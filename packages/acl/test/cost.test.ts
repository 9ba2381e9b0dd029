// The cost of a check is bounded (issue 16): the costliest ACLs the service's
// limits allow (1,024 accesses of up to 512 characters and 16 wildcards)
// are matched against the costliest required access they allow (512
// characters) in under 10 ms. The cases live in bench/lib/acl-worst-case.js
// (shared with bench/acl-worst-case.js, which prints the figures of
// docs/security.md).
//
// Time is CPU time (process.cpuUsage), the median of several runs: it is what
// a check takes from the event loop; this suite shares two cores with the
// others, and wall time then measures the neighbours.
import { describe, expect, it } from 'vitest';

import { compileAcl, type AclContext } from '@xivo-auth/acl';
import { LIMITS, measure, typicalCase, wildcards, worstCases } from '../../../bench/lib/acl-worst-case.js';

const BUDGET_MS = 10;
const ctx: AclContext = { authId: 'u', sessionUuid: 's' };

describe('cost of the worst ACL within the limits', () => {
  const cases = worstCases();

  it('builds cases at the limits', () => {
    for (const c of cases) {
      expect(new Set(c.acl).size, c.name).toBe(LIMITS.entries);
      expect(c.scope.length, c.name).toBe(LIMITS.length);
      for (const access of c.acl) {
        expect(access.length, access).toBeLessThanOrEqual(LIMITS.length);
        expect(wildcards(access), access).toBeLessThanOrEqual(LIMITS.wildcards);
      }
    }
    // Some case uses each limit to the full.
    expect(Math.max(...cases.flatMap((c) => c.acl.map((a) => a.length)))).toBe(LIMITS.length);
    expect(Math.max(...cases.flatMap((c) => c.acl.map(wildcards)))).toBe(LIMITS.wildcards);
  });

  it.each(cases.map((c) => [c.name, c] as const))(`%s: matched in under ${BUDGET_MS} ms`, (_name, c) => {
    const compiled = compileAcl(c.acl, ctx);
    const { cpuMs, result } = measure(compiled, c.scope, { runs: 7, warmup: 3 });
    expect(result).toBe(c.granted);
    expect(cpuMs, `${c.name}: ${c.description}`).toBeLessThan(BUDGET_MS);
  });

  it('a typical ACL stays in microseconds', () => {
    const c = typicalCase();
    const compiled = compileAcl(c.acl, ctx);
    expect(compiled.matches(c.scope)).toBe(false);
    const started = process.cpuUsage();
    for (let i = 0; i < 1000; i++) compiled.matches(c.scope);
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1000 / 1000).toBeLessThan(0.1);
  });
});

// The chain matcher skips rounds on periodic inputs (chain.ts, slide()):
// those paths are taken only on long periodic inputs, which the random
// cross-check of acl.test.ts (short inputs) rarely builds. Same reference:
// the spec as a RegExp, fine for these lengths.
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

describe('periodic inputs agree with the reference', () => {
  it('on random periodic accesses and patterns cut from them', () => {
    let seed = 16;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const segments = ['a', 'b', 'ab', 'ba', '', 'me', 'u', 'aa', 'edit', 'update'];
    const contexts: AclContext[] = [ctx, {}, { authId: 'a.b' }];
    let checked = 0;
    let granted = 0;
    for (let iter = 0; iter < 3000; iter++) {
      const unit =
        Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(segments)).join('.') + pick(['.', '.', '#', '.b.']);
      let access = unit.repeat(2 + Math.floor(rnd() * 25));
      if (rnd() < 0.5) {
        const i = Math.floor(rnd() * access.length);
        access = access.slice(0, i) + pick(['x', '.', 'b', 'a.', '.me']) + access.slice(i);
      }
      let pattern = '';
      for (let k = 0, parts = 1 + Math.floor(rnd() * 5); k < parts; k++) {
        if (rnd() < 0.35) {
          pattern += pick(['*', '#', '.*.', '*.', '.*', '*a*', '*b*', '.me.', '.edit.', 'b*', '*a']);
        } else {
          const at = Math.floor(rnd() * access.length);
          pattern += access.slice(at, at + Math.floor(rnd() * 24));
        }
      }
      if (rnd() < 0.5) pattern = `#${pattern}${rnd() < 0.5 ? '#' : ''}`;
      // The reference RegExp backtracks exponentially on many `#`.
      if ((pattern.match(/#/g) ?? []).length > 3) continue;
      for (const c of contexts) {
        const expected = referenceMatch(pattern, access, c);
        const got = compileAcl([pattern], c).matches(access);
        if (got !== expected) expect({ pattern, access, c, got }).toEqual({ pattern, access, c, got: expected });
        checked++;
        if (expected) granted++;
      }
    }
    expect(checked).toBeGreaterThan(6000);
    expect(granted).toBeGreaterThan(500);
  });

  it('on the worst cases, with one entry that matches', () => {
    for (const c of worstCases().filter((w) => !w.name.startsWith('mixed/'))) {
      // Sanity of the cases: nothing matches; each entry agrees with the reference on a short scope.
      const short = c.scope.slice(0, 60);
      for (const access of c.acl.slice(0, 20)) {
        const negative = access.startsWith('!');
        const pattern = negative ? access.slice(1) : access;
        expect(compileAcl([pattern], ctx).matches(short), pattern).toBe(referenceMatch(pattern, short, ctx));
      }
    }
    // A grant at the end of a costly ACL is still found.
    const slide = worstCases().find((w) => w.name === 'slide');
    if (slide === undefined) throw new Error('no slide case');
    expect(compileAcl([...slide.acl, '#a.b.#'], ctx).matches(slide.scope)).toBe(true);
    expect(compileAcl([...slide.acl, '#b.a.*b*.#'], ctx).matches(slide.scope)).toBe(true);
  });
});
