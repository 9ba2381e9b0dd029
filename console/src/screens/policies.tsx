// Policies, and their ACL editor checking each access as it is typed with
// the service's own limits.
import { useState } from 'preact/hooks';
import { ACCESS_WILDCARDS_PATTERN, MAX_ACCESS_LENGTH, MAX_ACL_ENTRIES } from '../../../src/access-limits.js';
import { t } from '../i18n.js';
import { api, can, enc, type Page } from '../session.js';
import { Checkbox, Empty, ErrorBox, Field, fieldErrors, Loading, Section, useLoad } from '../ui.js';
import { useConfirm, type Policy } from './common.js';

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
    <Section
      title={t('nav.policies')}
      actions={
        can('auth.policies.create') ? (
          <button type="button" onClick={() => setEditing('new')}>
            {t('policies.new')}
          </button>
        ) : null
      }
    >
      <ErrorBox error={err ?? list.error} />
      {editing !== null ? (
        <PolicyForm
          policy={editing === 'new' ? null : editing}
          onDone={() => {
            setEditing(null);
            list.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {list.data === null ? (
        <Loading />
      ) : list.data.items.length === 0 ? (
        <Empty />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('common.name')}</th>
              <th scope="col">ACL</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((p) => (
              <tr key={p.uuid} data-policy={p.name}>
                <td>
                  {p.name} {p.read_only ? <span class="badge">{t('policies.readOnly')}</span> : null}
                </td>
                <td>
                  <code class="acl">{p.acl.join(' ')}</code>
                </td>
                <td class="actions">
                  {!p.read_only && can(`auth.policies.${p.uuid}.update`) ? (
                    <button type="button" onClick={() => setEditing(p)}>
                      {t('common.edit')}
                    </button>
                  ) : null}
                  {!p.read_only && can(`auth.policies.${p.uuid}.delete`) ? (
                    <button
                      type="button"
                      class="danger"
                      onClick={() =>
                        ask({
                          text: t('common.confirmDelete', { x: p.name }),
                          action: t('common.delete'),
                          run: () => api('DELETE', `/policies/${enc(p.uuid)}`),
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
    const body = {
      name,
      description: description || null,
      acl: acl
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
      shared,
    };
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
      <Field
        label={t('common.description')}
        name="description"
        value={description}
        onInput={setDescription}
        error={fields.description}
      />
      <Field
        label={t('policies.acl')}
        name="acl"
        multiline
        value={acl}
        onInput={setAcl}
        error={aclError}
        invalid={live !== null}
      />
      <Checkbox label={t('policies.shared')} name="shared" checked={shared} onChange={setShared} />
      <ErrorBox error={err} />
      <div class="buttons">
        <button type="button" onClick={props.onCancel}>
          {t('common.cancel')}
        </button>
        <button type="submit" class="primary" disabled={live !== null}>
          {p === null ? t('common.create') : t('common.save')}
        </button>
      </div>
    </form>
  );
}
