// ACL matching (API.md section 2). Pure and dependency-free: nothing here
// imports from outside src/acl.
//
// Semantics, as in wazo-auth's AccessCheck:
//   1. No required access (undefined, null, or '') -> allowed. The empty string
//      is treated as "no required access" too (wazo-auth would match '' against
//      the patterns; here '' never names an access, so it is "none"). A
//      non-string value (untyped callers only) is denied.
//   2. Any matching negative pattern (`!` prefix, one `!` stripped) -> denied,
//      whatever the order of the list.
//   3. Else any matching positive pattern -> allowed; else denied.
// Pattern syntax: every character is literal except `*` (zero or more
// characters other than `.` and `#`, so it stays inside a segment) and `#`
// (zero or more characters of any kind, dots and newlines included). A whole
// dot-separated segment `me` also matches the token's auth_id, `my_session`
// its session_uuid, and `edit` also matches `update` (one way only: a pattern
// segment `update` does not grant `edit`). The pattern must match the whole
// required access, which is compared as is (a trailing "\n" or "\0" makes it a
// different access; a leading `!` in a required access is plain text).
// An auth_id / session_uuid that is null, undefined or '' is "unknown": `me`
// and `my_session` then only match themselves literally.
//
// Performance: compileAcl() parses every pattern once. Plain literal patterns
// go into a Set (one hash lookup per check); the others get a non-backtracking
// matcher (see pattern.ts / chunk.ts) with preallocated buffers, so a check
// allocates nothing. Patterns using `me` / `my_session` are bound to an
// identity; the binding is cached on the CompiledAcl and rebuilt only when
// matches() is called with a different auth_id / session_uuid (a CompiledAcl
// normally belongs to one token, so that happens at most once).

import { bindPattern, parsePattern, type Matcher, type Template } from './pattern.js';

/** The identity that `me` and `my_session` stand for. */
export interface AclContext {
  readonly authId?: string | null;
  readonly sessionUuid?: string | null;
}

export interface AclExplanation {
  readonly allowed: boolean;
  /**
   * The pattern that decided, as written in the ACL (with its `!` for a
   * negative one); null when no pattern matched or no access was required.
   */
  readonly pattern: string | null;
}

export interface CompiledAcl {
  /** The patterns, as given. */
  readonly acl: readonly string[];
  /**
   * Is `requiredAccess` granted? `ctx` gives the identity for `me` /
   * `my_session`; when omitted, the identity given to compileAcl() is used.
   */
  matches(requiredAccess: string | null | undefined, ctx?: AclContext): boolean;
  /** Same decision as matches(), plus the pattern that made it. */
  explain(requiredAccess: string | null | undefined, ctx?: AclContext): AclExplanation;
}

interface Entry {
  /** The ACL entry as written (with `!` when negative). */
  readonly source: string;
  readonly negative: boolean;
  /** Matcher for an identity-independent pattern, else null. */
  readonly fixed: Matcher | null;
  /** Index into the identity-bound matchers, else -1. */
  readonly slot: number;
}

const NONE: AclExplanation = Object.freeze({ allowed: false, pattern: null });
const NOTHING_REQUIRED: AclExplanation = Object.freeze({ allowed: true, pattern: null });

function normId(v: string | null | undefined): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

class CompiledAclImpl implements CompiledAcl {
  readonly acl: readonly string[];

  private readonly entries: readonly Entry[];
  private readonly negLiterals = new Set<string>();
  private readonly posLiterals = new Set<string>();
  private readonly negFixed: Matcher[] = [];
  private readonly posFixed: Matcher[] = [];

  // Identity-dependent patterns.
  private readonly templates: Template[] = [];
  private readonly negSlots: number[] = [];
  private readonly posSlots: number[] = [];
  private readonly defaultAuthId: string | null;
  private readonly defaultSessionUuid: string | null;
  private bound: Matcher[] = [];
  private boundAuthId: string | null = null;
  private boundSessionUuid: string | null = null;
  private isBound = false;

  constructor(acl: readonly string[], ctx: AclContext | undefined) {
    this.acl = Object.freeze([...acl]);
    this.defaultAuthId = normId(ctx?.authId);
    this.defaultSessionUuid = normId(ctx?.sessionUuid);

    const entries: Entry[] = [];
    const seen = new Set<string>();
    for (const source of acl) {
      if (typeof source !== 'string' || seen.has(source)) continue;
      seen.add(source);
      const negative = source.startsWith('!');
      const template = parsePattern(negative ? source.slice(1) : source);
      if (template.dynamic) {
        const slot = this.templates.length;
        this.templates.push(template);
        (negative ? this.negSlots : this.posSlots).push(slot);
        entries.push({ source, negative, fixed: null, slot });
      } else {
        const matcher = bindPattern(template, null, null);
        if (template.literal !== null) {
          (negative ? this.negLiterals : this.posLiterals).add(template.literal);
        } else {
          (negative ? this.negFixed : this.posFixed).push(matcher);
        }
        entries.push({ source, negative, fixed: matcher, slot: -1 });
      }
    }
    this.entries = entries;
    if (this.templates.length > 0) this.bind(this.defaultAuthId, this.defaultSessionUuid);
  }

  matches(requiredAccess: string | null | undefined, ctx?: AclContext): boolean {
    if (requiredAccess === undefined || requiredAccess === null || requiredAccess === '') return true;
    // Defensive, for untyped callers: a non-string access is never granted.
    if (typeof requiredAccess !== 'string') return false;
    const access = requiredAccess;
    const bound = this.templates.length > 0 ? this.boundFor(ctx) : this.bound;

    if (this.negLiterals.has(access)) return false;
    const negFixed = this.negFixed;
    for (let i = 0; i < negFixed.length; i++) if (negFixed[i].test(access)) return false;
    const negSlots = this.negSlots;
    for (let i = 0; i < negSlots.length; i++) if (bound[negSlots[i]].test(access)) return false;

    if (this.posLiterals.has(access)) return true;
    const posFixed = this.posFixed;
    for (let i = 0; i < posFixed.length; i++) if (posFixed[i].test(access)) return true;
    const posSlots = this.posSlots;
    for (let i = 0; i < posSlots.length; i++) if (bound[posSlots[i]].test(access)) return true;
    return false;
  }

  explain(requiredAccess: string | null | undefined, ctx?: AclContext): AclExplanation {
    if (requiredAccess === undefined || requiredAccess === null || requiredAccess === '') {
      return NOTHING_REQUIRED;
    }
    if (typeof requiredAccess !== 'string') return NONE;
    const bound = this.templates.length > 0 ? this.boundFor(ctx) : this.bound;
    const test = (e: Entry): boolean =>
      (e.fixed !== null ? e.fixed : bound[e.slot]).test(requiredAccess);
    for (const e of this.entries) {
      if (e.negative && test(e)) return { allowed: false, pattern: e.source };
    }
    for (const e of this.entries) {
      if (!e.negative && test(e)) return { allowed: true, pattern: e.source };
    }
    return NONE;
  }

  private boundFor(ctx: AclContext | undefined): Matcher[] {
    let authId: string | null;
    let sessionUuid: string | null;
    if (ctx === undefined) {
      authId = this.defaultAuthId;
      sessionUuid = this.defaultSessionUuid;
    } else {
      authId = normId(ctx.authId);
      sessionUuid = normId(ctx.sessionUuid);
    }
    if (!this.isBound || authId !== this.boundAuthId || sessionUuid !== this.boundSessionUuid) {
      this.bind(authId, sessionUuid);
    }
    return this.bound;
  }

  private bind(authId: string | null, sessionUuid: string | null): void {
    this.bound = this.templates.map((t) => bindPattern(t, authId, sessionUuid));
    this.boundAuthId = authId;
    this.boundSessionUuid = sessionUuid;
    this.isBound = true;
  }
}

/**
 * Compile a token's ACL once; then call matches() for every check.
 * `ctx` (optional) is the default identity for `me` / `my_session`, used by
 * matches() / explain() calls that pass no ctx of their own.
 */
export function compileAcl(acl: readonly string[], ctx?: AclContext): CompiledAcl {
  return new CompiledAclImpl(acl, ctx);
}

/** One-off check (compiles the ACL each time: for cold paths). */
export function hasAccess(
  acl: readonly string[],
  requiredAccess: string | null | undefined,
  ctx?: AclContext,
): boolean {
  return new CompiledAclImpl(acl, ctx).matches(requiredAccess);
}

/**
 * One-off explanation: whether `requiredAccess` is granted and by which
 * pattern (the first matching negative pattern in ACL order when denied by
 * one, else the first matching positive pattern; null when nothing matched or
 * no access was required).
 */
export function explain(
  acl: readonly string[],
  requiredAccess: string | null | undefined,
  ctx?: AclContext,
): AclExplanation {
  return new CompiledAclImpl(acl, ctx).explain(requiredAccess);
}
