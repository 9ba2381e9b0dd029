// Reload without restart (issue 26, item 3): SIGHUP (`systemctl reload
// xivo-auth`) re-reads the configuration the service started from (same
// files, environment and flags), validates it and applies what can change
// live. A file that does not load or validate is logged and ignored: the
// running configuration stays. Keys that cannot change live are reported
// once per reload as "needs a restart: <keys>".
//
// What is live, and who applies it (src/main.ts wires the appliers):
//   debug, log_level, profiling_enabled   the logger's level, per-request logging
//   default_policies, default_user_policy upserted in the top tenant / the ACL builder
//   security.rate_limits                  new token buckets (counters start afresh)
//   security.login_throttle               the throttle's thresholds and delays
//   authz.routes, authz.cache_max_age     the gateway's route table (fast path too)
//   rest_api.cors.allow_origins/_headers  CORS answers (when CORS was enabled at start)
// Everything else (ports, addresses, certificates, db_uri, amqp, backends,
// hashing, cors.enabled, tracing...) needs a restart.
import type { Logger } from 'pino';
import type { Config } from './types.js';

/** Dotted key prefixes that change live; a changed key under one of them is applied. */
export const LIVE_KEYS: readonly string[] = [
  'debug',
  'log_level',
  'profiling_enabled',
  'default_policies',
  'default_user_policy',
  'security.rate_limits',
  'security.login_throttle',
  'authz.routes',
  'authz.cache_max_age',
  'rest_api.cors.allow_origins',
  'rest_api.cors.allow_headers',
];

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (isMapping(a) && isMapping(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!sameValue(a[key], b[key])) return false;
    return true;
  }
  return false;
}

/**
 * The dotted paths whose values differ between two configurations. Mappings
 * are walked; lists and scalars are compared as one value. Under a mapping
 * whose keys are names (default_policies, service_accounts...), the path
 * stops at the name: `default_policies.operators`.
 */
export function changedKeys(before: unknown, after: unknown, prefix = ''): string[] {
  if (isMapping(before) && isMapping(after)) {
    const out: string[] = [];
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (NAMED_MAPS.has(prefix)) {
        if (!sameValue(before[key], after[key])) out.push(path);
      } else {
        out.push(...changedKeys(before[key], after[key], path));
      }
    }
    return out;
  }
  return sameValue(before, after) || prefix === '' ? [] : [prefix];
}

/** Mappings keyed by a name, compared one entry at a time. */
const NAMED_MAPS = new Set([
  'default_policies',
  'service_accounts',
  'backend_plugins',
  'enabled_backend_plugins',
  'enabled_external_auth_plugins',
]);

export function isLiveKey(key: string): boolean {
  return LIVE_KEYS.some((live) => key === live || key.startsWith(`${live}.`));
}

/** Changed keys split into the ones applied live and the ones needing a restart. */
export function classifyChanges(keys: readonly string[]): { live: string[]; restart: string[] } {
  const live: string[] = [];
  const restart: string[] = [];
  for (const key of keys) (isLiveKey(key) ? live : restart).push(key);
  return { live, restart };
}

/** Applies the new configuration's live part; `changed` lists the live keys that differ. */
export type LiveApplier = (next: Config, changed: readonly string[]) => void | Promise<void>;

export interface ReloadOutcome {
  status: 'applied' | 'unchanged' | 'rejected';
  applied: string[];
  needsRestart: string[];
  /** Why the new configuration was rejected (load or validation problems, or a failed apply). */
  problems: string[];
}

/**
 * Holds the running configuration; `reload()` loads a new one, diffs it,
 * applies the live keys, copies them into the running object (so GET
 * /config shows them) and reports the rest. Reloads never overlap.
 */
export class ConfigReloader {
  private running: Promise<ReloadOutcome> | null = null;
  private pending = false;

  constructor(
    private readonly current: Config,
    private readonly load: () => Config,
    private readonly apply: LiveApplier,
    private readonly logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>,
  ) {}

  /** Reload; a reload asked while one runs is done once more after it. */
  reload(): Promise<ReloadOutcome> {
    if (this.running !== null) {
      this.pending = true;
      return this.running;
    }
    this.running = (async () => {
      let outcome: ReloadOutcome;
      do {
        this.pending = false;
        outcome = await this.reloadOnce();
      } while (this.pending);
      return outcome;
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async reloadOnce(): Promise<ReloadOutcome> {
    let next: Config;
    try {
      next = this.load();
    } catch (err) {
      const problems = (err as { problems?: string[] }).problems ?? [(err as Error).message];
      this.logger.error({ problems }, 'configuration reload rejected: the running configuration stays');
      return { status: 'rejected', applied: [], needsRestart: [], problems };
    }
    const { live, restart } = classifyChanges(changedKeys(this.current, next));
    if (live.length > 0) {
      try {
        await this.apply(next, live);
      } catch (err) {
        const problems = [(err as Error).message];
        this.logger.error({ problems, keys: live }, 'configuration reload failed to apply: the running configuration stays');
        return { status: 'rejected', applied: [], needsRestart: restart, problems };
      }
      for (const key of live) setPath(this.current, key, structuredClone(getPath(next, key)));
      // At the new level: the first line a reload to log_level debug shows.
      this.logger.debug({ keys: live }, 'configuration reload: live keys applied');
    }
    if (restart.length > 0) this.logger.warn({ keys: restart }, `configuration reload: needs a restart: ${restart.join(', ')}`);
    this.logger.info(
      { applied: live, needs_restart: restart },
      live.length > 0 ? 'configuration reloaded' : 'configuration reloaded: nothing to apply live',
    );
    return { status: live.length > 0 ? 'applied' : 'unchanged', applied: live, needsRestart: restart, problems: [] };
  }
}

function getPath(tree: unknown, key: string): unknown {
  let node = tree;
  for (const part of key.split('.')) node = isMapping(node) ? node[part] : undefined;
  return node;
}

function setPath(tree: unknown, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    if (!isMapping(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
}
