// Which field a refused write was about, from the constraint or index the
// database names in its error. Both engines' migrations use these names.
// Fields are in the API's words (snake_case), for the HTTP layer to show.

const fieldByConstraint: Readonly<Record<string, string>> = {
  tenants_pkey: 'uuid',
  tenants_slug_key: 'slug',
  tenants_parent_uuid_fkey: 'parent_uuid',
  tenants_contact_uuid_fkey: 'contact',
  tenant_domains_pkey: 'domain_names',
  tenant_domains_tenant_uuid_fkey: 'tenant_uuid',
  users_pkey: 'uuid',
  users_username_key: 'username',
  // Before migration 10; then an address is a row of user_emails.
  users_email_address_key: 'email_address',
  user_emails_pkey: 'uuid',
  user_emails_address_key: 'email_address',
  user_emails_user_uuid_main_key: 'main',
  user_emails_user_uuid_fkey: 'user_uuid',
  users_tenant_uuid_fkey: 'tenant_uuid',
  policies_pkey: 'uuid',
  policies_tenant_uuid_slug_key: 'slug',
  policies_tenant_uuid_fkey: 'tenant_uuid',
  user_policy_pkey: 'policy_uuid',
  user_policy_user_uuid_fkey: 'user_uuid',
  user_policy_policy_uuid_fkey: 'policy_uuid',
  groups_pkey: 'uuid',
  groups_tenant_uuid_slug_key: 'slug',
  groups_tenant_uuid_system_key: 'system_managed',
  groups_tenant_uuid_fkey: 'tenant_uuid',
  group_users_pkey: 'user_uuid',
  group_users_group_uuid_fkey: 'group_uuid',
  group_users_user_uuid_fkey: 'user_uuid',
  group_policy_pkey: 'policy_uuid',
  group_policy_group_uuid_fkey: 'group_uuid',
  group_policy_policy_uuid_fkey: 'policy_uuid',
  sessions_pkey: 'uuid',
  tokens_pkey: 'hash',
  tokens_session_uuid_fkey: 'session_uuid',
  refresh_tokens_pkey: 'uuid',
  refresh_tokens_hash_key: 'hash',
  refresh_tokens_user_uuid_client_id_key: 'client_id',
  refresh_tokens_user_uuid_fkey: 'user_uuid',
};

/**
 * SQLite names a column-based unique constraint by its columns, not its name
 * ("users.uuid", "policies.tenant_uuid, policies.slug"): this maps those lists
 * to the constraint names above.
 */
const constraintByColumns: Readonly<Record<string, string>> = {
  'tenants.uuid': 'tenants_pkey',
  'tenants.slug': 'tenants_slug_key',
  'tenant_domains.name': 'tenant_domains_pkey',
  'users.uuid': 'users_pkey',
  'user_emails.uuid': 'user_emails_pkey',
  'user_emails.user_uuid': 'user_emails_user_uuid_main_key',
  'policies.uuid': 'policies_pkey',
  'policies.tenant_uuid, policies.slug': 'policies_tenant_uuid_slug_key',
  'user_policy.user_uuid, user_policy.policy_uuid': 'user_policy_pkey',
  'groups.uuid': 'groups_pkey',
  'groups.tenant_uuid, groups.slug': 'groups_tenant_uuid_slug_key',
  'groups.tenant_uuid': 'groups_tenant_uuid_system_key',
  'group_users.group_uuid, group_users.user_uuid': 'group_users_pkey',
  'group_policy.group_uuid, group_policy.policy_uuid': 'group_policy_pkey',
  'sessions.uuid': 'sessions_pkey',
  'tokens.hash': 'tokens_pkey',
  'refresh_tokens.uuid': 'refresh_tokens_pkey',
  'refresh_tokens.hash': 'refresh_tokens_hash_key',
  'refresh_tokens.user_uuid, refresh_tokens.client_id': 'refresh_tokens_user_uuid_client_id_key',
};

export function fieldOfConstraint(constraint: string | undefined): string | undefined {
  return constraint === undefined ? undefined : fieldByConstraint[constraint];
}

export function constraintOfColumns(columns: string): string | undefined {
  return constraintByColumns[columns];
}
