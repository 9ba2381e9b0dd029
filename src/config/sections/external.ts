// Configuration of external accounts (issue 22): which types are enabled,
// where the encryption key of their secrets is, and the endpoints of the
// OAuth 2.0 providers. Plugged into the one schema of src/config/schema.ts;
// defaults and descriptions live here. The tenants' client ids and secrets
// are not configuration: they are set over HTTP (/0.1/external/{type}/config).
import { Type, type Static } from '@sinclair/typebox';

const Url = (description: string, value: string) =>
  Type.String({ pattern: '^https?://[^\\s]+$', default: value, description, expected: 'an http:// or https:// URL' });

const Provider = (name: string, d: { device: string; token: string; revocation: string | null; scope: string[] }) =>
  Type.Object(
    {
      device_authorization_url: Url(`${name}'s device authorization endpoint (RFC 8628).`, d.device),
      token_url: Url(`${name}'s token endpoint.`, d.token),
      revocation_url: Type.Union([Type.String({ pattern: '^https?://[^\\s]+$' }), Type.Null()], {
        default: d.revocation,
        description: `${name}'s token revocation endpoint (RFC 7009), called when a user's connection is deleted; null: none.`,
        expected: 'an http:// or https:// URL, or null',
      }),
      scope: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
        default: d.scope,
        maxItems: 64,
        description: `Scopes asked of ${name} when a connection starts without a scope of its own.`,
      }),
    },
    { default: {}, description: `${name} connections (POST /0.1/users/{user_uuid}/external/${name.toLowerCase()}).` },
  );

export const EnabledExternalAuthSchema = Type.Record(Type.String(), Type.Boolean(), {
  default: { google: true, microsoft: true, mobile: true },
  description: 'External auth types by name (google, microsoft, mobile); `false` disables one (its routes answer 404).',
  expected: 'a mapping of external auth type to true/false',
});

export const ExternalAuthSchema = Type.Object(
  {
    encryption_key_file: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      description:
        'File of the 32-byte key (raw, base64 or hex) sealing external-auth secrets at rest (AES-256-GCM); it must exist when set. ' +
        'null: <data_dir>/external-auth.key, generated (mode 0600) when the first secret is stored. Instances sharing a database need the same key.',
    }),
    provider_timeout_seconds: Type.Number({
      minimum: 0.1,
      maximum: 120,
      default: 10,
      description: 'Longest wait for one request to an OAuth provider; past it the request answers 503.',
    }),
    poll_interval_seconds: Type.Number({
      minimum: 0,
      maximum: 3600,
      default: 2,
      description:
        "How often each instance looks for device authorizations due for a poll of the provider (at the provider's interval); 0: only when a client asks for the token.",
    }),
    refresh_margin_seconds: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 60,
      description: 'An access token expiring within this many seconds is refreshed before it is handed out.',
    }),
  },
  { default: {}, description: 'External accounts: push tokens and Google/Microsoft connections.' },
);

export const GoogleSchema = Provider('Google', {
  device: 'https://oauth2.googleapis.com/device/code',
  token: 'https://oauth2.googleapis.com/token',
  revocation: 'https://oauth2.googleapis.com/revoke',
  scope: ['https://www.googleapis.com/auth/contacts.readonly'],
});

export const MicrosoftSchema = Provider('Microsoft', {
  device: 'https://login.microsoftonline.com/common/oauth2/v2.0/devicecode',
  token: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
  // The Microsoft identity platform has no RFC 7009 endpoint.
  revocation: null,
  scope: ['offline_access', 'Contacts.Read'],
});

export type ExternalAuthConfig = Static<typeof ExternalAuthSchema>;
export type OAuthProviderConfig = Static<typeof GoogleSchema>;
