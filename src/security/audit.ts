// The audit trail: who did what, from where, when, with which outcome, in
// which tenant. Each record goes to the log (a child logger bound with
// audit=true) and to the audit table (GET /0.1/audit), and is handed to
// `onRecord` (the bus publishes it as an event). Never a secret: callers pass
// logins, uuids and addresses only, never passwords, tokens or headers.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ListQuery, ListResult } from '../lists.js';
import type { AuditFilter, AuditRecord } from './types.js';
import type { AuditStore } from './store.js';
import type { AuditConfig } from '../config/sections/security.js';

export type AuditEntry = Partial<Omit<AuditRecord, 'uuid' | 'at' | 'action' | 'outcome'>> &
  Pick<AuditRecord, 'action' | 'outcome'>;

/** An audit record as JSON, as GET /0.1/audit lists it and the bus carries it (auth_audit_recorded). */
export function auditRecordJson(r: AuditRecord) {
  return {
    uuid: r.uuid,
    timestamp: new Date(r.at).toISOString(),
    action: r.action,
    outcome: r.outcome,
    tenant_uuid: r.tenantUuid,
    user_uuid: r.actorUuid,
    auth_id: r.actorAuthId,
    login: r.login,
    remote_addr: r.remoteAddr,
    target_type: r.targetType,
    target_id: r.targetId,
    status_code: r.statusCode,
    details: r.details,
  };
}

export interface AuditRecorderOptions {
  /** Called with every record once it is built (e.g. to publish it on the bus); must not throw. */
  onRecord?: (record: AuditRecord) => void;
}

/** Longest text kept in a record field (logins typed by anyone). */
const MAX_FIELD = 256;
/** Records deleted per statement by the purge. */
const PURGE_BATCH = 5000;

function clip(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  // PostgreSQL refuses NUL in text; a login may carry anything.
  // eslint-disable-next-line no-control-regex -- PostgreSQL text cannot hold NUL
  const clean = value.replace(/\u0000/g, '');
  return clean.length > MAX_FIELD ? clean.slice(0, MAX_FIELD) : clean;
}

export class AuditRecorder {
  private readonly log: Logger;
  private readonly pending = new Set<Promise<void>>();
  /** Set by the composition root (or later): every record is passed to it. */
  onRecord: ((record: AuditRecord) => void) | null;

  constructor(
    private readonly store: AuditStore,
    private readonly clock: Clock,
    logger: Logger,
    private readonly config: AuditConfig,
    options: AuditRecorderOptions = {},
  ) {
    this.log = logger.child({ audit: true });
    this.onRecord = options.onRecord ?? null;
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  /**
   * Records an entry without making the caller wait: the write is tracked,
   * and `flush()` waits for every write in flight (tests, shutdown).
   */
  record(entry: AuditEntry): AuditRecord | null {
    const record = this.prepare(entry);
    if (record === null) return null;
    this.announce(record);
    const write = this.store.insertAuditRecord(record).catch((err: unknown) => {
      this.log.error(
        { err: { message: (err as Error).message, name: (err as Error).name }, uuid: record.uuid },
        'audit record not stored',
      );
    });
    this.pending.add(write);
    void write.finally(() => this.pending.delete(write));
    return record;
  }

  /**
   * The record of an entry, for the caller to store in its own transaction
   * (StoreTx.settleLogin), then to announce(); null when auditing is off.
   */
  prepare(entry: AuditEntry): AuditRecord | null {
    if (!this.config.enabled) return null;
    return {
      uuid: randomUUID(),
      at: this.clock.now(),
      action: entry.action,
      outcome: entry.outcome,
      tenantUuid: entry.tenantUuid ?? null,
      actorUuid: entry.actorUuid ?? null,
      actorAuthId: clip(entry.actorAuthId),
      login: clip(entry.login),
      remoteAddr: clip(entry.remoteAddr),
      targetType: entry.targetType ?? null,
      targetId: clip(entry.targetId),
      statusCode: entry.statusCode ?? null,
      details: entry.details ?? {},
    };
  }

  /** Logs a record and hands it to onRecord (record() does it; so does whoever stored a prepared one). */
  announce(record: AuditRecord): void {
    this.log.info({ record: { ...record, at: new Date(record.at).toISOString() } }, `audit ${record.action} ${record.outcome}`);
    try {
      this.onRecord?.(record);
    } catch (err) {
      this.log.warn({ err }, 'audit onRecord hook failed');
    }
  }

  /** Waits for the writes in flight. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  list(filter: AuditFilter, q: ListQuery): Promise<ListResult<AuditRecord>> {
    return this.store.listAuditRecords(filter, q);
  }

  /** Deletes the records older than the retention; returns how many. */
  async purge(): Promise<number> {
    const before = this.clock.now() - this.config.retention_days * 86_400_000;
    let total = 0;
    for (;;) {
      const n = await this.store.purgeAuditRecords(before, PURGE_BATCH);
      total += n;
      if (n < PURGE_BATCH) return total;
    }
  }
}

/**
 * Runs the periodic clean-up of the security tables (old audit records,
 * stale login counters) every `intervalSeconds`; started and stopped by the
 * composition root. Safe on several instances: each purge is idempotent.
 */
export class SecurityJanitor {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly tasks: Array<() => Promise<unknown>>,
    private readonly intervalSeconds: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      void this.runOnce();
    }, this.intervalSeconds * 1000);
    this.timer.unref();
    void this.runOnce();
  }

  /** One pass of every task (also used by tests). */
  runOnce(): Promise<void> {
    this.running ??= (async () => {
      for (const task of this.tasks) {
        try {
          await task();
        } catch (err) {
          this.logger.warn({ err: { message: (err as Error).message, name: (err as Error).name } }, 'security clean-up failed');
        }
      }
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
