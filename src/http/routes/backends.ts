// /0.1/backends/ldap: the LDAP directory of the acting tenant (Wazo-Tenant,
// else the caller's). bind_password is write-only: accepted, never returned.
//   GET    /backends/ldap    auth.backends.ldap.read
//   PUT    /backends/ldap    auth.backends.ldap.update
//   DELETE /backends/ldap    auth.backends.ldap.delete
// Writing them also requires granting every access of the tenant's users who
// may log in through LDAP (no escalation: src/sso/escalation.ts).
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { LdapConfigService, LdapConfigView } from '../../backends/ldap/config-service.js';
import { ATTRIBUTE_PATTERN } from '../../backends/ldap/ldap-syntax.js';
import type { SsoEscalationGuard } from '../../sso/escalation.js';
import { authOf, type RequireAccess } from '../auth.js';
import { ApiError, AuthHeaders, NoContent, SafeString } from '../schemas/common.js';

const Host = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^[A-Za-z0-9:.-]+$',
  description: 'Host name or IP address of the directory',
});
const Attribute = Type.String({ pattern: ATTRIBUTE_PATTERN, description: 'An attribute name (or OID)' });
const Dn = SafeString({ minLength: 1, maxLength: 1024 });
const Security = Type.Union([Type.Literal('ldaps'), Type.Literal('tls'), Type.Null()], {
  description: '`ldaps` (TLS from the start), `tls` (StartTLS), or null (plain)',
});

const LdapConfigBody = Type.Object({
  host: Host,
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Default 636 with ldaps, else 389' })),
  protocol_version: Type.Optional(Type.Literal(3, { description: 'LDAPv3 only' })),
  protocol_security: Type.Optional(Security),
  bind_dn: Type.Optional(
    Type.Union([Dn, Type.Null()], {
      description: 'Service account searching for users; null: bind directly as user_login_attribute=<login>,user_base_dn',
    }),
  ),
  bind_password: Type.Optional(
    Type.Union([SafeString({ minLength: 1, maxLength: 1024 }), Type.Null()], {
      description:
        'Write-only. Required with bind_dn; absent: the stored one is kept only when host, port, protocol_security and bind_dn are unchanged (else 400)',
    }),
  ),
  user_base_dn: Dn,
  user_login_attribute: Attribute,
  user_email_attribute: Type.Optional(Attribute),
  search_filters: Type.Optional(
    Type.Union([SafeString({ minLength: 1, maxLength: 1024 }), Type.Null()], {
      description:
        'Search filter template with {username} (escaped login) and {user_login_attribute}; default ({user_login_attribute}={username})',
    }),
  ),
});

const LdapConfigOut = Type.Object(
  {
    tenant_uuid: Type.String(),
    host: Type.String(),
    port: Type.Integer(),
    protocol_version: Type.Integer(),
    protocol_security: Type.Union([Type.String(), Type.Null()]),
    bind_dn: Type.Union([Type.String(), Type.Null()]),
    user_base_dn: Type.String(),
    user_login_attribute: Type.String(),
    user_email_attribute: Type.String(),
    search_filters: Type.Union([Type.String(), Type.Null()]),
  },
  { description: 'An LDAP configuration (bind_password is never returned)' },
);

const errors = { 400: ApiError, 401: ApiError, 404: ApiError, 503: ApiError };
/** OpenAPI: the no-escalation rule of LDAP settings (src/sso/escalation.ts). */
const LDAP_ESCALATION =
  "The LDAP server checks the passwords of the tenant's users whose authentication method is ldap, " +
  "and of those at default while the tenant's default is ldap or native: " +
  'the caller must grant every access of their tokens (401 unauthorized, details.required_access, nothing changed).';

function ldapView(c: LdapConfigView): Static<typeof LdapConfigOut> {
  return {
    tenant_uuid: c.tenantUuid,
    host: c.host,
    port: c.port,
    protocol_version: c.protocolVersion,
    protocol_security: c.protocolSecurity,
    bind_dn: c.bindDn,
    user_base_dn: c.userBaseDn,
    user_login_attribute: c.userLoginAttribute,
    user_email_attribute: c.userEmailAttribute,
    search_filters: c.searchFilters,
  };
}

export async function backendRoutes(
  instance: FastifyInstance,
  deps: { ldap: LdapConfigService; escalation: SsoEscalationGuard; requireAccess: RequireAccess },
): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { ldap, escalation, requireAccess } = deps;
  const tags = ['backends'];

  app.get(
    '/backends/ldap',
    {
      schema: {
        summary: 'LDAP configuration of the tenant',
        tags,
        headers: AuthHeaders,
        response: { 200: LdapConfigOut, ...errors },
      },
      preHandler: requireAccess('auth.backends.ldap.read'),
    },
    async function getLdapConfig(request) {
      return ldapView(await ldap.get(authOf(request).tenantUuid));
    },
  );

  app.put(
    '/backends/ldap',
    {
      schema: {
        summary: 'Create or replace the LDAP configuration of the tenant',
        tags,
        headers: AuthHeaders,
        description: LDAP_ESCALATION,
        body: LdapConfigBody,
        response: { 200: LdapConfigOut, ...errors },
      },
      preHandler: requireAccess('auth.backends.ldap.update'),
    },
    async function putLdapConfig(request) {
      const b = request.body;
      const auth = authOf(request);
      await escalation.assertMayConfigureLdap(auth.token, auth.tenantUuid);
      return ldapView(
        await ldap.put(auth.tenantUuid, {
          host: b.host,
          port: b.port,
          protocolVersion: b.protocol_version,
          protocolSecurity: b.protocol_security,
          bindDn: b.bind_dn,
          bindPassword: b.bind_password,
          userBaseDn: b.user_base_dn,
          userLoginAttribute: b.user_login_attribute,
          userEmailAttribute: b.user_email_attribute,
          searchFilters: b.search_filters,
        }),
      );
    },
  );

  app.delete(
    '/backends/ldap',
    {
      schema: {
        summary: 'Remove the LDAP configuration of the tenant (logins by tenant then use xivo_user)',
        tags,
        headers: AuthHeaders,
        description: LDAP_ESCALATION,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.backends.ldap.delete'),
    },
    async function deleteLdapConfig(request, reply) {
      const auth = authOf(request);
      await escalation.assertMayConfigureLdap(auth.token, auth.tenantUuid);
      await ldap.delete(auth.tenantUuid);
      return reply.code(204).send();
    },
  );
}
