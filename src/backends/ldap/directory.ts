// One LDAP login against a tenant's directory, over a connection of its own:
// find the user's entry (service bind + search, or a DN built from the
// login), prove the password with the user's own bind, read the attributes
// that match the entry to a local user. Every step is bounded in time.
import { isIP } from 'node:net';
import { createSecureContext, rootCertificates, type ConnectionOptions, type SecureContext } from 'node:tls';
import { Client, InvalidCredentialsError, type Entry } from 'ldapts';
import type { LdapConfig } from './types.js';
import { buildSearchFilter, buildUserDn } from './ldap-syntax.js';
import { SpanKind, traced, tracing } from '../../tracing/tracing.js';

export interface DirectoryOptions {
  /** Milliseconds for connect and for each operation. */
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM), besides the system ones. */
  extraCa: string[];
  /** Built once from extraCa (see withSecureContext): parsing every CA on each connection costs milliseconds. */
  secureContext?: SecureContext;
}

/** The options with their TLS context built once, to be shared by every login. */
export function withSecureContext(options: DirectoryOptions): DirectoryOptions {
  if (options.extraCa.length === 0 || options.secureContext !== undefined) return options;
  return {
    ...options,
    secureContext: createSecureContext({ ca: [...rootCertificates, ...options.extraCa], minVersion: 'TLSv1.2' }),
  };
}

/** What the directory said about a login. */
export type DirectoryAnswer =
  | { kind: 'authenticated'; dn: string; login: string | null; email: string | null }
  /** Wrong password, no such entry, or an ambiguous search: the same 401. */
  | { kind: 'rejected'; reason: 'invalid-credentials' | 'no-entry' | 'ambiguous' }
  /** The directory could not be used (down, slow, TLS, service bind refused). */
  | { kind: 'unavailable'; step: string; cause: string };

class StepError extends Error {
  constructor(
    readonly step: string,
    readonly reason: unknown,
  ) {
    super(step);
  }
}

/** The whole exchange is bounded too: a few steps, each bounded, plus slack. */
const STEPS = 5;

export function directoryUrl(config: Pick<LdapConfig, 'host' | 'port' | 'protocolSecurity'>): string {
  const host = isIP(config.host) === 6 ? `[${config.host}]` : config.host;
  return `${config.protocolSecurity === 'ldaps' ? 'ldaps' : 'ldap'}://${host}:${config.port}`;
}

export function tlsOptionsFor(host: string, options: DirectoryOptions): ConnectionOptions {
  const trust =
    options.secureContext !== undefined
      ? { secureContext: options.secureContext }
      : {
          ca: options.extraCa.length > 0 ? [...rootCertificates, ...options.extraCa] : undefined,
          minVersion: 'TLSv1.2' as const,
        };
  return {
    host,
    // SNI carries host names only.
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ...trust,
    rejectUnauthorized: true,
  };
}

function firstValue(entry: Entry, attribute: string): string | null {
  // ldapts keys attributes as the server spelled them.
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  if (key === undefined) return null;
  const value = entry[key];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return null;
  return Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}

async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await (tracing.enabled ? traced(`ldap ${name}`, {}, run) : run());
  } catch (err) {
    throw new StepError(name, err);
  }
}

/** A connection of its own for one exchange, bounded by a deadline, always closed. */
async function exchange(
  config: LdapConfig,
  options: DirectoryOptions,
  run: (client: Client, tlsOptions: ConnectionOptions) => Promise<DirectoryAnswer>,
): Promise<DirectoryAnswer> {
  // One client span per exchange with the directory: its host, never a DN or login.
  if (tracing.enabled) {
    return traced(
      'ldap exchange',
      { 'server.address': config.host, 'network.protocol.name': 'ldap' },
      async () => {
        const answer = await exchangeUntraced(config, options, run);
        return answer;
      },
      SpanKind.CLIENT,
    );
  }
  return exchangeUntraced(config, options, run);
}

async function exchangeUntraced(
  config: LdapConfig,
  options: DirectoryOptions,
  run: (client: Client, tlsOptions: ConnectionOptions) => Promise<DirectoryAnswer>,
): Promise<DirectoryAnswer> {
  const tlsOptions = tlsOptionsFor(config.host, options);
  const client = new Client({
    url: directoryUrl(config),
    timeout: options.timeoutMs,
    connectTimeout: options.timeoutMs,
    // ldapts speaks TLS from the start whenever tlsOptions are given: StartTLS gets them later.
    ...(config.protocolSecurity === 'ldaps' ? { tlsOptions } : {}),
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<DirectoryAnswer>((resolve) => {
    timer = setTimeout(
      () => resolve({ kind: 'unavailable', step: 'deadline', cause: `no answer within ${STEPS * options.timeoutMs} ms` }),
      STEPS * options.timeoutMs,
    );
  });
  const answered = (async () => {
    if (config.protocolSecurity === 'tls') await step('starttls', () => client.startTLS({ ...tlsOptions }));
    return run(client, tlsOptions);
  })().catch((err: unknown): DirectoryAnswer => {
    if (err instanceof StepError) {
      return { kind: 'unavailable', step: err.step, cause: describe(err.reason) };
    }
    return { kind: 'unavailable', step: 'unknown', cause: describe(err) };
  });
  try {
    return await Promise.race([answered, deadline]);
  } finally {
    clearTimeout(timer);
    // Closing never delays the answer; a dead socket is destroyed.
    client.unbind().catch(() => undefined);
  }
}

/** Service bind, then a search where the login only ever enters the filter escaped. */
async function searchEntry(client: Client, config: LdapConfig, login: string): Promise<Entry | DirectoryAnswer> {
  await step('service bind', () => client.bind(config.bindDn as string, config.bindPassword ?? ''));
  const filter = buildSearchFilter(config.searchFilters, config.userLoginAttribute, login);
  const attributes = [config.userLoginAttribute, config.userEmailAttribute];
  const found = await step('search', () =>
    client.search(config.userBaseDn, { scope: 'sub', filter, attributes, sizeLimit: 2 }),
  ).catch((err: unknown) => {
    if (err instanceof StepError && (err.reason as { code?: number })?.code === 4) return null; // sizeLimitExceeded
    throw err;
  });
  if (found === null || found.searchEntries.length > 1) return { kind: 'rejected', reason: 'ambiguous' };
  if (found.searchEntries.length === 0) return { kind: 'rejected', reason: 'no-entry' };
  return found.searchEntries[0];
}

function isAnswer(value: Entry | DirectoryAnswer): value is DirectoryAnswer {
  return 'kind' in value && typeof value.kind === 'string' && !('dn' in value);
}

function authenticated(config: LdapConfig, entry: Entry): DirectoryAnswer {
  return {
    kind: 'authenticated',
    dn: entry.dn,
    login: firstValue(entry, config.userLoginAttribute),
    email: firstValue(entry, config.userEmailAttribute),
  };
}

/** Checks the password with the user's own bind. */
export function authenticate(
  config: LdapConfig,
  login: string,
  password: string,
  options: DirectoryOptions,
): Promise<DirectoryAnswer> {
  return exchange(config, options, async (client) => {
    let entry: Entry | null = null;
    let dn: string;
    if (config.bindDn !== null) {
      const found = await searchEntry(client, config, login);
      if (isAnswer(found)) return found;
      entry = found;
      dn = entry.dn;
    } else {
      dn = buildUserDn(config.userLoginAttribute, login, config.userBaseDn);
    }
    try {
      await client.bind(dn, password);
    } catch (err) {
      // 49: wrong password or (direct bind) no such entry; the same answer.
      if (err instanceof InvalidCredentialsError) return { kind: 'rejected', reason: 'invalid-credentials' };
      throw new StepError('user bind', err);
    }
    if (entry === null) {
      // Direct bind: read the entry as the user.
      const attributes = [config.userLoginAttribute, config.userEmailAttribute];
      const own = await step('read entry', () => client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes }));
      if (own.searchEntries.length !== 1) return { kind: 'rejected', reason: 'no-entry' };
      entry = own.searchEntries[0];
    }
    return authenticated(config, entry);
  });
}

/**
 * Without a password (refresh tokens): the service account finds the entry,
 * proving it still exists. 'authenticated' then means "found". Needs bindDn.
 */
export function lookUp(config: LdapConfig, login: string, options: DirectoryOptions): Promise<DirectoryAnswer> {
  return exchange(config, options, async (client) => {
    const found = await searchEntry(client, config, login);
    return isAnswer(found) ? found : authenticated(config, found);
  });
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const message = err.message.split('\n')[0];
    return code === undefined ? message : `${String(code)}: ${message}`;
  }
  return String(err);
}
