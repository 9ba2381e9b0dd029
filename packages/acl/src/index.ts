// ACL matching (API.md section 2). Pure and dependency-free: nothing here
// imports from outside this package.
//
// Semantics, as in wazo-auth's AccessCheck:
//   1. No required access (undefined or null) -> allowed. The empty string is
//      NOT "no required access": as in wazo-auth (`?scope=`), '' is a literal
//      required access, granted only by a pattern that matches the empty
//      string (`#`, `*`, or an empty entry). A non-string value (untyped
//      callers only) is denied.
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
// Performance: compileAcl() parses every pattern once (parsed patterns are
// also shared across ACLs through a bounded cache). Plain literal patterns go
// into a Set (one hash lookup per check); the others get a non-backtracking
// matcher (see pattern.ts / chunk.ts) and are bucketed by their first segment
// when it is literal (`confd.users.*.read` is only tried on `confd.` accesses),
// so a check tests only the few patterns that can match and allocates
// nothing. Patterns using `me` / `my_session` are bound to an identity; the
// binding lives on the CompiledAcl and is rebuilt only when matches() is
// called with a different auth_id / session_uuid (a CompiledAcl normally
// belongs to one token, so that happens at most once).

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

interface PatternInfo {
  readonly template: Template;
  /** Matcher when the pattern does not depend on the identity, else null. */
  readonly matcher: Matcher | null;
  /** segmentKey() of the pattern's first segment when it is plain literal text followed by '.', else null. */
  readonly key: number | null;
}

// Parsed patterns are shared by every CompiledAcl (users mostly share their
// policies). Matchers are immutable apart from scratch buffers used only
// during one synchronous test() call, so sharing them is safe. Bounded in
// entries and pattern length, with oldest-first eviction.
const PATTERN_CACHE_MAX = 4096;
/** Longer (unusual) patterns are not cached, to keep the cache small. */
const PATTERN_CACHE_MAX_LENGTH = 512;
const patternCache = new Map<string, PatternInfo>();

function patternInfo(body: string): PatternInfo {
  let info = patternCache.get(body);
  if (info === undefined) {
    const template = parsePattern(body);
    info = {
      template,
      matcher: template.dynamic ? null : bindPattern(template, null, null),
      key: literalFirstSegmentKey(body, template),
    };
    if (body.length <= PATTERN_CACHE_MAX_LENGTH) {
      if (patternCache.size >= PATTERN_CACHE_MAX) {
        const oldest = patternCache.keys().next();
        if (oldest.done !== true) patternCache.delete(oldest.value);
      }
      patternCache.set(body, info);
    }
  }
  return info;
}

/** No access can have this key: segmentKey() values are 32-bit integers. */
const NO_KEY = 2 ** 32;

/**
 * Hash of the first segment of `s` (the text before the first '.'), or NO_KEY
 * when `s` has no '.'. Computed without allocating.
 */
function segmentKey(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) return h;
    h = (Math.imul(h, 31) + c) | 0;
  }
  return NO_KEY;
}

function literalFirstSegmentKey(body: string, template: Template): number | null {
  const first = template.tokens[0];
  // The first token is literal text running past the first '.': the first
  // segment is then plain text, and the pattern can only match accesses with
  // exactly that first segment.
  if (first === undefined || first.kind !== 'lit' || !first.text.includes('.')) return null;
  return segmentKey(body);
}

interface Entry {
  /** The ACL entry as written (with `!` when negative). */
  readonly source: string;
  readonly negative: boolean;
  readonly info: PatternInfo;
}

/** Entry indices to test, split by first-segment key. */
class Bucketed {
  readonly byKey = new Map<number, number[]>();
  readonly any: number[] = [];
  add(key: number | null, index: number): void {
    if (key === null) {
      this.any.push(index);
    } else {
      const list = this.byKey.get(key);
      if (list === undefined) this.byKey.set(key, [index]);
      else list.push(index);
    }
  }
}

const NONE: AclExplanation = Object.freeze({ allowed: false, pattern: null });
const NOTHING_REQUIRED: AclExplanation = Object.freeze({ allowed: true, pattern: null });

function normId(v: string | null | undefined): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function anyMatch(matchers: readonly Matcher[], indices: readonly number[] | undefined, s: string): boolean {
  if (indices === undefined) return false;
  for (let i = 0; i < indices.length; i++) if (matchers[indices[i]].test(s)) return true;
  return false;
}

class CompiledAclImpl implements CompiledAcl {
  readonly acl: readonly string[];

  private readonly entries: readonly Entry[];
  private readonly negLiterals = new Set<string>();
  private readonly posLiterals = new Set<string>();
  private readonly neg = new Bucketed();
  private readonly pos = new Bucketed();
  /** Matcher of every entry, by index; identity-dependent ones are rebound. */
  private readonly matchers: Matcher[] = [];
  /** Indices of identity-dependent entries. */
  private readonly dynamic: number[] = [];

  private readonly defaultAuthId: string | null;
  private readonly defaultSessionUuid: string | null;
  private boundAuthId: string | null = null;
  private boundSessionUuid: string | null = null;

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
      const info = patternInfo(negative ? source.slice(1) : source);
      const index = entries.length;
      entries.push({ source, negative, info });
      if (info.matcher === null) {
        this.dynamic.push(index);
        this.matchers.push(bindPattern(info.template, this.defaultAuthId, this.defaultSessionUuid));
      } else {
        this.matchers.push(info.matcher);
      }
      if (info.template.literal !== null) {
        (negative ? this.negLiterals : this.posLiterals).add(info.template.literal);
      } else {
        (negative ? this.neg : this.pos).add(info.key, index);
      }
    }
    this.entries = entries;
    this.boundAuthId = this.defaultAuthId;
    this.boundSessionUuid = this.defaultSessionUuid;
  }

  matches(requiredAccess: string | null | undefined, ctx?: AclContext): boolean {
    if (requiredAccess === undefined || requiredAccess === null) return true;
    // Defensive, for untyped callers: a non-string access is never granted.
    if (typeof requiredAccess !== 'string') return false;
    const s = requiredAccess;
    if (this.dynamic.length > 0) this.bindFor(ctx);
    const matchers = this.matchers;
    const key = segmentKey(s);

    if (this.negLiterals.has(s)) return false;
    const neg = this.neg;
    if (anyMatch(matchers, neg.byKey.get(key), s) || anyMatch(matchers, neg.any, s)) return false;

    if (this.posLiterals.has(s)) return true;
    const pos = this.pos;
    return anyMatch(matchers, pos.byKey.get(key), s) || anyMatch(matchers, pos.any, s);
  }

  explain(requiredAccess: string | null | undefined, ctx?: AclContext): AclExplanation {
    if (requiredAccess === undefined || requiredAccess === null) {
      return NOTHING_REQUIRED;
    }
    if (typeof requiredAccess !== 'string') return NONE;
    if (this.dynamic.length > 0) this.bindFor(ctx);
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) {
      if (entries[i].negative && this.matchers[i].test(requiredAccess)) {
        return { allowed: false, pattern: entries[i].source };
      }
    }
    for (let i = 0; i < entries.length; i++) {
      if (!entries[i].negative && this.matchers[i].test(requiredAccess)) {
        return { allowed: true, pattern: entries[i].source };
      }
    }
    return NONE;
  }

  /** Make the identity-dependent matchers match `ctx` (or the default identity). */
  private bindFor(ctx: AclContext | undefined): void {
    let authId: string | null;
    let sessionUuid: string | null;
    if (ctx === undefined) {
      authId = this.defaultAuthId;
      sessionUuid = this.defaultSessionUuid;
    } else {
      authId = normId(ctx.authId);
      sessionUuid = normId(ctx.sessionUuid);
    }
    if (authId === this.boundAuthId && sessionUuid === this.boundSessionUuid) return;
    for (const i of this.dynamic) {
      this.matchers[i] = bindPattern(this.entries[i].info.template, authId, sessionUuid);
    }
    this.boundAuthId = authId;
    this.boundSessionUuid = sessionUuid;
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
export function hasAccess(acl: readonly string[], requiredAccess: string | null | undefined, ctx?: AclContext): boolean {
  return new CompiledAclImpl(acl, ctx).matches(requiredAccess);
}

/**
 * One-off explanation: whether `requiredAccess` is granted and by which
 * pattern (the first matching negative pattern in ACL order when denied by
 * one, else the first matching positive pattern; null when nothing matched or
 * no access was required).
 */
export function explain(acl: readonly string[], requiredAccess: string | null | undefined, ctx?: AclContext): AclExplanation {
  return new CompiledAclImpl(acl, ctx).explain(requiredAccess);
}
