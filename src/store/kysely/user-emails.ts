// Users' email addresses (user_emails, migrations/user-emails.ts): how the
// users' verbs (./users.ts) read and rewrite them.
import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { UsersTable } from '../database-schema.js';
import { StoreInvalidInputError } from '../errors.js';
import { IN_LIST_SLICE } from '../expiry.js';
import { sortedEmails, toDbBool, userEmailFromRow, userFromRow } from '../row-mapping.js';
import type { NewUser, User, UserEmail } from '../types.js';
import type { Db } from './context.js';

export function assertOneMain(emails: readonly { main: boolean }[]): void {
  if (emails.length > 0 && emails.filter((e) => e.main).length !== 1) {
    throw new StoreInvalidInputError('a user with email addresses has exactly one main address');
  }
}

/** The addresses a new user is created with: `emails`, else its `emailAddress` as main. */
export function newUserEmails(u: NewUser): UserEmail[] {
  if (u.emails !== undefined) {
    assertOneMain(u.emails);
    return u.emails.map((e) => ({ ...e }));
  }
  return u.emailAddress === null
    ? []
    : [{ uuid: randomUUID(), address: u.emailAddress, main: true, confirmed: u.emailConfirmed }];
}

export function userEmailToRow(userUuid: string, e: UserEmail) {
  return { uuid: e.uuid, user_uuid: userUuid, address: e.address, main: toDbBool(e.main), confirmed: toDbBool(e.confirmed) };
}

export async function emailsOfUser(db: Db, userUuid: string): Promise<UserEmail[]> {
  const rows = await db.selectFrom('user_emails').selectAll().where('user_uuid', '=', userUuid).execute();
  return sortedEmails(rows.map(userEmailFromRow));
}

/** The users of these rows, each with its addresses (one query per slice of users). */
export async function withEmails(db: Db, rows: Selectable<UsersTable>[]): Promise<User[]> {
  const byUser = new Map<string, UserEmail[]>();
  const uuids = rows.map((r) => r.uuid);
  for (let i = 0; i < uuids.length; i += IN_LIST_SLICE) {
    const found = await db
      .selectFrom('user_emails')
      .selectAll()
      .where('user_uuid', 'in', uuids.slice(i, i + IN_LIST_SLICE))
      .execute();
    for (const e of found) {
      const list = byUser.get(e.user_uuid) ?? [];
      list.push(userEmailFromRow(e));
      byUser.set(e.user_uuid, list);
    }
  }
  return rows.map((r) => userFromRow(r, byUser.get(r.uuid) ?? []));
}

/**
 * The addresses after `email_address` of a user update (types.ts UserPatch):
 * `address` replaces the main one (an address the user has is promoted, with
 * its uuid), null removes it (the first remaining address becomes main).
 */
export function withMainAddress(
  stored: UserEmail[],
  address: string | null | undefined,
  confirmed: boolean | undefined,
): UserEmail[] {
  const main = stored.find((e) => e.main);
  if (address === undefined) {
    return stored.map((e) => (e.main && confirmed !== undefined ? { ...e, confirmed } : e));
  }
  if (address === null) {
    const rest = stored.filter((e) => !e.main);
    return rest.map((e, i) => (i === 0 ? { ...e, main: true } : e));
  }
  const existing = stored.find((e) => e.address.toLowerCase() === address.toLowerCase());
  const others = stored.filter((e) => e !== existing && e !== main);
  const promoted: UserEmail =
    existing === undefined
      ? { uuid: randomUUID(), address, main: true, confirmed: confirmed ?? false }
      : { ...existing, address, main: true, confirmed: confirmed ?? existing.confirmed };
  return [promoted, ...others];
}

/** Addresses of `desired` the user did not have (case-insensitively): the logins that change. */
export function addedAddresses(stored: UserEmail[], desired: UserEmail[]): string[] {
  const had = new Set(stored.map((e) => e.address.toLowerCase()));
  return desired.map((e) => e.address).filter((a) => !had.has(a.toLowerCase()));
}

/**
 * Turns the user's stored addresses into `desired` (same uuid = same row):
 * deletes the rows that go, demotes a main that stops being one before
 * another row becomes main (one main per user, user_emails_user_uuid_main_key),
 * updates the rows kept, inserts the new ones.
 */
export async function writeEmails(db: Db, userUuid: string, stored: UserEmail[], desired: UserEmail[]): Promise<void> {
  const before = new Map(stored.map((e) => [e.uuid, e]));
  const keep = new Set(desired.map((e) => e.uuid));
  const gone = stored.filter((e) => !keep.has(e.uuid)).map((e) => e.uuid);
  if (gone.length > 0) await db.deleteFrom('user_emails').where('uuid', 'in', gone).execute();
  for (const e of desired) {
    if (before.get(e.uuid)?.main === true && !e.main) {
      await db
        .updateTable('user_emails')
        .set({ main: toDbBool(false) })
        .where('uuid', '=', e.uuid)
        .execute();
    }
  }
  for (const e of desired) {
    const old = before.get(e.uuid);
    if (old === undefined || (old.address === e.address && old.confirmed === e.confirmed && old.main === e.main)) continue;
    await db
      .updateTable('user_emails')
      .set({ address: e.address, confirmed: toDbBool(e.confirmed), main: toDbBool(e.main) })
      .where('uuid', '=', e.uuid)
      .execute();
  }
  const added = desired.filter((e) => !before.has(e.uuid));
  if (added.length > 0)
    await db
      .insertInto('user_emails')
      .values(added.map((e) => userEmailToRow(userUuid, e)))
      .execute();
}
