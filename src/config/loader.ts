// Builds the effective configuration. Precedence, lowest first:
//
//   built-in defaults
//   < main file (-c; default /etc/xivo-auth/config.yml, read only when it exists)
//   < *.yml / *.yaml in `extra_config_files` (alphabetical; the FIRST file defining a key wins)
//   < environment (XIVO_UUID, XIVO_AUTH_<KEY> with "__" between nesting levels)
//   < command-line flags
//
// Mappings merge deeply; lists and scalars replace (an empty section, i.e.
// `null` where a mapping is, leaves the mapping as it is). The result is
// validated once against the schema; every problem is reported, each naming
// the dotted key and where its value came from. Unknown keys only warn.
//
// The loader never reads process.env: the environment is passed in.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import YAML from 'yaml';
import { ConfigError } from './errors.js';
import { isSecretKey, maskUriPassword } from './mask.js';
import {
  ConfigSchema,
  DEFAULT_CONFIG,
  DEFAULT_CONFIG_FILE,
  acceptsKind,
  childSchema,
  describeExpected,
  isFixedObject,
  schemaAt,
} from './schema.js';
import type { Config, LogLevel } from './types.js';

export const ENV_PREFIX = 'XIVO_AUTH_';
export const DEFAULT_ORIGIN = 'built-in default';

/**
 * The command-line options that are configuration (the CLI's parsed
 * arguments carry them: src/cli/args.ts ParsedArgs extends this).
 */
export interface ConfigFlags {
  configFile?: string;
  user?: string;
  debug?: boolean;
  foreground?: boolean;
  logLevel?: LogLevel;
  listenPort?: number;
  dbUpgradeOnStartup?: boolean;
}

export interface LoadConfigOptions {
  argv: ConfigFlags;
  env: Record<string, string | undefined>;
  /** Reads a file as UTF-8; must throw an error with `code: 'ENOENT'` when it does not exist. */
  readFile?: (file: string) => string;
  /** Lists the entry names of a directory; must throw with `code: 'ENOENT'` when it does not exist. */
  listDir?: (dir: string) => string[];
}

export interface ConfigSources {
  /** The main file read, or null when the default one does not exist. */
  mainFile: string | null;
  /** The directory searched for extra files. */
  extraConfigDir: string | null;
  /** Extra files read, alphabetically (the first one defining a key wins). */
  extraFiles: string[];
  /**
   * Where each value not coming from the built-in defaults was set, by dotted
   * key: `file <path>`, `environment variable <NAME>` or `command line (<flag>)`.
   */
  keys: Record<string, string>;
}

export interface LoadedConfig {
  config: Config;
  warnings: string[];
  sources: ConfigSources;
}

type Tree = Record<string, unknown>;

/** One set of values with one origin, applied over what is below it. */
interface Layer {
  origin: string;
  data: Tree;
}

export function loadConfig(opts: LoadConfigOptions): LoadedConfig {
  const readFile = opts.readFile ?? ((file: string) => fs.readFileSync(file, 'utf8'));
  const listDir = opts.listDir ?? defaultListDir;
  const problems: string[] = [];
  const warnings: string[] = [];
  const sources: ConfigSources = { mainFile: null, extraConfigDir: null, extraFiles: [], keys: {} };

  // 1. Main file.
  const mainLayers: Layer[] = [];
  const explicitMain = opts.argv.configFile;
  const mainFile = explicitMain ?? DEFAULT_CONFIG_FILE;
  const main = readYamlFile(mainFile, readFile, explicitMain !== undefined, problems);
  if (main) {
    sources.mainFile = mainFile;
    mainLayers.push({ origin: `file ${mainFile}`, data: main });
  }

  // 2. Environment and flags (read now: the environment may move extra_config_files).
  const envLayers = environmentLayers(opts.env, warnings);
  const flagLayers = commandLineLayers(opts.argv);

  // 3. Extra files: the directory comes from defaults < main file < environment.
  const extraLayers: Layer[] = [];
  const scratch = structuredClone(DEFAULT_CONFIG) as unknown as Tree;
  for (const layer of [...mainLayers, ...envLayers]) mergeInto(scratch, layer.data, [], () => '', new Map());
  const extraDir = scratch.extra_config_files;
  // A main file that could not be read may have moved the directory: do not guess.
  const mainFailed = problems.length > 0;
  if (!mainFailed && typeof extraDir === 'string' && extraDir !== '') {
    sources.extraConfigDir = extraDir;
    for (const file of listExtraFiles(extraDir, listDir, problems)) {
      const data = readYamlFile(file, readFile, true, problems);
      if (!data) continue;
      sources.extraFiles.push(file);
      if (Object.prototype.hasOwnProperty.call(data, 'extra_config_files')) {
        warnings.push(`extra_config_files is ignored in ${file}: set it in the main file or the environment`);
        delete data.extra_config_files;
      }
      extraLayers.push({ origin: `file ${file}`, data });
    }
  }
  // First file wins: apply them last-to-first so earlier files overwrite later ones.
  const layers = [...mainLayers, ...[...extraLayers].reverse(), ...envLayers, ...flagLayers];

  // 4. Unknown keys, per layer (so every file with a typo is named).
  for (const layer of layers) {
    for (const key of unknownKeys(layer.data, ConfigSchema, [])) {
      warnings.push(`unknown configuration key "${formatPath(key)}" in ${layer.origin} (ignored)`);
    }
  }

  // 5. Merge.
  const merged = structuredClone(DEFAULT_CONFIG) as unknown as Tree;
  const origins = new Map<string, string>();
  for (const layer of layers) mergeInto(merged, layer.data, [], () => layer.origin, origins);

  // 6. Validate once.
  Value.Default(ConfigSchema, merged);
  problems.push(...validationProblems(merged, origins));

  if (problems.length > 0) throw new ConfigError(problems);

  for (const [key, origin] of origins) sources.keys[key] = origin;
  return { config: merged as unknown as Config, warnings, sources };
}

// ---------------------------------------------------------------------------
// Files

function readYamlFile(file: string, readFile: (file: string) => string, mustExist: boolean, problems: string[]): Tree | null {
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' && !mustExist) return null;
    if (code === 'ENOENT') {
      problems.push(`configuration file ${file} does not exist`);
    } else {
      problems.push(`cannot read configuration file ${file}: ${describeFsError(err)}`);
    }
    return null;
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true, merge: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const pos = error.linePos?.[0];
      const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      const what = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      problems.push(`invalid YAML in ${file}${where}: ${what}`);
    }
    return null;
  }
  const data: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (data === null || data === undefined) return {};
  if (!isPlainObject(data)) {
    problems.push(`invalid configuration file ${file}: expected a mapping at the top level, got ${describeValue(data, false)}`);
    return null;
  }
  return data;
}

function listExtraFiles(dir: string, listDir: (dir: string) => string[], problems: string[]): string[] {
  let names: string[];
  try {
    names = listDir(dir);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return [];
    problems.push(`cannot read extra_config_files directory ${dir}: ${describeFsError(err)}`);
    return [];
  }
  return names
    .filter((name) => /\.ya?ml$/.test(name) && !name.startsWith('.'))
    .sort()
    .map((name) => path.join(dir, name));
}

function defaultListDir(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => entry.name);
}

function errorCode(err: unknown): string | undefined {
  return err !== null && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

const FS_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'not a directory',
  ENOENT: 'no such file or directory',
};

function describeFsError(err: unknown): string {
  const code = errorCode(err);
  if (code && FS_ERRORS[code]) return `${FS_ERRORS[code]} (${code})`;
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------
// Environment and command line

function environmentLayers(env: Record<string, string | undefined>, warnings: string[]): Layer[] {
  const layers: Layer[] = [];
  const uuid = env.XIVO_UUID;
  if (uuid !== undefined && uuid !== '') {
    layers.push({ origin: 'environment variable XIVO_UUID', data: { uuid } });
  }
  // Sorted, so a whole-mapping variable (XIVO_AUTH_REST_API) comes before the
  // more specific ones (XIVO_AUTH_REST_API__PORT), which then win.
  const names = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && name.length > ENV_PREFIX.length)
    .sort();
  for (const name of names) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue; // empty means unset
    const segments = name
      .slice(ENV_PREFIX.length)
      .split('__')
      .map((s) => s.toLowerCase());
    if (segments.some((s) => s === '')) {
      warnings.push(`environment variable ${name} ignored: empty key segment (use "__" between nesting levels)`);
      continue;
    }
    const value = parseEnvValue(raw, schemaAt(segments));
    layers.push({ origin: `environment variable ${name}`, data: nest(segments, value) });
  }
  return layers;
}

/**
 * Values are YAML scalars (`9000` → number, `true` → boolean, `null` → null,
 * `[a, b]` → list), except for keys that take a string: those keep the raw
 * text (so a password `12345` stays a string), `null`/`~` giving null where
 * null is allowed.
 */
function parseEnvValue(raw: string, schema: TSchema | undefined): unknown {
  if (schema && acceptsKind(schema, 'String')) {
    if (acceptsKind(schema, 'Null') && /^(null|Null|NULL|~)$/.test(raw)) return null;
    return raw;
  }
  const doc = YAML.parseDocument(raw);
  if (doc.errors.length > 0) return raw; // validation reports it with the key
  return doc.toJS();
}

function nest(segments: readonly string[], value: unknown): Tree {
  let out: unknown = value;
  for (let i = segments.length - 1; i >= 0; i -= 1) out = { [segments[i]]: out };
  return out as Tree;
}

function commandLineLayers(argv: ConfigFlags): Layer[] {
  const layers: Layer[] = [];
  const add = (flag: string, data: Tree) => layers.push({ origin: `command line (${flag})`, data });
  if (argv.debug) add('-d/--debug', { debug: true, log_level: 'debug' });
  if (argv.logLevel !== undefined) add('-l/--log-level', { log_level: argv.logLevel });
  if (argv.foreground) add('-f/--foreground', { foreground: true });
  if (argv.user !== undefined) add('-u/--user', { user: argv.user });
  if (argv.listenPort !== undefined) add('--listen-port', { rest_api: { port: argv.listenPort } });
  if (argv.dbUpgradeOnStartup) add('--db-upgrade-on-startup', { db_upgrade_on_startup: true });
  return layers;
}

// ---------------------------------------------------------------------------
// Merge

function isPlainObject(value: unknown): value is Tree {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep merge of `incoming` into `target`, recording the origin of every value set. */
function mergeInto(
  target: Tree,
  incoming: Tree,
  at: readonly string[],
  origin: (path: readonly string[]) => string,
  origins: Map<string, string>,
): void {
  for (const [key, value] of Object.entries(incoming)) {
    if (key === '__proto__') continue;
    const keyPath = [...at, key];
    const current = target[key];
    if (isPlainObject(value) && isPlainObject(current)) {
      mergeInto(current, value, keyPath, origin, origins);
    } else if (value === null && isPlainObject(current)) {
      // An empty section (`amqp:` with nothing under it) changes nothing.
    } else {
      target[key] = structuredClone(value);
      const dotted = keyPath.join('.');
      for (const known of [...origins.keys()]) {
        if (known.startsWith(`${dotted}.`)) origins.delete(known);
      }
      origins.set(dotted, origin(keyPath));
    }
  }
}

function originOf(keyPath: readonly string[], origins: Map<string, string>): string {
  for (let n = keyPath.length; n > 0; n -= 1) {
    const found = origins.get(keyPath.slice(0, n).join('.'));
    if (found !== undefined) return found;
  }
  return DEFAULT_ORIGIN;
}

// ---------------------------------------------------------------------------
// Validation

function unknownKeys(data: Tree, schema: TSchema, at: readonly string[]): string[][] {
  const out: string[][] = [];
  for (const [key, value] of Object.entries(data)) {
    const keyPath = [...at, key];
    const child = childSchema(schema, key);
    if (child === undefined) {
      if (isFixedObject(schema)) out.push(keyPath);
      continue;
    }
    if (isPlainObject(value)) out.push(...unknownKeys(value, child, keyPath));
  }
  return out;
}

function validationProblems(merged: Tree, origins: Map<string, string>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(ConfigSchema, merged)) {
    const keyPath = pointerToPath(error.path);
    const dotted = keyPath.join('.');
    if (seen.has(dotted)) continue;
    seen.add(dotted);
    problems.push(formatValueError(error, keyPath, merged, origins));
  }

  // Cross-key rule: TLS needs both files.
  const api = merged.rest_api;
  if (isPlainObject(api)) {
    const hasCert = typeof api.certificate === 'string';
    const hasKey = typeof api.private_key === 'string';
    if (hasCert !== hasKey) {
      const [set, missing] = hasCert ? ['certificate', 'private_key'] : ['private_key', 'certificate'];
      problems.push(
        `rest_api.${missing}: expected a path because rest_api.${set} is set ` +
          `(from ${originOf(['rest_api', set], origins)}); set both or neither`,
      );
    }
  }

  // Cross-key rule: a refresh token cannot live longer idle than in all.
  const refresh = merged.refresh_tokens;
  if (isPlainObject(refresh)) {
    const idle = refresh.idle_timeout_seconds;
    const absolute = refresh.absolute_lifetime_seconds;
    if (typeof idle === 'number' && typeof absolute === 'number' && idle > 0 && absolute > 0 && absolute < idle) {
      problems.push(
        `refresh_tokens.absolute_lifetime_seconds: expected at least refresh_tokens.idle_timeout_seconds (${idle}, ` +
          `from ${originOf(['refresh_tokens', 'idle_timeout_seconds'], origins)}), or 0 for no limit, got ${absolute} ` +
          `(from ${originOf(['refresh_tokens', 'absolute_lifetime_seconds'], origins)})`,
      );
    }
  }
  return problems;
}

function formatValueError(error: ValueError, keyPath: string[], merged: Tree, origins: Map<string, string>): string {
  const key = formatPath(keyPath, merged);
  const origin = originOf(keyPath, origins);
  const expected = describeExpected(error.schema);
  if (error.type === ValueErrorType.ObjectRequiredProperty && error.value === undefined) {
    return `${key}: missing; expected ${expected} (from ${origin})`;
  }
  const secret = keyPath.some((segment) => isSecretKey(segment));
  return `${key}: expected ${expected}, got ${describeValue(error.value, secret)} (from ${origin})`;
}

function pointerToPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `rest_api.cors.allow_origins[0]`: list indexes in brackets. */
function formatPath(keyPath: readonly string[], root?: Tree): string {
  let out = '';
  let current: unknown = root;
  for (const segment of keyPath) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
    current = current !== null && typeof current === 'object' ? (current as Tree)[segment] : undefined;
  }
  return out;
}

function describeValue(value: unknown, secret: boolean): string {
  const kind =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'a list'
        : isPlainObject(value)
          ? 'a mapping'
          : typeof value === 'string'
            ? 'a string'
            : typeof value === 'number'
              ? Number.isInteger(value)
                ? 'an integer'
                : 'a number'
              : typeof value === 'boolean'
                ? 'a boolean'
                : typeof value;
  if (value === null) return 'null';
  if (secret) return `${kind} (value hidden)`;
  if (typeof value === 'string') {
    const shown = maskUriPassword(value);
    return JSON.stringify(shown.length > 60 ? `${shown.slice(0, 57)}...` : shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return kind;
}
