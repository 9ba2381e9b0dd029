// A real SAML 2.0 identity provider on loopback for the SSO tests (issue 23):
// samlify with an RSA key and a self-signed certificate made by the openssl
// CLI. GET /sso takes our signed AuthnRequest (HTTP-Redirect; samlify checks
// its signature against the certificate of our SP metadata) and `login`
// (who logs in), and answers the HTML auto-post form a browser would send to
// our ACS, carrying a signed SAMLResponse. GET /slo takes our LogoutRequest
// and redirects to our SLS with a signed LogoutResponse. logoutRequest()
// starts a logout at the IdP (IdP-initiated): the URL of our SLS carrying its
// LogoutRequest (signed, unsigned or signed by a foreign key), and
// checkLogoutResponse() verifies our answer with our SP metadata. `tweak` plays a
// broken or hostile IdP: other times, another audience, another signing key,
// or a rewrite of the signed XML (signature wrapping, tampering).
// samlify wants an XML schema validator; the Java-free choice is none here
// (the SP side, node-saml, does its own checks).
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as samlify from 'samlify';
import { closeAtEnd } from './cleanup.js';

samlify.setSchemaValidator({ validate: async () => 'skipped' });

const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

export interface ResponseTweak {
  audience?: string;
  /** Conditions and SubjectConfirmationData NotOnOrAfter. */
  notOnOrAfter?: Date;
  notBefore?: Date;
  recipient?: string;
  inResponseTo?: string;
  /** Sign with a key whose certificate is not in the IdP's metadata. */
  foreignKey?: boolean;
  /** Rewrite the signed response XML before it is posted. */
  rewrite?: (xml: string) => string;
  /** An AuthnStatement with this SessionIndex (none otherwise). */
  sessionIndex?: string;
}

/** An IdP-initiated LogoutRequest; by default signed with the IdP's key, issued now, no NotOnOrAfter. */
export interface LogoutRequestOptions {
  sessionIndexes?: string[];
  /** false: no Signature nor SigAlg. */
  signed?: boolean;
  /** Sign with a key whose certificate is not in the IdP's metadata. */
  foreignKey?: boolean;
  issueInstant?: Date;
  notOnOrAfter?: Date;
  /** The NameID's SPNameQualifier. */
  spNameQualifier?: string;
  /** Instead of the SingleLogoutService of the SP metadata. */
  destination?: string;
  relayState?: string;
}

/** Our LogoutResponse, as the IdP read it after checking our signature. */
export interface CheckedLogoutResponse {
  /** Where it was sent (the IdP's SingleLogoutService). */
  endpoint: string;
  inResponseTo: string;
  issuer: string;
  relayState: string | null;
}

export interface AcsPost {
  action: string;
  SAMLResponse: string;
  RelayState: string;
}

export interface TestSamlIdp {
  entityId: string;
  /** The IdP's metadata XML (what an administrator uploads to POST /backends/saml). */
  metadata: string;
  tweak: ResponseTweak | null;
  /** The SAMLResponses handed out, decoded, in order. */
  responses: string[];
  /** Follows POST /saml/sso's location as a browser would; returns the form it is told to post to our ACS. */
  login(location: string, login: string, spMetadata: string): Promise<AcsPost>;
  /** Follows GET /saml/logout's location; returns the URL of our SLS the IdP redirects to. */
  logout(location: string, spMetadata: string, options?: { signed?: boolean }): Promise<string>;
  /** Starts a logout at the IdP: the URL of our SLS (from the SP metadata) with its LogoutRequest, and the request's ID. */
  logoutRequest(nameID: string, spMetadata: string, options?: LogoutRequestOptions): { url: string; id: string };
  /** Reads our answer to logoutRequest() (the Location of GET /saml/sls): our signature and issuer checked, Success required. */
  checkLogoutResponse(location: string, spMetadata: string): Promise<CheckedLogoutResponse>;
  close(): Promise<void>;
}

function keyAndCert(dir: string, name: string): { key: string; cert: string } {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-days', '2', '-keyout', keyFile, '-out', certFile],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
}

const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

/** "a=1&b=2" as received, keeping only these keys in this order (the signed octet string). */
function octetString(rawQuery: string, keys: string[]): string {
  const pairs = rawQuery.split('&');
  return keys
    .map((k) => pairs.find((p) => p.startsWith(`${k}=`)))
    .filter((p): p is string => p !== undefined)
    .join('&');
}

export async function startSamlIdp(): Promise<TestSamlIdp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'saml-idp-'));
  const real = keyAndCert(dir, 'idp');
  const foreign = keyAndCert(dir, 'foreign');
  rmSync(dir, { recursive: true, force: true });

  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const entityId = `${base}/metadata`;
  const settings = (key: string, cert: string) => ({
    entityID: entityId,
    privateKey: key,
    signingCert: cert,
    requestSignatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    nameIDFormat: [EMAIL_FORMAT],
    wantAuthnRequestsSigned: true,
    singleSignOnService: [{ Binding: REDIRECT, Location: `${base}/sso` }],
    singleLogoutService: [{ Binding: REDIRECT, Location: `${base}/slo` }],
  });
  const idp = samlify.IdentityProvider(settings(real.key, real.cert));
  const foreignIdp = samlify.IdentityProvider(settings(foreign.key, foreign.cert));
  const state: { tweak: ResponseTweak | null; responses: string[] } = { tweak: null, responses: [] };
  let currentSp: string | null = null;
  let currentLogin = '';
  let signedLogout = true;
  const spOf = (metadata: string, wantLogoutRequestSigned = true) =>
    samlify.ServiceProvider({
      metadata,
      wantLogoutResponseSigned: signedLogout,
      wantLogoutRequestSigned,
    });

  async function answerLogin(rawQuery: string, query: URLSearchParams): Promise<string> {
    const sp = spOf(currentSp!);
    // Our AuthnRequest's signature, checked with the certificate of our SP metadata.
    const parsed = await idp.parseLoginRequest(sp, 'redirect', {
      query: Object.fromEntries(query),
      octetString: octetString(rawQuery, ['SAMLRequest', 'RelayState', 'SigAlg']),
    });
    const request = (parsed.extract as { request?: { id?: string; assertionConsumerServiceUrl?: string } }).request;
    const requestId = String(request?.id ?? '');
    const acs = String(request?.assertionConsumerServiceUrl ?? '');
    const tweak = state.tweak ?? {};
    const now = new Date();
    const later = tweak.notOnOrAfter ?? new Date(now.getTime() + 5 * 60_000);
    const signer = tweak.foreignKey ? foreignIdp : idp;
    const spEntityId = sp.entityMeta.getEntityID();
    const acsUrl = sp.entityMeta.getAssertionConsumerService('post') as string;
    const result = await signer.createLoginResponse(
      sp,
      parsed as unknown as Parameters<typeof idp.createLogoutResponse>[1],
      'post',
      { email: currentLogin },
      {
        relayState: query.get('RelayState') ?? '',
        customTagReplacement: (template: string) => {
          const id = `_${Math.random().toString(16).slice(2)}${Date.now()}`;
          // Raw XML (replaceTagsByValue escapes what it substitutes); test-chosen values only.
          const authn =
            tweak.sessionIndex === undefined
              ? ''
              : `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="${tweak.sessionIndex}">` +
                '<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>' +
                '</saml:AuthnContext></saml:AuthnStatement>';
          const context = samlify.SamlLib.replaceTagsByValue(template.replace('{AuthnStatement}', authn), {
            ID: id,
            AssertionID: `_a${Math.random().toString(16).slice(2)}${Date.now()}`,
            Destination: acsUrl,
            Audience: tweak.audience ?? spEntityId,
            EntityID: spEntityId,
            SubjectRecipient: tweak.recipient ?? acsUrl,
            Issuer: entityId,
            IssueInstant: now.toISOString(),
            AssertionConsumerServiceURL: acs || acsUrl,
            StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
            ConditionsNotBefore: (tweak.notBefore ?? now).toISOString(),
            ConditionsNotOnOrAfter: later.toISOString(),
            SubjectConfirmationDataNotOnOrAfter: later.toISOString(),
            NameIDFormat: EMAIL_FORMAT,
            NameID: currentLogin,
            InResponseTo: tweak.inResponseTo ?? requestId,
            AttributeStatement: '',
          });
          return { id, context };
        },
      },
    );
    let xml = Buffer.from(result.context, 'base64').toString('utf8');
    if (tweak.rewrite) xml = tweak.rewrite(xml);
    state.responses.push(xml);
    const b64 = Buffer.from(xml, 'utf8').toString('base64');
    const relay = (result as { relayState?: string }).relayState ?? query.get('RelayState') ?? '';
    return (
      `<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="${acsUrl}">` +
      `<input type="hidden" name="SAMLResponse" value="${b64}"/><input type="hidden" name="RelayState" value="${relay}"/>` +
      '</form></body></html>'
    );
  }

  async function answerLogout(rawQuery: string, query: URLSearchParams): Promise<string> {
    const sp = spOf(currentSp!);
    const parsed = await idp.parseLogoutRequest(sp, 'redirect', {
      query: Object.fromEntries(query),
      octetString: octetString(rawQuery, ['SAMLRequest', 'RelayState', 'SigAlg']),
    });
    const result = idp.createLogoutResponse(
      sp,
      parsed as unknown as Parameters<typeof idp.createLogoutResponse>[1],
      'redirect',
      query.get('RelayState') ?? '',
    );
    return result.context;
  }

  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', base);
    const raw = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1) : '';
    const done = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
      res.end(body);
    };
    if (url.pathname === '/sso') {
      answerLogin(raw, url.searchParams).then(
        (html) => done(200, html),
        (err: Error) => done(400, `refused: ${err.message}`),
      );
    } else if (url.pathname === '/slo') {
      answerLogout(raw, url.searchParams).then(
        (location) => done(302, '', { location }),
        (err: Error) => done(400, `refused: ${err.message}`),
      );
    } else {
      done(404, 'not found');
    }
  });

  return {
    entityId,
    metadata: idp.getMetadata(),
    get tweak() {
      return state.tweak;
    },
    set tweak(v) {
      state.tweak = v;
    },
    get responses() {
      return state.responses;
    },
    async login(location, login, spMetadata) {
      currentSp = spMetadata;
      currentLogin = login;
      const res = await fetch(location, { redirect: 'manual' });
      const html = await res.text();
      if (res.status !== 200) throw new Error(`IdP refused the login: ${res.status} ${html.slice(0, 300)}`);
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      const SAMLResponse = field(html, 'SAMLResponse');
      const RelayState = field(html, 'RelayState');
      if (action === undefined || SAMLResponse === undefined || RelayState === undefined)
        throw new Error(`unexpected IdP page: ${html.slice(0, 300)}`);
      return { action, SAMLResponse, RelayState };
    },
    async logout(location, spMetadata, options = {}) {
      currentSp = spMetadata;
      signedLogout = options.signed ?? true;
      try {
        const res = await fetch(location, { redirect: 'manual' });
        if (res.status !== 302) throw new Error(`IdP refused the logout: ${res.status} ${(await res.text()).slice(0, 300)}`);
        return res.headers.get('location')!;
      } finally {
        signedLogout = true;
      }
    },
    logoutRequest(nameID, spMetadata, options = {}) {
      const sp = spOf(spMetadata, options.signed ?? true);
      const indexes = options.sessionIndexes ?? [];
      const template =
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"' +
        ` ID="{ID}" Version="2.0" IssueInstant="{IssueInstant}" Destination="{Destination}"${options.notOnOrAfter ? ' NotOnOrAfter="{NotOnOrAfter}"' : ''}>` +
        '<saml:Issuer>{Issuer}</saml:Issuer>' +
        `<saml:NameID Format="{NameIDFormat}"${options.spNameQualifier ? ' SPNameQualifier="{SPNameQualifier}"' : ''}>{NameID}</saml:NameID>` +
        indexes.map((_, i) => `<samlp:SessionIndex>{SessionIndex${i}}</samlp:SessionIndex>`).join('') +
        '</samlp:LogoutRequest>';
      const signer = options.foreignKey ? foreignIdp : idp;
      const result = signer.createLogoutRequest(
        sp,
        'redirect',
        { logoutNameID: nameID },
        {
          relayState: options.relayState ?? '',
          customTagReplacement: () => {
            const id = `_lr${Math.random().toString(16).slice(2)}${Date.now()}`;
            const values: Record<string, string> = {
              ID: id,
              IssueInstant: (options.issueInstant ?? new Date()).toISOString(),
              Destination: options.destination ?? String(sp.entityMeta.getSingleLogoutService('redirect')),
              Issuer: entityId,
              NameIDFormat: EMAIL_FORMAT,
              NameID: nameID,
            };
            if (options.notOnOrAfter) values.NotOnOrAfter = options.notOnOrAfter.toISOString();
            if (options.spNameQualifier) values.SPNameQualifier = options.spNameQualifier;
            indexes.forEach((v, i) => {
              values[`SessionIndex${i}`] = v;
            });
            return { id, context: samlify.SamlLib.replaceTagsByValue(template, values) };
          },
        },
      );
      return { url: result.context, id: result.id };
    },
    async checkLogoutResponse(location, spMetadata) {
      const sp = spOf(spMetadata);
      const url = new URL(location);
      const raw = url.search.slice(1);
      const parsed = await idp.parseLogoutResponse(sp, 'redirect', {
        query: Object.fromEntries(url.searchParams),
        octetString: octetString(raw, ['SAMLResponse', 'RelayState', 'SigAlg']),
      });
      const extract = parsed.extract as { response?: { inResponseTo?: string }; issuer?: string };
      return {
        endpoint: `${url.origin}${url.pathname}`,
        inResponseTo: String(extract.response?.inResponseTo ?? ''),
        issuer: String(extract.issuer ?? ''),
        relayState: url.searchParams.get('RelayState'),
      };
    },
    close: closeAtEnd(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  };
}
