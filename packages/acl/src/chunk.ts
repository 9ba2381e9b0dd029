// A "chunk" is the part of a pattern between two `#` wildcards: a sequence of
// literal text, `*` wildcards and whole-segment alternations (`me` | auth_id,
// `my_session` | session_uuid, `edit` | `update`). It never contains `#`.
//
// Three representations, cheapest first:
//   * plain literal text: startsWith / indexOf / endsWith / ===;
//   * no `*` and few alternations: the (at most MAX_EXPANSIONS) literal
//     strings it can match, each handled as above;
//   * otherwise (a `*`, or many alternations) a Chain (chain.ts): the chunk
//     cut at its literal dots, matched segment by segment, never
//     backtracking, in time close to linear in the input whatever the
//     pattern (its cost does not grow with the length of literal text);
//   * when an alternation value holds a '.' or '#' (an auth_id like `a.b`,
//     which a Chain cannot align on segments), a Thompson NFA simulation (a
//     set of live states, stepped one input character at a time), never
//     backtracking: O(characters scanned x live states), live states <=
//     program size, further reduced by pruning dominated states (see
//     Nfa.prune). All buffers are allocated once at compile time and reused;
//     a run allocates nothing. Runs are synchronous and never call out, so
//     sharing the buffers is safe in JavaScript.

import { Chain } from './chain.js';

/** One element of a chunk. */
export type ChunkPart =
  | { readonly kind: 'lit'; readonly text: string }
  | { readonly kind: 'star' }
  | { readonly kind: 'alt'; readonly options: readonly string[] };

const MAX_EXPANSIONS = 16;
const NO_MATCH = -1;

export class Chunk {
  /** Length of the shortest match. */
  readonly minLength: number;
  /** Literal texts the chunk matches (no `*`, few alternatives), else null. */
  private readonly lits: readonly string[] | null;
  /** Set when the chunk is exactly one literal text. */
  private readonly lit: string | null;
  private readonly chain: Chain | null;
  private readonly nfa: Nfa | null;

  constructor(parts: readonly ChunkPart[]) {
    let expansions: string[] | null = [''];
    let min = 0;
    for (const part of parts) {
      if (part.kind === 'lit') {
        min += part.text.length;
        if (expansions !== null) expansions = expansions.map((e) => e + part.text);
      } else if (part.kind === 'star') {
        expansions = null;
      } else {
        min += Math.min(...part.options.map((o) => o.length));
        if (expansions !== null) {
          const prev: string[] = expansions;
          expansions = part.options.flatMap((o) => prev.map((e) => e + o));
          if (expansions.length > MAX_EXPANSIONS) expansions = null;
        }
      }
    }
    this.minLength = min;
    if (expansions !== null) {
      this.lits = [...new Set(expansions)];
      this.lit = this.lits.length === 1 ? this.lits[0] : null;
      this.chain = null;
      this.nfa = null;
    } else {
      this.lits = null;
      this.lit = null;
      this.chain = Chain.build(parts);
      this.nfa = this.chain === null ? new Nfa(parts) : null;
    }
  }

  /** Does the chunk match exactly `s[start..s.length)`? */
  matchesWhole(s: string, start: number): boolean {
    const lit = this.lit;
    if (lit !== null) return s.length - start === lit.length && s.startsWith(lit, start);
    const lits = this.lits;
    if (lits !== null) {
      const len = s.length - start;
      for (let k = 0; k < lits.length; k++) {
        if (lits[k].length === len && s.startsWith(lits[k], start)) return true;
      }
      return false;
    }
    const chain = this.chain;
    if (chain !== null) return s.length - start >= this.minLength && chain.run(s, start, true, true) === s.length;
    return (this.nfa as Nfa).matchesWhole(s, start);
  }

  /** Smallest end of a match starting exactly at `start`, or -1. */
  earliestEndAt(s: string, start: number): number {
    const lit = this.lit;
    if (lit !== null) return s.startsWith(lit, start) ? start + lit.length : NO_MATCH;
    const lits = this.lits;
    if (lits !== null) {
      let best = NO_MATCH;
      for (let k = 0; k < lits.length; k++) {
        const end = start + lits[k].length;
        if ((best < 0 || end < best) && s.startsWith(lits[k], start)) best = end;
      }
      return best;
    }
    const chain = this.chain;
    if (chain !== null) return s.length - start >= this.minLength ? chain.run(s, start, true, false) : NO_MATCH;
    return (this.nfa as Nfa).earliestEndAt(s, start);
  }

  /** Smallest end of a match starting anywhere at or after `from`, or -1. */
  earliestEndFrom(s: string, from: number): number {
    const lit = this.lit;
    if (lit !== null) {
      const i = s.indexOf(lit, from);
      return i < 0 ? NO_MATCH : i + lit.length;
    }
    const lits = this.lits;
    if (lits !== null) {
      // For one literal, its first occurrence also ends first.
      let best = NO_MATCH;
      for (let k = 0; k < lits.length; k++) {
        const i = s.indexOf(lits[k], from);
        if (i >= 0 && (best < 0 || i + lits[k].length < best)) best = i + lits[k].length;
      }
      return best;
    }
    const chain = this.chain;
    if (chain !== null) return s.length - from >= this.minLength ? chain.run(s, from, false, false) : NO_MATCH;
    return (this.nfa as Nfa).earliestEndFrom(s, from);
  }

  /** Is there a match starting at or after `from` and ending at the end of `s`? */
  matchesSuffixFrom(s: string, from: number): boolean {
    const lit = this.lit;
    if (lit !== null) return s.length - lit.length >= from && s.endsWith(lit);
    const lits = this.lits;
    if (lits !== null) {
      for (let k = 0; k < lits.length; k++) {
        if (s.length - lits[k].length >= from && s.endsWith(lits[k])) return true;
      }
      return false;
    }
    const chain = this.chain;
    if (chain !== null) return s.length - from >= this.minLength && chain.run(s, from, false, true) === s.length;
    return (this.nfa as Nfa).matchesSuffixFrom(s, from);
  }
}

const OP_CHAR = 0; // consume exactly a1[st], go to st + 1
const OP_STAR = 1; // consume one char other than '.' and '#', stay; or epsilon to st + 1
const OP_JMP = 2; // epsilon to a1[st]
const OP_SPLIT = 3; // epsilon to a1[st] and a2[st]
const OP_MATCH = 4; // end of the chunk

const DOT = 0x2e; // '.'
const HASH = 0x23; // '#'

class Nfa {
  /** Literal text every match starts with (prefilter; skip ahead with indexOf). */
  private readonly prefix: string;
  /** Literal text every match ends with (prefilter). */
  private readonly suffix: string;
  private readonly minLength: number;

  private readonly ops: Uint8Array;
  private readonly a1: Int32Array;
  private readonly a2: Int32Array;
  private readonly mark: Uint32Array;
  private readonly stack: Int32Array;
  private readonly listA: Int32Array;
  private readonly listB: Int32Array;
  /** Region of each state (see prune()). */
  private readonly region: Int32Array;
  private readonly regionGen: Uint32Array;
  private readonly regionMaxStar: Int32Array;
  private readonly hasStar: boolean;
  private gen = 0;
  private matched = false;

  constructor(parts: readonly ChunkPart[]) {
    let min = 0;
    for (const part of parts) {
      if (part.kind === 'lit') min += part.text.length;
      else if (part.kind === 'alt') min += Math.min(...part.options.map((o) => o.length));
    }
    this.minLength = min;
    const first = parts[0];
    const last = parts[parts.length - 1];
    // A Nfa always has a `*` or an alternation, so prefix and suffix come from
    // distinct parts and never overlap.
    this.prefix = first !== undefined && first.kind === 'lit' && parts.length > 1 ? first.text : '';
    this.suffix = last !== undefined && last.kind === 'lit' && parts.length > 1 ? last.text : '';

    const ops: number[] = [];
    const a1: number[] = [];
    const a2: number[] = [];
    const regions: number[] = [];
    // A region is a run of states with no '.' inside and no alternation: a
    // '.' closes its region, an alternation is a region of its own.
    let region = 0;
    const emit = (op: number, x = 0, y = 0): number => {
      ops.push(op);
      a1.push(x);
      a2.push(y);
      regions.push(region);
      if (op === OP_CHAR && x === DOT) region++;
      return ops.length - 1;
    };
    const emitText = (text: string): void => {
      for (let i = 0; i < text.length; i++) emit(OP_CHAR, text.charCodeAt(i));
    };
    for (const part of parts) {
      if (part.kind === 'lit') {
        emitText(part.text);
      } else if (part.kind === 'star') {
        // Consecutive stars are equivalent to one.
        if (ops.length === 0 || ops[ops.length - 1] !== OP_STAR) emit(OP_STAR);
      } else {
        // SPLIT(option 0, next SPLIT) ... the last option falls through.
        const opts = part.options;
        region++;
        const jumpsToEnd: number[] = [];
        for (let k = 0; k < opts.length; k++) {
          if (k < opts.length - 1) {
            const split = emit(OP_SPLIT);
            a1[split] = ops.length;
            emitText(opts[k]);
            jumpsToEnd.push(emit(OP_JMP));
            a2[split] = ops.length;
          } else {
            emitText(opts[k]);
          }
        }
        for (const j of jumpsToEnd) a1[j] = ops.length;
        region++;
      }
    }
    emit(OP_MATCH);

    const size = ops.length;
    this.ops = Uint8Array.from(ops);
    this.a1 = Int32Array.from(a1);
    this.a2 = Int32Array.from(a2);
    this.mark = new Uint32Array(size);
    // Every state is pushed at most once per incoming edge (<= 2 per state).
    this.stack = new Int32Array(2 * size + 2);
    this.listA = new Int32Array(size);
    this.listB = new Int32Array(size);
    this.region = Int32Array.from(regions);
    this.regionGen = new Uint32Array(region + 1);
    this.regionMaxStar = new Int32Array(region + 1);
    this.hasStar = ops.includes(OP_STAR);
  }

  matchesWhole(s: string, start: number): boolean {
    if (s.length - start < this.minLength) return false;
    if (!s.startsWith(this.prefix, start) || !s.endsWith(this.suffix)) return false;
    return this.run(s, start, false, false) === s.length;
  }

  earliestEndAt(s: string, start: number): number {
    if (s.length - start < this.minLength || !s.startsWith(this.prefix, start)) return NO_MATCH;
    return this.run(s, start, false, true);
  }

  earliestEndFrom(s: string, from: number): number {
    if (s.length - from < this.minLength) return NO_MATCH;
    return this.run(s, from, true, true);
  }

  matchesSuffixFrom(s: string, from: number): boolean {
    if (s.length - from < this.minLength || !s.endsWith(this.suffix)) return false;
    return this.run(s, from, true, false) === s.length;
  }

  /**
   * NFA simulation over s[from..]. `unanchored`: a match may start at any
   * position >= from. `earliest`: return the first position where a match
   * ends; otherwise return s.length if a match ends there. -1 when none.
   */
  private run(s: string, from: number, unanchored: boolean, earliest: boolean): number {
    const n = s.length;
    const ops = this.ops;
    const a1 = this.a1;
    const prefix = this.prefix;
    let cur = this.listA;
    let next = this.listB;
    let i = from;
    let first = 0;
    if (!unanchored) {
      // Callers checked that s starts with the prefix at `from`: the prefix's
      // states (0 .. prefix.length - 1, a straight line) are skipped.
      i += prefix.length;
      first = prefix.length;
    } else if (prefix.length > 0) {
      i = s.indexOf(prefix, i);
      if (i < 0) return NO_MATCH;
    }
    this.nextGen();
    let curLen = this.add(cur, 0, first);
    for (;;) {
      if (this.matched && (earliest || i === n)) return i;
      if (i >= n || curLen === 0) return NO_MATCH;
      const c = s.charCodeAt(i);
      this.nextGen();
      const mark = this.mark;
      const g = this.gen;
      let nextLen = 0;
      for (let k = 0; k < curLen; k++) {
        const st = cur[k];
        let to: number;
        if (ops[st] === OP_CHAR) {
          if (a1[st] !== c) continue;
          to = st + 1;
        } else {
          // OP_STAR, the only other op kept in a state list.
          if (c === DOT || c === HASH) continue;
          to = st;
        }
        if (mark[to] === g) continue;
        if (ops[to] === OP_CHAR) {
          // Fast path: a CHAR state has no epsilon moves.
          mark[to] = g;
          next[nextLen++] = to;
        } else {
          nextLen = this.add(next, nextLen, to);
        }
      }
      i++;
      if (unanchored) {
        // Start a new attempt at i; when nothing is alive, jump straight to
        // the next place the chunk's literal prefix occurs.
        if (nextLen === 0 && !this.matched && prefix.length > 0) {
          i = s.indexOf(prefix, i);
          if (i < 0) return NO_MATCH;
        }
        nextLen = this.add(next, nextLen, 0);
      }
      if (this.hasStar && nextLen > 1) nextLen = this.prune(next, nextLen);
      const t = cur;
      cur = next;
      next = t;
      curLen = nextLen;
    }
  }

  /**
   * Drop dominated states. Within a region, a live `*` state S makes every
   * live state Y before it useless: whatever Y would consume before reaching
   * S is region text (no '.', and never '#': '#' is never literal), which S's
   * own loop can consume as well, so every match from Y is also a match from
   * S. Keeping only the states at or after the last live `*` of each region
   * bounds the live set for patterns like `a*a*a*...b` to a few states.
   */
  private prune(list: Int32Array, len: number): number {
    const ops = this.ops;
    const region = this.region;
    const rGen = this.regionGen;
    const rMax = this.regionMaxStar;
    const g = this.gen;
    for (let k = 0; k < len; k++) {
      const st = list[k];
      if (ops[st] === OP_STAR) {
        const r = region[st];
        if (rGen[r] !== g || rMax[r] < st) {
          rGen[r] = g;
          rMax[r] = st;
        }
      }
    }
    let w = 0;
    for (let k = 0; k < len; k++) {
      const st = list[k];
      const r = region[st];
      if (rGen[r] === g && st < rMax[r]) continue;
      list[w++] = st;
    }
    return w;
  }

  private nextGen(): void {
    this.matched = false;
    if (this.gen === 0xffffffff) {
      this.mark.fill(0);
      this.regionGen.fill(0);
      this.gen = 0;
    }
    this.gen++;
  }

  /** Add state `st0` and its epsilon closure to `list` (deduplicated per step). */
  private add(list: Int32Array, len: number, st0: number): number {
    const ops = this.ops;
    const a1 = this.a1;
    const a2 = this.a2;
    const mark = this.mark;
    const stack = this.stack;
    const g = this.gen;
    let sp = 0;
    stack[sp++] = st0;
    while (sp > 0) {
      const st = stack[--sp];
      if (mark[st] === g) continue;
      mark[st] = g;
      switch (ops[st]) {
        case OP_CHAR:
          list[len++] = st;
          break;
        case OP_STAR:
          list[len++] = st;
          stack[sp++] = st + 1;
          break;
        case OP_JMP:
          stack[sp++] = a1[st];
          break;
        case OP_SPLIT:
          stack[sp++] = a2[st];
          stack[sp++] = a1[st];
          break;
        default: // OP_MATCH
          this.matched = true;
      }
    }
    return len;
  }
}
