// The one implementation of the store, over Kysely, for both engines: the
// verbs of each aggregate (./kysely/), of each feature (./*-verbs.ts), and
// the store's own steps. Engine differences come in through StoreDialect
// (./store-dialect.ts); driver errors become typed errors in one wrapper
// (./mapped-errors.ts).

import { sql } from 'kysely';
import { auditRecorded } from '../events/catalog.js';
import { StoreError, StoreUnavailableError } from './errors.js';
import { insertOutbox } from './expiry.js';
import { mappingErrors } from './mapped-errors.js';
import { readSchemaVersion, runMigrations } from './migrations/run-migrations.js';
import { securityVerbs } from './security-verbs.js';
import { externalAuthVerbs } from './external-verbs.js';
import { mailOutboxVerbs, selfServiceTxVerbs, type SelfServiceTxVerbs } from './self-service-verbs.js';
import { mfaVerbs } from './mfa-verbs.js';
import { ssoVerbs } from './sso-verbs.js';
import type { StoreDialect, StoreLogger } from './store-dialect.js';
import type { AuditRecord, Store, StoreTx } from './types.js';
import { verbContext, type VerbContext } from './kysely/context.js';
import { groupVerbs } from './kysely/groups.js';
import { ldapConfigVerbs } from './kysely/ldap-config.js';
import { outboxVerbs } from './kysely/outbox.js';
import { policyVerbs } from './kysely/policies.js';
import { refreshTokenVerbs } from './kysely/refresh-tokens.js';
import { loginEvents, loginWritesSql, sessionVerbs, type LoginWrites } from './kysely/sessions.js';
import type { IssueTransactionOptions } from '../tokens/store.js';
import { tenantVerbs } from './kysely/tenants.js';
import { userVerbs } from './kysely/users.js';

/** The verbs of StoreTx over `ctx`, but the self-service ones (./self-service-verbs.ts). */
function storeTxVerbs(ctx: VerbContext) {
  return {
    ...tenantVerbs(ctx),
    ...userVerbs(ctx),
    ...groupVerbs(ctx),
    ...policyVerbs(ctx),
    ...sessionVerbs(ctx),
    ...refreshTokenVerbs(ctx),
    ...ldapConfigVerbs(ctx),
  } satisfies Omit<StoreTx, keyof SelfServiceTxVerbs>;
}

export interface KyselyStoreOptions {
  /** Write events to the outbox with the changes that cause them. */
  recordEvents: boolean;
}

export function createKyselyStore(
  dialect: StoreDialect,
  logger: StoreLogger,
  options: KyselyStoreOptions = { recordEvents: false },
): Store {
  const { db, mapError } = dialect;
  const committedListeners: (() => void)[] = [];
  /** After a commit that wrote events: wake the relay (never throws). */
  const notifyCommitted = (): void => {
    for (const listener of committedListeners) listener();
  };
  const eventsCommitted = (ctx: VerbContext): void => {
    if (!ctx.wroteEvents) return;
    ctx.wroteEvents = false;
    notifyCommitted();
  };
  const topLevel = verbContext(db, dialect, options.recordEvents);

  /**
   * A login's transaction of deferred writes (IssueTransactionOptions): the
   * callback's createSession, insertToken and settleLogin are gathered, then
   * sent as one statement (kysely/sessions.ts loginWritesSql) once it has
   * returned; it throws: nothing is sent. The statement still runs between
   * BEGIN and COMMIT: on its own it would commit even when the instance died
   * while it waited for a lock, leaving a session no client holds (counted
   * against max_user_sessions, audited as a success); without a COMMIT from
   * a live client, nothing of the login stays (test/e2e/scale-out.e2e.test.ts).
   */
  async function deferredLogin<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const writes: LoginWrites = { session: null, token: null, settlement: null };
    const once = <K extends keyof LoginWrites>(key: K, value: LoginWrites[K]): void => {
      if (writes[key] !== null) throw new TypeError(`a transaction of deferred writes takes one ${key}`);
      writes[key] = value;
    };
    const tx: Pick<StoreTx, 'createSession' | 'insertToken' | 'settleLogin'> = {
      createSession: async (s) => once('session', s),
      insertToken: async (t) => once('token', t),
      settleLogin: async (s) => once('settlement', s),
    };
    // Any other verb is a programming error: it is not there to call.
    const result = await fn(tx as StoreTx);
    const events = options.recordEvents ? loginEvents(writes) : [];
    const statement = loginWritesSql(writes, events);
    if (statement === null) return result;
    try {
      await db.transaction().execute((trx) => statement.execute(trx));
    } catch (err) {
      throw mapError(err);
    }
    if (events.length > 0) notifyCommitted();
    return result;
  }

  return {
    // Outside a transaction, each verb has committed when it returns.
    ...mappingErrors(storeTxVerbs(topLevel), mapError, () => eventsCommitted(topLevel)),
    // security (issue 7): ./security-verbs.ts
    ...securityVerbs(db, mapError),
    // external accounts (issue 22): ./external-verbs.ts; their events commit with them.
    ...externalAuthVerbs(db, {
      recordEvents: options.recordEvents,
      writeEvents: insertOutbox,
      committed: notifyCommitted,
      mapError,
    }),
    // self-service accounts (issue 21): ./self-service-verbs.ts; emailed tokens and mails commit with their change.
    ...selfServiceTxVerbs(db, mapError),
    ...mailOutboxVerbs(db, { rowLocks: dialect.rowLocks, mapError }),
    // multi-factor authentication (issue 24): ./mfa-verbs.ts; their events commit with them.
    ...mfaVerbs(db, { recordEvents: options.recordEvents, writeEvents: insertOutbox, committed: notifyCommitted, mapError }),
    // single sign-on (issue 23): ./sso-verbs.ts.
    ...ssoVerbs(db, mapError),
    // With events on, an audit record and its event commit together.
    ...(options.recordEvents
      ? {
          async insertAuditRecord(r: AuditRecord): Promise<void> {
            try {
              await db.transaction().execute(async (trx) => {
                await securityVerbs(trx, mapError).insertAuditRecord(r);
                await insertOutbox(trx, [auditRecorded(r)]);
              });
            } catch (err) {
              throw mapError(err);
            }
            notifyCommitted();
          },
        }
      : {}),
    // the outbox relay's steps, and the expire-soon scan: ./kysely/outbox.ts
    ...mappingErrors(
      outboxVerbs(topLevel, dialect, () => eventsCommitted(topLevel)),
      mapError,
    ),
    engine: dialect.engine,

    async transaction<T>(fn: (tx: StoreTx) => Promise<T>, txOptions?: IssueTransactionOptions): Promise<T> {
      if (txOptions?.deferWrites === true && dialect.writesInOneStatement) return deferredLogin(fn);
      let inner: VerbContext | null = null;
      try {
        const result = await db.transaction().execute((trx) => {
          inner = verbContext(trx, dialect, options.recordEvents);
          // Errors are mapped here, and again (unchanged) when they leave the transaction.
          return fn({ ...mappingErrors(storeTxVerbs(inner), mapError), ...selfServiceTxVerbs(trx) });
        });
        if (inner !== null) eventsCommitted(inner);
        return result;
      } catch (err) {
        throw mapError(err);
      }
    },

    onEventsCommitted(listener) {
      committedListeners.push(listener);
    },

    async migrate(): Promise<void> {
      try {
        await runMigrations(dialect, logger);
      } catch (err) {
        throw mapError(err);
      }
    },

    watchRevocations(handler) {
      return dialect.watchRevocations(handler, logger);
    },

    async schemaVersion() {
      try {
        return await readSchemaVersion(dialect);
      } catch (err) {
        throw mapError(err);
      }
    },

    async ping(): Promise<void> {
      try {
        await sql`select 1`.execute(db);
      } catch (err) {
        const mapped = mapError(err);
        throw mapped instanceof StoreError ? mapped : new StoreUnavailableError('database did not answer', { cause: err });
      }
    },

    async close(): Promise<void> {
      await db.destroy();
    },
  };
}
