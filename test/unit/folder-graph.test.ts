// The arrows between the folders of src/ (docs/architecture.md): no cycle,
// storage reached only by the composition layer, configuration low.
// Every import counts, type-only ones and re-exports included: a cycle of
// types is still a cycle for whoever reads or moves the code.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** A folder of src/ ("identity/") or a file at its top ("main.ts"). */
function nodeOf(file: string): string {
  const parts = path.relative(SRC, file).split(path.sep);
  return parts.length === 1 ? parts[0].replace(/\.js$/, '.ts') : `${parts[0]}/`;
}

interface Arrow {
  from: string;
  to: string;
  files: string[];
}

function folderArrows(): Map<string, Arrow> {
  const arrows = new Map<string, Arrow>();
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), fileName);
      if (!target.startsWith(SRC + path.sep)) continue;
      const from = nodeOf(file);
      const to = nodeOf(target);
      if (from === to) continue;
      const key = `${from} -> ${to}`;
      const arrow = arrows.get(key) ?? { from, to, files: [] };
      arrow.files.push(`${path.relative(SRC, file)} -> ${fileName}`);
      arrows.set(key, arrow);
    }
  }
  return arrows;
}

/** Strongly connected groups of more than one node (Tarjan). */
function cycles(arrows: Map<string, Arrow>): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of arrows.values()) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return groups;
}

/** The arrows inside each cycle, with the imports that make them: what a failure shows. */
function describeCycles(arrows: Map<string, Arrow>, groups: string[][]): string[] {
  return groups.flatMap((group) =>
    [...arrows.values()]
      .filter((a) => group.includes(a.from) && group.includes(a.to))
      .map((a) => `${a.from} -> ${a.to}: ${a.files.slice(0, 3).join('; ')}`),
  );
}

describe('folders of src/', () => {
  const arrows = folderArrows();
  const into = (node: string) => [...arrows.values()].filter((a) => a.to === node);

  it('sees the imports it judges', () => {
    // A parser that found nothing would pass every rule below.
    expect(arrows.get('main.ts -> wiring/')?.files.length).toBeGreaterThan(3);
    expect(arrows.has('store/ -> tokens/')).toBe(true);
  });

  it('have no cycle between them', () => {
    const groups = cycles(arrows);
    expect(describeCycles(arrows, groups)).toEqual([]);
  });

  it('reach the storage implementation only from the composition layer (wiring, main, cli)', () => {
    const allowed = new Set(['wiring/', 'main.ts', 'cli/']);
    expect(
      into('store/')
        .filter((a) => !allowed.has(a.from))
        .map((a) => a.files),
    ).toEqual([]);
  });

  it('keep the configuration low: config/ imports only modules that import nothing of src/', () => {
    const leaf = (node: string) => ![...arrows.values()].some((a) => a.from === node);
    expect([...arrows.values()].filter((a) => a.from === 'config/' && !leaf(a.to)).map((a) => a.files)).toEqual([]);
  });

  it('import the composition layer only from main and the CLI', () => {
    const allowed = new Set(['main.ts', 'cli/']);
    expect(
      into('wiring/')
        .filter((a) => !allowed.has(a.from))
        .map((a) => a.files),
    ).toEqual([]);
  });
});
