// Parsing one ACL pattern (without its leading `!`) and matching it against a
// required access.
//
// Design (why no RegExp): a pattern like `#a#a#a...` or `a*a*a*...b` turned
// into a backtracking RegExp (`.*a.*a...`) costs O(n^k) on a non-matching
// input, which is catastrophic for k in the hundreds; V8's linear-time engine
// is not enabled by default. So patterns are matched by small dedicated
// matchers that never backtrack, cheapest first:
//
//   * Plain literal: `===` (and a Set lookup in index.ts).
//   * Segment-aligned (the shape of nearly every real entry: literal segments,
//     whole-segment `*`, `me` / `my_session` / `edit`, an optional final
//     `.#`): one deterministic left-to-right walk over the segments with
//     startsWith / indexOf('.'). See SegmentMatcher.
//   * Anything else (GlobMatcher):
//     - runs of wildcards are collapsed at compile time: a run of `*`/`#` that
//       contains a `#` is one `#` (`#` absorbs whatever `*` could take, and
//       both may be empty); a run of `*` alone is one `*`;
//     - the pattern is cut at its `#`s into chunks: C0 # C1 # ... # Ck.
//       Because `#` matches anything, the chunks can be placed greedily: C0
//       is anchored at the start, each middle chunk takes the match that ENDS
//       EARLIEST at or after the previous end (any solution can be moved to
//       this one: later chunks only need to start after it), and Ck must end
//       at the end of the input. No step ever goes back;
//     - a chunk is matched as literal text(s) when it has no `*`, else by a
//       Thompson NFA simulation (chunk.ts): O(scanned characters x live
//       states), bounded by input length x pattern length, no allocation.
//   So every check is polynomial, O(input length x pattern length) at worst,
//   and linear for all but contrived patterns.

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
export function bindPattern(template: Template, authId: string | null, sessionUuid: string | null): Matcher {
  if (template.literal !== null) return new LiteralMatcher(template.literal);

  // Resolve reserved segments; adjacent literal text is merged.
  const parts: (ChunkPart | { readonly kind: 'hash' })[] = [];
  for (const t of template.tokens) {
    switch (t.kind) {
      case 'hash':
      case 'star':
        parts.push(t);
        break;
      case 'lit':
        pushPart(parts, t);
        break;
      case 'me':
        pushPart(parts, alternatives('me', authId));
        break;
      case 'session':
        pushPart(parts, alternatives('my_session', sessionUuid));
        break;
      case 'edit':
        pushPart(parts, alternatives('edit', 'update'));
        break;
    }
  }

  // Split into chunks at `#`.
  const chunks: ChunkPart[][] = [[]];
  for (const part of parts) {
    if (part.kind === 'hash') chunks.push([]);
    else chunks[chunks.length - 1].push(part);
  }
  const startsWithHash = parts[0]?.kind === 'hash';
  const endsWithHash = parts[parts.length - 1]?.kind === 'hash';
  const glob = (): GlobMatcher => new GlobMatcher(chunks, startsWithHash, endsWithHash);

  return segmentAligned(parts) ? new SegmentMatcher(parts as SegmentPart[], glob) : glob();
}

type SegmentPart = ChunkPart | { readonly kind: 'hash' };

/**
 * The common shape of real ACL entries (`confd.users.me.read`,
 * `auth.users.*.tokens.#`): every `*` and alternation is a whole segment,
 * alternatives contain no '.', and the only `#` is a final whole segment
 * (`.#`). Such a pattern is matched by walking the segments.
 */
function segmentAligned(parts: readonly SegmentPart[]): boolean {
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const prev = parts[i - 1];
    const next = parts[i + 1];
    const dotBefore = prev === undefined || (prev.kind === 'lit' && prev.text.endsWith('.'));
    const dotAfter = next === undefined || (next.kind === 'lit' && next.text.startsWith('.'));
    if (p.kind === 'hash') {
      if (i !== parts.length - 1 || prev === undefined || !dotBefore) return false;
    } else if (p.kind === 'star') {
      if (!dotBefore || !dotAfter) return false;
    } else if (p.kind === 'alt') {
      // Always a whole segment by construction.
      if (p.options.some((o) => o.includes('.'))) return false;
    }
  }
  return true;
}

function pushPart(parts: SegmentPart[], part: ChunkPart): void {
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

const DOT_CHAR = '.';
const HASH_CHAR = '#';

/**
 * Segment walk for segment-aligned patterns (see segmentAligned()): literal
 * text with startsWith, a `*` segment skips to the next '.', an alternation
 * must equal the current segment. Deterministic, one pass, no allocation.
 * A `*` must not take a '#', so an access containing '#' (never the case in
 * practice) goes to the general matcher when the pattern has a `*`.
 */
class SegmentMatcher implements Matcher {
  private readonly kinds: Uint8Array; // 0 literal, 1 star, 2 alternation
  private readonly texts: readonly string[];
  private readonly options: readonly (readonly string[])[];
  private readonly trailingHash: boolean;
  private readonly hasStar: boolean;
  private readonly minLength: number;
  private fallback: Matcher | null = null;

  constructor(
    parts: readonly SegmentPart[],
    private readonly makeFallback: () => Matcher,
  ) {
    const body = parts[parts.length - 1]?.kind === 'hash' ? parts.slice(0, -1) : parts;
    this.trailingHash = body.length !== parts.length;
    this.kinds = Uint8Array.from(body, (p) => (p.kind === 'lit' ? 0 : p.kind === 'star' ? 1 : 2));
    this.texts = body.map((p) => (p.kind === 'lit' ? p.text : ''));
    this.options = body.map((p) => (p.kind === 'alt' ? p.options : []));
    this.hasStar = body.some((p) => p.kind === 'star');
    let min = 0;
    for (const p of body) {
      if (p.kind === 'lit') min += p.text.length;
      else if (p.kind === 'alt') min += Math.min(...p.options.map((o) => o.length));
    }
    this.minLength = min;
  }

  test(s: string): boolean {
    const n = s.length;
    if (n < this.minLength) return false;
    if (this.hasStar && s.includes(HASH_CHAR)) {
      if (this.fallback === null) this.fallback = this.makeFallback();
      return this.fallback.test(s);
    }
    const kinds = this.kinds;
    let pos = 0;
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[k];
      if (kind === 0) {
        const text = this.texts[k];
        if (!s.startsWith(text, pos)) return false;
        pos += text.length;
      } else {
        let end = s.indexOf(DOT_CHAR, pos);
        if (end < 0) end = n;
        if (kind === 2) {
          const opts = this.options[k];
          const len = end - pos;
          let ok = false;
          for (let o = 0; o < opts.length; o++) {
            if (opts[o].length === len && s.startsWith(opts[o], pos)) {
              ok = true;
              break;
            }
          }
          if (!ok) return false;
        }
        pos = end;
      }
    }
    return this.trailingHash || pos === n;
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
