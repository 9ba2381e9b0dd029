// Configuration of single sign-on (issue 23). Plugged into the one schema of
// src/config/schema.ts; defaults and descriptions live here. Per-tenant IdP
// settings are not configuration: /backends/saml and /backends/oidc.
import { Type, type Static } from '@sinclair/typebox';

export const SamlSchema = Type.Object(
  {
    saml_login_timeout_seconds: Type.Integer({
      minimum: 10,
      maximum: 86400,
      default: 600,
      description: 'How long a login started with POST /saml/sso may take at the IdP, then to be exchanged by POST /token.',
    }),
    saml_session_lifetime_seconds: Type.Integer({
      minimum: 60,
      maximum: 31536000,
      default: 604800,
      description: 'How long a completed SAML session is kept for single logout (GET /saml/logout).',
    }),
    acs_url_template: Type.String({
      minLength: 1,
      maxLength: 1024,
      default: 'https://{{STACK_URL}}/api/auth/0.1/saml/acs',
      description:
        "GET /backends/saml/acs_url_template: the ACS URL an IdP administrator is told, {{STACK_URL}} replaced by the stack's address.",
    }),
    key_file: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      description:
        'PEM private key signing our AuthnRequests, LogoutRequests and SP metadata (with cert_file; both or neither). ' +
        'null: <data_dir>/saml-sp.key, generated (RSA-2048, mode 0600) on first use. Instances sharing a database need the same key.',
    }),
    cert_file: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      description:
        'PEM certificate of key_file, published in GET /backends/saml/sp_metadata. null: <data_dir>/saml-sp.crt (self-signed, 10 years).',
    }),
  },
  {
    default: {},
    description:
      "SAML 2.0 service provider (wazo-auth's `saml` section; tenant IdPs: /backends/saml). wazo-auth's other keys (domains, xmlsec_binary, xml_files_dir) are accepted and ignored.",
    additionalProperties: true,
  },
);

export const OidcSchema = Type.Object(
  {
    login_timeout_seconds: Type.Integer({
      minimum: 10,
      maximum: 86400,
      default: 600,
      description: 'How long a login started with POST /oidc/authorize may take at the IdP, then to be exchanged by POST /token.',
    }),
    session_lifetime_seconds: Type.Integer({
      minimum: 60,
      maximum: 31536000,
      default: 604800,
      description: 'How long a completed OIDC session is kept (single logout).',
    }),
    allow_http_issuers: Type.Boolean({
      default: false,
      description: 'Accept http:// issuers (tests, a loopback IdP); never in production.',
    }),
    provider_timeout_seconds: Type.Number({
      minimum: 0.1,
      maximum: 60,
      default: 5,
      description: 'Timeout of each request to the IdP (discovery, JWKS, token endpoint).',
    }),
  },
  { default: {}, description: 'OpenID Connect relying party (tenant settings: /backends/oidc).' },
);

export type SamlConfig = Static<typeof SamlSchema>;
export type OidcConfig = Static<typeof OidcSchema>;
