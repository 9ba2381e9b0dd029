// What exists before anyone logs in: the top tenant, the policies declared in
// configuration, and the bootstrap administrator.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { ConfigPolicy } from '../config/types.js';
import { ConflictError } from '../errors.js';
import { allUsersGroupName } from './groups.js';
import type { PasswordHasher } from '../passwords/hasher.js';
import type { Policy, Tenant } from './types.js';
import type { IdentityStore, IdentityStoreTx } from './store.js';

export const TOP_TENANT_NAME = 'master';
export const BOOTSTRAP_POLICY_SLUG = 'xivo_auth_master_admin';

export async function ensureTopTenant(store: IdentityStore): Promise<Tenant> {
  return store.transaction(async (tx) => {
    const existing = await tx.getTopTenant();
    if (existing !== null) return existing;
    return tx.createTenant({ uuid: randomUUID(), name: TOP_TENANT_NAME, slug: TOP_TENANT_NAME, parentUuid: null });
  });
}

/**
 * Every tenant has an "all users" group holding all its users. New tenants and
 * users get theirs as they are created; this covers what existed before
 * (databases migrated from version 1, and the top tenant of a fresh one).
 */
export async function ensureAllUsersGroups(store: IdentityStoreTx): Promise<void> {
  await store.ensureAllUsersGroups(randomUUID, allUsersGroupName);
}

/** default_policies are created or updated at each start, read-only over HTTP. */
export async function applyConfigPolicies(
  store: IdentityStoreTx,
  tenantUuid: string,
  policies: Record<string, ConfigPolicy>,
): Promise<Policy[]> {
  const applied: Policy[] = [];
  for (const [slug, p] of Object.entries(policies)) {
    applied.push(
      await store.upsertPolicy({
        uuid: randomUUID(),
        tenantUuid,
        name: p.name ?? slug,
        slug,
        description: p.description ?? null,
        acl: [...p.acl],
        shared: false,
        readOnly: true,
      }),
    );
  }
  return applied;
}

export interface BootstrapResult {
  username: string;
  created: boolean;
  /** Set only when a password was generated here and must be shown once. */
  generatedPassword: string | null;
  passwordChanged: boolean;
}

/**
 * The first administrator: purpose internal, linked to a read-only policy
 * granting `#`. Running it again leaves an existing user as it is, unless a
 * password is given, which then becomes the user's password.
 */
export async function bootstrapAdmin(
  deps: { store: IdentityStoreTx; hasher: PasswordHasher; clock: Clock },
  tenantUuid: string,
  username: string,
  password: string | null,
): Promise<BootstrapResult> {
  const { store, hasher, clock } = deps;
  const policy = await store.upsertPolicy({
    uuid: randomUUID(),
    tenantUuid,
    name: 'xivo-auth master administrator',
    slug: BOOTSTRAP_POLICY_SLUG,
    description: 'Every access, for the bootstrap administrator',
    acl: ['#'],
    shared: false,
    readOnly: true,
  });
  const found = await store.findUserByLogin(username);
  // By username only: a user whose confirmed email equals the bootstrap
  // username is someone else, never to be reset and made administrator.
  if (found !== null && found.username?.toLowerCase() !== username.toLowerCase()) {
    throw new ConflictError(
      'users',
      'username',
      `"${username}" is another user's email address: choose another bootstrap username`,
    );
  }
  const existing = found;
  if (existing !== null) {
    let passwordChanged = false;
    if (password !== null) {
      await store.setUserPassword(existing.uuid, await hasher.hash(password));
      passwordChanged = true;
    }
    await store.addUserPolicy(existing.uuid, policy.uuid);
    return { username, created: false, generatedPassword: null, passwordChanged };
  }
  const generated = password === null ? randomBytes(18).toString('base64url') : null;
  const user = await store.createUser({
    uuid: randomUUID(),
    tenantUuid,
    username,
    firstname: null,
    lastname: null,
    emailAddress: null,
    emailConfirmed: false,
    passwordHash: await hasher.hash(password ?? (generated as string)),
    purpose: 'internal',
    enabled: true,
    createdAt: clock.now(),
  });
  await store.addUserPolicy(user.uuid, policy.uuid);
  return { username, created: true, generatedPassword: generated, passwordChanged: password !== null };
}
