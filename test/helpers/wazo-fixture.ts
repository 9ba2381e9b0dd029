// A PostgreSQL database in wazo-auth's schema (its alembic head of wazo 25.14,
// revision 1c862ebfbb3a, and the revisions on top of it), written for these
// tests from what that schema holds (tables, columns, keys), with rows as
// wazo-auth would write them: PBKDF2-HMAC-SHA512 password hashes computed here
// with node:crypto (64-byte salt, 250,000 iterations, hex digest), tokens and
// refresh tokens whose string is their uuid, a top tenant that is its own
// parent, an "all users" group per tenant.
import { execFileSync } from 'node:child_process';
import { pbkdf2, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './pg.js';

const pbkdf2Async = promisify(pbkdf2);

export const WAZO_ITERATIONS = 250_000;

/** wazo-auth's PasswordEncrypter: 64 random bytes of salt, the hex of PBKDF2-HMAC-SHA512 (64 bytes). */
export async function wazoPasswordHash(password: string, iterations = WAZO_ITERATIONS): Promise<{ salt: Buffer; hash: string }> {
  const salt = randomBytes(64);
  const key = await pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, 64, 'sha512');
  return { salt, hash: key.toString('hex') };
}

export const WAZO_SCHEMA = `
CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);

CREATE TABLE auth_tenant (
  uuid varchar(38) NOT NULL PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name text,
  phone text,
  contact_uuid varchar(38),
  parent_uuid varchar(38) NOT NULL REFERENCES auth_tenant (uuid),
  slug varchar(10) NOT NULL UNIQUE,
  default_authentication_method text NOT NULL DEFAULT 'native'
);
CREATE TABLE auth_address (
  id serial PRIMARY KEY,
  line_1 text, line_2 text, city text, state text, zip_code text, country text,
  tenant_uuid varchar(38) NOT NULL REFERENCES auth_tenant (uuid) ON DELETE CASCADE
);
CREATE TABLE auth_tenant_domain (
  uuid varchar(36) NOT NULL PRIMARY KEY DEFAULT gen_random_uuid()::text,
  tenant_uuid varchar(38) NOT NULL REFERENCES auth_tenant (uuid) ON DELETE CASCADE,
  name varchar(253) NOT NULL UNIQUE
);
CREATE TABLE auth_user (
  uuid varchar(38) NOT NULL PRIMARY KEY DEFAULT gen_random_uuid()::text,
  username varchar(256),
  password_hash text,
  password_salt bytea,
  firstname text,
  lastname text,
  enabled boolean DEFAULT true,
  tenant_uuid varchar(38) NOT NULL REFERENCES auth_tenant (uuid) ON DELETE CASCADE,
  purpose text NOT NULL CHECK (purpose IN ('user', 'internal', 'external_api')),
  authentication_method text NOT NULL DEFAULT 'default'
);
CREATE UNIQUE INDEX auth_user_username_key ON auth_user (lower(username));
ALTER TABLE auth_tenant ADD FOREIGN KEY (contact_uuid) REFERENCES auth_user (uuid) ON DELETE SET NULL;
CREATE TABLE auth_email (
  uuid varchar(38) NOT NULL PRIMARY KEY DEFAULT gen_random_uuid()::text,
  address text NOT NULL,
  confirmed boolean NOT NULL,
  main boolean NOT NULL,
  user_uuid varchar(38) NOT NULL REFERENCES auth_user (uuid) ON DELETE CASCADE
);
CREATE UNIQUE INDEX auth_email_address_key ON auth_email (lower(address));
CREATE TABLE auth_access (id serial PRIMARY KEY, access text NOT NULL UNIQUE);
CREATE TABLE auth_policy (
  uuid varchar(38) NOT NULL PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name varchar(80) NOT NULL,
  description text,
  tenant_uuid varchar(38) NOT NULL REFERENCES auth_tenant (uuid) ON DELETE CASCADE,
  config_managed boolean DEFAULT false,
  slug varchar(80) NOT NULL,
  shared boolean NOT NULL DEFAULT false,
  UNIQUE (name, tenant_uuid)
);
CREATE UNIQUE INDEX auth_policy__idx__slug ON auth_policy (lower(slug), tenant_uuid);
CREATE TABLE auth_policy_access (
  policy_uuid varchar(38) NOT NULL REFERENCES auth_policy (uuid) ON DELETE CASCADE,
  access_id integer NOT NULL REFERENCES auth_access (id) ON DELETE CASCADE,
  PRIMARY KEY (policy_uuid, access_id)
);
CREATE TABLE auth_group (
  uuid varchar(38) NOT NULL PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name text NOT NULL,
  tenant_uuid varchar(38) NOT NULL REFERENCES auth_tenant (uuid) ON DELETE CASCADE,
  system_managed boolean NOT NULL DEFAULT false,
  slug varchar(80) NOT NULL,
  UNIQUE (name, tenant_uuid)
);
CREATE TABLE auth_user_group (
  group_uuid varchar(38) NOT NULL REFERENCES auth_group (uuid) ON DELETE CASCADE,
  user_uuid varchar(38) NOT NULL REFERENCES auth_user (uuid) ON DELETE CASCADE,
  PRIMARY KEY (group_uuid, user_uuid)
);
CREATE TABLE auth_user_policy (
  user_uuid varchar(38) NOT NULL REFERENCES auth_user (uuid) ON DELETE CASCADE,
  policy_uuid varchar(38) NOT NULL REFERENCES auth_policy (uuid) ON DELETE CASCADE,
  PRIMARY KEY (user_uuid, policy_uuid)
);
CREATE TABLE auth_group_policy (
  group_uuid varchar(38) NOT NULL REFERENCES auth_group (uuid) ON DELETE CASCADE,
  policy_uuid varchar(38) NOT NULL REFERENCES auth_policy (uuid) ON DELETE CASCADE,
  PRIMARY KEY (group_uuid, policy_uuid)
);
CREATE TABLE auth_ldap_config (
  tenant_uuid varchar(38) NOT NULL PRIMARY KEY REFERENCES auth_tenant (uuid) ON DELETE CASCADE,
  host varchar(512) NOT NULL,
  port integer NOT NULL,
  protocol_version smallint,
  protocol_security text CHECK (protocol_security IN ('ldaps', 'tls')),
  bind_dn varchar(256),
  bind_password text,
  user_base_dn varchar(256) NOT NULL,
  user_login_attribute varchar(64),
  user_email_attribute varchar(64),
  search_filters text
);
CREATE TABLE auth_refresh_token (
  uuid varchar(36) NOT NULL PRIMARY KEY DEFAULT gen_random_uuid()::text,
  client_id text,
  user_uuid varchar(36) REFERENCES auth_user (uuid) ON DELETE CASCADE,
  backend text,
  login text,
  user_agent text,
  remote_addr text,
  created_at timestamptz DEFAULT now(),
  mobile boolean NOT NULL DEFAULT false,
  metadata json NOT NULL DEFAULT '{}',
  last_used_at timestamptz,
  UNIQUE (client_id, user_uuid)
);
CREATE TABLE auth_session (
  uuid varchar(36) NOT NULL PRIMARY KEY DEFAULT gen_random_uuid()::text,
  mobile boolean NOT NULL,
  tenant_uuid varchar(38) NOT NULL REFERENCES auth_tenant (uuid) ON DELETE CASCADE
);
CREATE TABLE auth_token (
  uuid varchar(38) NOT NULL PRIMARY KEY DEFAULT gen_random_uuid()::text,
  auth_id text NOT NULL,
  pbx_user_uuid varchar(36),
  xivo_uuid varchar(38),
  issued_t integer,
  expire_t integer,
  metadata text,
  session_uuid varchar(36) NOT NULL UNIQUE REFERENCES auth_session (uuid) ON DELETE CASCADE,
  user_agent text DEFAULT '',
  remote_addr text DEFAULT '',
  acl text[] NOT NULL DEFAULT '{}',
  refresh_token_uuid varchar(36) REFERENCES auth_refresh_token (uuid) ON DELETE SET NULL
);
CREATE TABLE auth_saml_config (
  tenant_uuid varchar(38) NOT NULL REFERENCES auth_tenant (uuid) ON DELETE CASCADE,
  domain_uuid varchar(38) NOT NULL REFERENCES auth_tenant_domain (uuid) ON DELETE CASCADE,
  entity_id varchar(512) NOT NULL,
  idp_metadata xml NOT NULL,
  acs_url varchar(512) NOT NULL,
  PRIMARY KEY (tenant_uuid, domain_uuid)
);
CREATE TABLE auth_external_auth_type (
  uuid varchar(38) NOT NULL PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name text NOT NULL UNIQUE,
  enabled boolean
);
CREATE TABLE auth_external_auth_config (
  type_uuid varchar(36) NOT NULL REFERENCES auth_external_auth_type (uuid) ON DELETE CASCADE,
  tenant_uuid varchar(38) NOT NULL REFERENCES auth_tenant (uuid) ON DELETE CASCADE,
  data text NOT NULL,
  PRIMARY KEY (type_uuid, tenant_uuid)
);
CREATE TABLE auth_user_external_auth (
  user_uuid varchar(38) NOT NULL REFERENCES auth_user (uuid) ON DELETE CASCADE,
  external_auth_type_uuid varchar(38) NOT NULL REFERENCES auth_external_auth_type (uuid) ON DELETE CASCADE,
  data text NOT NULL,
  UNIQUE (user_uuid, external_auth_type_uuid)
);
`;

/** The rows the fixture holds, to check the import against. */
export interface WazoFixture {
  db: TestDatabase;
  uri: string;
  xivoUuid: string;
  tenants: { master: string; acme: string; acmeSub: string };
  users: {
    /** wazo-auth-cli: internal, top tenant, linked to the policy granting '#'. */
    cli: { uuid: string; username: string; password: string };
    /** A user of acme, native password, two addresses (main confirmed), in the "sales" group. */
    alice: { uuid: string; username: string; password: string; email: string; otherEmail: string };
    /** Logs in with LDAP in wazo-auth: its stored password hash must not work here. */
    bob: { uuid: string; username: string; password: string };
    /** Disabled. */
    carol: { uuid: string; username: string; password: string };
  };
  policies: { master: string; defaultUser: string; sales: string; salesGroup: string };
  groups: { sales: string; allUsers: Record<'master' | 'acme' | 'acmeSub', string> };
  tokens: {
    /** alice's live token, issued from the refresh token; ACL below. */
    live: string;
    liveSession: string;
    liveAcl: string[];
    expired: string;
  };
  refreshToken: { value: string; clientId: string };
  ldapBindPassword: string;
  /** acme's SAML IdP (auth_saml_config, one row per domain of acme). */
  saml: { entityId: string; acsUrl: string; idpEntityId: string; ssoUrl: string };
  /** Inserts one more live token (in its own session) of alice; returns its string. */
  addLiveToken(acl: string[]): Promise<string>;
  /** Deletes a token and its session (as wazo-auth revokes one). */
  revokeToken(value: string): Promise<void>;
  /** Runs SQL on the source. */
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  drop(): Promise<void>;
}

export async function createWazoFixture(opts: { revision?: string } = {}): Promise<WazoFixture> {
  const db = await createTestDatabase();
  const client = new pg.Client({ connectionString: db.uri });
  await client.connect();
  const q = (text: string, values: unknown[] = []) => client.query(text, values);
  const now = Math.floor(Date.now() / 1000);
  const xivoUuid = randomUUID();
  const t = { master: randomUUID(), acme: randomUUID(), acmeSub: randomUUID() };
  const u = {
    cli: { uuid: randomUUID(), username: 'wazo-auth-cli', password: 'cli-password-from-050-credentials' },
    alice: {
      uuid: randomUUID(),
      username: 'alice',
      password: 'alice-wazo-password',
      email: 'alice@acme.example.com',
      otherEmail: 'alice.alt@example.org',
    },
    bob: { uuid: randomUUID(), username: 'bob', password: 'bob-wazo-password' },
    carol: { uuid: randomUUID(), username: 'carol', password: 'carol-wazo-password' },
  };
  const p = { master: randomUUID(), defaultUser: randomUUID(), sales: randomUUID(), salesGroup: randomUUID() };
  const g = { sales: randomUUID(), allUsers: { master: randomUUID(), acme: randomUUID(), acmeSub: randomUUID() } };
  const refreshToken = { value: randomUUID(), clientId: 'wazo-desktop' };
  const liveAcl = ['confd.users.me.read', 'calld.users.me.#', 'auth.users.me.tokens.read'];
  const tokens = { live: randomUUID(), liveSession: randomUUID(), liveAcl, expired: randomUUID() };
  const ldapBindPassword = 'ldap-bind-secret-of-acme';
  const saml = {
    entityId: 'https://wazo.acme.example.com/saml-sp',
    acsUrl: 'https://wazo.acme.example.com/api/auth/0.1/saml/acs',
    idpEntityId: 'https://idp.acme.example.com/saml',
    ssoUrl: 'https://idp.acme.example.com/saml/sso',
  };

  try {
    await q(WAZO_SCHEMA);
    await q('INSERT INTO alembic_version VALUES ($1)', [opts.revision ?? '3d9f4b81c07a']);
    // Tenants: the top one is its own parent.
    await q(`INSERT INTO auth_tenant (uuid, name, slug, parent_uuid, phone) VALUES ($1, 'master', 'master', $1, NULL)`, [
      t.master,
    ]);
    await q(
      `INSERT INTO auth_tenant (uuid, name, slug, parent_uuid, phone) VALUES ($1, 'ACME Corp', 'acme', $2, '+1 555 0100')`,
      [t.acme, t.master],
    );
    await q(`INSERT INTO auth_tenant (uuid, name, slug, parent_uuid) VALUES ($1, 'ACME Labs', 'acmelabs', $2)`, [
      t.acmeSub,
      t.acme,
    ]);
    await q(
      `INSERT INTO auth_address (line_1, city, zip_code, country, tenant_uuid) VALUES ('1 Road Runner Way', 'Phoenix', '85001', 'US', $1)`,
      [t.acme],
    );
    await q(`INSERT INTO auth_tenant_domain (tenant_uuid, name) VALUES ($1, 'acme.example.com'), ($1, 'acme.example.net')`, [
      t.acme,
    ]);

    // Users, with wazo-auth's password hashes.
    const hashes = await Promise.all([u.cli, u.alice, u.bob, u.carol].map((x) => wazoPasswordHash(x.password)));
    const [cliHash, aliceHash, bobHash, carolHash] = hashes;
    const user = (
      x: { uuid: string; username: string },
      tenant: string,
      purpose: string,
      h: { salt: Buffer; hash: string } | null,
      extra: { firstname?: string; lastname?: string; enabled?: boolean; method?: string } = {},
    ) =>
      q(
        `INSERT INTO auth_user (uuid, username, password_hash, password_salt, firstname, lastname, enabled, tenant_uuid, purpose, authentication_method)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          x.uuid,
          x.username,
          h?.hash ?? null,
          h?.salt ?? null,
          extra.firstname ?? null,
          extra.lastname ?? null,
          extra.enabled ?? true,
          tenant,
          purpose,
          extra.method ?? 'default',
        ],
      );
    await user(u.cli, t.master, 'internal', cliHash, { method: 'native' });
    await user(u.alice, t.acme, 'user', aliceHash, { firstname: 'Alice', lastname: 'Liddell' });
    await user(u.bob, t.acme, 'user', bobHash, { firstname: 'Bob', method: 'ldap' });
    await user(u.carol, t.acmeSub, 'user', carolHash, { enabled: false });
    await q('UPDATE auth_tenant SET contact_uuid = $1 WHERE uuid = $2', [u.alice.uuid, t.acme]);
    await q(`INSERT INTO auth_email (address, confirmed, main, user_uuid) VALUES ($1, true, true, $3), ($2, false, false, $3)`, [
      u.alice.email,
      u.alice.otherEmail,
      u.alice.uuid,
    ]);
    await q(`INSERT INTO auth_email (address, confirmed, main, user_uuid) VALUES ('carol@labs.example.com', false, true, $1)`, [
      u.carol.uuid,
    ]);

    // Policies and their accesses.
    const policy = async (
      uuid: string,
      tenant: string,
      slug: string,
      acl: string[],
      flags: { configManaged?: boolean; shared?: boolean; description?: string } = {},
    ) => {
      await q(
        `INSERT INTO auth_policy (uuid, name, slug, description, tenant_uuid, config_managed, shared) VALUES ($1, $2::text, $2::text, $3, $4, $5, $6)`,
        [uuid, slug, flags.description ?? null, tenant, flags.configManaged ?? false, flags.shared ?? false],
      );
      for (const access of acl) {
        await q('INSERT INTO auth_access (access) VALUES ($1) ON CONFLICT (access) DO NOTHING', [access]);
        await q('INSERT INTO auth_policy_access SELECT $1, id FROM auth_access WHERE access = $2', [uuid, access]);
      }
    };
    await policy(p.master, t.master, 'wazo_default_master_user_policy', ['#'], {
      description: 'Default Wazo policy for the "master" user',
    });
    await policy(p.defaultUser, t.master, 'wazo_default_user_policy', ['auth.users.me.read', 'confd.users.me.read'], {
      configManaged: true,
      shared: true,
    });
    await policy(p.sales, t.acme, 'sales', ['dird.directories.lookup.*.read', 'calld.users.me.calls.read']);
    await policy(p.salesGroup, t.acme, 'sales_group', ['chatd.users.me.#']);

    // Groups: each tenant's "all users" group, and one of acme.
    for (const [key, tenant] of [
      ['master', t.master],
      ['acme', t.acme],
      ['acmeSub', t.acmeSub],
    ] as const) {
      const name = `wazo-all-users-tenant-${tenant}`;
      await q('INSERT INTO auth_group (uuid, name, slug, tenant_uuid, system_managed) VALUES ($1, $2, $3, $4, true)', [
        g.allUsers[key],
        name,
        name,
        tenant,
      ]);
    }
    await q(`INSERT INTO auth_group (uuid, name, slug, tenant_uuid) VALUES ($1, 'Sales', 'sales', $2)`, [g.sales, t.acme]);
    const member = (group: string, userUuid: string) => q('INSERT INTO auth_user_group VALUES ($1, $2)', [group, userUuid]);
    await member(g.allUsers.master, u.cli.uuid);
    await member(g.allUsers.acme, u.alice.uuid);
    await member(g.allUsers.acme, u.bob.uuid);
    await member(g.allUsers.acmeSub, u.carol.uuid);
    await member(g.sales, u.alice.uuid);
    await q('INSERT INTO auth_user_policy VALUES ($1, $2)', [u.cli.uuid, p.master]);
    await q('INSERT INTO auth_user_policy VALUES ($1, $2)', [u.alice.uuid, p.sales]);
    await q('INSERT INTO auth_group_policy VALUES ($1, $2)', [g.sales, p.salesGroup]);
    for (const group of Object.values(g.allUsers))
      await q('INSERT INTO auth_group_policy VALUES ($1, $2)', [group, p.defaultUser]);

    await q(
      `INSERT INTO auth_ldap_config (tenant_uuid, host, port, protocol_version, protocol_security, bind_dn, bind_password, user_base_dn,
               user_login_attribute, user_email_attribute, search_filters)
             VALUES ($1, 'ldap.acme.example.com', 636, 3, 'ldaps', 'cn=wazo,dc=acme,dc=example,dc=com', $2, 'ou=people,dc=acme,dc=example,dc=com',
               'uid', 'mail', NULL)`,
      [t.acme, ldapBindPassword],
    );
    // acme's SAML IdP, configured for each of its two domains (wazo-auth keys it by tenant and domain).
    await q(
      `INSERT INTO auth_saml_config (tenant_uuid, domain_uuid, entity_id, idp_metadata, acs_url)
             SELECT tenant_uuid, uuid, $2, $3::xml, $4 FROM auth_tenant_domain WHERE tenant_uuid = $1`,
      [t.acme, saml.entityId, idpMetadata(saml.idpEntityId, saml.ssoUrl), saml.acsUrl],
    );

    // alice logged in offline from the desktop app: a refresh token, and the token it gave.
    await q(
      `INSERT INTO auth_refresh_token (uuid, client_id, user_uuid, backend, login, user_agent, remote_addr, mobile)
             VALUES ($1, $2, $3, 'wazo_user', 'alice', 'wazo-desktop/1.0', '198.51.100.7', false)`,
      [refreshToken.value, refreshToken.clientId, u.alice.uuid],
    );
    const metadata = (userUuid: string, tenant: string) =>
      JSON.stringify({
        uuid: userUuid,
        tenant_uuid: tenant,
        auth_id: userUuid,
        pbx_user_uuid: userUuid,
        xivo_uuid: xivoUuid,
        purpose: 'user',
      });
    await q('INSERT INTO auth_session (uuid, mobile, tenant_uuid) VALUES ($1, false, $2)', [tokens.liveSession, t.acme]);
    await q(
      `INSERT INTO auth_token (uuid, auth_id, pbx_user_uuid, xivo_uuid, issued_t, expire_t, metadata, session_uuid, user_agent, remote_addr, acl, refresh_token_uuid)
             VALUES ($1, $2::text, $2::text, $3, $4, $5, $6, $7, 'wazo-desktop/1.0', '198.51.100.7', $8, $9)`,
      [
        tokens.live,
        u.alice.uuid,
        xivoUuid,
        now - 60,
        now + 3600,
        metadata(u.alice.uuid, t.acme),
        tokens.liveSession,
        liveAcl,
        refreshToken.value,
      ],
    );
    const expiredSession = randomUUID();
    await q('INSERT INTO auth_session (uuid, mobile, tenant_uuid) VALUES ($1, true, $2)', [expiredSession, t.acme]);
    await q(
      `INSERT INTO auth_token (uuid, auth_id, pbx_user_uuid, xivo_uuid, issued_t, expire_t, metadata, session_uuid, acl)
             VALUES ($1, $2::text, $2::text, $3, $4, $5, $6, $7, $8)`,
      [tokens.expired, u.alice.uuid, xivoUuid, now - 7200, now - 10, metadata(u.alice.uuid, t.acme), expiredSession, ['#']],
    );
  } catch (err) {
    await client.end();
    await db.drop();
    throw err;
  }

  return {
    db,
    uri: db.uri,
    xivoUuid,
    tenants: t,
    users: u,
    policies: p,
    groups: g,
    tokens,
    refreshToken,
    ldapBindPassword,
    saml,
    async addLiveToken(acl) {
      const value = randomUUID();
      const session = randomUUID();
      const at = Math.floor(Date.now() / 1000);
      await q('INSERT INTO auth_session (uuid, mobile, tenant_uuid) VALUES ($1, false, $2)', [session, t.acme]);
      await q(
        `INSERT INTO auth_token (uuid, auth_id, pbx_user_uuid, xivo_uuid, issued_t, expire_t, metadata, session_uuid, acl)
               VALUES ($1, $2::text, $2::text, $3, $4, $5, $6, $7, $8)`,
        [value, u.alice.uuid, xivoUuid, at, at + 3600, JSON.stringify({ uuid: u.alice.uuid, tenant_uuid: t.acme }), session, acl],
      );
      return value;
    },
    async revokeToken(value) {
      await q('DELETE FROM auth_session WHERE uuid IN (SELECT session_uuid FROM auth_token WHERE uuid = $1)', [value]);
    },
    query: q,
    async drop() {
      await client.end();
      await db.drop();
    },
  };
}

/** An IdP's SAML metadata as an administrator would upload it: a signing certificate and an HTTP-Redirect SSO endpoint. */
function idpMetadata(entityId: string, ssoUrl: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wazo-fixture-idp-'));
  try {
    const certFile = path.join(dir, 'idp.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=idp.acme.example.com',
        '-days',
        '2',
        '-keyout',
        path.join(dir, 'idp.key'),
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(certFile, 'utf8').replace(/-----[A-Z ]+-----|\s/g, '');
    return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${entityId}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${ssoUrl}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
