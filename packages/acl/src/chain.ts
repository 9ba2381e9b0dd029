// Matching a chunk (see chunk.ts) with `*` wildcards or many alternations
// segment by segment, in time close to linear in the input.
//
// Why: a `*` never matches '.' or '#', and a chunk never contains `#`, so
// every '.' of the input inside a match is matched by a literal '.' of the
// chunk. Cut at its literal dots, a chunk is a sequence of dot-free REGIONS,
// and a match maps region i to input segment k + i (segments: the text
// between two '.' or '#'). Consecutive literal regions are joined back (with
// their dots) into one RUN of literal text, so a chunk is a chain of
// elements, each of which is
//   * a RUN: literal text, also holding the '.' that joins it to each
//     neighbour, found with indexOf (native, fast);
//   * a GLOB: one region with `*` (e.g. `a*b*c`), which must match one whole
//     segment (a suffix of one for the first element, a prefix of one for the
//     last when the match may end anywhere): greedy within the segment, since
//     a `*` there is unconstrained;
//   * an ALT: one region that is a whole-segment alternation (`me` | auth_id,
//     `my_session` | session_uuid, `edit` | `update`).
// Consecutive elements are rigidly joined (the next starts right after the
// previous one's end, or after the one '.' between two non-RUN elements).
//
// When the match must start at a given place (the chunk opens the pattern)
// or end at the end of the input (it closes it), the rigid chain has one
// placement, checked in one walk. Otherwise (a chunk between two `#`) the
// valid placements of the elements form a lattice (the component-wise
// minimum of two matches is a match: every element's end is a monotone
// function of its start), so the earliest-ending match is found by raising
// per-element lower bounds, never lowering them ("leapfrog"): place element j
// at its first valid position at or after its bound; if that does not join
// with element j - 1, raise j - 1's bound to the least start that could and
// go back one element. Every bound only grows, every placement strictly
// advances an element, and searches resume where the last one stopped, so a
// check scans the input a bounded number of times per element and never
// backtracks; rounds that only repeat on a periodic input are skipped
// (slide()). A chunk whose alternation values contain '.' or '#' (an auth_id
// like `a.b`) is left to the NFA of chunk.ts.

import type { ChunkPart } from './chunk.js';

const DOT = 0x2e; // '.'
const HASH = 0x23; // '#'

/** Rounds of the first element before the first look for a periodic slide (then doubling). */
const SLIDE_PROBE_AFTER = 4;

const RUN = 0;
const GLOB = 1;
const ALT = 2;

/**
 * For the input string being matched: next[i] = first index >= i holding '.'
 * or '#' (or n), prev[i] = last such index < i (or -1). Built once per
 * distinct input and shared by every chain (runs are synchronous and never
 * call out, so one shared instance is safe in JavaScript).
 */
class DirtyIndex {
  s: string | null = null;
  next = new Int32Array(0);
  prev = new Int32Array(0);

  prepare(s: string): void {
    if (s === this.s) return;
    const n = s.length;
    if (this.next.length < n + 1) {
      this.next = new Int32Array(n + 1);
      this.prev = new Int32Array(n + 1);
    }
    const next = this.next;
    const prev = this.prev;
    let last = -1;
    for (let i = 0; i < n; i++) {
      prev[i] = last;
      const c = s.charCodeAt(i);
      if (c === DOT || c === HASH) last = i;
    }
    prev[n] = last;
    let nx = n;
    next[n] = n;
    for (let i = n - 1; i >= 0; i--) {
      const c = s.charCodeAt(i);
      if (c === DOT || c === HASH) nx = i;
      next[i] = nx;
    }
    this.s = s;
  }
}

const index = new DirtyIndex();

/** A dot-free region with at least one `*`: [*] P0 * P1 * ... * Pk [*]. */
interface Glob {
  readonly lead: boolean;
  readonly pieces: readonly string[];
  readonly trail: boolean;
  readonly minLength: number;
}

interface Element {
  readonly kind: number;
  /** RUN: its text (with the joining dots). */
  readonly text: string;
  /** RUN: the smallest period of its text (its length when it has none). */
  readonly period: number;
  readonly glob: Glob | null;
  /** ALT: the options (dot-free, '#'-free, non-empty, distinct). */
  readonly options: readonly string[];
}

type Region = { kind: 'lit'; text: string } | { kind: 'glob'; glob: Glob } | { kind: 'alt'; options: readonly string[] };

export class Chain {
  private readonly elems: readonly Element[];
  /** 1 when element j and j - 1 are both non-RUN (one '.' between them, held by neither). */
  private readonly gap: Int32Array;
  private readonly lb: Int32Array;
  private readonly pos: Int32Array;
  private readonly end: Int32Array;
  /** Last occurrence found of each RUN in this run (-1: none yet). */
  private readonly occ: Int32Array;
  /** Failure hint of the last glob test: the next segment worth trying contains this index (> n: none). */
  private skip = 0;

  private constructor(elems: Element[]) {
    this.elems = elems;
    const m = elems.length;
    this.gap = new Int32Array(m);
    for (let j = 1; j < m; j++) this.gap[j] = elems[j].kind !== RUN && elems[j - 1].kind !== RUN ? 1 : 0;
    this.lb = new Int32Array(m);
    this.pos = new Int32Array(m);
    this.end = new Int32Array(m);
    this.occ = new Int32Array(m);
  }

  /** A chain for these chunk parts, or null when the NFA must handle them. */
  static build(parts: readonly ChunkPart[]): Chain | null {
    // Regions: split the parts at every literal '.'.
    const regions: Region[] = [];
    let cur: ChunkPart[] = [];
    const close = (): boolean => {
      let text = '';
      let stars = false;
      let alt: readonly string[] | null = null;
      for (const p of cur) {
        if (p.kind === 'alt') alt = p.options;
        else if (p.kind === 'star') stars = true;
        else text += p.text;
      }
      if (alt !== null) {
        // An alternation is a whole segment; its options must not hold a '.'
        // or '#' (they would cross segments).
        if (cur.length !== 1) return false;
        if (alt.some((o) => o === '' || o.includes('.') || o.includes('#'))) return false;
        regions.push({ kind: 'alt', options: [...new Set(alt)] });
      } else if (stars) {
        const pieces: string[] = [];
        let piece = '';
        let lead = false;
        let trail = false;
        for (let i = 0; i < cur.length; i++) {
          const p = cur[i];
          if (p.kind === 'star') {
            if (i === 0) lead = true;
            if (i === cur.length - 1) trail = true;
            if (piece !== '') pieces.push(piece);
            piece = '';
          } else if (p.kind === 'lit') {
            piece += p.text;
          }
        }
        if (piece !== '') pieces.push(piece);
        const minLength = pieces.reduce((a, p) => a + p.length, 0);
        regions.push({ kind: 'glob', glob: { lead, pieces, trail, minLength } });
      } else {
        regions.push({ kind: 'lit', text });
      }
      cur = [];
      return true;
    };
    for (const part of parts) {
      if (part.kind !== 'lit') {
        cur.push(part);
        continue;
      }
      const bits = part.text.split('.');
      for (let b = 0; b < bits.length; b++) {
        if (b > 0 && !close()) return null;
        if (bits[b] !== '') cur.push({ kind: 'lit', text: bits[b] });
      }
    }
    if (!close()) return null;

    // Elements: consecutive literal regions form one RUN.
    const raw: { kind: number; text: string; period: number; glob: Glob | null; options: readonly string[] }[] = [];
    for (const r of regions) {
      const prev = raw[raw.length - 1];
      if (r.kind === 'lit') {
        if (prev !== undefined && prev.kind === RUN) prev.text += '.' + r.text;
        else raw.push({ kind: RUN, text: r.text, period: 0, glob: null, options: [] });
      } else if (r.kind === 'glob') {
        raw.push({ kind: GLOB, text: '', period: 0, glob: r.glob, options: [] });
      } else {
        raw.push({ kind: ALT, text: '', period: 0, glob: null, options: r.options });
      }
    }
    // A chain of one RUN is plain text, one ALT a few literals: chunk.ts has
    // cheaper paths for those.
    if (raw.length === 1 && raw[0].kind !== GLOB) return null;
    // A RUN holds the '.' joining it to each neighbour.
    for (let j = 0; j < raw.length; j++) {
      if (raw[j].kind !== RUN) continue;
      if (j > 0) raw[j].text = '.' + raw[j].text;
      if (j < raw.length - 1) raw[j].text += '.';
      raw[j].period = smallestPeriod(raw[j].text);
    }
    return new Chain(raw);
  }

  // ---- region tests on a clean window (no '.' or '#' inside) -------------

  /** Does the glob match exactly s[a..e)? */
  private globWhole(s: string, g: Glob, a: number, e: number): boolean {
    this.skip = e;
    if (e - a < g.minLength) return false;
    const P = g.pieces;
    const k = P.length;
    if (k === 0) return true;
    let p = a;
    let i = 0;
    if (!g.lead) {
      if (!s.startsWith(P[0], a)) return false;
      p = a + P[0].length;
      i = 1;
    }
    return this.globTail(s, g, p, e, i);
  }

  /** Pieces i.. (preceded by a `*`) match s[p..e) exactly. */
  private globTail(s: string, g: Glob, p: number, e: number, i: number): boolean {
    const P = g.pieces;
    let k = P.length;
    let lim = e;
    if (!g.trail && i < k) {
      const t = e - P[k - 1].length;
      if (t < p || !s.startsWith(P[k - 1], t)) return false;
      lim = t;
      k--;
    }
    for (; i < k; i++) {
      const q = s.indexOf(P[i], p);
      if (q < 0) {
        this.skip = s.length + 1;
        return false;
      }
      if (q + P[i].length > lim) {
        this.skip = q;
        return false;
      }
      p = q + P[i].length;
    }
    return true;
  }

  /** Earliest end of a glob match of a prefix of s[a..e) (starting at a), or -1. */
  private globPrefix(s: string, g: Glob, a: number, e: number): number {
    this.skip = e;
    if (e - a < g.minLength) return -1;
    const P = g.pieces;
    let p = a;
    let i = 0;
    if (!g.lead && P.length > 0) {
      if (!s.startsWith(P[0], a)) return -1;
      p = a + P[0].length;
      i = 1;
    }
    return this.greedy(s, P, p, e, i);
  }

  /** Earliest end of a glob match inside s[lo..e) (starting anywhere), or -1. */
  private globInfix(s: string, g: Glob, lo: number, e: number): number {
    this.skip = e;
    if (e - lo < g.minLength) return -1;
    return this.greedy(s, g.pieces, lo, e, 0);
  }

  /** Is there a glob match of s[y..e) for some y >= lo? */
  private globSuffix(s: string, g: Glob, lo: number, e: number): boolean {
    this.skip = e;
    if (e - lo < g.minLength) return false;
    const P = g.pieces;
    if (P.length === 0) return true;
    if (g.lead) return this.globTail(s, g, lo, e, 0);
    // The first piece starts the match: its first occurrence leaves the most
    // room to the rest, which begins with a `*`.
    const q = s.indexOf(P[0], lo);
    if (q < 0) {
      this.skip = s.length + 1;
      return false;
    }
    if (q + P[0].length > e) {
      this.skip = q;
      return false;
    }
    return this.globTail(s, g, q + P[0].length, e, 1);
  }

  /** Place pieces i.. greedily from p within [.., e); the end, or -1. */
  private greedy(s: string, P: readonly string[], p: number, e: number, i: number): number {
    for (; i < P.length; i++) {
      const q = s.indexOf(P[i], p);
      if (q < 0) {
        this.skip = s.length + 1;
        return -1;
      }
      if (q + P[i].length > e) {
        this.skip = q;
        return -1;
      }
      p = q + P[i].length;
    }
    return p;
  }

  private altWhole(s: string, options: readonly string[], a: number, e: number): boolean {
    for (let k = 0; k < options.length; k++) {
      if (options[k].length === e - a && s.startsWith(options[k], a)) return true;
    }
    return false;
  }

  private altPrefix(s: string, options: readonly string[], a: number): number {
    let best = -1;
    for (let k = 0; k < options.length; k++) {
      const end = a + options[k].length;
      if ((best < 0 || end < best) && s.startsWith(options[k], a)) best = end;
    }
    return best;
  }

  private altSuffix(s: string, options: readonly string[], lo: number, e: number): boolean {
    for (let k = 0; k < options.length; k++) {
      const y = e - options[k].length;
      if (y >= lo && s.startsWith(options[k], y)) return true;
    }
    return false;
  }

  // ---- the chain ----------------------------------------------------------

  /**
   * `anchored`: the match starts exactly at `from` (else anywhere at or
   * after it). `mustEnd`: it ends at s.length (else: the earliest end).
   * Returns the end of the match, or -1.
   */
  run(s: string, from: number, anchored: boolean, mustEnd: boolean): number {
    index.prepare(s);
    const elems = this.elems;
    const m = elems.length;
    if (m === 1) return this.single(s, elems[0].glob as Glob, from, anchored, mustEnd);
    // With one end fixed, a rigid chain has one placement: walk it.
    if (anchored) return this.walkFrom(s, from, mustEnd);
    if (mustEnd) return this.walkBack(s, from);
    const lb = this.lb;
    const pos = this.pos;
    const end = this.end;
    const gap = this.gap;
    const occ = this.occ;
    for (let k = 0; k < m; k++) {
      lb[k] = 0;
      pos[k] = -1;
      occ[k] = -1;
    }
    lb[0] = from;
    const last = m - 1;
    // Unanchored, earliest end: the leapfrog (and its periodicity skips, slide()).
    let rounds = 0;
    let nextProbe = SLIDE_PROBE_AFTER;
    let j = 0;
    for (;;) {
      if (pos[j] < lb[j]) {
        const p = this.place(s, j, lb[j], from, false, false);
        if (p < 0) return -1;
        pos[j] = p;
        lb[j] = p;
        if (j === 0 && ++rounds >= nextProbe) {
          nextProbe *= 2;
          const skipTo = this.slide(s, p);
          if (skipTo < 0) return -1;
          if (skipTo > pos[0]) {
            lb[0] = skipTo;
            continue;
          }
        }
      }
      if (j > 0) {
        const want = end[j - 1] + gap[j];
        if (pos[j] !== want) {
          // pos[j] > want: element j - 1 must end at pos[j] - gap[j].
          lb[j - 1] = this.leastStartEndingAtOrAfter(j - 1, pos[j] - gap[j]);
          j--;
          continue;
        }
      }
      if (j === last) return end[j];
      j++;
      const need = end[j - 1] + gap[j];
      if (lb[j] < need) lb[j] = need;
    }
  }

  /**
   * The leapfrog can "slide": on a periodic input (`a.b.a.b...`), two
   * neighbours that never line up (a RUN always followed by an `a` segment, a
   * GLOB wanting a `b` one) make the first element advance by one period per
   * round, O(input / period) rounds. Every round is a function of a window of
   * the input only, so when the input repeats with the round's own step past
   * that window, the next rounds are shifted copies of this one and fail the
   * same way: they are skipped at once.
   *
   * Here, one round computed afresh from the first element at `a` (already
   * placed, end[0] set): each next element checked where the chain puts it;
   * at the first that fails, its next valid position and the least start of
   * the first element that could reach it give the next candidate a' (no
   * match starts in [a, a')). W is the end of the window the round's results
   * depend on. If the input has period a' - a over [a, W + (a' - a)), the
   * rounds at a + i(a' - a) are copies while their window stays periodic.
   * Returns the least start still possible for the first element (>= a;
   * == a when nothing is skipped), or -1 when no match is left.
   */
  private slide(s: string, a: number): number {
    const n = s.length;
    const elems = this.elems;
    const last = elems.length - 1;
    const pos = this.pos;
    const lb = this.lb;
    let w = this.extent(s, 0, a);
    let e = this.end[0];
    let f = 1;
    let forced = 0;
    for (; f <= last; f++) {
      forced = e + this.gap[f];
      const endAt = this.checkAt(s, f, forced, false);
      const ext = this.extent(s, f, forced);
      if (ext > w) w = ext;
      if (endAt < 0) break;
      e = endAt;
    }
    // A match at a: the leapfrog finds it.
    if (f > last) return a;
    // Element f is not at `forced`: any match starting later puts it further.
    const pf = this.place(s, f, forced + 1, 0, false, false);
    if (pf < 0) return -1;
    pos[f] = pf;
    if (lb[f] < pf) lb[f] = pf;
    const extF = this.extent(s, f, pf);
    if (extF > w) w = extF;
    let t = pf;
    for (let k = f - 1; k >= 0; k--) t = Math.max(this.leastStartEndingAtOrAfter(k, t - this.gap[k + 1]), a + 1);
    const a2 = this.place(s, 0, t, 0, false, false);
    if (a2 < 0) return -1;
    pos[0] = a2;
    lb[0] = a2;
    const ext0 = this.extent(s, 0, a2);
    if (ext0 > w) w = ext0;
    const d = a2 - a;
    if (w + d > n) return a2;
    let r = a + d;
    while (r < n && s.charCodeAt(r) === s.charCodeAt(r - d)) r++;
    if (w + d > r) return a2;
    return a + (Math.floor((r - w) / d) + 1) * d;
  }

  /**
   * Element j > 0 exactly at p (as place() would accept it there): its end,
   * or -1.
   */
  private checkAt(s: string, j: number, p: number, mustEnd: boolean): number {
    const el = this.elems[j];
    const n = s.length;
    const isLast = j === this.elems.length - 1;
    if (el.kind === RUN) {
      const end = p + el.text.length;
      if (isLast && mustEnd && end !== n) return -1;
      return s.startsWith(el.text, p) ? end : -1;
    }
    if (p === 0 || p > n || s.charCodeAt(p - 1) !== DOT) return -1;
    const e = index.next[p];
    if (!isLast && (e >= n || s.charCodeAt(e) !== DOT)) return -1;
    if (isLast && mustEnd && e !== n) return -1;
    return this.segmentMatch(s, el, p, e, isLast && !mustEnd);
  }

  /** The match starting exactly at `from`: each element where the previous one ends. */
  private walkFrom(s: string, from: number, mustEnd: boolean): number {
    if (this.place(s, 0, from, from, true, mustEnd) < 0) return -1;
    let e = this.end[0];
    const last = this.elems.length - 1;
    for (let j = 1; j <= last; j++) {
      e = this.checkAt(s, j, e + this.gap[j], mustEnd);
      if (e < 0) return -1;
    }
    return e;
  }

  /**
   * A match ending at s.length and starting at or after `from`: the last
   * element is pinned at the end, each one before ends where the next starts.
   */
  private walkBack(s: string, from: number): number {
    const n = s.length;
    const elems = this.elems;
    const next = index.next;
    const prev = index.prev;
    const last = elems.length - 1;
    // The start of element j + 1, then of j.
    let start: number;
    const tail = elems[last];
    if (tail.kind === RUN) start = n - tail.text.length;
    else start = prev[n] + 1;
    if (start < from || this.checkAt(s, last, start, true) !== n) return -1;
    for (let j = last - 1; j >= 0; j--) {
      const el = elems[j];
      const t = start - this.gap[j + 1];
      if (el.kind === RUN) {
        start = t - el.text.length;
        if (start < from || !s.startsWith(el.text, start)) return -1;
        continue;
      }
      // A GLOB or ALT ends at the '.' at t: it holds the segment before it.
      if (t < 0 || t >= n || s.charCodeAt(t) !== DOT) return -1;
      const a = prev[t] + 1;
      if (j > 0) {
        if (a < from || next[a] !== t || this.checkAt(s, j, a, false) !== t) return -1;
        start = a;
        continue;
      }
      // The first element: a suffix of that segment, starting at or after `from`.
      const lo = Math.max(a, from);
      if (lo > t) return -1;
      const ok = el.kind === GLOB ? this.globSuffix(s, el.glob as Glob, lo, t) : this.altSuffix(s, el.options, lo, t);
      if (!ok) return -1;
    }
    return n;
  }

  /**
   * End of the input window that "element j placed at p" depends on (n + 1
   * when it depends on where the input ends).
   */
  private extent(s: string, j: number, p: number): number {
    const n = s.length;
    const el = this.elems[j];
    if (el.kind === RUN) return p + el.text.length <= n ? p + el.text.length : n + 1;
    if (p > n) return n + 1;
    const e = index.next[p];
    return e < n ? e + 1 : n + 1;
  }

  /** Least start of element j (not the last) whose end is >= t. */
  private leastStartEndingAtOrAfter(j: number, t: number): number {
    const el = this.elems[j];
    if (el.kind === RUN) return t - el.text.length;
    // A GLOB or ALT ends at the first '.' or '#' at or after its start.
    return index.prev[t] + 1;
  }

  /**
   * First valid position >= x of element j (setting end[j]), or -1. A
   * non-RUN element other than the first starts right after a '.'; one that
   * is followed by another ends at a '.'.
   */
  private place(s: string, j: number, x: number, from: number, anchored: boolean, mustEnd: boolean): number {
    const el = this.elems[j];
    const n = s.length;
    const last = this.elems.length - 1;
    const isLast = j === last;
    const next = index.next;
    const prev = index.prev;
    if (el.kind === RUN) {
      const text = el.text;
      let q: number;
      if (j === 0 && anchored) q = x === from && s.startsWith(text, from) ? from : -1;
      else if (isLast && mustEnd) {
        q = n - text.length;
        if (q < x || !s.startsWith(text, q)) q = -1;
      } else q = this.findRun(s, j, el, x);
      if (q >= 0) this.end[j] = q + text.length;
      return q;
    }

    if (j === 0) {
      if (anchored) {
        // Never the last element here (chains of one are handled apart).
        if (x !== from) return -1;
        const e = next[from];
        if (e >= n || s.charCodeAt(e) !== DOT) return -1;
        const ok = el.kind === GLOB ? this.globWhole(s, el.glob as Glob, from, e) : this.altWhole(s, el.options, from, e);
        if (!ok) return -1;
        this.end[0] = e;
        return from;
      }
      // A suffix of a segment that ends with '.'.
      let lo = x;
      while (lo <= n) {
        const e = next[lo];
        if (e >= n) return -1;
        if (s.charCodeAt(e) !== DOT) {
          lo = e + 1;
          continue;
        }
        const ok = el.kind === GLOB ? this.globSuffix(s, el.glob as Glob, lo, e) : this.altSuffix(s, el.options, lo, e);
        if (ok) {
          this.end[0] = e;
          return lo;
        }
        const skip = el.kind === GLOB ? this.skip : e;
        if (skip > n) return -1;
        lo = skip > e ? prev[skip] + 1 : e + 1;
      }
      return -1;
    }

    // j > 0: a segment start (right after a '.').
    let p = x;
    if (isLast && mustEnd) {
      // Only the last segment can do.
      const a = prev[n] + 1;
      if (p > a || a === 0 || s.charCodeAt(a - 1) !== DOT) return -1;
      p = a;
    }
    while (p <= n) {
      if (p === 0 || s.charCodeAt(p - 1) !== DOT) {
        let d = next[p];
        while (d < n && s.charCodeAt(d) !== DOT) d = next[d + 1];
        if (d >= n) return -1;
        p = d + 1;
      }
      const e = next[p];
      if (!isLast && (e >= n || s.charCodeAt(e) !== DOT)) {
        p = e + 1;
        continue;
      }
      if (isLast && mustEnd && e !== n) return -1;
      const endAt = this.segmentMatch(s, el, p, e, isLast && !mustEnd);
      if (endAt >= 0) {
        this.end[j] = endAt;
        return p;
      }
      const skip = this.skip;
      if (skip > n) return -1;
      p = skip > e ? prev[skip] + 1 : e + 1;
    }
    return -1;
  }

  /**
   * A GLOB or ALT on the segment s[p..e): the end of the match (e, or with
   * `prefix` the earliest end of a match of a prefix), or -1 (this.skip set).
   */
  private segmentMatch(s: string, el: Element, p: number, e: number, prefix: boolean): number {
    if (el.kind === GLOB) {
      const g = el.glob as Glob;
      if (prefix) return this.globPrefix(s, g, p, e);
      return this.globWhole(s, g, p, e) ? e : -1;
    }
    this.skip = e;
    if (prefix) return this.altPrefix(s, el.options, p);
    return this.altWhole(s, el.options, p, e) ? e : -1;
  }

  /**
   * First occurrence >= x of RUN j. When x falls inside the occurrence found
   * last (at q0), the text there is known: an occurrence at q0 + d (d < the
   * text's length L) makes d a period of the text, and (Fine and Wilf) every
   * period up to L - p is a multiple of the smallest one, p. So the only
   * candidate below q0 + L - p is the first multiple of p at or after x, and
   * checking it takes the d characters past the known text. Sliding a
   * periodic RUN along a periodic input (`a.b.a.b...`, the costly case for
   * repeated indexOf calls) then costs what it advances, not L per step.
   */
  private findRun(s: string, j: number, el: Element, x: number): number {
    const text = el.text;
    const q0 = this.occ[j];
    let q: number;
    if (q0 >= 0 && x > q0) {
      const L = text.length;
      const p = el.period;
      const d = Math.ceil((x - q0) / p) * p;
      if (d <= L - p) {
        const base = q0 + L;
        if (base + d > s.length) {
          q = -1;
        } else {
          let k = 0;
          const off = L - d;
          while (k < d && s.charCodeAt(base + k) === text.charCodeAt(off + k)) k++;
          q = k === d ? q0 + d : s.indexOf(text, q0 + d + 1);
        }
      } else {
        q = s.indexOf(text, x);
      }
    } else {
      q = s.indexOf(text, x);
    }
    this.occ[j] = q;
    return q;
  }

  /** A chain of one GLOB element: the whole chunk is one region. */
  private single(s: string, g: Glob, from: number, anchored: boolean, mustEnd: boolean): number {
    const n = s.length;
    const next = index.next;
    const prev = index.prev;
    if (anchored) {
      const e = next[from];
      if (mustEnd) return e === n && this.globWhole(s, g, from, n) ? n : -1;
      return this.globPrefix(s, g, from, e);
    }
    if (mustEnd) {
      const lo = Math.max(from, prev[n] + 1);
      return this.globSuffix(s, g, lo, n) ? n : -1;
    }
    let lo = from;
    while (lo <= n) {
      const e = next[lo];
      const r = this.globInfix(s, g, lo, e);
      if (r >= 0) return r;
      const skip = this.skip;
      if (skip > n) return -1;
      lo = skip > e ? prev[skip] + 1 : e + 1;
    }
    return -1;
  }
}

/** Smallest p > 0 such that text[i] === text[i + p] for every i (text.length when none is shorter). */
function smallestPeriod(text: string): number {
  const L = text.length;
  if (L === 0) return 1;
  const border = new Int32Array(L);
  let k = 0;
  for (let i = 1; i < L; i++) {
    while (k > 0 && text.charCodeAt(i) !== text.charCodeAt(k)) k = border[k - 1];
    if (text.charCodeAt(i) === text.charCodeAt(k)) k++;
    border[i] = k;
  }
  return L - border[L - 1];
}
