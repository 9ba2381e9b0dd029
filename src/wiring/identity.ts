// Builds identity for the composition root (src/main.ts). At start-up:
// provisioning (the top tenant, the configured policies, the all-users
// groups, the bootstrap administrator), then the tenant tree and the ACL
// builder the token service needs. Once tokens and security are up: the user
// service and the IAM services (tenants, policies, groups, sessions).
import type { Clock } from '../clock.js';
import { changedUnder } from '../config/changes.js';
import type { Config } from '../config/types.js';
import type { PasswordHasher } from '../passwords/hasher.js';
import type { SecurityDeps } from '../app.js';
import type { Store } from '../store/types.js';
import { AclBuilder } from '../identity/acl-builder.js';
import { GroupService } from '../identity/groups.js';
import { PolicyService } from '../identity/policies.js';
import {
  applyConfigPolicies,
  bootstrapAdmin,
  ensureAllUsersGroups,
  ensureTopTenant,
  type BootstrapResult,
} from '../identity/provisioning.js';
import { SessionService } from '../identity/sessions.js';
import { TenantTree } from '../identity/tenant-tree.js';
import { TenantService } from '../identity/tenants.js';
import type { TokenRevocations } from '../identity/token-revocations.js';
import { UserService } from '../identity/users.js';

export interface IdentityCore {
  topTenantUuid: string;
  /** Tenant parents, remembered while tenant notices flow (src/wiring/tokens.ts plugs the notices in). */
  tenants: TenantTree;
  aclBuilder: AclBuilder;
  /**
   * Applies a reload's `default_policies` (the store: it may fail, so it
   * comes first, before anything else changes) and `default_user_policy`.
   */
  reconfigure(next: Config, changed: readonly string[]): Promise<void>;
}

export async function createIdentity(deps: {
  config: Config;
  store: Store;
  hasher: PasswordHasher;
  clock: Clock;
  /** Called with the bootstrap credentials (bootstrap_user_on_startup). */
  onBootstrap?: (result: BootstrapResult) => void;
}): Promise<IdentityCore> {
  const { config, store, hasher, clock } = deps;
  const topTenant = await ensureTopTenant(store);
  await applyConfigPolicies(store, topTenant.uuid, config.default_policies);
  await ensureAllUsersGroups(store);
  if (config.bootstrap_user_on_startup) {
    const result = await bootstrapAdmin(
      { store, hasher, clock },
      topTenant.uuid,
      config.bootstrap_user_username,
      config.bootstrap_user_password,
    );
    deps.onBootstrap?.(result);
  }
  const defaultUserPolicy = (slug: string | null) => (slug === null ? null : { tenantUuid: topTenant.uuid, slug });
  const aclBuilder = new AclBuilder(store, defaultUserPolicy(config.default_user_policy));
  return {
    topTenantUuid: topTenant.uuid,
    tenants: new TenantTree(store),
    aclBuilder,
    async reconfigure(next, changed) {
      // Policies removed from the file stay in the store (as at start-up).
      if (changedUnder(changed, 'default_policies')) await applyConfigPolicies(store, topTenant.uuid, next.default_policies);
      if (changedUnder(changed, 'default_user_policy'))
        aclBuilder.setDefaultUserPolicy(defaultUserPolicy(next.default_user_policy));
    },
  };
}

export interface IdentityServices {
  users: UserService;
  /** Identity and access management services (the app's `iam`). */
  iam: { tenants: TenantService; policies: PolicyService; groups: GroupService; sessions: SessionService };
}

export function createIdentityServices(deps: {
  store: Store;
  hasher: PasswordHasher;
  tokens: TokenRevocations;
  identity: Pick<IdentityCore, 'tenants' | 'aclBuilder'>;
  clock: Clock;
  security: Pick<SecurityDeps, 'passwordPolicy' | 'audit'>;
}): IdentityServices {
  const { store, tokens, clock, security } = deps;
  const { tenants, aclBuilder } = deps.identity;
  const users = new UserService(store, deps.hasher, tokens, tenants, clock, security.passwordPolicy, security.audit, aclBuilder);
  const policies = new PolicyService(store, tenants, users);
  return {
    users,
    iam: {
      tenants: new TenantService(store, tenants, tokens, aclBuilder),
      policies,
      groups: new GroupService(store, tenants, users, policies),
      sessions: new SessionService(store, tenants, users, tokens),
    },
  };
}
