// Databases of the benchmark: fresh PostgreSQL databases (created and dropped
// by the harness) or SQLite files in a temp directory, and direct seeding of
// `sessions` + `tokens` rows (creating 1,000,000 tokens through the API, with
// real argon2id per login, would take hours).
//
// Seeded rows follow src/store/migrations/: token hash = SHA-256 hex of the
// token string; times in epoch milliseconds; acl and metadata as JSON text;
// one session per SESSION_SIZE tokens.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

export const PG_ADMIN_URI = 'postgresql://postgres@127.0.0.1:5432/postgres';
const SESSION_SIZE = 1000;

/** Deterministic token string number `i` of a seed: 43 base64url chars, like real tokens. */
export function seededToken(seed, i) {
  return createHash('sha256').update(`${seed}:${i}`).digest('base64url');
}

export function tokenHash(token) {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function randomSuffix() {
  return randomBytes(5).toString('hex');
}

/** A database the harness owns: one per (engine, purpose). */
export class BenchDatabase {
  constructor(engine, { dir, name }) {
    this.engine = engine;
    this.name = name;
    if (engine === 'sqlite') {
      this.file = path.join(dir, `${name}.sqlite`);
      this.uri = `sqlite:${this.file}`;
    } else {
      this.dbName = `xivo_auth_bench_${randomSuffix()}_${name}`;
      this.uri = `postgresql://postgres@127.0.0.1:5432/${this.dbName}`;
    }
  }

  async create() {
    if (this.engine !== 'postgresql') return;
    const admin = new pg.Client({ connectionString: PG_ADMIN_URI });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${this.dbName}`);
      this.created = true;
    } finally {
      await admin.end();
    }
  }

  /** PostgreSQL: DROP DATABASE; SQLite: remove the files (a 1M-token file is ~0.5 GB). */
  async drop() {
    if (this.engine === 'sqlite') {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${this.file}${suffix}`, { force: true });
      return;
    }
    if (!this.created) return;
    const admin = new pg.Client({ connectionString: PG_ADMIN_URI });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${this.dbName} WITH (FORCE)`);
      this.created = false;
    } finally {
      await admin.end();
    }
  }

  /** A connection for direct reads/writes: {query(sql, params) → rows, close()}. */
  async connect() {
    if (this.engine === 'sqlite') {
      const db = new Database(this.file, { timeout: 5000 });
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      const cache = new Map();
      return {
        engine: 'sqlite',
        raw: db,
        async query(sql, params = []) {
          // $1, $2 … → ?: one placeholder style in the callers.
          let stmt = cache.get(sql);
          if (!stmt) {
            stmt = db.prepare(sql.replace(/\$\d+/g, '?'));
            cache.set(sql, stmt);
          }
          return stmt.reader ? stmt.all(...params) : (stmt.run(...params), []);
        },
        async close() {
          db.close();
        },
      };
    }
    const client = new pg.Client({ connectionString: this.uri });
    await client.connect();
    return {
      engine: 'postgresql',
      raw: client,
      async query(sql, params = []) {
        return (await client.query(sql, params)).rows;
      },
      async close() {
        await client.end();
      },
    };
  }

  /**
   * Inserts `count` tokens (seededToken(seed, 0 … count-1)) with the identity
   * and ACL of `template`, one session per 1000 tokens, in transactions.
   * `expiresAt(i)` gives each token's expiry (epoch ms). Returns seconds spent.
   */
  async seedTokens({ seed, count, template, expiresAt, onProgress }) {
    const started = Date.now();
    const now = Date.now();
    const acl = JSON.stringify(template.acl);
    const metadata = JSON.stringify(template.metadata);
    const sessionTenant = template.tenantUuid ?? '';
    if (this.engine === 'sqlite') {
      const db = new Database(this.file, { timeout: 5000 });
      try {
        db.pragma('journal_mode = WAL');
        // A bulk load into a throw-away database: no fsync, and a page cache
        // large enough to keep the index B-trees in memory.
        db.pragma('synchronous = OFF');
        db.pragma('cache_size = -262144');
        const insertSession = db.prepare(
          'INSERT INTO sessions (uuid, tenant_uuid, user_uuid, mobile, created_at) VALUES (?, ?, ?, 0, ?)',
        );
        const insertToken =
          db.prepare(`INSERT INTO tokens (hash, session_uuid, auth_id, user_uuid, tenant_uuid, pbx_user_uuid, xivo_uuid,
          issued_at, expires_at, acl, metadata, remote_addr, user_agent, refresh_token_uuid)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '127.0.0.1', 'xivo-auth-bench', NULL)`);
        const batch = db.transaction((from, to) => {
          let session = null;
          for (let i = from; i < to; i++) {
            if (i % SESSION_SIZE === 0 || session === null) {
              session = randomUUID();
              insertSession.run(session, sessionTenant, template.userUuid, now);
            }
            insertToken.run(
              tokenHash(seededToken(seed, i)),
              session,
              template.authId,
              template.userUuid,
              template.tenantUuid,
              template.pbxUserUuid,
              template.xivoUuid,
              now,
              expiresAt(i),
              acl,
              metadata,
            );
          }
        });
        const step = 50_000;
        for (let from = 0; from < count; from += step) {
          batch(from, Math.min(count, from + step));
          onProgress?.(Math.min(count, from + step));
        }
      } finally {
        db.close();
      }
    } else {
      const client = new pg.Client({ connectionString: this.uri });
      await client.connect();
      try {
        // Multi-row INSERTs from arrays (one statement per 10,000 rows, one
        // transaction per 100,000).
        const rowsPerStatement = 10_000;
        const rowsPerTransaction = 100_000;
        for (let txFrom = 0; txFrom < count; txFrom += rowsPerTransaction) {
          await client.query('BEGIN');
          const txTo = Math.min(count, txFrom + rowsPerTransaction);
          for (let from = txFrom; from < txTo; from += rowsPerStatement) {
            const to = Math.min(txTo, from + rowsPerStatement);
            const sessions = [];
            const hashes = [];
            const sessionOf = [];
            const expiries = [];
            let session = null;
            for (let i = from; i < to; i++) {
              if (i % SESSION_SIZE === 0 || session === null) {
                session = randomUUID();
                sessions.push(session);
              }
              hashes.push(tokenHash(seededToken(seed, i)));
              sessionOf.push(session);
              expiries.push(expiresAt(i));
            }
            await client.query(
              `INSERT INTO sessions (uuid, tenant_uuid, user_uuid, mobile, created_at)
               SELECT u, $2::text, $3::text, false, $4::bigint FROM unnest($1::text[]) AS s(u)`,
              [sessions, sessionTenant, template.userUuid, now],
            );
            await client.query(
              `INSERT INTO tokens (hash, session_uuid, auth_id, user_uuid, tenant_uuid, pbx_user_uuid, xivo_uuid,
                 issued_at, expires_at, acl, metadata, remote_addr, user_agent, refresh_token_uuid)
               SELECT h, s, $4::text, $5::text, $6::text, $7::text, $8::text, $9::bigint, e, $10::text, $11::text,
                 '127.0.0.1', 'xivo-auth-bench', NULL
               FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(h, s, e)`,
              [
                hashes,
                sessionOf,
                expiries,
                template.authId,
                template.userUuid,
                template.tenantUuid,
                template.pbxUserUuid,
                template.xivoUuid,
                now,
                acl,
                metadata,
              ],
            );
          }
          await client.query('COMMIT');
          onProgress?.(txTo);
        }
        // What autovacuum would do soon after such a load: fresh planner statistics.
        await client.query('ANALYZE sessions');
        await client.query('ANALYZE tokens');
      } finally {
        await client.end();
      }
    }
    return (Date.now() - started) / 1000;
  }
}

/**
 * CPU seconds used so far by the PostgreSQL backends serving `dbName`, by pid
 * (read from /proc: the server runs on this machine).
 */
export async function pgBackendCpu(dbName, cpuSecondsOf) {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URI });
  await admin.connect();
  try {
    const { rows } = await admin.query('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
      dbName,
    ]);
    const out = new Map();
    for (const { pid } of rows) {
      try {
        out.set(pid, cpuSecondsOf(pid));
      } catch {
        /* exited meanwhile */
      }
    }
    return out;
  } finally {
    await admin.end();
  }
}
