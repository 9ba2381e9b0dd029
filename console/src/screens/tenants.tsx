// Tenants: the tree of the tenants below the caller's; create, edit (domains,
// contact, address, default authentication method), move, delete.
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { api, can, enc, type Page } from '../session.js';
import { Empty, ErrorBox, Field, fieldErrors, Loading, Section, Select, useLoad } from '../ui.js';
import { useConfirm, words, type Tenant, type User } from './common.js';

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
    <Section
      title={t('nav.tenants')}
      actions={
        can('auth.tenants.create') ? (
          <button type="button" onClick={() => setEditing('new')}>
            {t('tenants.new')}
          </button>
        ) : null
      }
    >
      <ErrorBox error={error ?? list.error} />
      {editing !== null ? (
        <TenantForm
          tenant={editing === 'new' ? null : editing}
          parents={list.data?.items ?? []}
          onDone={() => {
            setEditing(null);
            changed();
          }}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {list.loading && list.data === null ? (
        <Loading />
      ) : tree.length === 0 ? (
        <Empty />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('common.name')}</th>
              <th scope="col">{t('tenants.slug')}</th>
              <th scope="col">{t('tenants.domainsColumn')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {tree.map(({ tenant, depth }) => (
              <tr key={tenant.uuid}>
                <td>
                  <span class={`depth-${Math.min(depth, 6)}`}>{tenant.name ?? tenant.uuid}</span>
                </td>
                <td>{tenant.slug}</td>
                <td>{tenant.domain_names.join(', ')}</td>
                <td class="actions">
                  {can(`auth.tenants.${tenant.uuid}.update`) ? (
                    <button type="button" onClick={() => setEditing(tenant)}>
                      {t('common.edit')}
                    </button>
                  ) : null}
                  {can(`auth.tenants.${tenant.uuid}.delete`) && tenant.parent_uuid !== null ? (
                    <button
                      type="button"
                      class="danger"
                      onClick={() =>
                        ask({
                          text: t('common.confirmDelete', { x: tenant.name ?? tenant.uuid }),
                          action: t('common.delete'),
                          run: () => api('DELETE', `/tenants/${enc(tenant.uuid)}`),
                        })
                      }
                    >
                      {t('common.delete')}
                    </button>
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
type AddressField = (typeof ADDRESS_FIELDS)[number];
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
  const people = useLoad(
    () =>
      can('auth.users.read')
        ? api<Page<User>>('GET', '/users', { query: { limit: 500, order: 'username', recurse: true } })
        : Promise.resolve(null),
    [],
  );
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { fields } = fieldErrors(err);
  // Where it may go: not under itself or a sub-tenant; a move needs its own access per new parent.
  const below = x === null ? new Set<string>() : subtreeOf(x.uuid, props.parents);
  const parentChoices = props.parents.filter(
    (p) =>
      !below.has(p.uuid) && (x === null || p.uuid === x.parent_uuid || can(`auth.tenants.${x.uuid}.parent.${p.uuid}.update`)),
  );
  // The caller's own tenant and the top tenant cannot move (their parent is not listed).
  const movable =
    x === null
      ? parentChoices.length > 0
      : x.parent_uuid !== null &&
        x.parent_uuid !== x.uuid &&
        props.parents.some((p) => p.uuid === x.parent_uuid) &&
        parentChoices.length > 1;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const body = {
      name,
      domain_names: words(domains),
      phone: phone || null,
      contact: contact || null,
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
        <Field
          label={t('tenants.domains')}
          name="domain_names"
          value={domains}
          onInput={setDomains}
          error={fields.domain_names ?? Object.entries(fields).find(([k]) => k.startsWith('domain_names.'))?.[1]}
        />
        <Field label={t('tenants.phone')} name="phone" value={phone} onInput={setPhone} error={fields.phone} />
        {can('auth.users.read') ? (
          <Select
            label={t('tenants.contact')}
            name="contact"
            value={contact}
            onChange={setContact}
            error={fields.contact}
            options={[
              { value: '', label: t('tenants.contactNone') },
              ...(contact !== '' && !(people.data?.items ?? []).some((u) => u.uuid === contact)
                ? [{ value: contact, label: contact }]
                : []),
              ...(people.data?.items ?? []).map((u) => ({ value: u.uuid, label: u.username ?? u.uuid })),
            ]}
          />
        ) : (
          <Field label={t('tenants.contact')} name="contact" value={contact} onInput={setContact} error={fields.contact} />
        )}
        <Select
          label={t('tenants.method')}
          name="default_authentication_method"
          value={method}
          onChange={setMethod}
          options={TENANT_METHODS.map((m) => ({ value: m, label: t(`method.${m}`) }))}
          error={fields.default_authentication_method}
        />
        {movable ? (
          <Select
            label={x === null ? t('tenants.parent') : t('tenants.moveUnder')}
            name="parent"
            value={parent}
            onChange={setParent}
            error={fields.parent_uuid ?? fields.parent_tenant_uuid}
            options={[
              ...(x === null ? [{ value: '', label: t('tenants.parentDefault') }] : []),
              ...parentChoices.map((p) => ({ value: p.uuid, label: p.name ?? p.uuid })),
            ]}
          />
        ) : null}
      </div>
      <fieldset class="group">
        <legend>{t('tenants.address')}</legend>
        <div class="grid2">
          {ADDRESS_FIELDS.map((f) => (
            <Field
              key={f}
              label={t(`tenants.${f}`)}
              name={`address.${f}`}
              value={address[f]}
              onInput={(v) => setAddress({ ...address, [f]: v })}
              error={fields[`address.${f}`]}
            />
          ))}
        </div>
      </fieldset>
      <ErrorBox error={err} />
      <div class="buttons">
        <button type="button" onClick={props.onCancel}>
          {t('common.cancel')}
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {x === null ? t('common.create') : t('common.save')}
        </button>
      </div>
    </form>
  );
}
