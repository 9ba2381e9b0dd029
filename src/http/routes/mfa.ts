// Multi-factor authentication (issue 24): a user's second factors.
//   GET    /users/:user_uuid/mfa                         auth.users.{user_uuid}.mfa.read
//   POST   /users/:user_uuid/mfa/totp                    auth.users.{user_uuid}.mfa.totp.create     (the user itself)
//   PUT    /users/:user_uuid/mfa/totp/:factor_uuid/confirm  auth.users.{user_uuid}.mfa.totp.{factor_uuid}.confirm.update (the user itself)
//   POST   /users/:user_uuid/mfa/recovery_codes          auth.users.{user_uuid}.mfa.recovery_codes.create (the user itself)
//   DELETE /users/:user_uuid/mfa/:factor_uuid            auth.users.{user_uuid}.mfa.{factor_uuid}.delete
//   POST   /users/:user_uuid/mfa/webauthn/registration/options  auth.users.{user_uuid}.mfa.webauthn.options.create (the user itself)
//   POST   /users/:user_uuid/mfa/webauthn/registration  auth.users.{user_uuid}.mfa.webauthn.create (the user itself)
//   POST   /mfa/webauthn/options                         no token: {mfa_challenge} of a 401 mfa-required
//   GET    /tenants/:tenant_uuid/mfa                     auth.tenants.{tenant_uuid}.mfa.read     the tenant's mfa.required_for
//   PUT    /tenants/:tenant_uuid/mfa                     auth.tenants.{tenant_uuid}.mfa.update   (adds to the configuration's and its ancestors')
// `me` as user_uuid is the caller: a token granting `auth.users.me.mfa.#`
// (the restricted token of a user who must enrol) manages its own factors.
// Enrolment is the user's own business; an administrator lists and removes
// factors, and nothing ever returns a stored secret.
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MfaSelfOnlyError } from '../../mfa/errors.js';
import type { MfaFactorView, MfaService, TenantMfaPolicyView } from '../../mfa/service.js';
import type { Caller } from '../../identity/scope.js';
import type { TokenRecord } from '../../tokens/types.js';
import { ACCESS_LIMITS_TEXT, ACCESS_WILDCARDS_PATTERN, MAX_ACCESS_LENGTH } from '../../access-limits.js';
import { formatUtc } from '../../tokens/time-format.js';
import { authOf, type RequireAccess } from '../auth.js';
import { ApiError, AuthHeaders, NoContent, SafeString } from '../schemas/common.js';

const UserParams = Type.Object({ user_uuid: SafeString({ maxLength: 64, description: 'A user uuid, or `me` (the caller)' }) });
const FactorParams = Type.Object({ user_uuid: UserParams.properties.user_uuid, factor_uuid: SafeString({ maxLength: 64 }) });

export const Factor = Type.Object(
  {
    uuid: Type.String(),
    type: Type.String({ description: 'totp, webauthn or recovery_code' }),
    name: Type.Union([Type.String(), Type.Null()]),
    confirmed: Type.Boolean({ description: 'Only a confirmed factor is asked at login' }),
    created_at: Type.String(),
    confirmed_at: Type.Union([Type.String(), Type.Null()]),
    remaining: Type.Optional(Type.Integer({ description: 'recovery_code: unused codes left' })),
  },
  { description: 'A factor, never its secret' },
);
const FactorList = Type.Object({ items: Type.Array(Factor), total: Type.Integer() });

const TotpCreate = Type.Object(
  {
    name: Type.Optional(
      SafeString({ minLength: 1, maxLength: 128, description: 'A name for the user to tell its factors apart' }),
    ),
  },
  { additionalProperties: false },
);
export const TotpCreated = Type.Object({
  uuid: Type.String(),
  secret: Type.String({ description: 'Base32; shown once (this answer)' }),
  otpauth_uri: Type.String({ description: 'otpauth://totp/... (SHA-1, 6 digits, 30 s)' }),
  qr_svg: Type.String({ description: 'The URI as a QR code (SVG), for authenticator apps' }),
  confirmed: Type.Boolean(),
});
const TotpConfirm = Type.Object(
  { code: SafeString({ minLength: 1, maxLength: 16, description: 'The current code of the new factor' }) },
  { additionalProperties: false },
);
export const RecoveryCodes = Type.Object({
  uuid: Type.String(),
  codes: Type.Array(Type.String(), {
    description: 'Single use; shown once (this answer), stored hashed; replaces the previous codes',
  }),
});

const WebAuthnOptions = Type.Object(
  {},
  {
    additionalProperties: true,
    description: 'PublicKeyCredential{Creation,Request}OptionsJSON: give it to PublicKeyCredential.parse…OptionsFromJSON()',
  },
);
const WebAuthnRegistration = Type.Object(
  {
    name: Type.Optional(SafeString({ minLength: 1, maxLength: 128 })),
    response: Type.Object({}, { additionalProperties: true, description: 'The new credential (PublicKeyCredential.toJSON())' }),
  },
  { additionalProperties: false },
);
const WebAuthnRegistered = Type.Object({ uuid: Type.String(), confirmed: Type.Boolean() });
const LoginOptionsRequest = Type.Object(
  { mfa_challenge: SafeString({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);

const TenantParams = Type.Object({ tenant_uuid: SafeString({ maxLength: 64 }) });
const Purpose = Type.Union([Type.Literal('user'), Type.Literal('internal'), Type.Literal('external_api')]);
const RequiredFor = Type.Object(
  {
    acl: Type.Array(
      Type.String({
        minLength: 1,
        maxLength: MAX_ACCESS_LENGTH,
        pattern: ACCESS_WILDCARDS_PATTERN,
        description: `ACL pattern (no negative): ${ACCESS_LIMITS_TEXT}`,
      }),
      {
        maxItems: 256,
        description:
          'Users whose ACL holds an access matching one of these patterns (e.g. `auth.#`, `confd.#`) must have a second factor',
      },
    ),
    purposes: Type.Array(Purpose, { maxItems: 3, description: 'Users of these purposes must have a second factor' }),
  },
  { additionalProperties: false },
);
const TenantPolicyBody = Type.Object(
  { required_for: RequiredFor },
  {
    additionalProperties: false,
    description: "Replaces the tenant's own rule ({acl: [], purposes: []} clears it)",
  },
);
const TenantPolicy = Type.Object({
  tenant_uuid: Type.String(),
  required_for: Type.Object(
    { acl: Type.Array(Type.String()), purposes: Type.Array(Type.String()) },
    { description: "The tenant's own rule" },
  ),
  effective_required_for: Type.Object(
    { acl: Type.Array(Type.String()), purposes: Type.Array(Type.String()) },
    {
      description: "What its users get: the configuration's mfa.required_for, its ancestors' rules and its own, together",
    },
  ),
  updated_at: Type.Union([Type.String(), Type.Null()], { description: 'Null: the tenant never set a rule' }),
});

const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 503: ApiError };
const tags = ['mfa'];

export interface MfaRouteDeps {
  mfa: MfaService;
  users: {
    get(uuid: string, scopeRoot: string | null): Promise<{ uuid: string; tenantUuid: string; username: string | null }>;
    /** The no-escalation rule (UserService.assertMayActAs): removing another user's factor weakens its account. */
    assertMayActAs(caller: TokenRecord, uuid: string): Promise<void>;
  };
  /** The acting tenant's subtree (404 outside it); absent: no /tenants/{uuid}/mfa routes. */
  tenants?: { get(caller: Caller, uuid: string): Promise<{ uuid: string }> };
  requireAccess: RequireAccess;
}

function tenantPolicyView(p: TenantMfaPolicyView): Static<typeof TenantPolicy> {
  return {
    tenant_uuid: p.tenantUuid,
    required_for: p.requiredFor,
    effective_required_for: p.effectiveRequiredFor,
    updated_at: p.updatedAt === null ? null : `${formatUtc(p.updatedAt)}+00:00`,
  };
}

function factorView(f: MfaFactorView): Static<typeof Factor> {
  const view: Static<typeof Factor> = {
    uuid: f.uuid,
    type: f.type,
    name: f.name,
    confirmed: f.confirmed,
    created_at: `${formatUtc(f.createdAt)}+00:00`,
    confirmed_at: f.confirmedAt === null ? null : `${formatUtc(f.confirmedAt)}+00:00`,
  };
  if (f.remaining !== null) view.remaining = f.remaining;
  return view;
}

export async function mfaRoutes(instance: FastifyInstance, deps: MfaRouteDeps): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { mfa, users, requireAccess } = deps;

  /** The user the path names (`me`: the caller), if visible from the acting tenant. */
  async function targetUser(request: FastifyRequest & { params: Static<typeof UserParams> }) {
    const { user_uuid } = request.params;
    const auth = authOf(request);
    const uuid = user_uuid === 'me' ? (auth.token.userUuid ?? '') : user_uuid;
    return deps.users.get(uuid, auth.tenantUuid);
  }

  /** Enrolment: only the user itself (its own token), never an administrator for it. */
  async function selfUser(request: FastifyRequest & { params: Static<typeof UserParams> }) {
    const user = await targetUser(request);
    if (authOf(request).token.userUuid !== user.uuid) throw new MfaSelfOnlyError();
    return user;
  }

  app.get(
    '/users/:user_uuid/mfa',
    {
      schema: {
        summary: "The user's second factors (no secrets)",
        tags,
        headers: AuthHeaders,
        params: UserParams,
        response: { 200: FactorList, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.mfa.read'),
    },
    async function listMfaFactors(request) {
      const user = await targetUser(request);
      const items = (await mfa.listFactors(user.uuid)).map(factorView);
      return { items, total: items.length };
    },
  );

  app.post(
    '/users/:user_uuid/mfa/totp',
    {
      schema: {
        summary: 'Start a TOTP enrolment (the user itself): the secret, shown once; confirm it with a code',
        tags,
        headers: AuthHeaders,
        params: UserParams,
        body: TotpCreate,
        response: { 200: TotpCreated, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.mfa.totp.create'),
    },
    async function enrolTotp(request) {
      const user = await selfUser(request);
      const created = await mfa.enrolTotp(
        { uuid: user.uuid, tenantUuid: user.tenantUuid, label: user.username ?? user.uuid },
        request.body.name ?? null,
      );
      return {
        uuid: created.uuid,
        secret: created.secret,
        otpauth_uri: created.otpauthUri,
        qr_svg: created.qrSvg,
        confirmed: false,
      };
    },
  );

  app.put(
    '/users/:user_uuid/mfa/totp/:factor_uuid/confirm',
    {
      schema: {
        summary: 'Confirm a TOTP factor with its current code (400 otherwise); only then is it asked at login',
        tags,
        headers: AuthHeaders,
        params: FactorParams,
        body: TotpConfirm,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.mfa.totp.{factor_uuid}.confirm.update'),
    },
    async function confirmTotp(request, reply) {
      const user = await selfUser(request);
      const { factor_uuid } = request.params;
      await mfa.confirmTotp(user.uuid, factor_uuid, request.body.code);
      return reply.code(204).send();
    },
  );

  app.post(
    '/users/:user_uuid/mfa/recovery_codes',
    {
      schema: {
        summary: '10 new single-use recovery codes (the user itself), replacing the previous ones; shown once',
        tags,
        headers: AuthHeaders,
        params: UserParams,
        response: { 200: RecoveryCodes, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.mfa.recovery_codes.create'),
    },
    async function newRecoveryCodes(request) {
      const user = await selfUser(request);
      return mfa.newRecoveryCodes({ uuid: user.uuid, tenantUuid: user.tenantUuid });
    },
  );

  app.post(
    '/users/:user_uuid/mfa/webauthn/registration/options',
    {
      schema: {
        summary: 'Start a passkey registration (the user itself): options for navigator.credentials.create()',
        tags,
        headers: AuthHeaders,
        params: UserParams,
        response: { 200: WebAuthnOptions, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.mfa.webauthn.options.create'),
    },
    async function webauthnRegistrationOptions(request) {
      const user = await selfUser(request);
      return mfa.webauthnRegistrationOptions({ uuid: user.uuid, label: user.username ?? user.uuid });
    },
  );

  app.post(
    '/users/:user_uuid/mfa/webauthn/registration',
    {
      schema: {
        summary:
          "Finish a passkey registration: the authenticator's response (400 when it does not verify); the factor is confirmed",
        tags,
        headers: AuthHeaders,
        params: UserParams,
        body: WebAuthnRegistration,
        response: { 200: WebAuthnRegistered, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.mfa.webauthn.create'),
    },
    async function webauthnRegister(request) {
      const user = await selfUser(request);
      const body = request.body;
      const uuid = await mfa.webauthnRegister({ uuid: user.uuid, tenantUuid: user.tenantUuid }, body.response, body.name ?? null);
      return { uuid, confirmed: true };
    },
  );

  app.post(
    '/mfa/webauthn/options',
    {
      schema: {
        summary:
          'Options of a passkey assertion answering the mfa_challenge of a 401 mfa-required (no token: the challenge stands for the password); ' +
          'POST /token again with mfa_challenge and webauthn: the assertion',
        tags,
        body: LoginOptionsRequest,
        response: { 200: WebAuthnOptions, 400: ApiError, 404: ApiError, 503: ApiError },
      },
    },
    async function webauthnLoginOptions(request) {
      return mfa.webauthnLoginOptions(request.body.mfa_challenge);
    },
  );

  const tenants = deps.tenants;
  if (tenants !== undefined) {
    const tenantTags = ['mfa', 'tenants'];
    app.get(
      '/tenants/:tenant_uuid/mfa',
      {
        schema: {
          summary: "The tenant's mfa.required_for rule, and the effective one its users get",
          description:
            "A user of the tenant must enrol a second factor (401 mfa-enrolment-required) when the configuration's rule, " +
            "the rule of the user's tenant or that of one of its ancestors names it. 404 outside the acting tenant's subtree.",
          tags: tenantTags,
          headers: AuthHeaders,
          params: TenantParams,
          response: { 200: TenantPolicy, ...errors },
        },
        preHandler: requireAccess('auth.tenants.{tenant_uuid}.mfa.read'),
      },
      async function getTenantMfaPolicy(request) {
        const tenant = await tenants.get(authOf(request), request.params.tenant_uuid);
        return tenantPolicyView(await mfa.tenantPolicy(tenant.uuid));
      },
    );

    app.put(
      '/tenants/:tenant_uuid/mfa',
      {
        schema: {
          summary: "Set the tenant's mfa.required_for rule (who must enrol a second factor)",
          description:
            "The rule adds to the configuration's and to the tenant's ancestors' (a tenant may require more, never less), " +
            "and applies to the tenant's sub-tenants too. Audited (tenants.mfa.update); event auth_tenant_mfa_updated. " +
            "400 for a negative access; 404 outside the acting tenant's subtree.",
          tags: tenantTags,
          headers: AuthHeaders,
          params: TenantParams,
          body: TenantPolicyBody,
          response: { 200: TenantPolicy, ...errors },
        },
        preHandler: requireAccess('auth.tenants.{tenant_uuid}.mfa.update'),
      },
      async function setTenantMfaPolicy(request) {
        const tenant = await tenants.get(authOf(request), request.params.tenant_uuid);
        const { required_for } = request.body;
        return tenantPolicyView(
          await mfa.setTenantPolicy(tenant.uuid, { acl: required_for.acl, purposes: required_for.purposes }),
        );
      },
    );
  }

  app.delete(
    '/users/:user_uuid/mfa/:factor_uuid',
    {
      schema: {
        summary: 'Remove a second factor (the user or an administrator)',
        tags,
        description:
          "An administrator removing another user's factor must grant every access of that user's tokens " +
          '(401 unauthorized, details.required_access, nothing removed).',
        headers: AuthHeaders,
        params: FactorParams,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.users.{user_uuid}.mfa.{factor_uuid}.delete'),
    },
    async function deleteMfaFactor(request, reply) {
      const user = await targetUser(request);
      const { factor_uuid } = request.params;
      const auth = authOf(request);
      // A stolen administrator token must not strip a more privileged user of
      // its second factor: another user's factor goes only with every access of
      // that user (docs/isolation.md).
      if (auth.token.userUuid !== user.uuid) await users.assertMayActAs(auth.token, user.uuid);
      await mfa.deleteFactor(user.uuid, factor_uuid, { uuid: auth.token.userUuid, tenantUuid: auth.token.tenantUuid });
      return reply.code(204).send();
    },
  );
}
