// Users: accounts, their logins (a username or any email address, unique
// across tenants), their listing's filters, their deletion with everything
// they hold. The addresses themselves: ./user-emails.ts.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Expression, ExpressionBuilder, Selectable, SqlBool, Updateable } from 'kysely';
import { refreshTokenDeleted, sessionDeleted } from '../../events/catalog.js';
import type { IdentityStoreTx, LiveSessionsAsked, LoginUser } from '../../identity/store.js';
import type { DatabaseSchema, UsersTable } from '../database-schema.js';
import { StoreConflictError } from '../errors.js';
import { containsAny, type OrderColumn } from '../list-query.js';
import { jsonRows, refreshTokenFromRow, sortedEmails, toDbBool, userFromRow, userToRow } from '../row-mapping.js';
import type {
  ListResult,
  NewUser,
  Removal,
  User,
  UserEmail,
  UserEmailInput,
  UserFilter,
  UserListFilters,
  UserListQuery,
  UserPatch,
} from '../types.js';
import type { Db, VerbContext } from './context.js';
import { countRows, paged } from './lists.js';
import { liveSessionsCount, removeUserSessions } from './sessions.js';
import {
  addedAddresses,
  assertOneMain,
  emailsOfUser,
  newUserEmails,
  userEmailToRow,
  withEmails,
  withMainAddress,
  writeEmails,
} from './user-emails.js';

export type UserVerbs = Pick<
  IdentityStoreTx,
  | 'createUser'
  | 'getUser'
  | 'findUserByLogin'
  | 'findLoginUser'
  | 'listUsers'
  | 'updateUser'
  | 'replaceUserEmails'
  | 'setUserPassword'
  | 'replacePasswordHash'
  | 'deleteUser'
  | 'findTenantUser'
>;

const userOrders: Readonly<Record<string, OrderColumn>> = {
  uuid: { column: 'users.uuid', text: false },
  username: { column: 'users.username', text: true },
  firstname: { column: 'users.firstname', text: true },
  lastname: { column: 'users.lastname', text: true },
  // The main address (user_emails).
  email_address: {
    column: 'main_email',
    text: true,
    expression: sql`(select e.address from user_emails e where e.user_uuid = users.uuid and e.main = true)`,
  },
  purpose: { column: 'users.purpose', text: false },
  enabled: { column: 'users.enabled', text: false },
};
// And every address of the user (listUsers).
const userSearchColumns = ['users.username', 'users.firstname', 'users.lastname'] as const;

/** wazo-auth's default: services log in natively, people by their tenant's method. */
function defaultAuthenticationMethod(purpose: string): string {
  return purpose === 'user' ? 'default' : 'native';
}

export function userVerbs(ctx: VerbContext) {
  const verbs = {
    async createUser(u: NewUser): Promise<User> {
      const emails = newUserEmails(u);
      const authenticationMethod = u.authenticationMethod ?? defaultAuthenticationMethod(u.purpose);
      return ctx.atomic(async (db) => {
        await assertLoginsFree(ctx, db, u.uuid, { username: u.username, addresses: emails.map((e) => e.address) });
        await db.insertInto('users').values(userToRow(u, authenticationMethod)).execute();
        if (emails.length > 0) {
          await db
            .insertInto('user_emails')
            .values(emails.map((e) => userEmailToRow(u.uuid, e)))
            .execute();
        }
        await db
          .insertInto('group_users')
          .columns(['group_uuid', 'user_uuid'])
          .expression(
            db
              .selectFrom('groups')
              .select((eb) => ['groups.uuid as group_uuid', eb.val(u.uuid).as('user_uuid')])
              .where('tenant_uuid', '=', u.tenantUuid)
              .where('system_managed', '=', toDbBool(true)),
          )
          .execute();
        const main = emails.find((e) => e.main) ?? null;
        return {
          uuid: u.uuid,
          tenantUuid: u.tenantUuid,
          username: u.username,
          firstname: u.firstname,
          lastname: u.lastname,
          emailAddress: main?.address ?? null,
          emailConfirmed: main?.confirmed ?? false,
          emails: sortedEmails(emails),
          authenticationMethod,
          passwordHash: u.passwordHash,
          purpose: u.purpose,
          enabled: u.enabled,
          createdAt: u.createdAt,
        };
      });
    },

    async getUser(uuid: string): Promise<User | null> {
      // One statement: the row and its addresses (a JSON column).
      const row = await ctx.db
        .selectFrom('users')
        .selectAll('users')
        .select(emailsColumn(ctx))
        .where('uuid', '=', uuid)
        .executeTakeFirst();
      return row ? userWithJsonEmails(row) : null;
    },

    async findUserByLogin(login: string): Promise<User | null> {
      return (await verbs.findLoginUser(login))?.user ?? null;
    },

    async findLoginUser(login: string, liveSessions?: LiveSessionsAsked): Promise<LoginUser | null> {
      // lower() on both sides matches the unique indexes on lower(username) and
      // lower(user_emails.address), so both lookups are index seeks. SQLite's
      // lower() folds ASCII only: "É" and "é" are different logins there.
      const lowered = sql<string>`lower(${login})`;
      const byUsername = ctx.db
        .selectFrom('users')
        .select('users.uuid as uuid')
        .where(({ eb, fn, ref }) => eb(fn('lower', [ref('users.username')]), '=', lowered));
      const byEmail = ctx.db
        .selectFrom('user_emails')
        .select('user_emails.user_uuid as uuid')
        .where(({ eb, fn, ref }) => eb(fn('lower', [ref('user_emails.address')]), '=', lowered))
        .where('user_emails.confirmed', '=', toDbBool(true));
      // One statement: the user, its addresses (a JSON column), its
      // tenant's default authentication method (the login's method check)
      // and, when asked, its live sessions (the session cap, as countLiveSessions counts them).
      const live =
        liveSessions === undefined || liveSessions.purposes.length === 0
          ? sql<number | null>`null`
          : sql<number | null>`case when users.purpose in (${sql.join(liveSessions.purposes)}) then (${liveSessionsCount(
              ctx.db,
              sql.ref<string>('users.uuid'),
              liveSessions.now,
              liveSessions.atMost,
            )}) end`;
      const rows = await ctx.db
        .selectFrom('users')
        .selectAll('users')
        .select(emailsColumn(ctx))
        .select(
          sql<string | null>`(select t.default_authentication_method from tenants t where t.uuid = users.tenant_uuid)`.as(
            'tenant_authentication_method',
          ),
        )
        .select(live.as('live_sessions'))
        .where('users.uuid', 'in', byUsername.union(byEmail))
        .limit(2)
        .execute();
      // Writes refuse a username equal to another user's email (and the
      // reverse); a pair stored before that rule matches two users here, and
      // the login is refused for both until an operator changes one
      // (migrations/unique-logins.ts, docs/isolation.md).
      if (rows.length !== 1) return null;
      const found: LoginUser = {
        user: userWithJsonEmails(rows[0]),
        tenantAuthenticationMethod: rows[0].tenant_authentication_method ?? null,
      };
      // PostgreSQL's count(*) is a bigint: a string through pg.
      const counted = rows[0].live_sessions;
      if (counted !== null && counted !== undefined) found.liveSessions = Number(counted);
      return found;
    },

    async listUsers(tenantUuids: string[], q: UserListQuery, f: UserFilter = {}): Promise<ListResult<User>> {
      if (tenantUuids.length === 0) return { total: 0, filtered: 0, items: [] };
      const db = ctx.db;
      let inTenants = db.selectFrom('users').where('users.tenant_uuid', 'in', tenantUuids);
      if (f.groupUuid !== undefined) {
        inTenants = inTenants.where(
          'users.uuid',
          'in',
          db.selectFrom('group_users').select('user_uuid').where('group_uuid', '=', f.groupUuid),
        );
      }
      const search = q.search;
      let matching = search
        ? inTenants.where(({ or, eb }) =>
            or([
              containsAny(userSearchColumns, search),
              // Any of the user's addresses, as wazo-auth searches them.
              eb(
                'users.uuid',
                'in',
                db
                  .selectFrom('user_emails')
                  .select('user_emails.user_uuid')
                  .where(containsAny(['user_emails.address'], search)),
              ),
            ]),
          )
        : inTenants;
      const filters = userListConditions(db, q.filters ?? {});
      for (const condition of filters) matching = matching.where(condition);
      const order = userOrders[q.order ?? ''] ?? userOrders.username;

      const total = await countRows(inTenants);
      const filtered = search || filters.length > 0 ? await countRows(matching) : total;
      const rows = await paged(matching.selectAll('users'), order, 'users.uuid', q).execute();
      return { total, filtered, items: await withEmails(db, rows) };
    },

    async updateUser(uuid: string, patch: UserPatch): Promise<User | null> {
      const changes: Updateable<UsersTable> = {};
      if (patch.username !== undefined) changes.username = patch.username;
      if (patch.firstname !== undefined) changes.firstname = patch.firstname;
      if (patch.lastname !== undefined) changes.lastname = patch.lastname;
      if (patch.purpose !== undefined) changes.purpose = patch.purpose;
      if (patch.enabled !== undefined) changes.enabled = toDbBool(patch.enabled);
      if (patch.authenticationMethod !== undefined) changes.authentication_method = patch.authenticationMethod;
      const emailsChange = patch.emailAddress !== undefined || patch.emailConfirmed !== undefined;
      if (Object.keys(changes).length === 0 && !emailsChange) return verbs.getUser(uuid);

      if (patch.username === undefined && !emailsChange) {
        const row = await ctx.db.updateTable('users').set(changes).where('uuid', '=', uuid).returningAll().executeTakeFirst();
        return row ? (await withEmails(ctx.db, [row]))[0] : null;
      }
      return ctx.atomic(async (db) => {
        const before = await db.selectFrom('users').select(['username']).where('uuid', '=', uuid).executeTakeFirst();
        if (before === undefined) return null;
        const stored = await emailsOfUser(db, uuid);
        const desired = emailsChange ? withMainAddress(stored, patch.emailAddress, patch.emailConfirmed) : stored;
        // Only a login that changes is checked: one stored before the rule
        // (see migrations/unique-logins.ts) does not block other edits.
        const username =
          patch.username !== undefined &&
          patch.username !== null &&
          patch.username.toLowerCase() !== before.username?.toLowerCase()
            ? patch.username
            : null;
        await assertLoginsFree(ctx, db, uuid, { username, addresses: addedAddresses(stored, desired) });
        if (Object.keys(changes).length > 0) await db.updateTable('users').set(changes).where('uuid', '=', uuid).execute();
        await writeEmails(db, uuid, stored, desired);
        const row = await db.selectFrom('users').selectAll().where('uuid', '=', uuid).executeTakeFirstOrThrow();
        return userFromRow(row, desired);
      });
    },

    async replaceUserEmails(uuid: string, emails: UserEmailInput[]): Promise<UserEmail[] | null> {
      assertOneMain(emails);
      return ctx.atomic(async (db) => {
        const user = await db.selectFrom('users').select('uuid').where('uuid', '=', uuid).executeTakeFirst();
        if (user === undefined) return null;
        const stored = await emailsOfUser(db, uuid);
        const desired = emails.map((e): UserEmail => {
          const kept = stored.find((s) => s.address.toLowerCase() === e.address.toLowerCase());
          return {
            uuid: kept?.uuid ?? randomUUID(),
            address: e.address,
            main: e.main,
            confirmed: e.confirmed ?? kept?.confirmed ?? false,
          };
        });
        await assertLoginsFree(ctx, db, uuid, { username: null, addresses: addedAddresses(stored, desired) });
        await writeEmails(db, uuid, stored, desired);
        return desired;
      });
    },

    async setUserPassword(uuid: string, passwordHash: string | null): Promise<boolean> {
      const result = await ctx.db
        .updateTable('users')
        .set({ password_hash: passwordHash })
        .where('uuid', '=', uuid)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async replacePasswordHash(userUuid: string, oldHash: string, newHash: string): Promise<boolean> {
      const result = await ctx.db
        .updateTable('users')
        .set({ password_hash: newHash })
        .where('uuid', '=', userUuid)
        .where('password_hash', '=', oldHash)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async deleteUser(uuid: string): Promise<Removal | null> {
      return ctx.atomic(async (db) => {
        const refreshTokens = ctx.recordEvents
          ? await db.selectFrom('refresh_tokens').selectAll().where('user_uuid', '=', uuid).execute()
          : [];
        // Refresh tokens and policy links go with the row (ON DELETE CASCADE).
        const deleted = await db.deleteFrom('users').where('uuid', '=', uuid).executeTakeFirst();
        if (deleted.numDeletedRows === 0n) return null;
        const removal = await removeUserSessions(db, uuid, ctx.rowLocks);
        await ctx.dialect.notifyRevoked(db, removal.tokenHashes);
        await ctx.emit(db, [
          ...removal.sessions.map(sessionDeleted),
          ...refreshTokens.map((row) => refreshTokenDeleted(refreshTokenFromRow(row))),
        ]);
        return removal;
      });
    },

    async findTenantUser(tenantUuid: string, by: { email: string | null; username: string | null }): Promise<User | null> {
      // lower() on both sides: the unique indexes on lower(user_emails.address) and lower(username).
      const lowerIs = (column: string, value: string) => sql<SqlBool>`lower(${sql.ref(column)}) = lower(${value})`;
      const { email, username } = by;
      if (email !== null && email !== '') {
        const row = await ctx.db
          .selectFrom('users')
          .selectAll('users')
          .innerJoin('user_emails', 'user_emails.user_uuid', 'users.uuid')
          .where(lowerIs('user_emails.address', email))
          .where('users.tenant_uuid', '=', tenantUuid)
          .executeTakeFirst();
        if (row) return (await withEmails(ctx.db, [row]))[0];
      }
      if (username !== null && username !== '') {
        const row = await ctx.db
          .selectFrom('users')
          .selectAll()
          .where(lowerIs('users.username', username))
          .where('tenant_uuid', '=', tenantUuid)
          .executeTakeFirst();
        if (row) return (await withEmails(ctx.db, [row]))[0];
      }
      return null;
    },
  } satisfies UserVerbs;
  return verbs;
}

/** The user's addresses as one JSON column of its row (StoreDialect.jsonArrayAgg): no second statement. */
function emailsColumn(ctx: VerbContext) {
  const agg = ctx.dialect.jsonArrayAgg([
    ['uuid', sql.ref('e.uuid')],
    ['address', sql.ref('e.address')],
    ['main', sql.ref('e.main')],
    ['confirmed', sql.ref('e.confirmed')],
  ]);
  return sql<unknown>`(select ${agg} from user_emails e where e.user_uuid = users.uuid)`.as('emails_json');
}

function userWithJsonEmails(row: Selectable<UsersTable> & { emails_json: unknown }): User {
  const { emails_json: json, ...user } = row;
  const emails = jsonRows<{ uuid: string; address: string; main: unknown; confirmed: unknown }>(json).map((e): UserEmail => ({
    uuid: e.uuid,
    address: e.address,
    main: Boolean(e.main),
    confirmed: Boolean(e.confirmed),
  }));
  return userFromRow(user, emails);
}

/**
 * Logins are global and name one user: a username may not equal another
 * user's email address (any of them, confirmed or not), nor an email
 * address another user's username (case-insensitively, as findUserByLogin
 * matches), whatever the tenants. Same-column duplicates are the unique
 * indexes' job. Called in the writing transaction, under the dialect's
 * login lock, so two writers cannot both pass the check.
 */
async function assertLoginsFree(
  ctx: VerbContext,
  db: Db,
  uuid: string,
  logins: { username: string | null; addresses: string[] },
): Promise<void> {
  if (!logins.username && logins.addresses.length === 0) return;
  await ctx.dialect.lockLogins(db);
  if (logins.username) {
    const holder = await db
      .selectFrom('user_emails')
      .select('user_uuid')
      .where(({ eb, fn, ref }) => eb(fn('lower', [ref('address')]), '=', sql<string>`lower(${logins.username})`))
      .where('user_uuid', '<>', uuid)
      .executeTakeFirst();
    if (holder !== undefined) throw new StoreConflictError("username is another user's email address", 'username');
  }
  for (const address of logins.addresses) {
    const holder = await db
      .selectFrom('users')
      .select('uuid')
      .where(({ eb, fn, ref }) => eb(fn('lower', [ref('username')]), '=', sql<string>`lower(${address})`))
      .where('uuid', '<>', uuid)
      .executeTakeFirst();
    if (holder !== undefined) throw new StoreConflictError("email address is another user's username", 'email_address');
  }
}

/** A condition on `users` of a user listing. */
type UserCondition = (eb: ExpressionBuilder<DatabaseSchema, 'users'>) => Expression<SqlBool>;

/** The filters of GET /users as conditions on `users` (types.ts UserListFilters). */
function userListConditions(db: Db, f: UserListFilters): UserCondition[] {
  const conditions: UserCondition[] = [];
  const lowerEquals = (column: string, value: string) => sql<SqlBool>`lower(${sql.ref(column)}) = lower(${value})`;
  const linkedTo = (column: 'policies.uuid' | 'policies.slug', value: string) =>
    db
      .selectFrom('user_policy')
      .innerJoin('policies', 'policies.uuid', 'user_policy.policy_uuid')
      .select('user_policy.user_uuid')
      .where(column, '=', value);
  const grantedThroughGroups = (column: 'policies.uuid' | 'policies.slug', value: string) =>
    db
      .selectFrom('group_users')
      .innerJoin('group_policy', 'group_policy.group_uuid', 'group_users.group_uuid')
      .innerJoin('policies', 'policies.uuid', 'group_policy.policy_uuid')
      .select('group_users.user_uuid')
      .where(column, '=', value);

  if (f.uuid !== undefined) {
    const uuid = f.uuid.toLowerCase();
    conditions.push((eb) => eb('users.uuid', '=', uuid));
  }
  if (f.username !== undefined) {
    const username = f.username;
    conditions.push(() => lowerEquals('users.username', username));
  }
  for (const [column, value] of [
    ['users.firstname', f.firstname],
    ['users.lastname', f.lastname],
    ['users.purpose', f.purpose],
  ] as const) {
    if (value !== undefined) conditions.push((eb) => eb(column, '=', value));
  }
  if (f.emailAddress !== undefined) {
    const address = f.emailAddress;
    conditions.push((eb) =>
      eb(
        'users.uuid',
        'in',
        db.selectFrom('user_emails').select('user_emails.user_uuid').where(lowerEquals('user_emails.address', address)),
      ),
    );
  }
  if (f.groupUuid !== undefined) {
    const group = f.groupUuid;
    conditions.push((eb) =>
      eb(
        'users.uuid',
        'in',
        db.selectFrom('group_users').select('group_users.user_uuid').where('group_users.group_uuid', '=', group),
      ),
    );
  }
  for (const [column, value] of [
    ['policies.uuid', f.policyUuid],
    ['policies.slug', f.policySlug],
  ] as const) {
    if (value !== undefined) conditions.push((eb) => eb('users.uuid', 'in', linkedTo(column, value)));
  }
  for (const [column, value] of [
    ['policies.uuid', f.hasPolicyUuid],
    ['policies.slug', f.hasPolicySlug],
  ] as const) {
    if (value === undefined) continue;
    conditions.push((eb) =>
      eb.or([eb('users.uuid', 'in', linkedTo(column, value)), eb('users.uuid', 'in', grantedThroughGroups(column, value))]),
    );
  }
  return conditions;
}
