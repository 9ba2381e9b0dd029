// Packs workspace packages with `npm pack` and installs the tarballs into a
// scratch project, so tests exercise what a user of the published package
// gets (the `files` list, `exports`, `types`, `bin`), not the source tree.
//
// The scratch project lives under the repository's node_modules/.cache, so
// third-party dependencies (amqplib, yaml...) resolve from the repository's
// node_modules by Node's usual walk up the directories, while the packed
// @xivo-auth/* packages, installed nearer, win over the workspace links.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './cli.js';

const run = promisify(execFile);

export interface PackedFile {
  path: string;
}

export interface Packed {
  /** Package name, e.g. @xivo-auth/acl. */
  name: string;
  /** Paths inside the tarball (without the `package/` prefix). */
  files: string[];
  tarball: string;
}

export interface Scratch {
  /** The scratch project's directory (run examples with this as cwd). */
  dir: string;
  packed: Packed[];
  /** Writes `source` to a file in the scratch project and runs it with node. */
  runNode(
    fileName: string,
    source: string,
    env?: Record<string, string>,
    timeoutMs?: number,
  ): Promise<{ stdout: string; stderr: string }>;
  /** Runs a shell script in the scratch project, with its node_modules/.bin first on PATH. */
  runShell(source: string, env?: Record<string, string>, timeoutMs?: number): Promise<{ stdout: string; stderr: string }>;
  /** Type-checks `source` as consumer.ts of the scratch project (strict, NodeNext); tsc's report, '' when clean. */
  typeCheck(source: string): Promise<string>;
  cleanup(): void;
}

/**
 * `npm pack` each of `dirs` (names under packages/) and extract them into
 * <scratch>/node_modules/<name>. The packages must be built already
 * (`npm test` builds them first); the pack skips lifecycle scripts so tests
 * never rebuild concurrently.
 */
export async function packAndInstall(dirs: string[]): Promise<Scratch> {
  const base = join(REPO_ROOT, 'node_modules', '.cache', 'xivo-auth-pack-tests');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'p-'));
  const tarballs = join(dir, 'tarballs');
  mkdirSync(tarballs);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  const packed: Packed[] = [];
  for (const d of dirs) {
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tarballs], {
      cwd: join(REPO_ROOT, 'packages', d),
    });
    const info = JSON.parse(stdout)[0] as { name: string; filename: string; files: PackedFile[] };
    const target = join(dir, 'node_modules', ...info.name.split('/'));
    mkdirSync(target, { recursive: true });
    const tarball = join(tarballs, info.filename);
    await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
    // What npm does for a `bin`: a link in node_modules/.bin.
    const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    for (const [command, file] of Object.entries(manifest.bin ?? {})) {
      mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
      symlinkSync(join(target, file), join(dir, 'node_modules', '.bin', command));
    }
    packed.push({ name: info.name, files: info.files.map((f) => f.path), tarball });
  }
  return {
    dir,
    packed,
    async runNode(fileName, source, env = {}, timeoutMs = 20_000) {
      const file = join(dir, fileName);
      writeFileSync(file, source);
      return run(process.execPath, [file], { cwd: dir, env: { ...process.env, ...env }, timeout: timeoutMs });
    },
    async runShell(source, env = {}, timeoutMs = 60_000) {
      const path = `${join(dir, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`;
      return run('bash', ['-euo', 'pipefail', '-c', source], {
        cwd: dir,
        env: { ...process.env, ...env, PATH: path },
        timeout: timeoutMs,
      });
    },
    async typeCheck(source) {
      writeFileSync(join(dir, 'consumer.ts'), source);
      const tsc = join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
      const args = [
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--types',
        'node',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        'consumer.ts',
      ];
      const result = await run(tsc, args, { cwd: dir }).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
      return result.stdout;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The fenced code blocks of a Markdown file whose info string is `lang`. */
export function codeBlocks(markdownPath: string, lang: string): string[] {
  const text = readFileSync(markdownPath, 'utf8');
  const blocks: string[] = [];
  const re = new RegExp('^```' + lang + '[ \\t]*\\n([\\s\\S]*?)^```[ \\t]*$', 'gm');
  for (let m = re.exec(text); m !== null; m = re.exec(text)) blocks.push(m[1]);
  return blocks;
}

/** The `// prints: X` (or `# prints: X`) comments of an example, in order: what it must print, line by line. */
export function expectedPrints(source: string, marker = '//'): string[] {
  const re = new RegExp(`${marker} prints: (.*)$`, 'gm');
  return [...source.matchAll(re)].map((m) => m[1]);
}
