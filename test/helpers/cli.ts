// Runs the built CLI (`node bin/xivo-auth.js`, from dist/) as a real child
// process, for end-to-end tests. Every process started here is tracked by pid
// and can be killed with `killAllClis()` (call it in afterAll); a process
// 'exit' hook SIGKILLs any that are still running when the test worker ends.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_ENTRY = join(REPO_ROOT, 'bin', 'xivo-auth.js');
export const BUILT_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** Cheap argon2id: the tests exercise the code, not the cost. */
export const CLI_FAST_HASHING = { memory_kib: 1024, iterations: 1, parallelism: 1 };

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;
const RUN_TIMEOUT_MS = 30_000;

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface StartCliOptions {
  dbUri: string;
  /** Deep-merged over the generated configuration file. */
  extraConfig?: Record<string, unknown>;
  /** Added to the child's environment (which never inherits XIVO_AUTH_* / XIVO_UUID). */
  env?: Record<string, string>;
  /** Extra command-line arguments after `-f -c <file>` (e.g. `['-d']`). */
  args?: string[];
  /** The bootstrap administrator's password (default: random). */
  adminPassword?: string;
  /** Bootstrap the administrator at start-up (default true). */
  bootstrap?: boolean;
}

export interface CliService {
  /** Base URL, e.g. http://127.0.0.1:38473 */
  url: string;
  port: number;
  proc: ChildProcess;
  pid: number;
  configFile: string;
  admin: { username: string; password: string };
  /** Sends `signal` (default SIGTERM) and waits for the exit (SIGKILL and throw after 15 s). */
  stop(signal?: NodeJS.Signals): Promise<ExitResult>;
  /** Resolves when the process exits, however it ends. */
  exited: Promise<ExitResult>;
  /** Waits for an exit already under way (no signal sent); SIGKILL and throw after `timeoutMs`. */
  waitExit(timeoutMs?: number): Promise<ExitResult>;
  /** Everything written on stdout so far (the JSON log lines). */
  logs(): string;
  /** Everything written on stderr so far. */
  errors(): string;
}

const running = new Map<number, ChildProcess>();
const tempDirs: string[] = [];
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [pid, child] of running) {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  });
}

/** Fails clearly when dist/ has not been built (npm test builds it first). */
export function assertBuilt(): void {
  if (!existsSync(BUILT_MAIN)) {
    throw new Error(`${BUILT_MAIN} is missing: run "npm run build" before the end-to-end tests (npm test does it in pretest)`);
  }
}

/** A fresh temporary directory, removed by `killAllClis()`. */
export function tempDir(prefix = 'xivo-auth-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** An empty directory for `extra_config_files`, so /etc/xivo-auth/conf.d is never read. */
export function emptyConfDir(): string {
  const dir = join(tempDir('xivo-auth-conf-'), 'conf.d');
  mkdirSync(dir);
  return dir;
}

/** Writes `content` (an object as YAML, or raw text) to a temporary file; returns its path. */
export function writeConfigFile(content: Record<string, unknown> | string, name = 'config.yml'): string {
  const file = join(tempDir('xivo-auth-cfg-'), name);
  writeFileSync(file, typeof content === 'string' ? content : YAML.stringify(content));
  return file;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** The child's environment: ours without any xivo-auth configuration variable, plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('XIVO_AUTH_') || key === 'XIVO_UUID') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** The configuration `startCli` writes (before `extraConfig`). */
export function baseConfig(dbUri: string, adminPassword: string, bootstrap = true): Record<string, unknown> {
  return {
    db_uri: dbUri,
    rest_api: { listen: '127.0.0.1', port: 0 },
    bootstrap_user_on_startup: bootstrap,
    bootstrap_user_username: 'admin',
    bootstrap_user_password: adminPassword,
    password_hashing: CLI_FAST_HASHING,
    extra_config_files: emptyConfDir(),
  };
}

interface Spawned {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<ExitResult>;
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv): Spawned {
  installExitHook();
  const proc = spawn(process.execPath, [CLI_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  if (proc.pid !== undefined) running.set(proc.pid, proc);
  const exited = new Promise<ExitResult>((resolveExit) => {
    // 'close' waits for stdio to be drained, so the result holds every byte.
    proc.once('close', (code, signal) => {
      if (proc.pid !== undefined) running.delete(proc.pid);
      resolveExit({ code, signal, stdout, stderr });
    });
    proc.once('error', (err) => {
      if (proc.pid !== undefined) running.delete(proc.pid);
      resolveExit({ code: null, signal: null, stdout, stderr: `${stderr}\nspawn error: ${err.message}` });
    });
  });
  return { proc, out: () => stdout, err: () => stderr, exited };
}

function describeOutput(stdout: string, stderr: string): string {
  const cut = (s: string) => (s.length > 6000 ? `...${s.slice(-6000)}` : s);
  return `--- stdout ---\n${cut(stdout)}\n--- stderr ---\n${cut(stderr)}`;
}

/** The `address` of the "listening" JSON log line, once it has been written. */
function findAddress(stdout: string): string | null {
  for (const line of stdout.split('\n')) {
    if (!line.includes('"address"')) continue;
    try {
      const entry = JSON.parse(line) as { address?: unknown };
      if (typeof entry.address === 'string') return entry.address;
    } catch {
      // a partial line: wait for the rest
    }
  }
  return null;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | null, failed: () => string | null): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== null) return value;
    const failure = failed();
    if (failure !== null) throw new Error(`${what}: ${failure}`);
    if (Date.now() > deadline) throw new Error(`${what}: timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function stopProcess(spawned: Spawned, signal: NodeJS.Signals | null, timeoutMs = STOP_TIMEOUT_MS): Promise<ExitResult> {
  const { proc } = spawned;
  if (signal !== null && proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([spawned.exited, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    proc.kill('SIGKILL');
    const result = await spawned.exited;
    throw new Error(
      `pid ${proc.pid} did not exit within ${timeoutMs} ms${signal ? ` of ${signal}` : ''}; killed.\n${describeOutput(result.stdout, result.stderr)}`,
    );
  }
  return outcome;
}

/** Starts `xivo-auth -f -c <generated file>` and resolves once it logs its address. */
export async function startCli(opts: StartCliOptions): Promise<CliService> {
  assertBuilt();
  const adminPassword = opts.adminPassword ?? `pw-${randomBytes(12).toString('hex')}`;
  const config = deepMerge(baseConfig(opts.dbUri, adminPassword, opts.bootstrap ?? true), opts.extraConfig ?? {});
  const configFile = writeConfigFile(config);
  const spawned = spawnCli(['-f', '-c', configFile, ...(opts.args ?? [])], childEnv(opts.env));
  let exitedEarly: ExitResult | null = null;
  void spawned.exited.then((r) => {
    exitedEarly = r;
  });
  let address: string;
  try {
    address = await waitFor(
      `xivo-auth (pid ${spawned.proc.pid}) did not start`,
      START_TIMEOUT_MS,
      () => findAddress(spawned.out()),
      () => {
        const r = exitedEarly as ExitResult | null;
        return r === null ? null : `exited early with code ${r.code}, signal ${r.signal}`;
      },
    );
  } catch (err) {
    if (spawned.proc.exitCode === null && spawned.proc.signalCode === null) spawned.proc.kill('SIGKILL');
    const result = await spawned.exited;
    throw new Error(
      `${(err as Error).message}\nconfig ${configFile}:\n${YAML.stringify(config)}${describeOutput(result.stdout, result.stderr)}`,
    );
  }
  const url = new URL(address);
  return {
    url: url.origin,
    port: Number(url.port),
    proc: spawned.proc,
    pid: spawned.proc.pid!,
    configFile,
    admin: { username: 'admin', password: adminPassword },
    stop: (signal: NodeJS.Signals = 'SIGTERM') => stopProcess(spawned, signal),
    exited: spawned.exited,
    waitExit: (timeoutMs = STOP_TIMEOUT_MS) => stopProcess(spawned, null, timeoutMs),
    logs: spawned.out,
    errors: spawned.err,
  };
}

/** Runs `xivo-auth <args>` to completion (one-shot commands). */
export async function runCli(
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ExitResult> {
  assertBuilt();
  const spawned = spawnCli(args, childEnv(opts.env));
  const timeoutMs = opts.timeoutMs ?? RUN_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([spawned.exited, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    spawned.proc.kill('SIGKILL');
    const result = await spawned.exited;
    throw new Error(
      `xivo-auth ${args.join(' ')} did not exit within ${timeoutMs} ms; killed.\n${describeOutput(result.stdout, result.stderr)}`,
    );
  }
  return outcome;
}

/** SIGKILLs every process started here that is still running (only those), and removes the temporary files. */
export async function killAllClis(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const [pid, child] of [...running]) {
    if (child.exitCode === null && child.signalCode === null) {
      waits.push(new Promise((r) => child.once('close', r)));
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    running.delete(pid);
  }
  await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 5000))]);
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** `Authorization: Basic ...` for login:password. */
export function basicAuth(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`, 'utf8').toString('base64')}`;
}
