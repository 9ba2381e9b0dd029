// /0.1 SAML 2.0 service provider (issue 23 §2), wire-compatible with wazo-auth:
//   GET    /backends/saml                   auth.backends.saml.read     the tenant's IdP settings
//   POST   /backends/saml                   auth.backends.saml.create   multipart: domain_uuid, entity_id, acs_url, file metadata
//   PUT    /backends/saml                   auth.backends.saml.update   multipart, every part optional
//   DELETE /backends/saml                   auth.backends.saml.delete
//   GET    /backends/saml/metadata          auth.backends.saml.read     the stored IdP metadata (XML)
//   GET    /backends/saml/acs_url_template  auth.backends.saml.read     {acs_url}
//   GET    /backends/saml/sp_metadata       auth.backends.saml.read     our signed SP metadata (XML)
//   POST   /saml/sso                        none   {domain, redirect_url} → {location, saml_session_id}
//   POST   /saml/acs                        none   the IdP's form post → 302 redirect_url
//   GET    /saml/logout                     a token (X-Auth-Token or ?token=) → {location}
//   GET    /saml/sls                        none   the IdP's LogoutResponse → 302 redirect_url;
//                                                  the IdP's LogoutRequest → its user's SAML logins revoked, 302 to the IdP
// then POST /token {"saml_session_id": ...} (routes/token.ts).
// Registered in a context of their own: the multipart and form parsers stay here.
import multipart from '@fastify/multipart';
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidDataError } from '../../errors.js';
import type { SsoEscalationGuard } from '../../sso/escalation.js';
import type { SamlService, SamlSettings, SamlSettingsInput } from '../../sso/saml-service.js';
import { authOf, type RequireAccess } from '../auth.js';
import { ApiError, AuthHeaders, LegacyError, NoContent, SafeString } from '../schemas/common.js';
import { parseForm } from './oauth2.js';

export interface SamlRouteDeps {
  saml: SamlService;
  /** Writing the settings also requires granting every access of the tenant's saml users (src/sso/escalation.ts). */
  escalation: SsoEscalationGuard;
  requireAccess: RequireAccess;
}

const MAX_METADATA_BYTES = 1024 * 1024;
const MAX_FIELD_BYTES = 8192;

const SamlSettingsView = Type.Object({
  tenant_uuid: Type.String(),
  domain_uuid: Type.Union([Type.String(), Type.Null()]),
  entity_id: Type.String({ description: 'Our SP entity id (the IdP\'s "Identifier" / "Entity ID"; the assertions\' audience)' }),
  acs_url: Type.String({ description: 'Our POST /0.1/saml/acs as the IdP reaches it ("Reply URL" / "ACS URL")' }),
  redirect_url_allowlist: Type.Union([Type.Array(Type.String()), Type.Null()]),
  idp_entity_id: Type.String({ description: "The IdP's entity id, from its metadata" }),
});
const SsoBody = Type.Object({
  domain: SafeString({ minLength: 1, maxLength: 253 }),
  redirect_url: Type.String({ minLength: 1, maxLength: 2048 }),
});
const SsoReply = Type.Object({ location: Type.String(), saml_session_id: Type.String() });
const errors = { 400: ApiError, 401: ApiError, 404: ApiError, 409: ApiError, 503: ApiError };
const legacyErrors = { 400: LegacyError, 401: LegacyError, 404: LegacyError, 503: LegacyError };
const MULTIPART_DESCRIPTION =
  'multipart/form-data (as wazo-auth): fields `domain_uuid`, `entity_id`, `acs_url`, ' +
  '`redirect_url_allowlist` (JSON array of https origins or URL prefixes, or empty for none), and the file `metadata` ' +
  "(the IdP's metadata XML, at most 1 MiB).";

interface MultipartSettings {
  input: SamlSettingsInput;
  metadata: string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function allowlistOf(value: string): string[] | null {
  if (value.trim() === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = null;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length > 64 ||
    !parsed.every((e) => typeof e === 'string' && e.length > 0 && e.length <= 2048)
  ) {
    throw new InvalidDataError('redirect_url_allowlist must be a JSON array of URLs', {
      redirect_url_allowlist: { constraint_id: 'type' },
    });
  }
  return parsed as string[];
}

/** The settings form; every multipart problem is a 400 that says what is wrong. */
async function readSettingsForm(request: FastifyRequest): Promise<MultipartSettings> {
  if (!request.isMultipart()) throw new InvalidDataError('Expected a multipart/form-data body');
  const fields: Record<string, string> = {};
  let metadata: string | null = null;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const content = await part.toBuffer();
        if (part.fieldname !== 'metadata') throw new InvalidDataError(`Unexpected file ${part.fieldname.slice(0, 64)}`);
        if (content.length === 0)
          throw new InvalidDataError('Empty metadata file provided', { metadata: { constraint_id: 'required' } });
        try {
          metadata = utf8.decode(content);
        } catch {
          throw new InvalidDataError('The metadata file is not UTF-8', { metadata: { constraint_id: 'saml-metadata' } });
        }
      } else {
        if (Object.prototype.hasOwnProperty.call(fields, part.fieldname))
          throw new InvalidDataError(`Field repeated: ${part.fieldname.slice(0, 64)}`);
        if (part.valueTruncated) throw new InvalidDataError(`Field too long: ${part.fieldname.slice(0, 64)}`);
        fields[part.fieldname] = String(part.value);
      }
    }
  } catch (err) {
    if (err instanceof InvalidDataError) throw err;
    // @fastify/multipart's limits (too large, too many files or parts) and malformed bodies.
    throw new InvalidDataError(`Malformed multipart body: ${(err as Error).message}`);
  }
  const input: SamlSettingsInput = {};
  const text = (name: 'entity_id' | 'acs_url', max: number): void => {
    const v = fields[name];
    if (v === undefined) return;
    if (v.length === 0 || v.length > max || v.includes('\u0000'))
      throw new InvalidDataError(`${name} must be 1 to ${max} characters`, { [name]: { constraint_id: 'length' } });
    input[name] = v;
  };
  text('entity_id', 512);
  text('acs_url', 2048);
  if (fields.domain_uuid !== undefined) {
    if (fields.domain_uuid.length > 64)
      throw new InvalidDataError('domain_uuid is too long', { domain_uuid: { constraint_id: 'length' } });
    input.domain_uuid = fields.domain_uuid === '' ? null : fields.domain_uuid;
  }
  if (fields.redirect_url_allowlist !== undefined) input.redirect_url_allowlist = allowlistOf(fields.redirect_url_allowlist);
  return { input, metadata };
}

export async function samlRoutes(instance: FastifyInstance, deps: SamlRouteDeps): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { saml, escalation, requireAccess } = deps;
  const mayConfigure = async (request: FastifyRequest): Promise<string> => {
    const auth = authOf(request);
    await escalation.assertMayConfigureIdp(auth.token, auth.tenantUuid, 'saml');
    return auth.tenantUuid;
  };
  const tags = ['sso'];

  await app.register(multipart, {
    limits: {
      files: 1,
      fileSize: MAX_METADATA_BYTES,
      fields: 8,
      fieldSize: MAX_FIELD_BYTES,
      parts: 9,
      fieldNameSize: 64,
      headerPairs: 20,
    },
    throwFileSizeLimit: true,
  });
  // The IdP's form post to /saml/acs.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer', bodyLimit: 2 * 1024 * 1024 },
    function parseAcsForm(_request, body: Buffer, done) {
      try {
        done(null, parseForm(body));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );

  const view = (s: SamlSettings): Static<typeof SamlSettingsView> => ({
    tenant_uuid: s.tenant_uuid,
    domain_uuid: s.domain_uuid,
    entity_id: s.entity_id,
    acs_url: s.acs_url,
    redirect_url_allowlist: s.redirect_url_allowlist,
    idp_entity_id: s.idp_entity_id,
  });

  app.get(
    '/backends/saml',
    {
      schema: {
        summary: "The tenant's SAML IdP settings",
        tags,
        headers: AuthHeaders,
        response: { 200: SamlSettingsView, ...errors },
      },
      preHandler: requireAccess('auth.backends.saml.read'),
    },
    async function getSamlSettings(request) {
      return view(await saml.getSettings(authOf(request).tenantUuid));
    },
  );

  app.post(
    '/backends/saml',
    {
      schema: {
        summary: "Create the tenant's SAML IdP settings",
        description: `${MULTIPART_DESCRIPTION} entity_id, acs_url and metadata are required.`,
        tags,
        headers: AuthHeaders,
        consumes: ['multipart/form-data'],
        response: { 200: SamlSettingsView, ...errors },
      },
      preHandler: requireAccess('auth.backends.saml.create'),
    },
    async function createSamlSettings(request) {
      const tenantUuid = await mayConfigure(request);
      const { input, metadata } = await readSettingsForm(request);
      if (metadata === null) throw new InvalidDataError('No metadata file provided', { metadata: { constraint_id: 'required' } });
      if (input.entity_id === undefined || input.acs_url === undefined) {
        throw new InvalidDataError('entity_id and acs_url are required', {
          [input.entity_id === undefined ? 'entity_id' : 'acs_url']: { constraint_id: 'required' },
        });
      }
      return view(await saml.create(tenantUuid, { ...input, entity_id: input.entity_id, acs_url: input.acs_url }, metadata));
    },
  );

  app.put(
    '/backends/saml',
    {
      schema: {
        summary: "Update the tenant's SAML IdP settings",
        description: `${MULTIPART_DESCRIPTION} Parts left out are kept.`,
        tags,
        headers: AuthHeaders,
        consumes: ['multipart/form-data'],
        response: { 200: SamlSettingsView, ...errors },
      },
      preHandler: requireAccess('auth.backends.saml.update'),
    },
    async function updateSamlSettings(request) {
      const tenantUuid = await mayConfigure(request);
      const { input, metadata } = await readSettingsForm(request);
      return view(await saml.update(tenantUuid, input, metadata));
    },
  );

  app.delete(
    '/backends/saml',
    {
      schema: {
        summary: "Delete the tenant's SAML IdP settings",
        tags,
        headers: AuthHeaders,
        response: { 204: NoContent, ...errors },
      },
      preHandler: requireAccess('auth.backends.saml.delete'),
    },
    async function deleteSamlSettings(request, reply) {
      await saml.deleteSettings(await mayConfigure(request));
      return reply.code(204).send();
    },
  );

  // The two metadata routes answer XML, which no response schema describes:
  // on the typed instance, send() would take only the error bodies.
  instance.get(
    '/backends/saml/metadata',
    {
      schema: {
        summary: "The tenant's stored IdP metadata (XML, as uploaded)",
        tags,
        headers: AuthHeaders,
        produces: ['application/xml'],
        response: errors,
      },
      preHandler: requireAccess('auth.backends.saml.read'),
    },
    async function getSamlIdpMetadata(request, reply) {
      const xml = await saml.getIdpMetadata(authOf(request).tenantUuid);
      return reply.type('application/xml').header('content-disposition', 'attachment').send(xml);
    },
  );

  app.get(
    '/backends/saml/acs_url_template',
    {
      schema: {
        summary: "The ACS URL to give an IdP ({{STACK_URL}}: the stack's address; saml.acs_url_template)",
        tags,
        headers: AuthHeaders,
        response: { 200: Type.Object({ acs_url: Type.String() }), ...errors },
      },
      preHandler: requireAccess('auth.backends.saml.read'),
    },
    async function getSamlAcsUrlTemplate() {
      return { acs_url: saml.acsUrlTemplate() };
    },
  );

  instance.get(
    '/backends/saml/sp_metadata',
    {
      schema: {
        summary:
          "Our SAML SP metadata for the tenant (signed XML: entity id, ACS URL, signing certificate) for the IdP's administrator",
        tags,
        headers: AuthHeaders,
        produces: ['application/xml'],
        response: errors,
      },
      preHandler: requireAccess('auth.backends.saml.read'),
    },
    async function getSamlSpMetadata(request, reply) {
      const xml = await saml.spMetadata(authOf(request).tenantUuid);
      return reply.type('application/xml').header('content-disposition', 'attachment; filename="sp-metadata.xml"').send(xml);
    },
  );

  app.post(
    '/saml/sso',
    {
      config: { legacyErrors: true },
      schema: {
        summary: 'Start a SAML login: send the browser to location, then POST /token with saml_session_id',
        tags,
        body: SsoBody,
        response: { 200: SsoReply, ...legacyErrors },
      },
    },
    async function samlSso(request) {
      const b = request.body;
      return saml.sso(b.domain, b.redirect_url);
    },
  );

  app.post(
    '/saml/acs',
    {
      config: { legacyErrors: true },
      schema: {
        summary: "The IdP's form post (SAMLResponse, RelayState; HTTP-POST binding): 302 to the redirect_url of POST /saml/sso",
        tags,
        consumes: ['application/x-www-form-urlencoded'],
        body: Type.Object(
          {
            SAMLResponse: Type.String({ minLength: 1, maxLength: 1024 * 1024 }),
            RelayState: Type.String({ minLength: 1, maxLength: 512 }),
          },
          { additionalProperties: true },
        ),
        response: legacyErrors,
      },
    },
    async function samlAcs(request, reply) {
      return reply.redirect(await saml.acs(request.body), 302);
    },
  );

  app.get(
    '/saml/logout',
    {
      config: { legacyErrors: true },
      schema: {
        summary:
          "End a SAML login: the token's session and refresh token are revoked; send the browser to location (a LogoutRequest to the IdP)",
        tags,
        headers: Type.Object({ 'x-auth-token': Type.Optional(Type.String()) }),
        querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 512 })) }),
        response: { 200: Type.Object({ location: Type.String() }), ...legacyErrors },
      },
    },
    async function samlLogout(request) {
      const header = request.headers['x-auth-token'];
      const token = (typeof header === 'string' ? header : undefined) ?? request.query.token;
      if (token === undefined || token.length === 0) throw new InvalidDataError('A token is required (X-Auth-Token or ?token=)');
      return saml.logout(token);
    },
  );

  app.get(
    '/saml/sls',
    {
      config: { legacyErrors: true },
      schema: {
        summary:
          'Single logout from the IdP (HTTP-Redirect, signed): its LogoutResponse to GET /saml/logout, or its own LogoutRequest',
        description:
          "Every message must carry `SigAlg` and `Signature` (the redirect binding's signature over the message, " +
          "`RelayState` and `SigAlg`), checked with the certificates of the tenant's stored IdP metadata; unsigned or badly signed: 401, " +
          'nothing revoked.\n\n' +
          "- `SAMLResponse`: the IdP's LogoutResponse to a LogoutRequest of `GET /saml/logout` (answered once): the session is revoked, " +
          "302 to the login's `redirect_url`.\n" +
          '- `SAMLRequest`: a LogoutRequest from the IdP (IdP-initiated logout). The tenants asked are those whose IdP entity id is its ' +
          "`Issuer`, whose SLS URL (next to `acs_url`) is its `Destination` and whose `entity_id` is its NameID's `SPNameQualifier` " +
          '(when it has them); when several tenants share an IdP, each whose certificates verify the request applies it. It must be no ' +
          'older than 5 minutes (`IssueInstant`, 60 s of skew), before its `NotOnOrAfter`, and never seen before (a replay is 401). ' +
          'Every completed SAML login of its NameID in those tenants loses its token session and refresh tokens (given `SessionIndex` ' +
          "values: only the logins of those IdP sessions, and those whose assertion named none); the answer is a 302 to the IdP's SingleLogoutService with our signed LogoutResponse (Success, " +
          "`InResponseTo` the request, `RelayState` echoed), or 204 when the IdP's metadata has no HTTP-Redirect SingleLogoutService.",
        tags,
        querystring: Type.Object(
          {
            SAMLResponse: Type.Optional(Type.String({ maxLength: 1024 * 1024 })),
            SAMLRequest: Type.Optional(Type.String({ maxLength: 1024 * 1024 })),
            RelayState: Type.Optional(Type.String({ maxLength: 512 })),
            SigAlg: Type.Optional(Type.String({ maxLength: 256 })),
            Signature: Type.Optional(Type.String({ maxLength: 4096 })),
          },
          { additionalProperties: true },
        ),
        response: { 204: NoContent, ...legacyErrors },
      },
    },
    async function samlSls(request, reply) {
      const raw = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
      const location = await saml.sls(request.query, raw);
      return location === null ? reply.code(204).send() : reply.redirect(location, 302);
    },
  );
}
