import { Type } from '@sinclair/typebox';
import { ListParams, SafeString, Uuid } from './common.js';
import { MAX_ACCESS_LENGTH, MAX_SCOPES_PER_CHECK } from '../../access-limits.js';

export const MAX_EXPIRATION = 315_360_000;

export const TokenRequest = Type.Object(
  {
    backend: Type.Optional(
      SafeString({ minLength: 1, maxLength: 128, description: 'Authentication backend (default xivo_user)' }),
    ),
    expiration: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EXPIRATION, description: 'Lifetime in seconds' })),
    access_type: Type.Optional(Type.Union([Type.Literal('online'), Type.Literal('offline')])),
    client_id: Type.Optional(SafeString({ minLength: 1, maxLength: 1024 })),
    refresh_token: Type.Optional(SafeString({ minLength: 1, maxLength: 1024 })),
    saml_session_id: Type.Optional(
      SafeString({
        minLength: 1,
        maxLength: 1024,
        description: 'Log in with a SAML session (POST /saml/sso, then the IdP posted to /saml/acs); single use',
      }),
    ),
    oidc_session_id: Type.Optional(
      SafeString({
        minLength: 1,
        maxLength: 1024,
        description:
          'Log in with an OpenID Connect session (POST /oidc/authorize, then the IdP called /oidc/callback); single use',
      }),
    ),
    tenant_id: Type.Optional(SafeString({ minLength: 1, maxLength: 256 })),
    domain_name: Type.Optional(SafeString({ minLength: 1, maxLength: 253 })),
    // Multi-factor authentication (issue 24): the second step of a login, with Basic credentials again.
    mfa_challenge: Type.Optional(
      SafeString({
        minLength: 1,
        maxLength: 512,
        description: 'The details.mfa_challenge of a 401 mfa-required (or mfa-invalid)',
      }),
    ),
    totp: Type.Optional(
      SafeString({ minLength: 1, maxLength: 16, description: "The current code of the user's TOTP factor (with mfa_challenge)" }),
    ),
    recovery_code: Type.Optional(
      SafeString({ minLength: 1, maxLength: 64, description: "One of the user's unused recovery codes (with mfa_challenge)" }),
    ),
    webauthn: Type.Optional(
      Type.Object(
        {},
        {
          additionalProperties: true,
          description:
            'A WebAuthn assertion (PublicKeyCredential.toJSON()) for the options of POST /mfa/webauthn/options (with mfa_challenge)',
        },
      ),
    ),
  },
  { description: 'Unknown keys are ignored' },
);

/**
 * 401 of POST /token: the legacy body; for the multi-factor steps also
 * error_id (mfa-required, mfa-invalid, mfa-enrolment-required) and details.
 */
export const TokenLoginError = Type.Object(
  {
    reason: Type.Array(Type.String()),
    timestamp: Type.Array(Type.Number()),
    status_code: Type.Integer(),
    error_id: Type.Optional(Type.String()),
    details: Type.Optional(
      Type.Object({
        mfa_challenge: Type.Optional(Type.String({ description: 'Single use; POST /token again with it and a factor' })),
        factors: Type.Optional(
          Type.Array(Type.String(), { description: 'The factor types of the user: totp, webauthn, recovery_code' }),
        ),
        expires_in: Type.Optional(Type.Integer({ description: 'Seconds the challenge stays valid' })),
        token: Type.Optional(
          Type.String({ description: 'mfa-enrolment-required: a token that can only enrol (auth.users.me.mfa.#)' }),
        ),
        expires_at: Type.Optional(Type.String()),
        acl: Type.Optional(Type.Array(Type.String())),
      }),
    ),
  },
  { description: 'Error body of POST /token' },
);

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const Token = Type.Object({
  token: Type.String(),
  uuid: Nullable(Type.String()),
  auth_id: Type.String(),
  xivo_user_uuid: Nullable(Type.String()),
  xivo_uuid: Nullable(Type.String()),
  issued_at: Type.String(),
  expires_at: Type.String(),
  utc_issued_at: Type.String(),
  utc_expires_at: Type.String(),
  acl: Type.Array(Type.String()),
  metadata: Type.Object({}, { additionalProperties: true }),
  session_uuid: Type.String(),
  remote_addr: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  refresh_token: Type.Optional(
    Type.String({
      description:
        'The refresh token: of an `access_type: offline` login; and, with `refresh_tokens.rotation`, of a refresh-token login ' +
        '(the new one, replacing the one presented, which is refused from then on)',
    }),
  ),
});

export const TokenEnvelope = Type.Object({ data: Token });

export const TokenParams = Type.Object({ token: Type.String() });

export const TokenCheckQuery = Type.Object({
  scope: Type.Optional(
    Type.String({
      maxLength: MAX_ACCESS_LENGTH,
      description:
        "One required access (at most 512 characters, as an access); absent: none. An empty `scope=` is the literal access '' (granted by `#` or `*` only)",
    }),
  ),
  tenant: Type.Optional(Type.String({ maxLength: 256, description: 'Tenant uuid' })),
});

export const ScopesCheckRequest = Type.Object({
  scopes: Type.Array(Type.String({ maxLength: MAX_ACCESS_LENGTH, description: 'A required access (at most 512 characters)' }), {
    maxItems: MAX_SCOPES_PER_CHECK,
  }),
  tenant_uuid: Type.Optional(Type.Union([Uuid, Type.Null()])),
});

export const ScopesCheckResponse = Type.Object({
  scopes: Type.Record(Type.String(), Type.Boolean()),
});

export const RefreshTokenItem = Type.Object({
  client_id: Type.String(),
  created_at: Type.String({ description: 'ISO 8601, UTC with its offset: `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`' }),
  mobile: Type.Boolean(),
  user_uuid: Type.String(),
  tenant_uuid: Type.String(),
  metadata: Type.Object(
    {},
    { additionalProperties: true, description: 'Persistent metadata of the backend (none from the built-in backends: `{}`)' },
  ),
});

export const REFRESH_TOKEN_ORDERS = ['created_at', 'client_id', 'mobile'] as const;

export const RefreshTokenListParams = Type.Object({
  ...ListParams.properties,
  order: Type.Optional(
    Type.String({ maxLength: 64, description: `One of ${REFRESH_TOKEN_ORDERS.join(', ')} (default created_at)` }),
  ),
  search: Type.Optional(SafeString({ maxLength: 512, description: 'Case-insensitive substring of client_id' })),
  client_id: Type.Optional(SafeString({ maxLength: 1024, description: 'Exact client_id' })),
  mobile: Type.Optional(Type.Boolean({ description: 'Only mobile (true) or non-mobile (false) refresh tokens' })),
  recurse: Type.Optional(Type.Boolean({ description: 'GET /tokens: include the sub-tenants of the acting tenant' })),
});
