// Administrators' view of the login throttle (issue 25): the counters that
// are backing off, and an unlock. The throttle's table holds hashed keys
// only (no login, no address in clear), so a counter is named after the
// audit trail: the recent login attempts of the caller's tenants give
// (login, address) pairs whose keys are recomputed and matched. A counter no
// audited attempt explains (an unknown login, an audit trail purged) is
// shown, without its login, to the top tenant only.
import type { Clock } from '../clock.js';
import { NotFoundError } from '../errors.js';
import type { AuditRecord, BlockedLogin } from './types.js';
import type { ThrottleAdminStore } from './store.js';
import type { AuditRecorder } from './audit.js';
import type { LoginThrottle } from './login-throttle.js';

/** How many audited login attempts are read to name the counters; how many counters are listed. */
const AUDIT_WINDOW = 2000;
const MAX_LISTED = 500;

export interface ThrottleView {
  /** The counter's key (a hash: reveals neither login nor address). */
  id: string;
  /** `address`: one login from one client address; `account`: one login from everywhere. */
  kind: 'address' | 'account';
  login: string | null;
  remote_addr: string | null;
  tenant_uuid: string | null;
  failures: number;
  attempts: number;
  /** UTC, ISO 8601: no attempt is let through before. */
  blocked_until: string;
  last_attempt_at: string;
}

export interface ThrottleScope {
  /** The acting tenant and, with recurse, its sub-tenants: whose counters are listed. */
  tenantUuids: string[];
  /** The acting tenant and all its sub-tenants: whose audited attempts name counters (a superset of tenantUuids). */
  subtree: string[];
  /** The acting tenant is the top tenant: also counters no audited attempt of a tenant explains. */
  top: boolean;
}

interface Origin {
  login: string;
  remoteAddr: string | null;
  tenantUuid: string | null;
}

export class ThrottleAdmin {
  constructor(
    private readonly store: ThrottleAdminStore,
    private readonly clock: Clock,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditRecorder,
  ) {}

  async list(scope: ThrottleScope): Promise<ThrottleView[]> {
    const blocked = await this.store.listBlockedLogins(this.clock.now(), MAX_LISTED);
    if (blocked.length === 0) return [];
    const origins = await this.origins(scope);
    const listed = new Set(scope.tenantUuids);
    const views: ThrottleView[] = [];
    for (const row of blocked) {
      const origin = origins.get(row.key) ?? null;
      if (origin === null ? !scope.top : origin.tenantUuid === null ? !scope.top : !listed.has(origin.tenantUuid)) continue;
      views.push(view(row, origin));
    }
    return views;
  }

  /** Clears one counter the caller may see; NotFoundError otherwise. */
  async unlock(scope: ThrottleScope, id: string): Promise<void> {
    const visible = (await this.list(scope)).some((t) => t.id === id);
    if (!visible || !(await this.store.deleteLoginThrottle(id))) throw new NotFoundError('unknown-throttle', 'throttle', id);
  }

  /** Counter key → the audited login attempt it belongs to, within the scope. */
  private async origins(scope: ThrottleScope): Promise<Map<string, Origin>> {
    // This instance's audit writes still in flight: the latest attempts name their counters too.
    await this.audit.flush();
    const page = await this.audit.list(
      { tenantUuids: scope.subtree, includeUntenanted: scope.top },
      { order: 'at', direction: 'desc', limit: AUDIT_WINDOW, offset: 0, search: 'login' },
    );
    const origins = new Map<string, Origin>();
    for (const record of page.items) {
      if (record.action !== 'login' || record.login === null) continue;
      const origin = originOf(record);
      const keys = this.throttle.keys(record.login, record.remoteAddr);
      if (!origins.has(keys.pair)) origins.set(keys.pair, origin);
      if (!origins.has(keys.account)) origins.set(keys.account, { ...origin, remoteAddr: null });
    }
    return origins;
  }
}

function originOf(r: AuditRecord): Origin {
  return { login: r.login ?? '', remoteAddr: r.remoteAddr, tenantUuid: r.tenantUuid };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function view(row: BlockedLogin, origin: Origin | null): ThrottleView {
  return {
    id: row.key,
    kind: row.key.startsWith('a:') ? 'account' : 'address',
    login: origin?.login ?? null,
    remote_addr: origin?.remoteAddr ?? null,
    tenant_uuid: origin?.tenantUuid ?? null,
    failures: row.failures,
    attempts: row.attempts,
    blocked_until: iso(row.nextAttemptAt),
    last_attempt_at: iso(row.updatedAt),
  };
}
