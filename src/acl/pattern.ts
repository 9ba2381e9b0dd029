// Parsing one ACL pattern (without its leading `!`) and matching it against a
// required access.
//
// Design (why no RegExp): a pattern like `#a#a#a...` or `a*a*a*...b` turned
// into a backtracking RegExp (`.*a.*a...`) costs O(n^k) on a non-matching
// input, which is catastrophic for k in the hundreds; V8's linear-time engine
// is not enabled by default. So patterns are matched by a small dedicated
// matcher that never backtracks:
//
//   * Runs of wildcards are collapsed at compile time: any run of `*`/`#` that
//     contains a `#` is one `#` (`#` absorbs whatever `*` could take, and both
//     may be empty); a run of `*` alone is one `*`.
//   * The pattern is cut at its `#`s into chunks: C0 # C1 # ... # Ck. Because
//     `#` matches anything, the chunks can be placed greedily: C0 is anchored
//     at the start, each middle chunk takes the match that ENDS EARLIEST at or
//     after the previous end (an exchange argument shows that any solution can
//     be moved to this one), and Ck must end at the end of the input. Each step
//     never goes back, so the whole check is one left-to-right pass.
//   * Inside a chunk (literals, `*`, and the `me` / `my_session` / `edit`
//     alternations), a Thompson NFA simulation is used (see chunk.ts): cost
//     O(scanned characters x live states), polynomial and bounded by
//     input length x pattern length, with no allocation per check.
//   * Plain literal chunks use startsWith / indexOf / endsWith directly.

import { Chunk, type ChunkPart } from './chunk.js';

/** A parsed pattern, independent of the token's auth_id / session_uuid. */
export type Token =
  | { readonly kind: 'lit'; readonly text: string }
  | { readonly kind: 'star' }
  | { readonly kind: 'hash' }
  /** whole segment `me`: also matches auth_id */
  | { readonly kind: 'me' }
  /** whole segment `my_session`: also matches session_uuid */
  | { readonly kind: 'session' }
  /** whole segment `edit`: also matches `update` (never the other way round) */
  | { readonly kind: 'edit' };

export interface Template {
  readonly tokens: readonly Token[];
  /** Contains `me` or `my_session`: depends on the token's identity. */
  readonly dynamic: boolean;
  /** The pattern is plain literal text (no wildcard, no reserved segment). */
  readonly literal: string | null;
}

export interface Matcher {
  test(access: string): boolean;
}

const STAR = 0x2a; // '*'
const HASH = 0x23; // '#'

export function parsePattern(body: string): Template {
  const tokens: Token[] = [];
  let lit = '';
  const flushLit = (): void => {
    if (lit !== '') {
      tokens.push({ kind: 'lit', text: lit });
      lit = '';
    }
  };
  const pushWildcard = (kind: 'star' | 'hash'): void => {
    flushLit();
    const last = tokens[tokens.length - 1];
    if (last !== undefined && (last.kind === 'star' || last.kind === 'hash')) {
      // Collapse a run: `#` wins over `*`.
      if (kind === 'hash' && last.kind === 'star') tokens[tokens.length - 1] = { kind: 'hash' };
      return;
    }
    tokens.push({ kind });
  };

  let dynamic = false;
  let reserved = false;
  const segments = body.split('.');
  for (let si = 0; si < segments.length; si++) {
    if (si > 0) lit += '.';
    const seg = segments[si];
    if (seg === 'me' || seg === 'my_session' || seg === 'edit') {
      flushLit();
      reserved = true;
      if (seg === 'edit') {
        tokens.push({ kind: 'edit' });
      } else {
        dynamic = true;
        tokens.push({ kind: seg === 'me' ? 'me' : 'session' });
      }
      continue;
    }
    for (let i = 0; i < seg.length; i++) {
      const c = seg.charCodeAt(i);
      if (c === STAR) pushWildcard('star');
      else if (c === HASH) pushWildcard('hash');
      else lit += seg[i];
    }
  }
  flushLit();

  let literal: string | null = null;
  if (!reserved && tokens.every((t) => t.kind === 'lit')) literal = body;
  return { tokens, dynamic, literal };
}

/** Options of an alternation, without duplicates or empty strings. */
function alternatives(word: string, value: string | null): ChunkPart {
  if (value === null || value === '' || value === word) return { kind: 'lit', text: word };
  return { kind: 'alt', options: [word, value] };
}

/** Turn a template into a matcher for one identity. */
export function bindPattern(
  template: Template,
  authId: string | null,
  sessionUuid: string | null,
): Matcher {
  if (template.literal !== null) return new LiteralMatcher(template.literal);

  // Split into chunks at `#`, resolving reserved segments.
  const chunks: ChunkPart[][] = [[]];
  let startsWithHash = false;
  let endsWithHash = false;
  const toks = template.tokens;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    const cur = chunks[chunks.length - 1];
    switch (t.kind) {
      case 'hash':
        if (i === 0) startsWithHash = true;
        if (i === toks.length - 1) endsWithHash = true;
        chunks.push([]);
        break;
      case 'lit':
        pushPart(cur, t);
        break;
      case 'star':
        cur.push(t);
        break;
      case 'me':
        pushPart(cur, alternatives('me', authId));
        break;
      case 'session':
        pushPart(cur, alternatives('my_session', sessionUuid));
        break;
      case 'edit':
        pushPart(cur, alternatives('edit', 'update'));
        break;
    }
  }
  return new GlobMatcher(chunks, startsWithHash, endsWithHash);
}

function pushPart(parts: ChunkPart[], part: ChunkPart): void {
  const last = parts[parts.length - 1];
  if (part.kind === 'lit' && last !== undefined && last.kind === 'lit') {
    parts[parts.length - 1] = { kind: 'lit', text: last.text + part.text };
  } else {
    parts.push(part);
  }
}

class LiteralMatcher implements Matcher {
  constructor(private readonly text: string) {}
  test(access: string): boolean {
    return access === this.text;
  }
}

class GlobMatcher implements Matcher {
  /** Set when the pattern has no `#`: the one chunk must match the whole input. */
  private readonly whole: Chunk | null = null;
  /** Chunk anchored at the start (pattern does not start with `#`). */
  private readonly head: Chunk | null = null;
  /** Chunks between two `#`, placed greedily. */
  private readonly middles: readonly Chunk[] = [];
  /** Chunk anchored at the end (pattern does not end with `#`). */
  private readonly tail: Chunk | null = null;
  private readonly minLength: number;

  constructor(parts: readonly ChunkPart[][], startsWithHash: boolean, endsWithHash: boolean) {
    if (parts.length === 1) {
      this.whole = new Chunk(parts[0]);
      this.minLength = this.whole.minLength;
      return;
    }
    // With k hashes there are k + 1 part lists; the first is empty iff the
    // pattern starts with `#`, the last iff it ends with `#`. Hash runs were
    // collapsed, so no other list is empty.
    let first = 0;
    let last = parts.length - 1;
    if (!startsWithHash) this.head = new Chunk(parts[first]);
    first++;
    if (!endsWithHash) this.tail = new Chunk(parts[last]);
    last--;
    const middles: Chunk[] = [];
    for (let i = first; i <= last; i++) {
      if (parts[i].length > 0) middles.push(new Chunk(parts[i]));
    }
    this.middles = middles;
    let min = 0;
    if (this.head !== null) min += this.head.minLength;
    if (this.tail !== null) min += this.tail.minLength;
    for (const m of middles) min += m.minLength;
    this.minLength = min;
  }

  test(s: string): boolean {
    if (s.length < this.minLength) return false;
    if (this.whole !== null) return this.whole.matchesWhole(s, 0);
    let p = 0;
    if (this.head !== null) {
      p = this.head.earliestEndAt(s, 0);
      if (p < 0) return false;
    }
    const middles = this.middles;
    for (let i = 0; i < middles.length; i++) {
      p = middles[i].earliestEndFrom(s, p);
      if (p < 0) return false;
    }
    return this.tail === null || this.tail.matchesSuffixFrom(s, p);
  }
}
