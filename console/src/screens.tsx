// The screens of the console. Each shows what the caller's ACL allows
// (session.can), nothing else as clickable; destructive actions ask first.
import { explain } from '@xivo-auth/acl';
import { useState } from 'preact/hooks';
import { ACCESS_WILDCARDS_PATTERN, MAX_ACCESS_LENGTH, MAX_ACL_ENTRIES } from '../../src/security/limits.js';
import { t, tOr } from './i18n.js';
import { api, can, client, currentToken, enc, type Page } from './session.js';
import { Checkbox, Confirm, Empty, ErrorBox, Field, fieldErrors, Loading, Section, Select, useLoad } from './ui.js';

export interface Tenant {
  uuid: string; name: string | null; slug: string | null; parent_uuid: string | null; domain_names: string[];
  contact: string | null; phone: string | null; default_authentication_method?: string;
  address?: Record<'line_1' | 'line_2' | 'city' | 'state' | 'country' | 'zip_code', string | null>;
}
interface User {
  uuid: string; username: string | null; firstname: string | null; lastname: string | null; enabled: boolean;
  emails: Email[]; tenant_uuid: string; purpose: string; authentication_method: string;
}
interface Email { uuid?: string; address: string; main: boolean; confirmed: boolean }
interface MfaFactor { uuid: string; type: string; name: string | null; confirmed: boolean; created_at: string; remaining?: number }
interface Group { uuid: string; name: string; slug?: string; system_managed?: boolean; read_only?: boolean }
interface Policy { uuid: string; name: string; slug: string; description: string | null; acl: string[]; shared: boolean; read_only: boolean }
interface Session { uuid: string; mobile: boolean; tenant_uuid: string; user_uuid: string | null }
interface AuditEntry {
  uuid: string; timestamp: string; action: string; outcome: string; user_uuid: string | null; auth_id: string | null;
  login: string | null; remote_addr: string | null; target_type: string | null; target_id: string | null;
  status_code: number | null; details: Record<string, unknown>;
}
interface Throttle {
  id: string; kind: 'address' | 'account'; login: string | null; remote_addr: string | null; failures: number; attempts: number;
  blocked_until: string;
}

type Confirming = { text: string; run: () => Promise<unknown>; action?: string } | null;

/** A confirmation dialog state, and what runs once confirmed. */
function useConfirm(after: () => void, onError: (e: unknown) => void) {
  const [confirming, setConfirming] = useState<Confirming>(null);
  const dialog = confirming === null ? null : (
    <Confirm text={confirming.text} action={confirming.action}
      onCancel={() => setConfirming(null)}
      onConfirm={() => {
        const c = confirming;
        setConfirming(null);
        c.run().then(after, onError);
      }} />
  );
  return { ask: setConfirming, dialog };
}

const words = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

/** The usernames the caller can see, by uuid (sessions and audit records name users by uuid). */
export function useUserNames(tenantUuid: string | null): Map<string, string> {
  const people = useLoad(() => can('auth.users.read')
    ? api<Page<User>>('GET', '/users', { query: { limit: 500, recurse: true } }) : Promise.resolve(null), [tenantUuid]);
  return new Map((people.data?.items ?? []).map((u) => [u.uuid, u.username ?? u.uuid]));
}

// ---------------------------------------------------------------- tenants

export function TenantsScreen(props: { tenantUuid: string | null; onTenantsChanged: () => void }) {
  const list = useLoad(() => api<Page<Tenant>>('GET', '/tenants', { query: { limit: 500, order: 'name' } }), [props.tenantUuid]);
  const [editing, setEditing] = useState<Tenant | 'new' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const changed = () => {
    list.reload();
    props.onTenantsChanged();
  };
  const { ask, dialog } = useConfirm(changed, setError);
  const tree = list.data ? treeOrder(list.data.items) : [];
  return (
    <Section title={t('nav.tenants')} actions={can('auth.tenants.create')
      ? <button type="button" onClick={() => setEditing('new')}>{t('tenants.new')}</button> : null}>
      <ErrorBox error={error ?? list.error} />
      {editing !== null ? <TenantForm tenant={editing === 'new' ? null : editing} parents={list.data?.items ?? []}
        onDone={() => { setEditing(null); changed(); }} onCancel={() => setEditing(null)} /> : null}
      {list.loading && list.data === null ? <Loading /> : tree.length === 0 ? <Empty /> : (
        <table>
          <thead><tr><th scope="col">{t('common.name')}</th><th scope="col">{t('tenants.slug')}</th><th scope="col">{t('tenants.domains')}</th><th scope="col">{t('common.actions')}</th></tr></thead>
          <tbody>
            {tree.map(({ tenant, depth }) => (
              <tr key={tenant.uuid}>
                <td><span class={`depth-${Math.min(depth, 6)}`}>{tenant.name ?? tenant.uuid}</span></td>
                <td>{tenant.slug}</td>
                <td>{tenant.domain_names.join(', ')}</td>
                <td class="actions">
                  {can(`auth.tenants.${tenant.uuid}.update`) ? <button type="button" onClick={() => setEditing(tenant)}>{t('common.edit')}</button> : null}
                  {can(`auth.tenants.${tenant.uuid}.delete`) && tenant.parent_uuid !== null ? (
                    <button type="button" class="danger" onClick={() => ask({
                      text: t('common.confirmDelete', { x: tenant.name ?? tenant.uuid }), action: t('common.delete'),
                      run: () => api('DELETE', `/tenants/${enc(tenant.uuid)}`),
                    })}>{t('common.delete')}</button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {dialog}
    </Section>
  );
}

function treeOrder(tenants: Tenant[]): Array<{ tenant: Tenant; depth: number }> {
  const known = new Set(tenants.map((x) => x.uuid));
  const children = new Map<string | null, Tenant[]>();
  for (const x of tenants) {
    const parent = x.parent_uuid !== null && known.has(x.parent_uuid) && x.parent_uuid !== x.uuid ? x.parent_uuid : null;
    children.set(parent, [...(children.get(parent) ?? []), x]);
  }
  const out: Array<{ tenant: Tenant; depth: number }> = [];
  const walk = (parent: string | null, depth: number) => {
    for (const x of children.get(parent) ?? []) {
      out.push({ tenant: x, depth });
      walk(x.uuid, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

const ADDRESS_FIELDS = ['line_1', 'line_2', 'city', 'state', 'country', 'zip_code'] as const;
type AddressField = typeof ADDRESS_FIELDS[number];
/** A tenant's default authentication method (its users' `default`). */
const TENANT_METHODS = ['native', 'ldap', 'saml', 'oidc'] as const;

/** The uuids of `root` and of every tenant below it (where it may not be moved). */
function subtreeOf(root: string, tenants: Tenant[]): Set<string> {
  const out = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const x of tenants) {
      if (x.parent_uuid !== null && out.has(x.parent_uuid) && !out.has(x.uuid)) {
        out.add(x.uuid);
        grew = true;
      }
    }
  }
  return out;
}

function TenantForm(props: { tenant: Tenant | null; parents: Tenant[]; onDone: () => void; onCancel: () => void }) {
  const x = props.tenant;
  const [name, setName] = useState(x?.name ?? '');
  const [domains, setDomains] = useState(x?.domain_names.join(', ') ?? '');
  const [phone, setPhone] = useState(x?.phone ?? '');
  const [contact, setContact] = useState(x?.contact ?? '');
  const [address, setAddress] = useState<Record<AddressField, string>>(
    () => Object.fromEntries(ADDRESS_FIELDS.map((f) => [f, x?.address?.[f] ?? ''])) as Record<AddressField, string>,
  );
  const [method, setMethod] = useState<string>(x?.default_authentication_method ?? 'native');
  const [parent, setParent] = useState(x?.parent_uuid ?? '');
  // The contact is a user the caller can see: picked among them (a text field without auth.users.read).
  const people = useLoad(() => can('auth.users.read')
    ? api<Page<User>>('GET', '/users', { query: { limit: 500, order: 'username', recurse: true } }) : Promise.resolve(null), []);
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { fields } = fieldErrors(err);
  // Where it may go: not under itself or a sub-tenant; a move needs its own access per new parent.
  const below = x === null ? new Set<string>() : subtreeOf(x.uuid, props.parents);
  const parentChoices = props.parents.filter((p) => !below.has(p.uuid)
    && (x === null || p.uuid === x.parent_uuid || can(`auth.tenants.${x.uuid}.parent.${p.uuid}.update`)));
  // The caller's own tenant and the top tenant cannot move (their parent is not listed).
  const movable = x === null ? parentChoices.length > 0
    : x.parent_uuid !== null && x.parent_uuid !== x.uuid && props.parents.some((p) => p.uuid === x.parent_uuid) && parentChoices.length > 1;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const body = {
      name, domain_names: words(domains), phone: phone || null, contact: contact || null,
      address: Object.fromEntries(ADDRESS_FIELDS.map((f) => [f, address[f].trim() || null])),
      default_authentication_method: method,
    };
    try {
      if (x === null) {
        await api('POST', '/tenants', { body: { ...body, ...(parent !== '' ? { parent_uuid: parent } : {}) } });
      } else {
        // PUT replaces the tenant: every field is sent, the slug kept.
        await api('PUT', `/tenants/${enc(x.uuid)}`, { body: { ...body, slug: x.slug ?? undefined } });
        if (parent !== '' && parent !== x.parent_uuid) await api('PUT', `/tenants/${enc(x.uuid)}/parent/${enc(parent)}`);
      }
      props.onDone();
    } catch (error) {
      setErr(error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-label={x === null ? t('tenants.new') : `${t('common.edit')} ${x.name ?? ''}`}>
      <div class="grid2">
        <Field label={t('common.name')} name="name" value={name} onInput={setName} error={fields.name} required />
        <Field label={t('tenants.domains')} name="domain_names" value={domains} onInput={setDomains} error={fields.domain_names ?? Object.entries(fields).find(([k]) => k.startsWith('domain_names.'))?.[1]} />
        <Field label={t('tenants.phone')} name="phone" value={phone} onInput={setPhone} error={fields.phone} />
        {can('auth.users.read') ? (
          <Select label={t('tenants.contact')} name="contact" value={contact} onChange={setContact} error={fields.contact}
            options={[{ value: '', label: t('tenants.contactNone') },
              ...(contact !== '' && !(people.data?.items ?? []).some((u) => u.uuid === contact) ? [{ value: contact, label: contact }] : []),
              ...(people.data?.items ?? []).map((u) => ({ value: u.uuid, label: u.username ?? u.uuid }))]} />
        ) : <Field label={t('tenants.contact')} name="contact" value={contact} onInput={setContact} error={fields.contact} />}
        <Select label={t('tenants.method')} name="default_authentication_method" value={method} onChange={setMethod}
          options={TENANT_METHODS.map((m) => ({ value: m, label: t(`method.${m}`) }))} error={fields.default_authentication_method} />
        {movable ? (
          <Select label={x === null ? t('tenants.parent') : t('tenants.moveUnder')} name="parent" value={parent} onChange={setParent}
            error={fields.parent_uuid ?? fields.parent_tenant_uuid}
            options={[...(x === null ? [{ value: '', label: t('tenants.parentDefault') }] : []),
              ...parentChoices.map((p) => ({ value: p.uuid, label: p.name ?? p.uuid }))]} />
        ) : null}
      </div>
      <fieldset class="group">
        <legend>{t('tenants.address')}</legend>
        <div class="grid2">
          {ADDRESS_FIELDS.map((f) => (
            <Field key={f} label={t(`tenants.${f}`)} name={`address.${f}`} value={address[f]}
              onInput={(v) => setAddress({ ...address, [f]: v })} error={fields[`address.${f}`]} />
          ))}
        </div>
      </fieldset>
      <ErrorBox error={err} />
      <div class="buttons">
        <button type="button" onClick={props.onCancel}>{t('common.cancel')}</button>
        <button type="submit" class="primary" disabled={busy}>{x === null ? t('common.create') : t('common.save')}</button>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------- users

const PURPOSES = ['user', 'internal', 'external_api'] as const;

export function UsersScreen(props: { tenantUuid: string | null }) {
  const [search, setSearch] = useState('');
  const [purpose, setPurpose] = useState('');
  const [group, setGroup] = useState('');
  const [policy, setPolicy] = useState('');
  const [recurse, setRecurse] = useState(false);
  const [offset, setOffset] = useState(0);
  const limit = 20;
  // The filters are the API's (wazo-auth's): each narrows `filtered`, so the pages stay right.
  const list = useLoad(() => api<Page<User>>('GET', '/users', {
    query: {
      limit, offset, search: search || undefined, order: 'username', purpose: purpose || undefined,
      group_uuid: group || undefined, has_policy_uuid: policy || undefined, recurse: recurse || undefined,
    },
  }), [props.tenantUuid, search, purpose, group, policy, recurse, offset]);
  const groups = useLoad(() => can('auth.groups.read')
    ? api<Page<Group>>('GET', '/groups', { query: { limit: 500, order: 'name' } }) : Promise.resolve(null), [props.tenantUuid]);
  const policies = useLoad(() => can('auth.policies.read')
    ? api<Page<Policy>>('GET', '/policies', { query: { limit: 500, order: 'name' } }) : Promise.resolve(null), [props.tenantUuid]);
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const { ask, dialog } = useConfirm(list.reload, setError);
  const openUser = list.data?.items.find((x) => x.uuid === open);
  const filter = (set: (v: string) => void) => (v: string) => { set(v); setOffset(0); };
  const setEnabled = (u: User, enabled: boolean) => api('PUT', `/users/${enc(u.uuid)}`, { body: userBody(u, { enabled }) });
  const toggle = (u: User) => {
    // Disabling ends every session of the user: asked first; enabling is not destructive.
    if (u.enabled) {
      ask({ text: t('users.confirmDisable', { x: u.username ?? u.uuid }), action: t('users.disable'), run: () => setEnabled(u, false) });
    } else {
      setEnabled(u, true).then(list.reload, setError);
    }
  };
  return (
    <Section title={t('nav.users')} actions={can('auth.users.create') ? <button type="button" onClick={() => setEditing('new')}>{t('users.new')}</button> : null}>
      <div class="toolbar" role="search" aria-label={t('users.filters')}>
        <Field label={t('common.search')} name="search" type="search" value={search} onInput={filter(setSearch)} />
        <Select label={t('users.purpose')} name="purpose" value={purpose} onChange={filter(setPurpose)}
          options={[{ value: '', label: t('common.any') }, ...PURPOSES.map((p) => ({ value: p, label: t(`purpose.${p}`) }))]} />
        {groups.data !== null && groups.data.items.length > 0 ? (
          <Select label={t('users.inGroup')} name="group_filter" value={group} onChange={filter(setGroup)}
            options={[{ value: '', label: t('common.any') }, ...groups.data.items.map((g) => ({ value: g.uuid, label: g.name }))]} />
        ) : null}
        {policies.data !== null && policies.data.items.length > 0 ? (
          <Select label={t('users.hasPolicy')} name="policy_filter" value={policy} onChange={filter(setPolicy)}
            options={[{ value: '', label: t('common.any') }, ...policies.data.items.map((p) => ({ value: p.uuid, label: p.name }))]} />
        ) : null}
        <Checkbox label={t('users.recurse')} name="recurse" checked={recurse} onChange={(v) => { setRecurse(v); setOffset(0); }} />
      </div>
      <ErrorBox error={error ?? list.error} />
      {editing !== null ? (
        <UserForm key={editing === 'new' ? 'new' : editing.uuid} user={editing === 'new' ? null : editing}
          onDone={() => { setEditing(null); list.reload(); }} onCancel={() => setEditing(null)} />
      ) : null}
      {list.loading && list.data === null ? <Loading /> : list.data === null || list.data.items.length === 0 ? <Empty /> : (
        <>
          <table>
            <thead><tr><th scope="col">{t('users.username')}</th><th scope="col">{t('users.email')}</th><th scope="col">{t('users.purpose')}</th><th scope="col">{t('users.enabled')}</th><th scope="col">{t('common.actions')}</th></tr></thead>
            <tbody>
              {list.data.items.map((u) => (
                <tr key={u.uuid} data-username={u.username ?? ''}>
                  <td>{u.username ?? '—'} <span class="muted">{[u.firstname, u.lastname].filter(Boolean).join(' ')}</span></td>
                  <td>{u.emails.map((m) => m.address).join(', ')}</td>
                  <td>{tOr(`purpose.${u.purpose}`, u.purpose)}</td>
                  <td data-enabled={String(u.enabled)}>{u.enabled ? t('common.yes') : t('common.no')}</td>
                  <td class="actions">
                    <button type="button" aria-expanded={open === u.uuid} onClick={() => setOpen(open === u.uuid ? null : u.uuid)}>
                      {t('users.details')}<span class="sr-only"> {u.username ?? u.uuid}</span>
                    </button>
                    {can(`auth.users.${u.uuid}.update`) ? (
                      <>
                        <button type="button" onClick={() => setEditing(u)}>{t('common.edit')}<span class="sr-only"> {u.username ?? u.uuid}</span></button>
                        <button type="button" onClick={() => toggle(u)}>{u.enabled ? t('users.disable') : t('users.enable')}<span class="sr-only"> {u.username ?? u.uuid}</span></button>
                      </>
                    ) : null}
                    {can(`auth.users.${u.uuid}.delete`) ? <button type="button" class="danger" onClick={() => ask({
                      text: t('common.confirmDelete', { x: u.username ?? u.uuid }), action: t('common.delete'),
                      run: () => api('DELETE', `/users/${enc(u.uuid)}`),
                    })}>{t('common.delete')}<span class="sr-only"> {u.username ?? u.uuid}</span></button> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager offset={offset} limit={limit} total={list.data.filtered} onOffset={setOffset} />
          {openUser !== undefined ? <UserDetails key={openUser.uuid} user={openUser} onChanged={list.reload} tenantUuid={props.tenantUuid} /> : null}
        </>
      )}
      {dialog}
    </Section>
  );
}

function Pager(props: { offset: number; limit: number; total: number; onOffset: (n: number) => void }) {
  const to = Math.min(props.offset + props.limit, props.total);
  return (
    <nav class="pager" aria-label={t('common.pagination')}>
      <button type="button" disabled={props.offset === 0} onClick={() => props.onOffset(Math.max(0, props.offset - props.limit))}>{t('common.previous')}</button>
      <span>{t('common.page', { from: props.total === 0 ? 0 : props.offset + 1, to, total: props.total })}</span>
      <button type="button" disabled={to >= props.total} onClick={() => props.onOffset(props.offset + props.limit)}>{t('common.next')}</button>
    </nav>
  );
}

/** A new user (with a password and a main address), or a user's names and purpose (PUT: the rest kept). */
function UserForm(props: { user: User | null; onDone: () => void; onCancel: () => void }) {
  const x = props.user;
  const [username, setUsername] = useState(x?.username ?? '');
  const [password, setPassword] = useState('');
  const [firstname, setFirstname] = useState(x?.firstname ?? '');
  const [lastname, setLastname] = useState(x?.lastname ?? '');
  const [email, setEmail] = useState('');
  const [purpose, setPurpose] = useState(x?.purpose ?? 'user');
  const [err, setErr] = useState<unknown>(null);
  const { fields } = fieldErrors(err);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      if (x === null) {
        await api('POST', '/users', {
          body: {
            username: username || null, password: password || null, firstname: firstname || undefined, lastname: lastname || undefined,
            email_address: email || null, purpose,
          },
        });
      } else {
        await api('PUT', `/users/${enc(x.uuid)}`, {
          body: { ...userBody(x, {}), username: username || null, firstname: firstname || null, lastname: lastname || null, purpose },
        });
      }
      props.onDone();
    } catch (error) {
      setErr(error);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-label={x === null ? t('users.new') : t('users.editTitle', { x: x.username ?? x.uuid })}>
      <div class="grid2">
        <Field label={t('users.username')} name="username" value={username} onInput={setUsername} error={fields.username} />
        {x === null ? <Field label={t('users.password')} name="password" type="password" autocomplete="new-password" value={password} onInput={setPassword} error={fields.password} /> : null}
        <Field label={t('users.firstname')} name="firstname" value={firstname} onInput={setFirstname} error={fields.firstname} />
        <Field label={t('users.lastname')} name="lastname" value={lastname} onInput={setLastname} error={fields.lastname} />
        {x === null ? <Field label={t('users.email')} name="email_address" type="email" value={email} onInput={setEmail} error={fields.email_address} /> : null}
        <Select label={t('users.purpose')} name="purpose" value={purpose} onChange={setPurpose} error={fields.purpose}
          options={PURPOSES.map((p) => ({ value: p, label: t(`purpose.${p}`) }))} />
      </div>
      <ErrorBox error={err} />
      <div class="buttons">
        <button type="button" onClick={props.onCancel}>{t('common.cancel')}</button>
        <button type="submit" class="primary">{x === null ? t('common.create') : t('common.save')}</button>
      </div>
    </form>
  );
}

/** A user's authentication method (POST /token refuses any other way). */
const USER_METHODS = ['default', 'native', 'ldap', 'saml', 'oidc'] as const;

/** PUT /users/{u} replaces the user: every editable field, with `changes` (the addresses are left as they are). */
function userBody(u: User, changes: Partial<Pick<User, 'enabled' | 'authentication_method'>>) {
  return {
    username: u.username, firstname: u.firstname, lastname: u.lastname, purpose: u.purpose,
    enabled: changes.enabled ?? u.enabled, authentication_method: changes.authentication_method ?? u.authentication_method,
  };
}

interface RefreshToken { client_id: string; created_at: string; mobile: boolean }

function UserDetails(props: { user: User; onChanged: () => void; tenantUuid: string | null }) {
  const user = props.user;
  const u = user.uuid;
  const name = user.username ?? u;
  const policies = useLoad(() => api<Page<Policy>>('GET', `/users/${enc(u)}/policies`), [u]);
  const groups = useLoad(() => api<Page<Group>>('GET', `/users/${enc(u)}/groups`), [u]);
  const sessions = useLoad(() => api<Page<Session>>('GET', `/users/${enc(u)}/sessions`), [u]);
  const all = useLoad(() => api<Page<Policy>>('GET', '/policies', { query: { limit: 500, order: 'name' } }), [u]);
  const allGroups = useLoad(() => can('auth.groups.read')
    ? api<Page<Group>>('GET', '/groups', { query: { limit: 500, order: 'name' } }) : Promise.resolve(null), [u, props.tenantUuid]);
  const [pick, setPick] = useState('');
  const [pickGroup, setPickGroup] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const run = (p: Promise<unknown>, reload: () => void) => p.then(() => { setErr(null); reload(); }, setErr);
  const { ask, dialog } = useConfirm(() => { sessions.reload(); policies.reload(); groups.reload(); }, setErr);
  const member = new Set((groups.data?.items ?? []).map((g) => g.uuid));
  const joinable = (allGroups.data?.items ?? []).filter((g) => !member.has(g.uuid) && !g.system_managed);
  const attached = new Set((policies.data?.items ?? []).map((p) => p.uuid));
  const attachable = (all.data?.items ?? []).filter((p) => !attached.has(p.uuid));
  return (
    <div class="card details" role="region" aria-label={`${t('users.details')}: ${name}`} data-user={u}>
      <h2>{name}</h2>
      <ErrorBox error={err} />
      <AccountSection user={user} onChanged={props.onChanged} />
      {can(`auth.users.password.reset.${u}.create`) ? <PasswordSection user={user} onChanged={sessions.reload} /> : null}
      <EmailsSection user={user} onChanged={props.onChanged} />
      {can(`auth.users.${u}.mfa.read`) ? <MfaSection user={user} /> : null}
      <h3>{t('users.policies')}</h3>
      {policies.data === null ? <Loading /> : policies.data.items.length === 0 ? <Empty /> : (
        <ul class="rows">{policies.data.items.map((p) => (
          <li key={p.uuid} data-policy={p.name}><span>{p.name}</span>
            {can(`auth.users.${u}.policies.${p.uuid}.delete`) ? <button type="button" class="danger" onClick={() => ask({
              text: t('users.confirmDetach', { x: p.name, u: name }), action: t('users.detach'),
              run: () => api('DELETE', `/users/${enc(u)}/policies/${enc(p.uuid)}`),
            })}>{t('users.detach')}<span class="sr-only"> {p.name}</span></button> : null}
          </li>))}</ul>
      )}
      {attachable.length > 0 ? (
        <div class="inline">
          <label for={`pick-${u}`}>{t('users.addPolicy')}</label>
          <select id={`pick-${u}`} name="policy" value={pick} onChange={(e) => setPick((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">—</option>
            {attachable.map((p) => <option key={p.uuid} value={p.uuid}>{p.name}</option>)}
          </select>
          <button type="button" disabled={pick === '' || !can(`auth.users.${u}.policies.${pick}.create`)}
            onClick={() => run(api('PUT', `/users/${enc(u)}/policies/${enc(pick)}`).then(() => setPick('')), policies.reload)}>{t('users.addPolicy')}</button>
        </div>
      ) : null}
      <h3>{t('users.groups')}</h3>
      {groups.data === null ? <Loading /> : groups.data.items.length === 0 ? <Empty /> : (
        <ul class="rows">{groups.data.items.map((g) => (
          <li key={g.uuid} data-group={g.name}><span>{g.name}</span>
            {!g.system_managed && can(`auth.groups.${g.uuid}.users.${u}.delete`) ? <button type="button" class="danger" onClick={() => ask({
              text: t('users.confirmLeave', { x: name, g: g.name }), action: t('users.leaveGroup'),
              run: () => api('DELETE', `/groups/${enc(g.uuid)}/users/${enc(u)}`),
            })}>{t('users.leaveGroup')}<span class="sr-only"> {g.name}</span></button> : null}
          </li>))}</ul>
      )}
      {joinable.length > 0 ? (
        <div class="inline">
          <label for={`join-${u}`}>{t('users.joinGroup')}</label>
          <select id={`join-${u}`} name="join_group" value={pickGroup} onChange={(e) => setPickGroup((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">—</option>
            {joinable.map((g) => <option key={g.uuid} value={g.uuid}>{g.name}</option>)}
          </select>
          <button type="button" disabled={pickGroup === '' || !can(`auth.groups.${pickGroup}.users.${u}.create`)}
            onClick={() => run(api('PUT', `/groups/${enc(pickGroup)}/users/${enc(u)}`).then(() => setPickGroup('')), groups.reload)}>{t('users.joinGroup')}</button>
        </div>
      ) : null}
      <h3>{t('users.sessions')}</h3>
      {sessions.data === null ? <Loading /> : sessions.data.items.length === 0 ? <Empty /> : (
        <ul class="rows">{sessions.data.items.map((s) => (
          <li key={s.uuid} data-session={s.uuid}><code>{s.uuid}</code>{s.mobile ? <span class="badge">{t('sessions.mobile')}</span> : null}
            {can(`auth.users.${u}.sessions.${s.uuid}.delete`) ? <button type="button" class="danger" onClick={() => ask({
              text: t('sessions.confirm', { x: s.uuid }), action: t('sessions.revoke'),
              run: () => api('DELETE', `/users/${enc(u)}/sessions/${enc(s.uuid)}`),
            })}>{t('sessions.revoke')}</button> : null}
          </li>))}</ul>
      )}
      {can(`auth.users.${u}.tokens.read`) ? <RefreshTokensSection user={user} /> : null}
      {dialog}
    </div>
  );
}

/** The user's refresh tokens, one per client id (GET /users/{u}/tokens); deleting one asks first. */
function RefreshTokensSection(props: { user: User }) {
  const u = props.user.uuid;
  const list = useLoad(() => api<Page<RefreshToken>>('GET', `/users/${enc(u)}/tokens`, { query: { limit: 100 } }), [u]);
  const [err, setErr] = useState<unknown>(null);
  const { ask, dialog } = useConfirm(list.reload, setErr);
  return (
    <div class="tokens">
      <h3>{t('users.tokens')}</h3>
      <ErrorBox error={err ?? list.error} />
      {list.data === null ? (list.error ? null : <Loading />) : list.data.items.length === 0 ? <Empty text={t('users.tokensNone')} /> : (
        <ul class="rows">{list.data.items.map((r) => (
          <li key={r.client_id} data-client={r.client_id}>
            <code>{r.client_id}</code>
            {r.mobile ? <span class="badge">{t('sessions.mobile')}</span> : null}
            <span class="muted">{t('users.tokenCreated', { d: new Date(r.created_at).toLocaleString() })}</span>
            {can(`auth.users.${u}.tokens.${r.client_id}.delete`) ? <button type="button" class="danger" onClick={() => ask({
              text: t('users.tokenConfirm', { x: r.client_id }), action: t('common.delete'),
              run: () => api('DELETE', `/users/${enc(u)}/tokens/${enc(r.client_id)}`),
            })}>{t('common.delete')}<span class="sr-only"> {r.client_id}</span></button> : null}
          </li>))}</ul>
      )}
      {dialog}
    </div>
  );
}

/** The authentication method: shown to a reader, editable with the user's update access. */
function AccountSection(props: { user: User; onChanged: () => void }) {
  const user = props.user;
  const [method, setMethod] = useState(user.authentication_method);
  const [err, setErr] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const { fields } = fieldErrors(err);
  const editable = can(`auth.users.${user.uuid}.update`);
  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    try {
      await api('PUT', `/users/${enc(user.uuid)}`, { body: userBody(user, { authentication_method: method }) });
      setErr(null);
      setSaved(true);
      props.onChanged();
    } catch (error) {
      setErr(error);
    }
  };
  if (!editable) {
    return <p><strong>{t('users.method')}</strong>: <span data-method={user.authentication_method}>{tOr(`method.${user.authentication_method}`, user.authentication_method)}</span></p>;
  }
  return (
    <form class="inline-form" onSubmit={submit} aria-label={t('users.method')}>
      <Select label={t('users.method')} name="authentication_method" value={method} onChange={setMethod}
        options={USER_METHODS.map((m) => ({ value: m, label: t(`method.${m}`) }))} error={fields.authentication_method} />
      <button type="submit" class="primary" disabled={method === user.authentication_method}>{t('common.save')}</button>
      {saved ? <p role="status">{t('common.saved')}</p> : null}
      <ErrorBox error={err} />
    </form>
  );
}

/**
 * An administrator sets a password: POST /users/password/reset?user_uuid=
 * with the console's token (the access auth.users.password.reset.{u}.create,
 * wazo-auth's reset route); it ends every session of the user.
 */
function PasswordSection(props: { user: User; onChanged: () => void }) {
  const user = props.user;
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const { ask, dialog } = useConfirm(() => { setPassword(''); setAgain(''); setErr(null); setDone(true); props.onChanged(); }, setErr);
  const { fields } = fieldErrors(err);
  const mismatch = again !== '' && again !== password;
  const submit = (e: Event) => {
    e.preventDefault();
    setDone(false);
    if (mismatch || password === '') return;
    ask({
      text: t('users.passwordConfirm', { x: user.username ?? user.uuid }), action: t('users.setPassword'),
      run: () => api('POST', '/users/password/reset', { query: { user_uuid: user.uuid }, body: { password } }),
    });
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-label={t('users.setPassword')}>
      <Field label={t('users.newPassword')} name="new_password" type="password" autocomplete="new-password" value={password} onInput={setPassword}
        error={fields.password} required />
      <Field label={t('users.passwordAgain')} name="new_password_again" type="password" autocomplete="new-password" value={again} onInput={setAgain}
        error={mismatch ? t('users.passwordMismatch') : undefined} required />
      <button type="submit" class="primary" disabled={mismatch}>{t('users.setPassword')}</button>
      {done ? <p role="status">{t('users.passwordSet')}</p> : null}
      <ErrorBox error={fields.password ? null : err} />
      {dialog}
    </form>
  );
}

/**
 * The user's addresses: every change PUTs the whole list, through the
 * administrators' route when the ACL grants it (it may mark a new address
 * confirmed), else the user route (new addresses unconfirmed).
 */
function EmailsSection(props: { user: User; onChanged: () => void }) {
  const user = props.user;
  const admin = can(`auth.admin.users.${user.uuid}.emails.update`);
  const editable = admin || can(`auth.users.${user.uuid}.emails.update`);
  const [emails, setEmails] = useState<Email[]>(user.emails);
  const [address, setAddress] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const { fields } = fieldErrors(err);
  const save = async (next: Array<Email & { newOne?: boolean }>) => {
    const body = {
      emails: next.map((m) => ({
        address: m.address, main: m.main, ...(admin ? { confirmed: m.newOne ? confirmed : null } : {}),
      })),
    };
    const answer = await api<Email[]>('PUT', admin ? `/admin/users/${enc(user.uuid)}/emails` : `/users/${enc(user.uuid)}/emails`, { body });
    setEmails(answer);
    setErr(null);
    props.onChanged();
  };
  const { ask, dialog } = useConfirm(() => undefined, setErr);
  const add = async (e: Event) => {
    e.preventDefault();
    try {
      await save([...emails, { address: address.trim(), main: emails.length === 0, confirmed: false, newOne: true }]);
      setAddress('');
      setConfirmed(false);
    } catch (error) {
      setErr(error);
    }
  };
  const remove = (m: Email) => {
    const rest = emails.filter((x) => x.address !== m.address);
    // One main address whenever there is any: the next one becomes main.
    if (m.main && rest.length > 0) rest[0] = { ...rest[0], main: true };
    return save(rest);
  };
  const makeMain = (m: Email) => save(emails.map((x) => ({ ...x, main: x.address === m.address }))).catch(setErr);
  const fieldError = fields.address ?? Object.entries(fields).find(([k]) => k.startsWith('emails'))?.[1];
  return (
    <div class="emails">
      <h3>{t('users.emails')}</h3>
      {emails.length === 0 ? <Empty /> : (
        <ul class="rows">{emails.map((m) => (
          <li key={m.address} data-email={m.address}>
            <span>{m.address}</span>
            {m.main ? <span class="badge">{t('users.main')}</span> : null}
            <span class="badge">{m.confirmed ? t('users.confirmed') : t('users.unconfirmed')}</span>
            {editable && !m.main ? <button type="button" onClick={() => void makeMain(m)}>{t('users.makeMain')}</button> : null}
            {editable ? <button type="button" class="danger" onClick={() => ask({
              text: t('users.emailConfirmRemove', { x: m.address }), action: t('common.delete'), run: () => remove(m),
            })}>{t('common.delete')}<span class="sr-only"> {m.address}</span></button> : null}
          </li>))}</ul>
      )}
      {editable ? (
        <form class="inline-form" onSubmit={add} aria-label={t('users.addEmail')}>
          <Field label={t('users.newEmail')} name="new_email" type="email" value={address} onInput={setAddress} error={fieldError} required />
          {admin ? <Checkbox label={t('users.markConfirmed')} name="new_email_confirmed" checked={confirmed} onChange={setConfirmed} /> : null}
          <button type="submit">{t('users.addEmail')}</button>
        </form>
      ) : null}
      <ErrorBox error={fieldError ? null : err} />
      {dialog}
    </div>
  );
}

/** The user's second factors (never a secret); an administrator may remove one. */
function MfaSection(props: { user: User }) {
  const u = props.user.uuid;
  const list = useLoad(() => api<{ items: MfaFactor[]; total: number }>('GET', `/users/${enc(u)}/mfa`), [u]);
  const [err, setErr] = useState<unknown>(null);
  const { ask, dialog } = useConfirm(list.reload, setErr);
  return (
    <div class="mfa">
      <h3>{t('users.mfa')}</h3>
      <ErrorBox error={err ?? list.error} />
      {list.data === null ? (list.error ? null : <Loading />) : list.data.items.length === 0 ? <Empty text={t('users.mfaNone')} /> : (
        <ul class="rows">{list.data.items.map((f) => (
          <li key={f.uuid} data-factor={f.type}>
            <span>{tOr(`mfa.${f.type}`, f.type)}{f.name ? ` — ${f.name}` : ''}</span>
            <span class="badge">{f.confirmed ? t('users.confirmed') : t('users.unconfirmed')}</span>
            {f.remaining !== undefined ? <span class="muted">{t('users.mfaRemaining', { n: f.remaining })}</span> : null}
            {can(`auth.users.${u}.mfa.${f.uuid}.delete`) ? <button type="button" class="danger" onClick={() => ask({
              text: t('users.mfaConfirmRemove', { x: f.name ?? f.type }), action: t('common.delete'),
              run: () => api('DELETE', `/users/${enc(u)}/mfa/${enc(f.uuid)}`),
            })}>{t('common.delete')}<span class="sr-only"> {f.type}</span></button> : null}
          </li>))}</ul>
      )}
      {dialog}
    </div>
  );
}

// ---------------------------------------------------------------- groups

export function GroupsScreen(props: { tenantUuid: string | null }) {
  const list = useLoad(() => api<Page<Group>>('GET', '/groups', { query: { limit: 200, order: 'name' } }), [props.tenantUuid]);
  const [name, setName] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [open, setOpen] = useState<string | null>(null);
  const { fields } = fieldErrors(err);
  const { ask, dialog } = useConfirm(list.reload, setErr);
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      await api('POST', '/groups', { body: { name } });
      setName('');
      setErr(null);
      list.reload();
    } catch (error) {
      setErr(error);
    }
  };
  const opened = list.data?.items.find((g) => g.uuid === open);
  return (
    <Section title={t('nav.groups')}>
      {can('auth.groups.create') ? (
        <form class="card inline-form" onSubmit={create} aria-label={t('groups.new')}>
          <Field label={t('groups.new')} name="name" value={name} onInput={setName} error={fields.name} required />
          <button type="submit" class="primary">{t('common.create')}</button>
        </form>
      ) : null}
      <ErrorBox error={err ?? list.error} />
      {list.data === null ? <Loading /> : list.data.items.length === 0 ? <Empty /> : (
        <table>
          <thead><tr><th scope="col">{t('common.name')}</th><th scope="col">{t('tenants.slug')}</th><th scope="col">{t('common.actions')}</th></tr></thead>
          <tbody>{list.data.items.map((g) => (
            <tr key={g.uuid} data-group={g.name}>
              <td>{g.name} {g.system_managed ? <span class="badge">{t('policies.readOnly')}</span> : null}</td>
              <td>{g.slug}</td>
              <td class="actions">
                <button type="button" aria-expanded={open === g.uuid} onClick={() => setOpen(open === g.uuid ? null : g.uuid)}>
                  {t('users.details')}<span class="sr-only"> {g.name}</span>
                </button>
                {can(`auth.groups.${g.uuid}.delete`) && !g.system_managed ? <button type="button" class="danger" onClick={() => ask({
                  text: t('common.confirmDelete', { x: g.name }), action: t('common.delete'), run: () => api('DELETE', `/groups/${enc(g.uuid)}`),
                })}>{t('common.delete')}<span class="sr-only"> {g.name}</span></button> : null}
              </td>
            </tr>))}</tbody>
        </table>
      )}
      {opened !== undefined ? <GroupDetails key={opened.uuid} group={opened} onChanged={list.reload} tenantUuid={props.tenantUuid} /> : null}
      {dialog}
    </Section>
  );
}

/** One group: rename it, its members (add, remove) and its policies (attach, detach). */
function GroupDetails(props: { group: Group; onChanged: () => void; tenantUuid: string | null }) {
  const g = props.group;
  const members = useLoad(() => api<Page<User>>('GET', `/groups/${enc(g.uuid)}/users`, { query: { limit: 500, order: 'username' } }), [g.uuid]);
  const policies = useLoad(() => api<Page<Policy>>('GET', `/groups/${enc(g.uuid)}/policies`), [g.uuid]);
  const users = useLoad(() => can('auth.users.read')
    ? api<Page<User>>('GET', '/users', { query: { limit: 500, order: 'username' } })
    : Promise.resolve({ total: 0, filtered: 0, items: [] as User[] }), [props.tenantUuid]);
  const allPolicies = useLoad(() => api<Page<Policy>>('GET', '/policies', { query: { limit: 500, order: 'name' } }), [props.tenantUuid]);
  const [name, setName] = useState(g.name);
  const [member, setMember] = useState('');
  const [policy, setPolicy] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const { fields } = fieldErrors(err);
  const { ask, dialog } = useConfirm(() => { members.reload(); policies.reload(); }, setErr);
  const done = (reload: () => void) => () => { setErr(null); reload(); };
  const rename = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    try {
      await api('PUT', `/groups/${enc(g.uuid)}`, { body: { name, slug: g.slug } });
      setErr(null);
      setSaved(true);
      props.onChanged();
    } catch (error) {
      setErr(error);
    }
  };
  const inGroup = new Set((members.data?.items ?? []).map((u) => u.uuid));
  const attached = new Set((policies.data?.items ?? []).map((p) => p.uuid));
  return (
    <div class="card details" role="region" aria-label={`${t('groups.details')}: ${g.name}`} data-group-details={g.uuid}>
      {can(`auth.groups.${g.uuid}.update`) && !g.system_managed ? (
        <form class="inline-form" onSubmit={rename} aria-label={t('groups.rename')}>
          <Field label={t('groups.rename')} name="group_name" value={name} onInput={setName} error={fields.name} required />
          <button type="submit" class="primary" disabled={name.trim() === '' || name === g.name}>{t('common.save')}</button>
          {saved ? <p role="status">{t('common.saved')}</p> : null}
        </form>
      ) : <h2>{g.name}</h2>}
      <ErrorBox error={fields.name ? null : err} />
      <h2>{t('groups.members')}</h2>
      {members.data === null ? (members.error ? <ErrorBox error={members.error} /> : <Loading />) : members.data.items.length === 0 ? <Empty /> : (
        <ul class="rows">{members.data.items.map((u) => (
          <li key={u.uuid} data-member={u.username ?? u.uuid}>
            <span>{u.username ?? u.uuid}</span>
            {can(`auth.groups.${g.uuid}.users.${u.uuid}.delete`) ? <button type="button" class="danger" onClick={() => ask({
              text: t('groups.confirmRemoveMember', { x: u.username ?? u.uuid, g: g.name }), action: t('groups.removeMember'),
              run: () => api('DELETE', `/groups/${enc(g.uuid)}/users/${enc(u.uuid)}`),
            })}>{t('groups.removeMember')}<span class="sr-only"> {u.username ?? u.uuid}</span></button> : null}
          </li>))}</ul>
      )}
      {(users.data?.items ?? []).some((u) => !inGroup.has(u.uuid)) ? (
        <div class="inline">
          <label for={`gm-${g.uuid}`}>{t('groups.addUser')}</label>
          <select id={`gm-${g.uuid}`} name="member" value={member} onChange={(e) => setMember((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">—</option>
            {(users.data?.items ?? []).filter((u) => !inGroup.has(u.uuid)).map((u) => <option key={u.uuid} value={u.uuid}>{u.username ?? u.uuid}</option>)}
          </select>
          <button type="button" disabled={member === '' || !can(`auth.groups.${g.uuid}.users.${member}.create`)}
            onClick={() => api('PUT', `/groups/${enc(g.uuid)}/users/${enc(member)}`).then(() => { setMember(''); done(members.reload)(); }, setErr)}>{t('groups.addUser')}</button>
        </div>
      ) : null}
      <h2>{t('users.policies')}</h2>
      {policies.data === null ? (policies.error ? <ErrorBox error={policies.error} /> : <Loading />) : policies.data.items.length === 0 ? <Empty /> : (
        <ul class="rows">{policies.data.items.map((p) => (
          <li key={p.uuid} data-policy={p.name}>
            <span>{p.name}</span>
            {can(`auth.groups.${g.uuid}.policies.${p.uuid}.delete`) ? <button type="button" class="danger" onClick={() => ask({
              text: t('groups.confirmDetach', { x: p.name, g: g.name }), action: t('users.detach'),
              run: () => api('DELETE', `/groups/${enc(g.uuid)}/policies/${enc(p.uuid)}`),
            })}>{t('users.detach')}<span class="sr-only"> {p.name}</span></button> : null}
          </li>))}</ul>
      )}
      {(allPolicies.data?.items ?? []).some((p) => !attached.has(p.uuid)) ? (
        <div class="inline">
          <label for={`gp-${g.uuid}`}>{t('users.addPolicy')}</label>
          <select id={`gp-${g.uuid}`} name="group_policy" value={policy} onChange={(e) => setPolicy((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">—</option>
            {(allPolicies.data?.items ?? []).filter((p) => !attached.has(p.uuid)).map((p) => <option key={p.uuid} value={p.uuid}>{p.name}</option>)}
          </select>
          <button type="button" disabled={policy === '' || !can(`auth.groups.${g.uuid}.policies.${policy}.create`)}
            onClick={() => api('PUT', `/groups/${enc(g.uuid)}/policies/${enc(policy)}`).then(() => { setPolicy(''); done(policies.reload)(); }, setErr)}>{t('users.addPolicy')}</button>
        </div>
      ) : null}
      {dialog}
    </div>
  );
}

// ---------------------------------------------------------------- policies

const accessRe = new RegExp(ACCESS_WILDCARDS_PATTERN, 'u');

/** Why one access of an ACL is refused by the service, or null. */
export function accessProblem(access: string): string | null {
  if (access.length === 0) return t('acl.empty');
  if (access.length > MAX_ACCESS_LENGTH) return t('acl.tooLong', { n: MAX_ACCESS_LENGTH });
  if (/\s/.test(access)) return t('acl.space');
  if (!accessRe.test(access)) return t('acl.wildcards');
  return null;
}

function aclProblems(text: string): string | null {
  const lines = text.split('\n').map((l) => l.trim());
  if (lines.filter(Boolean).length > MAX_ACL_ENTRIES) return t('acl.tooMany', { n: MAX_ACL_ENTRIES });
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const why = accessProblem(lines[i]);
    if (why !== null) return t('policies.invalidAccess', { n: i + 1, why });
  }
  return null;
}

export function PoliciesScreen(props: { tenantUuid: string | null }) {
  const list = useLoad(() => api<Page<Policy>>('GET', '/policies', { query: { limit: 500, order: 'name' } }), [props.tenantUuid]);
  const [editing, setEditing] = useState<Policy | 'new' | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const { ask, dialog } = useConfirm(list.reload, setErr);
  return (
    <Section title={t('nav.policies')} actions={can('auth.policies.create') ? <button type="button" onClick={() => setEditing('new')}>{t('policies.new')}</button> : null}>
      <ErrorBox error={err ?? list.error} />
      {editing !== null ? <PolicyForm policy={editing === 'new' ? null : editing} onDone={() => { setEditing(null); list.reload(); }} onCancel={() => setEditing(null)} /> : null}
      {list.data === null ? <Loading /> : list.data.items.length === 0 ? <Empty /> : (
        <table>
          <thead><tr><th scope="col">{t('common.name')}</th><th scope="col">ACL</th><th scope="col">{t('common.actions')}</th></tr></thead>
          <tbody>{list.data.items.map((p) => (
            <tr key={p.uuid}>
              <td>{p.name} {p.read_only ? <span class="badge">{t('policies.readOnly')}</span> : null}</td>
              <td><code class="acl">{p.acl.join(' ')}</code></td>
              <td class="actions">
                {!p.read_only && can(`auth.policies.${p.uuid}.update`) ? <button type="button" onClick={() => setEditing(p)}>{t('common.edit')}</button> : null}
                {!p.read_only && can(`auth.policies.${p.uuid}.delete`) ? <button type="button" class="danger" onClick={() => ask({
                  text: t('common.confirmDelete', { x: p.name }), action: t('common.delete'), run: () => api('DELETE', `/policies/${enc(p.uuid)}`),
                })}>{t('common.delete')}</button> : null}
              </td>
            </tr>))}</tbody>
        </table>
      )}
      {dialog}
    </Section>
  );
}

function PolicyForm(props: { policy: Policy | null; onDone: () => void; onCancel: () => void }) {
  const p = props.policy;
  const [name, setName] = useState(p?.name ?? '');
  const [description, setDescription] = useState(p?.description ?? '');
  const [acl, setAcl] = useState(p?.acl.join('\n') ?? '');
  const [shared, setShared] = useState(p?.shared ?? false);
  const [err, setErr] = useState<unknown>(null);
  const { fields } = fieldErrors(err);
  const live = aclProblems(acl);
  const aclError = live ?? Object.entries(fields).find(([k]) => k.startsWith('acl'))?.[1];
  const submit = async (e: Event) => {
    e.preventDefault();
    if (live !== null) return;
    const body = { name, description: description || null, acl: acl.split('\n').map((l) => l.trim()).filter(Boolean), shared };
    try {
      if (p === null) await api('POST', '/policies', { body });
      else await api('PUT', `/policies/${enc(p.uuid)}`, { body });
      props.onDone();
    } catch (error) {
      setErr(error);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-label={p === null ? t('policies.new') : `${t('common.edit')} ${p.name}`}>
      <Field label={t('common.name')} name="name" value={name} onInput={setName} error={fields.name} required />
      <Field label={t('common.description')} name="description" value={description} onInput={setDescription} error={fields.description} />
      <Field label={t('policies.acl')} name="acl" multiline value={acl} onInput={setAcl} error={aclError} invalid={live !== null} />
      <Checkbox label={t('policies.shared')} name="shared" checked={shared} onChange={setShared} />
      <ErrorBox error={err} />
      <div class="buttons">
        <button type="button" onClick={props.onCancel}>{t('common.cancel')}</button>
        <button type="submit" class="primary" disabled={live !== null}>{p === null ? t('common.create') : t('common.save')}</button>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------- explainer

export function ExplainScreen(props: { tenantUuid: string | null }) {
  const users = useLoad(() => can('auth.users.read')
    ? api<Page<User>>('GET', '/users', { query: { limit: 500, order: 'username' } })
    : Promise.resolve({ total: 0, filtered: 0, items: [] as User[] }), [props.tenantUuid]);
  const [user, setUser] = useState('');
  const [pasted, setPasted] = useState('');
  const [access, setAccess] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [result, setResult] = useState<{ allowed: boolean; pattern: string | null; acl: string[]; me: string; session: string } | null>(null);
  const run = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    setResult(null);
    try {
      let acl: string[];
      let me: string;
      let session = '';
      if (pasted.trim() !== '') {
        const info = await client.token.get(pasted.trim());
        acl = info.acl;
        me = info.auth_id;
        session = info.session_uuid;
      } else {
        if (user === '') return;
        const own = await api<Page<Policy>>('GET', `/users/${enc(user)}/policies`);
        const groups = await api<Page<Group>>('GET', `/users/${enc(user)}/groups`);
        const viaGroups = await Promise.all(groups.items.map((g) => api<Page<Policy>>('GET', `/groups/${enc(g.uuid)}/policies`)));
        acl = [...new Set([...own.items, ...viaGroups.flatMap((p) => p.items)].flatMap((p) => p.acl))];
        me = user;
      }
      const verdict = explain(acl, access, { authId: me, sessionUuid: session || null });
      setResult({ ...verdict, acl, me, session });
    } catch (error) {
      setErr(error);
    }
  };
  return (
    <Section title={t('nav.explain')}>
      <form class="card" onSubmit={run} aria-label={t('nav.explain')}>
        <div class="field">
          <label for="explain-user">{t('explain.user')}</label>
          <select id="explain-user" name="user" value={user} onChange={(e) => setUser((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">{t('explain.pick')}</option>
            {(users.data?.items ?? []).map((u) => <option key={u.uuid} value={u.uuid}>{u.username ?? u.uuid}</option>)}
          </select>
        </div>
        <Field label={t('explain.token')} name="token" type="password" value={pasted} onInput={setPasted} />
        <Field label={t('explain.access')} name="access" value={access} onInput={setAccess} required
          error={access !== '' && accessProblem(access.replace(/^!/, '')) !== null ? accessProblem(access) ?? undefined : undefined} />
        <div class="buttons"><button type="submit" class="primary">{t('explain.check')}</button></div>
        <p class="hint">{t('explain.userNote')}</p>
      </form>
      <ErrorBox error={err} />
      {result !== null ? (
        <div class={`verdict ${result.allowed ? 'granted' : 'denied'}`} role="status" data-verdict={result.allowed ? 'granted' : 'denied'}>
          <p class="verdict-word">{result.allowed ? t('explain.granted') : t('explain.denied')}</p>
          <p>{result.pattern !== null ? t('explain.by', { p: result.pattern }) : t('explain.nothing')}</p>
          <p class="muted">{t('explain.subst', { me: result.me, s: result.session || '—' })}</p>
          <details><summary>{t('explain.acl')}</summary><ul>{result.acl.map((a) => <li key={a}><code>{a}</code></li>)}</ul></details>
        </div>
      ) : null}
    </Section>
  );
}

// ---------------------------------------------------------------- sessions

export function SessionsScreen(props: { tenantUuid: string | null }) {
  const [offset, setOffset] = useState(0);
  const limit = 50;
  const list = useLoad(() => api<Page<Session>>('GET', '/sessions', { query: { limit, offset } }), [props.tenantUuid, offset]);
  const [err, setErr] = useState<unknown>(null);
  const { ask, dialog } = useConfirm(list.reload, setErr);
  const mine = currentToken()?.session_uuid;
  const who = useUserNames(props.tenantUuid);
  return (
    <Section title={t('nav.sessions')}>
      <ErrorBox error={err ?? list.error} />
      {list.data === null ? <Loading /> : list.data.items.length === 0 ? <Empty /> : (
        <>
          <table>
            <thead><tr><th scope="col">{t('sessions.session')}</th><th scope="col">{t('sessions.user')}</th><th scope="col">{t('sessions.mobile')}</th><th scope="col">{t('common.actions')}</th></tr></thead>
            <tbody>{list.data.items.map((s) => (
              <tr key={s.uuid} data-session={s.uuid}>
                <td><code>{s.uuid}</code>{s.uuid === mine ? <> <span class="badge">{t('sessions.mine')}</span></> : null}</td>
                <td data-user={s.user_uuid ?? ''}>{s.user_uuid === null ? '—' : who.get(s.user_uuid) ?? <code>{s.user_uuid}</code>}</td>
                <td>{s.mobile ? t('common.yes') : t('common.no')}</td>
                <td class="actions">{can(`auth.sessions.${s.uuid}.delete`) ? <button type="button" class="danger" onClick={() => ask({
                  text: t('sessions.confirm', { x: s.uuid }), action: t('sessions.revoke'), run: () => api('DELETE', `/sessions/${enc(s.uuid)}`),
                })}>{t('sessions.revoke')}</button> : null}</td>
              </tr>))}</tbody>
          </table>
          <Pager offset={offset} limit={limit} total={list.data.filtered} onOffset={setOffset} />
        </>
      )}
      {dialog}
    </Section>
  );
}

// ---------------------------------------------------------------- audit

/** A datetime-local value (the browser's zone) as the API's instant (UTC), or undefined. */
function instant(local: string): string | undefined {
  if (local === '') return undefined;
  const ms = new Date(local).getTime();
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function AuditScreen(props: { tenantUuid: string | null }) {
  const [search, setSearch] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [offset, setOffset] = useState(0);
  const limit = 25;
  // The time window is filtered by the service (from inclusive, until exclusive): pages hold only its records.
  const list = useLoad(() => api<Page<AuditEntry>>('GET', '/audit', {
    query: { limit, offset, search: search || undefined, recurse: true, from: instant(from), until: instant(to) },
  }), [props.tenantUuid, search, offset, from, to]);
  const { fields } = fieldErrors(list.error);
  const items = list.data?.items ?? [];
  const who = useUserNames(props.tenantUuid);
  return (
    <Section title={t('nav.audit')}>
      <div class="toolbar" role="search">
        <Field label={t('audit.filter')} name="search" type="search" value={search} onInput={(v) => { setSearch(v); setOffset(0); }} />
        <Field label={t('audit.from')} name="from" type="datetime-local" value={from} onInput={(v) => { setFrom(v); setOffset(0); }} error={fields.from} />
        <Field label={t('audit.to')} name="to" type="datetime-local" value={to} onInput={(v) => { setTo(v); setOffset(0); }} error={fields.until} />
      </div>
      <ErrorBox error={fields.from || fields.until ? null : list.error} />
      {list.data === null ? (list.error ? null : <Loading />) : items.length === 0 ? <Empty /> : (
        <table class="audit">
          <thead><tr><th scope="col">{t('audit.when')}</th><th scope="col">{t('audit.action')}</th><th scope="col">{t('audit.outcome')}</th><th scope="col">{t('audit.actor')}</th><th scope="col">{t('audit.target')}</th><th scope="col">{t('audit.details')}</th></tr></thead>
          <tbody>{items.map((e) => (
            <tr key={e.uuid} data-action={e.action}>
              <td><time dateTime={e.timestamp}>{new Date(e.timestamp).toLocaleString()}</time></td>
              <td>{e.action}</td>
              <td>{e.outcome}</td>
              <td data-actor={e.user_uuid ?? ''}>{(e.user_uuid !== null ? who.get(e.user_uuid) : undefined) ?? e.auth_id ?? e.login ?? '—'} <span class="muted">{e.remote_addr ?? ''}</span></td>
              <td>{e.target_type ? `${e.target_type} ` : ''}<code>{e.target_id ?? ''}</code></td>
              <td>{e.status_code ?? ''}{Object.keys(e.details).length > 0 ? (
                <details><summary>{t('audit.details')}</summary><pre class="json">{JSON.stringify(e.details, null, 2)}</pre></details>
              ) : null}</td>
            </tr>))}</tbody>
        </table>
      )}
      {list.data !== null ? <Pager offset={offset} limit={limit} total={list.data.filtered} onOffset={setOffset} /> : null}
    </Section>
  );
}

// ---------------------------------------------------------------- throttles

export function ThrottlesScreen(props: { tenantUuid: string | null }) {
  const list = useLoad(() => api<{ total: number; items: Throttle[] }>('GET', '/security/throttles', { query: { recurse: true } }), [props.tenantUuid]);
  const [err, setErr] = useState<unknown>(null);
  const { ask, dialog } = useConfirm(list.reload, setErr);
  return (
    <Section title={t('nav.throttles')} actions={<button type="button" onClick={list.reload} aria-label={t('common.refresh')}>↻</button>}>
      <ErrorBox error={err ?? list.error} />
      {list.data === null ? <Loading /> : list.data.items.length === 0 ? <Empty text={t('throttles.none')} /> : (
        <table>
          <thead><tr><th scope="col">{t('throttles.login')}</th><th scope="col">{t('throttles.kind')}</th><th scope="col">{t('throttles.failures')}</th><th scope="col">{t('throttles.until')}</th><th scope="col">{t('common.actions')}</th></tr></thead>
          <tbody>{list.data.items.map((x) => (
            <tr key={x.id} data-login={x.login ?? ''}>
              <td>{x.login ?? t('throttles.unknown')}</td>
              <td>{x.kind === 'account' ? t('throttles.account') : `${t('throttles.address')} ${x.remote_addr ?? ''}`}</td>
              <td>{x.failures}</td>
              <td><time dateTime={x.blocked_until}>{new Date(x.blocked_until).toLocaleString()}</time></td>
              <td class="actions">{can('auth.security.throttles.delete') ? <button type="button" onClick={() => ask({
                text: t('throttles.confirm', { x: x.login ?? x.id }), action: t('throttles.unlock'),
                run: () => api('DELETE', `/security/throttles/${enc(x.id)}`),
              })}>{t('throttles.unlock')}</button> : null}</td>
            </tr>))}</tbody>
        </table>
      )}
      {dialog}
    </Section>
  );
}

// ---------------------------------------------------------------- backends

interface Ldap {
  host: string; port: number; protocol_security: string | null; bind_dn: string | null; user_base_dn: string;
  user_login_attribute: string; user_email_attribute: string; search_filters: string | null;
}
interface Readiness { status: 'ready' | 'not_ready'; checks: Record<string, 'ok' | 'fail'> }

/** GET /health/ready (outside /0.1, unauthenticated): 503 still carries the failed checks. */
async function readiness(): Promise<Readiness> {
  const res = await fetch('/health/ready', { headers: { accept: 'application/json' }, cache: 'no-store' });
  return await res.json() as Readiness;
}

function StateBadge(props: { state: string }) {
  const ok = props.state === 'ok' || props.state === 'ready';
  return <span class={`state ${ok ? 'ok' : props.state === 'disabled' ? 'off' : 'bad'}`}>{props.state}</span>;
}

export function BackendsScreen(props: { tenantUuid: string | null }) {
  const status = useLoad(() => client.status.get(), []);
  const health = useLoad(readiness, []);
  const names = useLoad(() => client.backends.list(), []);
  const ldap = useLoad<Ldap | null | 'hidden'>(() => can('auth.backends.ldap.read')
    ? api<Ldap>('GET', '/backends/ldap').catch((e: unknown) => ((e as { status?: number }).status === 404 ? null : Promise.reject(e)))
    : Promise.resolve('hidden' as const), [props.tenantUuid]);
  // Kept here: saving or removing reloads the configuration, which remounts the form.
  const [notice, setNotice] = useState<string | null>(null);
  const components = status.data === null ? [] : Object.entries(status.data as unknown as Record<string, { status?: unknown }>);
  return (
    <Section title={t('nav.backends')} actions={<button type="button" onClick={() => { status.reload(); health.reload(); }}>{t('common.reload')}</button>}>
      <div class="grid2">
        <div>
          <h2>{t('backends.status')}</h2>
          {status.data === null ? (status.error ? <ErrorBox error={status.error} /> : <Loading />) : (
            <table class="status">
              <thead><tr><th scope="col">{t('backends.component')}</th><th scope="col">{t('backends.state')}</th></tr></thead>
              <tbody>{components.map(([name, c]) => (
                <tr key={name} data-component={name}><td>{name}</td><td><StateBadge state={String(c?.status ?? '?')} /></td></tr>))}</tbody>
            </table>
          )}
        </div>
        <div>
          <h2>{t('backends.health')}</h2>
          {health.data === null ? (health.error ? <ErrorBox error={health.error} /> : <Loading />) : (
            <table class="health" data-ready={health.data.status}>
              <caption>{health.data.status === 'ready' ? t('backends.ready') : t('backends.notReady')}</caption>
              <thead><tr><th scope="col">{t('backends.component')}</th><th scope="col">{t('backends.state')}</th></tr></thead>
              <tbody>{Object.entries(health.data.checks).map(([name, state]) => (
                <tr key={name} data-check={name}><td>{name}</td><td><StateBadge state={state} /></td></tr>))}</tbody>
            </table>
          )}
        </div>
      </div>
      <h2>{t('backends.enabled')}</h2>
      {names.data === null ? <Loading /> : names.data.length === 0 ? <Empty /> : <ul>{names.data.map((n) => <li key={n}>{n}</li>)}</ul>}
      {ldap.data !== 'hidden' ? (
        <>
          <h2>{t('backends.ldap')}</h2>
          {ldap.error ? <ErrorBox error={ldap.error} /> : ldap.loading && ldap.data === null ? <Loading /> : (
            <LdapForm key={`${String(props.tenantUuid)}-${ldap.data === null ? 'none' : 'set'}`} current={ldap.data} notice={notice}
              onChanged={(n) => { setNotice(n); ldap.reload(); }} onEdit={() => setNotice(null)} />
          )}
        </>
      ) : null}
    </Section>
  );
}

function LdapForm(props: { current: Ldap | null; notice: string | null; onChanged: (notice: string) => void; onEdit: () => void }) {
  const c = props.current;
  const [host, setHost] = useState(c?.host ?? '');
  const [port, setPort] = useState(c ? String(c.port) : '');
  const [security, setSecurity] = useState(c?.protocol_security ?? '');
  const [bindDn, setBindDn] = useState(c?.bind_dn ?? '');
  const [bindPassword, setBindPassword] = useState('');
  const [baseDn, setBaseDn] = useState(c?.user_base_dn ?? '');
  const [loginAttr, setLoginAttr] = useState(c?.user_login_attribute ?? 'uid');
  const [emailAttr, setEmailAttr] = useState(c?.user_email_attribute ?? 'mail');
  const [filters, setFilters] = useState(c?.search_filters ?? '');
  const [err, setErr] = useState<unknown>(null);
  const { fields } = fieldErrors(err);
  const editable = can('auth.backends.ldap.update');
  const { ask, dialog } = useConfirm(() => { setErr(null); props.onChanged(t('backends.removed')); }, setErr);
  const submit = async (e: Event) => {
    e.preventDefault();
    props.onEdit();
    try {
      await api('PUT', '/backends/ldap', {
        body: {
          host, port: port === '' ? undefined : Number(port), protocol_security: security === '' ? null : security,
          // Write-only: sent when typed, else the stored one is kept (the service says when it may not be).
          bind_dn: bindDn || null, ...(bindPassword !== '' ? { bind_password: bindPassword } : {}),
          user_base_dn: baseDn, user_login_attribute: loginAttr, user_email_attribute: emailAttr || undefined,
          search_filters: filters.trim() === '' ? null : filters.trim(),
        },
      });
      setBindPassword('');
      setErr(null);
      props.onChanged(t('common.saved'));
    } catch (error) {
      setErr(error);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-label={t('backends.ldap')}>
      {c === null ? <p class="muted">{t('backends.notConfigured')}</p> : null}
      <fieldset disabled={!editable}>
        <div class="grid2">
          <Field label={t('backends.host')} name="host" value={host} onInput={setHost} error={fields.host} required />
          <Field label={t('backends.port')} name="port" type="number" value={port} onInput={setPort} error={fields.port} />
          <Select label={t('backends.protocol')} name="protocol_security" value={security} onChange={setSecurity} error={fields.protocol_security}
            options={[{ value: '', label: t('backends.plain') }, { value: 'tls', label: 'StartTLS' }, { value: 'ldaps', label: 'LDAPS' }]} />
          <Field label={t('backends.bindDn')} name="bind_dn" value={bindDn} onInput={setBindDn} error={fields.bind_dn} />
          <Field label={t('backends.bindPassword')} name="bind_password" type="password" autocomplete="new-password" value={bindPassword} onInput={setBindPassword} error={fields.bind_password} />
          <Field label={t('backends.baseDn')} name="user_base_dn" value={baseDn} onInput={setBaseDn} error={fields.user_base_dn} required />
          <Field label={t('backends.loginAttr')} name="user_login_attribute" value={loginAttr} onInput={setLoginAttr} error={fields.user_login_attribute} required />
          <Field label={t('backends.emailAttr')} name="user_email_attribute" value={emailAttr} onInput={setEmailAttr} error={fields.user_email_attribute} />
          <Field label={t('backends.searchFilters')} name="search_filters" value={filters} onInput={setFilters} error={fields.search_filters} />
        </div>
      </fieldset>
      <ErrorBox error={err} />
      {props.notice !== null ? <p role="status">{props.notice}</p> : null}
      {editable || (c !== null && can('auth.backends.ldap.delete')) ? (
        <div class="buttons">
          {c !== null && can('auth.backends.ldap.delete') ? <button type="button" class="danger" onClick={() => ask({
            text: t('backends.confirmRemove'), action: t('backends.remove'), run: () => api('DELETE', '/backends/ldap'),
          })}>{t('backends.remove')}</button> : null}
          {editable ? <button type="submit" class="primary">{t('common.save')}</button> : null}
        </div>
      ) : null}
      {dialog}
    </form>
  );
}
