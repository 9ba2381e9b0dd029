// Where the module of a worker thread is. Worker threads run compiled
// JavaScript (Node 20 does not run TypeScript): next to their spawner in
// dist/, or, when the spawner itself runs from the TypeScript sources (the
// tests, through vitest), the same module compiled under dist/ by
// `npm run build` (`npm test` builds first).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** src/ or dist/: the folder above this one. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `file` (e.g. `./hash-worker.js`) relative to the spawner's `import.meta.url`. */
export function workerModule(spawnerUrl: string, file: string): URL {
  const url = new URL(file, spawnerUrl);
  if (!spawnerUrl.endsWith('.ts')) return url;
  const compiled = path.join(ROOT, '..', 'dist', path.relative(ROOT, fileURLToPath(url)));
  if (!existsSync(compiled)) {
    throw new Error(`${compiled} is missing: worker threads run the compiled modules; run "npm run build" first`);
  }
  return pathToFileURL(compiled);
}
