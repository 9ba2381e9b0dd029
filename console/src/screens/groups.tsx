// Groups: create, delete; a group's details (rename, members, policies).
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { api, can, enc, type Page } from '../session.js';
import { Empty, ErrorBox, Field, fieldErrors, Loading, Section, useLoad } from '../ui.js';
import { useConfirm, type Group, type Policy, type User } from './common.js';

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
          <button type="submit" class="primary">
            {t('common.create')}
          </button>
        </form>
      ) : null}
      <ErrorBox error={err ?? list.error} />
      {list.data === null ? (
        <Loading />
      ) : list.data.items.length === 0 ? (
        <Empty />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('common.name')}</th>
              <th scope="col">{t('tenants.slug')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((g) => (
              <tr key={g.uuid} data-group={g.name}>
                <td>
                  {g.name} {g.system_managed ? <span class="badge">{t('policies.readOnly')}</span> : null}
                </td>
                <td>{g.slug}</td>
                <td class="actions">
                  <button type="button" aria-expanded={open === g.uuid} onClick={() => setOpen(open === g.uuid ? null : g.uuid)}>
                    {t('users.details')}
                    <span class="sr-only"> {g.name}</span>
                  </button>
                  {can(`auth.groups.${g.uuid}.delete`) && !g.system_managed ? (
                    <button
                      type="button"
                      class="danger"
                      onClick={() =>
                        ask({
                          text: t('common.confirmDelete', { x: g.name }),
                          action: t('common.delete'),
                          run: () => api('DELETE', `/groups/${enc(g.uuid)}`),
                        })
                      }
                    >
                      {t('common.delete')}
                      <span class="sr-only"> {g.name}</span>
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {opened !== undefined ? (
        <GroupDetails key={opened.uuid} group={opened} onChanged={list.reload} tenantUuid={props.tenantUuid} />
      ) : null}
      {dialog}
    </Section>
  );
}

/** One group: rename it, its members (add, remove) and its policies (attach, detach). */
function GroupDetails(props: { group: Group; onChanged: () => void; tenantUuid: string | null }) {
  const g = props.group;
  const members = useLoad(
    () => api<Page<User>>('GET', `/groups/${enc(g.uuid)}/users`, { query: { limit: 500, order: 'username' } }),
    [g.uuid],
  );
  const policies = useLoad(() => api<Page<Policy>>('GET', `/groups/${enc(g.uuid)}/policies`), [g.uuid]);
  const users = useLoad(
    () =>
      can('auth.users.read')
        ? api<Page<User>>('GET', '/users', { query: { limit: 500, order: 'username' } })
        : Promise.resolve({ total: 0, filtered: 0, items: [] as User[] }),
    [props.tenantUuid],
  );
  const allPolicies = useLoad(
    () => api<Page<Policy>>('GET', '/policies', { query: { limit: 500, order: 'name' } }),
    [props.tenantUuid],
  );
  const [name, setName] = useState(g.name);
  const [member, setMember] = useState('');
  const [policy, setPolicy] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const { fields } = fieldErrors(err);
  const { ask, dialog } = useConfirm(() => {
    members.reload();
    policies.reload();
  }, setErr);
  const done = (reload: () => void) => () => {
    setErr(null);
    reload();
  };
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
          <button type="submit" class="primary" disabled={name.trim() === '' || name === g.name}>
            {t('common.save')}
          </button>
          {saved ? <p role="status">{t('common.saved')}</p> : null}
        </form>
      ) : (
        <h2>{g.name}</h2>
      )}
      <ErrorBox error={fields.name ? null : err} />
      <h2>{t('groups.members')}</h2>
      {members.data === null ? (
        members.error ? (
          <ErrorBox error={members.error} />
        ) : (
          <Loading />
        )
      ) : members.data.items.length === 0 ? (
        <Empty />
      ) : (
        <ul class="rows">
          {members.data.items.map((u) => (
            <li key={u.uuid} data-member={u.username ?? u.uuid}>
              <span>{u.username ?? u.uuid}</span>
              {can(`auth.groups.${g.uuid}.users.${u.uuid}.delete`) ? (
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    ask({
                      text: t('groups.confirmRemoveMember', { x: u.username ?? u.uuid, g: g.name }),
                      action: t('groups.removeMember'),
                      run: () => api('DELETE', `/groups/${enc(g.uuid)}/users/${enc(u.uuid)}`),
                    })
                  }
                >
                  {t('groups.removeMember')}
                  <span class="sr-only"> {u.username ?? u.uuid}</span>
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {(users.data?.items ?? []).some((u) => !inGroup.has(u.uuid)) ? (
        <div class="inline">
          <label for={`gm-${g.uuid}`}>{t('groups.addUser')}</label>
          <select
            id={`gm-${g.uuid}`}
            name="member"
            value={member}
            onChange={(e) => setMember((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">—</option>
            {(users.data?.items ?? [])
              .filter((u) => !inGroup.has(u.uuid))
              .map((u) => (
                <option key={u.uuid} value={u.uuid}>
                  {u.username ?? u.uuid}
                </option>
              ))}
          </select>
          <button
            type="button"
            disabled={member === '' || !can(`auth.groups.${g.uuid}.users.${member}.create`)}
            onClick={() =>
              api('PUT', `/groups/${enc(g.uuid)}/users/${enc(member)}`).then(() => {
                setMember('');
                done(members.reload)();
              }, setErr)
            }
          >
            {t('groups.addUser')}
          </button>
        </div>
      ) : null}
      <h2>{t('users.policies')}</h2>
      {policies.data === null ? (
        policies.error ? (
          <ErrorBox error={policies.error} />
        ) : (
          <Loading />
        )
      ) : policies.data.items.length === 0 ? (
        <Empty />
      ) : (
        <ul class="rows">
          {policies.data.items.map((p) => (
            <li key={p.uuid} data-policy={p.name}>
              <span>{p.name}</span>
              {can(`auth.groups.${g.uuid}.policies.${p.uuid}.delete`) ? (
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    ask({
                      text: t('groups.confirmDetach', { x: p.name, g: g.name }),
                      action: t('users.detach'),
                      run: () => api('DELETE', `/groups/${enc(g.uuid)}/policies/${enc(p.uuid)}`),
                    })
                  }
                >
                  {t('users.detach')}
                  <span class="sr-only"> {p.name}</span>
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {(allPolicies.data?.items ?? []).some((p) => !attached.has(p.uuid)) ? (
        <div class="inline">
          <label for={`gp-${g.uuid}`}>{t('users.addPolicy')}</label>
          <select
            id={`gp-${g.uuid}`}
            name="group_policy"
            value={policy}
            onChange={(e) => setPolicy((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">—</option>
            {(allPolicies.data?.items ?? [])
              .filter((p) => !attached.has(p.uuid))
              .map((p) => (
                <option key={p.uuid} value={p.uuid}>
                  {p.name}
                </option>
              ))}
          </select>
          <button
            type="button"
            disabled={policy === '' || !can(`auth.groups.${g.uuid}.policies.${policy}.create`)}
            onClick={() =>
              api('PUT', `/groups/${enc(g.uuid)}/policies/${enc(policy)}`).then(() => {
                setPolicy('');
                done(policies.reload)();
              }, setErr)
            }
          >
            {t('users.addPolicy')}
          </button>
        </div>
      ) : null}
      {dialog}
    </div>
  );
}
