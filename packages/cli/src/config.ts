// Where the CLI finds xivo-auth and its credentials, lowest priority first:
//   1. the configuration: `--config PATH`, else $XIVO_AUTH_CLI_CONFIG, else
//      $WAZO_AUTH_CLI_CONFIG, else ~/.config/xivo-auth-cli then
//      ~/.config/wazo-auth-cli (whichever exists). PATH is a YAML file or a
//      directory of *.yml / *.yaml files read in name order, later files
//      overriding earlier ones. The format is wazo-auth-cli's:
//        auth: { host, port, https, prefix, username, password, backend, verify_certificate }
//      plus `url` (overrides host/port/https/prefix) and `token`.
//   2. the environment: XIVO_AUTH_URL, XIVO_AUTH_USERNAME, XIVO_AUTH_PASSWORD,
//      XIVO_AUTH_BACKEND, XIVO_AUTH_TOKEN.
//   3. flags: --url, --username, --backend (never a password).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';

export interface CliSettings {
  url: string;
  username: string | null;
  password: string | null;
  backend: string | null;
  token: string | null;
  /** false: accept any certificate; a string: a CA file. */
  verifyCertificate: boolean | string;
  /** The configuration files read, in order. */
  files: string[];
}

export interface SettingsInput {
  configPath?: string;
  env: Record<string, string | undefined>;
  flags: { url?: string; username?: string; backend?: string };
  home?: string;
}

export class ConfigError extends Error {}

type Doc = { url?: unknown; token?: unknown; auth?: Record<string, unknown> };

function readDoc(file: string): Doc {
  let parsed: unknown;
  try {
    parsed = YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`${file}: expected a mapping`);
  const doc = parsed as Doc;
  if (doc.auth !== undefined && (typeof doc.auth !== 'object' || doc.auth === null))
    throw new ConfigError(`${file}: auth must be a mapping`);
  return doc;
}

function filesOf(path: string): string[] {
  if (!existsSync(path)) throw new ConfigError(`${path}: no such file or directory`);
  if (statSync(path).isDirectory()) {
    return readdirSync(path)
      .filter((n) => /\.ya?ml$/.test(n))
      .sort()
      .map((n) => join(path, n));
  }
  return [path];
}

function str(v: unknown, what: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  throw new ConfigError(`${what} must be a string`);
}

export function loadSettings(input: SettingsInput): CliSettings {
  const home = input.home ?? homedir();
  const env = input.env;
  let path = input.configPath ?? env.XIVO_AUTH_CLI_CONFIG ?? env.WAZO_AUTH_CLI_CONFIG;
  if (path === undefined) {
    path = [join(home, '.config', 'xivo-auth-cli'), join(home, '.config', 'wazo-auth-cli')].find((p) => existsSync(p));
  }
  const files = path === undefined ? [] : filesOf(path);
  const auth: Record<string, unknown> = {};
  let url: string | null = null;
  let token: string | null = null;
  for (const file of files) {
    const doc = readDoc(file);
    Object.assign(auth, doc.auth ?? {});
    if (doc.url !== undefined) url = str(doc.url, `${file}: url`);
    if (doc.token !== undefined) token = str(doc.token, `${file}: token`);
  }
  if (url === null) {
    const https = auth.https === true;
    const host = str(auth.host, 'auth.host') ?? 'localhost';
    const port = str(auth.port, 'auth.port') ?? '9497';
    const prefix = str(auth.prefix, 'auth.prefix') ?? '';
    url = `${https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}${prefix}`;
  }
  const verify = auth.verify_certificate;
  const settings: CliSettings = {
    url: input.flags.url ?? env.XIVO_AUTH_URL ?? url,
    username: input.flags.username ?? env.XIVO_AUTH_USERNAME ?? str(auth.username, 'auth.username'),
    password: env.XIVO_AUTH_PASSWORD ?? str(auth.password, 'auth.password'),
    backend: input.flags.backend ?? env.XIVO_AUTH_BACKEND ?? str(auth.backend, 'auth.backend'),
    token: env.XIVO_AUTH_TOKEN ?? token,
    verifyCertificate: typeof verify === 'string' ? verify : verify !== false,
    files,
  };
  return settings;
}
