// Configuration of multi-factor authentication (issue 24). Plugged into the
// one schema of src/config/schema.ts; defaults and descriptions live here.
import { Type, type Static } from '@sinclair/typebox';

export const MfaSchema = Type.Object(
  {
    issuer: Type.String({
      minLength: 1,
      maxLength: 64,
      default: 'xivo-auth',
      description: 'The issuer authenticator apps show next to a TOTP account (otpauth:// URI).',
    }),
    challenge_lifetime_seconds: Type.Integer({
      minimum: 10,
      maximum: 3600,
      default: 300,
      description: 'How long the mfa_challenge of a POST /token answered 401 mfa-required stays valid (single use).',
    }),
    totp_drift_steps: Type.Integer({
      minimum: 0,
      maximum: 3,
      default: 1,
      description: 'TOTP codes of this many 30-second steps before or after the current one are accepted (clock drift).',
    }),
    required_for: Type.Object(
      {
        acl: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
          default: [],
          maxItems: 256,
          description:
            'Users whose ACL holds an access matching one of these patterns (e.g. `auth.#`, `confd.#`) must have a second factor.',
        }),
        purposes: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
          default: [],
          maxItems: 8,
          description: 'Users of these purposes (user, internal, external_api) must have a second factor.',
        }),
      },
      {
        default: {},
        description:
          'Who must have a second factor: such a user without one gets 401 mfa-enrolment-required with a token that can only enrol (auth.users.me.mfa.#).',
      },
    ),
    exempt_backends: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      default: ['xivo_service'],
      maxItems: 64,
      description: 'Logins through these backends are never asked for a second factor nor made to enrol (service accounts).',
    }),
    webauthn: Type.Object(
      {
        rp_id: Type.String({
          minLength: 1,
          maxLength: 253,
          default: 'localhost',
          description:
            'WebAuthn relying party id: the domain of the web pages that register and use passkeys (e.g. `pbx.example.com`).',
        }),
        rp_name: Type.String({
          minLength: 1,
          maxLength: 64,
          default: 'xivo-auth',
          description: 'The relying party name authenticators show.',
        }),
        origins: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
          default: ['https://localhost'],
          maxItems: 64,
          description: 'Origins (scheme://host[:port]) whose pages may register and use passkeys.',
        }),
      },
      { default: {}, description: 'WebAuthn / passkeys (@simplewebauthn/server).' },
    ),
    trust_identity_provider: Type.Boolean({
      default: false,
      description:
        "Single sign-on logins (SAML, OpenID Connect) are neither asked for the user's second factor nor made to enrol: " +
        "the identity provider's own multi-factor authentication is trusted to suffice. Default false: they are, as password logins.",
    }),
    exempt_purposes: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      default: ['external_api'],
      maxItems: 8,
      description:
        'Users of these purposes are never made to enrol by required_for (they are still asked for a factor they have).',
    }),
  },
  { default: {}, description: 'Multi-factor authentication: TOTP and recovery codes (POST /0.1/users/{user_uuid}/mfa/...).' },
);

export type MfaConfig = Static<typeof MfaSchema>;
