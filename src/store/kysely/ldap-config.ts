// A tenant's LDAP directory settings (issue 6).
import type { LdapConfigStore } from '../../backends/ldap/store.js';
import { ldapConfigFromRow, ldapConfigToRow } from '../ldap-config-rows.js';
import type { LdapConfig } from '../types.js';
import type { VerbContext } from './context.js';

export function ldapConfigVerbs(ctx: VerbContext) {
  return {
    async getLdapConfig(tenantUuid: string): Promise<LdapConfig | null> {
      const row = await ctx.db.selectFrom('ldap_configs').selectAll().where('tenant_uuid', '=', tenantUuid).executeTakeFirst();
      return row ? ldapConfigFromRow(row) : null;
    },

    async putLdapConfig(c: LdapConfig): Promise<LdapConfig> {
      const row = ldapConfigToRow(c);
      const { tenant_uuid: _key, ...changes } = row;
      const stored = await ctx.db
        .insertInto('ldap_configs')
        .values(row)
        .onConflict((oc) => oc.column('tenant_uuid').doUpdateSet(changes))
        .returningAll()
        .executeTakeFirstOrThrow();
      return ldapConfigFromRow(stored);
    },

    async deleteLdapConfig(tenantUuid: string): Promise<boolean> {
      const result = await ctx.db.deleteFrom('ldap_configs').where('tenant_uuid', '=', tenantUuid).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  } satisfies LdapConfigStore;
}
