// Every verb: `group verb` → a function of the parsed command line. One entry
// per verb in COMMANDS, grouped by resource below.
import { explain } from '@xivo-auth/acl';
import type { ListParams, SecondFactorAnswer, TenantAuthenticationMethod, XivoAuthClient } from '@xivo-auth/client';
import { InvalidTokenError, MissingPermissionError } from '@xivo-auth/client';
import { renderList, renderOne, type Format } from './output.js';

export interface Context {
  client: XivoAuthClient;
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  format: Format;
  out(s: string): void;
  err(s: string): void;
  /** Log in with the configured credentials (or use the configured token). */
  login(): Promise<void>;
  credentials(): Promise<{ username: string; password: string; backend?: string }>;
  /** A secret of the command (a new password): stdin with --password-stdin, else a prompt. */
  readSecret(what: string): Promise<string>;
  /** A secret of the login (a second factor's code): the next line on stdin with --auth-password-stdin, else a prompt. */
  readLoginSecret(what: string): Promise<string>;
  readTokenArg(arg: string | undefined): Promise<string>;
}

export interface Command {
  run(ctx: Context): Promise<number>;
  /** `--tenant` is this command's own parameter, not Wazo-Tenant. */
  tenantIsQuery?: boolean;
}

class ArgError extends Error {}

/** The user's second factor cannot be given from a command line (a passkey only): exit 3. */
export class SecondFactorError extends Error {}

/**
 * What answers a login's second-factor challenge (README "Multi-factor
 * authentication"): `--totp` or `--recovery-code` when given (one attempt:
 * a wrong code given as an option is not asked again), else a code `read`
 * from the user, up to 3 attempts; six digits are a TOTP code, anything else
 * a recovery code. A passkey needs a browser: a user whose only factor is one
 * is told to use a recovery code or a token instead.
 */
export function secondFactorAnswer(
  values: Context['values'],
  read: (what: string) => Promise<string>,
): { answer: (c: { factors: string[]; failed: boolean }) => Promise<SecondFactorAnswer>; attempts: number } {
  const totp = typeof values.totp === 'string' ? values.totp : undefined;
  const recoveryCode = typeof values['recovery-code'] === 'string' ? values['recovery-code'] : undefined;
  return {
    attempts: totp !== undefined || recoveryCode !== undefined ? 1 : 3,
    answer: async ({ factors, failed }) => {
      if (!factors.includes('totp') && !factors.includes('recovery_code')) {
        throw new SecondFactorError(
          `the user's second factor (${factors.join(', ')}) is a passkey, which needs a browser: ` +
            'log in with --recovery-code CODE, or give a token (XIVO_AUTH_TOKEN, or token in the configuration)',
        );
      }
      if (!failed && recoveryCode !== undefined) return { recoveryCode };
      if (!failed && totp !== undefined) return { totp };
      const code = (
        await read(`${failed ? 'wrong code; ' : ''}code (${factors.filter((f) => f !== 'webauthn').join(', ')})`)
      ).trim();
      return /^[0-9]{6}$/.test(code) ? { totp: code } : { recoveryCode: code };
    },
  };
}

function arg(ctx: Context, i: number, name: string): string {
  const v = ctx.args[i];
  if (v === undefined || v === '') throw Object.assign(new ArgError(`missing <${name}>`), { usage: true });
  return v;
}

function noMoreArgs(ctx: Context, count: number): void {
  if (ctx.args.length > count) throw Object.assign(new ArgError(`unexpected argument "${ctx.args[count]}"`), { usage: true });
}

function str(ctx: Context, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
}

function int(ctx: Context, name: string): number | undefined {
  const v = str(ctx, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw Object.assign(new ArgError(`--${name} must be a non-negative integer`), { usage: true });
  return Number(v);
}

const PURPOSES = ['user', 'internal', 'external_api'] as const;

/** `--purposes user,internal` (absent or empty: none). */
function purposesOf(value: string | undefined): (typeof PURPOSES)[number][] {
  const given = (value ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  for (const p of given) {
    if (!(PURPOSES as readonly string[]).includes(p))
      throw Object.assign(new ArgError(`--purposes: ${p} is not one of ${PURPOSES.join(', ')}`), { usage: true });
  }
  return given as (typeof PURPOSES)[number][];
}

function listParams(ctx: Context): ListParams {
  const direction = str(ctx, 'direction');
  if (direction !== undefined && direction !== 'asc' && direction !== 'desc')
    throw Object.assign(new ArgError('--direction must be asc or desc'), { usage: true });
  return {
    search: str(ctx, 'search'),
    order: str(ctx, 'order'),
    direction,
    limit: int(ctx, 'limit'),
    offset: int(ctx, 'offset'),
    recurse: ctx.values.recurse === true ? true : undefined,
  };
}

const ok = async () => 0;

const AUTH_METHODS: readonly TenantAuthenticationMethod[] = ['native', 'ldap', 'saml'];

function authMethod(ctx: Context): TenantAuthenticationMethod | undefined {
  const v = str(ctx, 'auth-method');
  if (v === undefined) return undefined;
  if (!(AUTH_METHODS as readonly string[]).includes(v))
    throw Object.assign(new ArgError(`--auth-method must be one of ${AUTH_METHODS.join(', ')}`), { usage: true });
  return v as TenantAuthenticationMethod;
}

/** Lists print every item of every page (or one page with --limit/--offset). */
async function printList<T extends object>(
  ctx: Context,
  iterate: (p: ListParams & { pageSize?: number }) => AsyncIterable<T>,
  columns: string[],
): Promise<number> {
  const items: Record<string, unknown>[] = [];
  for await (const item of iterate(listParams(ctx))) items.push(item as Record<string, unknown>);
  ctx.out(renderList(items, columns, ctx.format));
  return 0;
}

function printOne(ctx: Context, record: object, columns?: string[]): number {
  ctx.out(renderOne(record as Record<string, unknown>, ctx.format, columns));
  return 0;
}

function printDone(ctx: Context, what: string): number {
  if (ctx.format === 'table') ctx.out(`${what}\n`);
  else ctx.out(renderOne({ result: what }, ctx.format));
  return 0;
}

const USER_COLUMNS = ['uuid', 'username', 'firstname', 'lastname', 'purpose', 'enabled', 'tenant_uuid'];
const POLICY_COLUMNS = ['uuid', 'name', 'slug', 'acl', 'shared', 'read_only', 'tenant_uuid'];
const GROUP_COLUMNS = ['uuid', 'name', 'slug', 'system_managed', 'tenant_uuid'];
const TENANT_COLUMNS = ['uuid', 'name', 'slug', 'parent_uuid', 'domain_names', 'default_authentication_method'];
const SESSION_COLUMNS = ['uuid', 'user_uuid', 'tenant_uuid', 'mobile'];
const TOKEN_COLUMNS = ['token', 'auth_id', 'session_uuid', 'utc_issued_at', 'utc_expires_at', 'acl', 'refresh_token'];
const TOKEN_SHOW_COLUMNS = ['auth_id', 'session_uuid', 'utc_issued_at', 'utc_expires_at', 'acl', 'remote_addr', 'user_agent'];

/** Runs `fn` after logging in; `n` positional arguments expected. */
function authed(n: number, fn: (ctx: Context) => Promise<number>): Command {
  return {
    async run(ctx) {
      noMoreArgs(ctx, n);
      await ctx.login();
      return fn(ctx);
    },
  };
}

export const COMMANDS: Record<string, Command> = {
  // tokens
  'token create': {
    async run(ctx) {
      noMoreArgs(ctx, 0);
      const accessType = str(ctx, 'access-type');
      if (accessType !== undefined && accessType !== 'online' && accessType !== 'offline')
        throw Object.assign(new ArgError('--access-type must be online or offline'), { usage: true });
      // A user with a second factor: the challenge flow (README "Multi-factor
      // authentication"); the code on stdin with --password-stdin (this
      // command's secret) or --auth-password-stdin (after the password).
      const { answer, attempts } = secondFactorAnswer(
        ctx.values,
        ctx.values['password-stdin'] === true ? ctx.readSecret : ctx.readLoginSecret,
      );
      const token = await ctx.client.token.createWithSecondFactor(
        {
          ...(await ctx.credentials()),
          expiration: int(ctx, 'expiration'),
          accessType,
          clientId: str(ctx, 'client-id'),
          mobile: ctx.values.mobile === true,
        },
        answer,
        attempts,
      );
      return printOne(
        ctx,
        token,
        TOKEN_COLUMNS.filter((c) => c !== 'refresh_token' || token.refresh_token !== undefined),
      );
    },
  },
  'token check': {
    tenantIsQuery: true,
    async run(ctx) {
      noMoreArgs(ctx, 1);
      const token = await ctx.readTokenArg(ctx.args[0]);
      const scope = str(ctx, 'scope');
      let result: { valid: boolean; reason: string | null };
      try {
        await ctx.client.token.check(token, { scope, tenantUuid: str(ctx, 'tenant') });
        result = { valid: true, reason: null };
      } catch (err) {
        if (err instanceof MissingPermissionError) {
          result = {
            valid: false,
            reason: scope !== undefined ? `not granted ${scope}` : `not granted tenant ${str(ctx, 'tenant') ?? ''}`.trim(),
          };
        } else if (err instanceof InvalidTokenError) result = { valid: false, reason: 'unknown or expired token' };
        else throw err;
      }
      if (ctx.format === 'table')
        ctx.out(result.valid ? `valid${scope !== undefined ? ` for ${scope}` : ''}\n` : `invalid: ${result.reason}\n`);
      else ctx.out(renderOne(result, ctx.format));
      return result.valid ? 0 : 1;
    },
  },
  'token show': {
    async run(ctx) {
      noMoreArgs(ctx, 1);
      const token = await ctx.client.token.get(await ctx.readTokenArg(ctx.args[0]));
      const { token: _secret, ...shown } = token;
      void _secret;
      return printOne(ctx, shown, ctx.format === 'table' || ctx.format === 'csv' ? TOKEN_SHOW_COLUMNS : undefined);
    },
  },
  'token revoke': {
    async run(ctx) {
      noMoreArgs(ctx, 1);
      await ctx.client.token.revoke(await ctx.readTokenArg(ctx.args[0]));
      return printDone(ctx, 'revoked');
    },
  },

  // users
  'user list': authed(0, (ctx) => printList(ctx, (p) => ctx.client.users.iterate(p), USER_COLUMNS)),
  'user show': authed(1, async (ctx) => printOne(ctx, await ctx.client.users.get(arg(ctx, 0, 'uuid')))),
  'user delete': authed(1, async (ctx) => {
    await ctx.client.users.delete(arg(ctx, 0, 'uuid'));
    return printDone(ctx, 'deleted');
  }),
  // A user's second factors (issue 24): listed (never a secret) and removed,
  // e.g. for a user who lost its authenticator; enrolment is the user's own.
  'user mfa': authed(1, async (ctx) => {
    const { items } = await ctx.client.users.mfa.list(arg(ctx, 0, 'uuid'));
    ctx.out(
      renderList(
        items as unknown as Record<string, unknown>[],
        ['uuid', 'type', 'name', 'confirmed', 'created_at', 'remaining'],
        ctx.format,
      ),
    );
    return 0;
  }),
  'user mfa delete': authed(2, async (ctx) => {
    await ctx.client.users.mfa.delete(arg(ctx, 0, 'uuid'), arg(ctx, 1, 'factor'));
    return printDone(ctx, 'deleted');
  }),
  'user create': authed(1, async (ctx) => {
    const username = arg(ctx, 0, 'username');
    const password = ctx.values['password-stdin'] === true ? await ctx.readSecret(`password for ${username}`) : null;
    const user = await ctx.client.users.create({
      username,
      password,
      uuid: str(ctx, 'uuid'),
      firstname: str(ctx, 'firstname'),
      lastname: str(ctx, 'lastname'),
      email_address: str(ctx, 'email'),
      purpose: str(ctx, 'purpose') as 'user' | undefined,
      enabled: ctx.values.disable === true ? false : undefined,
    });
    return printOne(ctx, user);
  }),
  'user update': authed(1, async (ctx) => {
    const uuid = arg(ctx, 0, 'uuid');
    const current = await ctx.client.users.get(uuid);
    const email = str(ctx, 'email');
    const user = await ctx.client.users.update(uuid, {
      username: str(ctx, 'new-username') ?? current.username ?? '',
      firstname: str(ctx, 'firstname') ?? current.firstname,
      lastname: str(ctx, 'lastname') ?? current.lastname,
      email_address: email ?? current.emails.find((e) => e.main)?.address ?? null,
      purpose: (str(ctx, 'purpose') ?? current.purpose) as 'user',
      enabled: ctx.values.disable === true ? false : ctx.values.enable === true ? true : current.enabled,
    });
    return printOne(ctx, user);
  }),
  'user set-password': authed(1, async (ctx) => {
    const uuid = arg(ctx, 0, 'uuid');
    const oldPassword = await ctx.readSecret('current password');
    const newPassword = await ctx.readSecret('new password');
    await ctx.client.users.changePassword(uuid, { oldPassword, newPassword });
    return printDone(ctx, 'password changed');
  }),

  // policies
  'policy list': authed(0, (ctx) => printList(ctx, (p) => ctx.client.policies.iterate(p), POLICY_COLUMNS)),
  'policy show': authed(1, async (ctx) => printOne(ctx, await ctx.client.policies.get(arg(ctx, 0, 'uuid')))),
  'policy delete': authed(1, async (ctx) => {
    await ctx.client.policies.delete(arg(ctx, 0, 'uuid'));
    return printDone(ctx, 'deleted');
  }),
  'policy create': authed(1, async (ctx) => {
    const acl = ctx.values.acl as string[] | undefined;
    const policy = await ctx.client.policies.create({
      name: arg(ctx, 0, 'name'),
      slug: str(ctx, 'slug'),
      description: str(ctx, 'description'),
      acl: acl ?? [],
      shared: ctx.values.shared === true ? true : undefined,
    });
    return printOne(ctx, policy);
  }),
  'policy update': authed(1, async (ctx) => {
    const uuid = arg(ctx, 0, 'uuid');
    const current = await ctx.client.policies.get(uuid);
    const acl = ctx.values.acl as string[] | undefined;
    const policy = await ctx.client.policies.update(uuid, {
      name: str(ctx, 'name') ?? current.name,
      slug: str(ctx, 'slug') ?? current.slug,
      description: str(ctx, 'description') ?? current.description,
      acl: acl ?? current.acl,
      shared: ctx.values.shared === true ? true : current.shared,
    });
    return printOne(ctx, policy);
  }),
  'policy acl add': authed(2, async (ctx) => {
    await ctx.client.policies.addAccess(arg(ctx, 0, 'uuid'), arg(ctx, 1, 'access'));
    return printDone(ctx, 'added');
  }),
  'policy acl remove': authed(2, async (ctx) => {
    await ctx.client.policies.removeAccess(arg(ctx, 0, 'uuid'), arg(ctx, 1, 'access'));
    return printDone(ctx, 'removed');
  }),

  // groups
  'group list': authed(0, (ctx) => printList(ctx, (p) => ctx.client.groups.iterate(p), GROUP_COLUMNS)),
  'group show': authed(1, async (ctx) => printOne(ctx, await ctx.client.groups.get(arg(ctx, 0, 'uuid')))),
  'group delete': authed(1, async (ctx) => {
    await ctx.client.groups.delete(arg(ctx, 0, 'uuid'));
    return printDone(ctx, 'deleted');
  }),
  'group create': authed(1, async (ctx) =>
    printOne(ctx, await ctx.client.groups.create({ name: arg(ctx, 0, 'name'), slug: str(ctx, 'slug'), uuid: str(ctx, 'uuid') })),
  ),
  'group update': authed(1, async (ctx) => {
    const uuid = arg(ctx, 0, 'uuid');
    const current = await ctx.client.groups.get(uuid);
    return printOne(
      ctx,
      await ctx.client.groups.update(uuid, { name: str(ctx, 'name') ?? current.name, slug: str(ctx, 'slug') ?? current.slug }),
    );
  }),
  'group users': authed(1, (ctx) => printList(ctx, (p) => ctx.client.groups.iterateUsers(arg(ctx, 0, 'uuid'), p), USER_COLUMNS)),
  'group add-user': authed(2, async (ctx) => {
    await ctx.client.groups.addUser(arg(ctx, 0, 'group'), arg(ctx, 1, 'user'));
    return printDone(ctx, 'added');
  }),
  'group remove-user': authed(2, async (ctx) => {
    await ctx.client.groups.removeUser(arg(ctx, 0, 'group'), arg(ctx, 1, 'user'));
    return printDone(ctx, 'removed');
  }),
  'group policies': authed(1, async (ctx) => {
    const page = await ctx.client.groups.policies(arg(ctx, 0, 'uuid'), listParams(ctx));
    ctx.out(renderList(page.items as unknown as Record<string, unknown>[], POLICY_COLUMNS, ctx.format));
    return 0;
  }),
  'group add-policy': authed(2, async (ctx) => {
    await ctx.client.groups.addPolicy(arg(ctx, 0, 'group'), arg(ctx, 1, 'policy'));
    return printDone(ctx, 'added');
  }),
  'group remove-policy': authed(2, async (ctx) => {
    await ctx.client.groups.removePolicy(arg(ctx, 0, 'group'), arg(ctx, 1, 'policy'));
    return printDone(ctx, 'removed');
  }),

  // tenants
  'tenant list': authed(0, (ctx) => printList(ctx, (p) => ctx.client.tenants.iterate(p), TENANT_COLUMNS)),
  'tenant show': authed(1, async (ctx) => printOne(ctx, await ctx.client.tenants.get(arg(ctx, 0, 'uuid')))),
  'tenant delete': authed(1, async (ctx) => {
    await ctx.client.tenants.delete(arg(ctx, 0, 'uuid'));
    return printDone(ctx, 'deleted');
  }),
  'tenant create': authed(1, async (ctx) =>
    printOne(
      ctx,
      await ctx.client.tenants.create({
        name: arg(ctx, 0, 'name'),
        slug: str(ctx, 'slug'),
        parent_uuid: str(ctx, 'parent'),
        uuid: str(ctx, 'uuid'),
        domain_names: ctx.values.domain as string[] | undefined,
        contact: str(ctx, 'contact'),
        phone: str(ctx, 'phone'),
        default_authentication_method: authMethod(ctx),
      }),
    ),
  ),
  // PUT replaces the whole tenant: read it, change what was given, write it all back.
  'tenant update': authed(1, async (ctx) => {
    const uuid = arg(ctx, 0, 'uuid');
    const method = authMethod(ctx);
    const current = await ctx.client.tenants.get(uuid);
    return printOne(
      ctx,
      await ctx.client.tenants.update(uuid, {
        name: str(ctx, 'name') ?? current.name,
        slug: str(ctx, 'slug'), // absent: kept by the service
        domain_names: (ctx.values.domain as string[] | undefined) ?? current.domain_names,
        contact: str(ctx, 'contact') ?? current.contact,
        phone: str(ctx, 'phone') ?? current.phone,
        address: current.address,
        default_authentication_method: method ?? (current.default_authentication_method as TenantAuthenticationMethod),
      }),
    );
  }),
  'tenant domains': authed(1, async (ctx) => {
    const { items } = await ctx.client.tenants.domains(arg(ctx, 0, 'uuid'));
    ctx.out(renderList(items as unknown as Record<string, unknown>[], ['uuid', 'name'], ctx.format));
    return 0;
  }),
  'tenant move': authed(2, async (ctx) => {
    await ctx.client.tenants.setParent(arg(ctx, 0, 'uuid'), arg(ctx, 1, 'parent'));
    return printDone(ctx, 'moved');
  }),
  // The tenant's mfa.required_for (issue 24): shown, or replaced (the whole
  // rule) when --acl, --purposes or --clear is given.
  'tenant mfa': authed(1, async (ctx) => {
    const uuid = arg(ctx, 0, 'uuid');
    const acl = ctx.values.acl as string[] | undefined;
    const purposes = str(ctx, 'purposes');
    const policy =
      acl === undefined && purposes === undefined && ctx.values.clear !== true
        ? await ctx.client.tenants.mfa(uuid)
        : await ctx.client.tenants.setMfa(uuid, { acl: acl ?? [], purposes: purposesOf(purposes) });
    return printOne(ctx, {
      tenant_uuid: policy.tenant_uuid,
      acl: policy.required_for.acl,
      purposes: policy.required_for.purposes,
      effective_acl: policy.effective_required_for.acl,
      effective_purposes: policy.effective_required_for.purposes,
      updated_at: policy.updated_at,
    });
  }),

  // sessions
  'session list': authed(0, (ctx) => {
    const user = str(ctx, 'user');
    if (user === undefined) return printList(ctx, (p) => ctx.client.sessions.iterate(p), SESSION_COLUMNS);
    return (async () => {
      const page = await ctx.client.users.sessions(user, listParams(ctx));
      ctx.out(renderList(page.items as unknown as Record<string, unknown>[], SESSION_COLUMNS, ctx.format));
      return 0;
    })();
  }),
  'session revoke': authed(1, async (ctx) => {
    const user = str(ctx, 'user');
    if (user === undefined) await ctx.client.sessions.delete(arg(ctx, 0, 'uuid'));
    else await ctx.client.users.deleteSession(user, arg(ctx, 0, 'uuid'));
    return printDone(ctx, 'revoked');
  }),

  // ACL, offline
  'acl test': {
    async run(ctx) {
      if (ctx.args.length < 2) throw Object.assign(new ArgError('usage: acl test <pattern>... <access>'), { usage: true });
      const patterns = ctx.args.slice(0, -1);
      const access = ctx.args[ctx.args.length - 1];
      const result = explain(patterns, access, { authId: str(ctx, 'auth-id'), sessionUuid: str(ctx, 'session-uuid') });
      const record = { access, allowed: result.allowed, pattern: result.pattern };
      if (ctx.format === 'table') {
        const why =
          result.pattern === null
            ? result.allowed
              ? 'no access required'
              : 'no pattern matches'
            : result.allowed
              ? `granted by ${result.pattern}`
              : `denied by ${result.pattern}`;
        ctx.out(`${result.allowed ? 'allowed' : 'denied'}: ${access} (${why})\n`);
      } else {
        ctx.out(renderOne(record, ctx.format));
      }
      return result.allowed ? 0 : 1;
    },
  },
  help: { run: ok },
};

export { ArgError };
