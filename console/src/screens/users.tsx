// Users: search and filters, create, edit, enable/disable, delete; a user's
// details (method, password, addresses, second factors, policies, groups,
// sessions, refresh tokens).
import { useState } from 'preact/hooks';
import { t, tOr } from '../i18n.js';
import { api, can, enc, type Page } from '../session.js';
import { Checkbox, Empty, ErrorBox, Field, fieldErrors, Loading, Section, Select, useLoad } from '../ui.js';
import { Pager, useConfirm, type Email, type Group, type MfaFactor, type Policy, type Session, type User } from './common.js';

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
  const list = useLoad(
    () =>
      api<Page<User>>('GET', '/users', {
        query: {
          limit,
          offset,
          search: search || undefined,
          order: 'username',
          purpose: purpose || undefined,
          group_uuid: group || undefined,
          has_policy_uuid: policy || undefined,
          recurse: recurse || undefined,
        },
      }),
    [props.tenantUuid, search, purpose, group, policy, recurse, offset],
  );
  const groups = useLoad(
    () =>
      can('auth.groups.read')
        ? api<Page<Group>>('GET', '/groups', { query: { limit: 500, order: 'name' } })
        : Promise.resolve(null),
    [props.tenantUuid],
  );
  const policies = useLoad(
    () =>
      can('auth.policies.read')
        ? api<Page<Policy>>('GET', '/policies', { query: { limit: 500, order: 'name' } })
        : Promise.resolve(null),
    [props.tenantUuid],
  );
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const { ask, dialog } = useConfirm(list.reload, setError);
  const openUser = list.data?.items.find((x) => x.uuid === open);
  const filter = (set: (v: string) => void) => (v: string) => {
    set(v);
    setOffset(0);
  };
  const setEnabled = (u: User, enabled: boolean) => api('PUT', `/users/${enc(u.uuid)}`, { body: userBody(u, { enabled }) });
  const toggle = (u: User) => {
    // Disabling ends every session of the user: asked first; enabling is not destructive.
    if (u.enabled) {
      ask({
        text: t('users.confirmDisable', { x: u.username ?? u.uuid }),
        action: t('users.disable'),
        run: () => setEnabled(u, false),
      });
    } else {
      setEnabled(u, true).then(list.reload, setError);
    }
  };
  return (
    <Section
      title={t('nav.users')}
      actions={
        can('auth.users.create') ? (
          <button type="button" onClick={() => setEditing('new')}>
            {t('users.new')}
          </button>
        ) : null
      }
    >
      <div class="toolbar" role="search" aria-label={t('users.filters')}>
        <Field label={t('common.search')} name="search" type="search" value={search} onInput={filter(setSearch)} />
        <Select
          label={t('users.purpose')}
          name="purpose"
          value={purpose}
          onChange={filter(setPurpose)}
          options={[{ value: '', label: t('common.any') }, ...PURPOSES.map((p) => ({ value: p, label: t(`purpose.${p}`) }))]}
        />
        {groups.data !== null && groups.data.items.length > 0 ? (
          <Select
            label={t('users.inGroup')}
            name="group_filter"
            value={group}
            onChange={filter(setGroup)}
            options={[{ value: '', label: t('common.any') }, ...groups.data.items.map((g) => ({ value: g.uuid, label: g.name }))]}
          />
        ) : null}
        {policies.data !== null && policies.data.items.length > 0 ? (
          <Select
            label={t('users.hasPolicy')}
            name="policy_filter"
            value={policy}
            onChange={filter(setPolicy)}
            options={[
              { value: '', label: t('common.any') },
              ...policies.data.items.map((p) => ({ value: p.uuid, label: p.name })),
            ]}
          />
        ) : null}
        <Checkbox
          label={t('users.recurse')}
          name="recurse"
          checked={recurse}
          onChange={(v) => {
            setRecurse(v);
            setOffset(0);
          }}
        />
      </div>
      <ErrorBox error={error ?? list.error} />
      {editing !== null ? (
        <UserForm
          key={editing === 'new' ? 'new' : editing.uuid}
          user={editing === 'new' ? null : editing}
          onDone={() => {
            setEditing(null);
            list.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {list.loading && list.data === null ? (
        <Loading />
      ) : list.data === null || list.data.items.length === 0 ? (
        <Empty />
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('users.username')}</th>
                <th scope="col">{t('users.email')}</th>
                <th scope="col">{t('users.purpose')}</th>
                <th scope="col">{t('users.enabled')}</th>
                <th scope="col">{t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((u) => (
                <tr key={u.uuid} data-username={u.username ?? ''}>
                  <td>
                    {u.username ?? '—'} <span class="muted">{[u.firstname, u.lastname].filter(Boolean).join(' ')}</span>
                  </td>
                  <td>{u.emails.map((m) => m.address).join(', ')}</td>
                  <td>{tOr(`purpose.${u.purpose}`, u.purpose)}</td>
                  <td data-enabled={String(u.enabled)}>{u.enabled ? t('common.yes') : t('common.no')}</td>
                  <td class="actions">
                    <button
                      type="button"
                      aria-expanded={open === u.uuid}
                      onClick={() => setOpen(open === u.uuid ? null : u.uuid)}
                    >
                      {t('users.details')}
                      <span class="sr-only"> {u.username ?? u.uuid}</span>
                    </button>
                    {can(`auth.users.${u.uuid}.update`) ? (
                      <>
                        <button type="button" onClick={() => setEditing(u)}>
                          {t('common.edit')}
                          <span class="sr-only"> {u.username ?? u.uuid}</span>
                        </button>
                        <button type="button" onClick={() => toggle(u)}>
                          {u.enabled ? t('users.disable') : t('users.enable')}
                          <span class="sr-only"> {u.username ?? u.uuid}</span>
                        </button>
                      </>
                    ) : null}
                    {can(`auth.users.${u.uuid}.delete`) ? (
                      <button
                        type="button"
                        class="danger"
                        onClick={() =>
                          ask({
                            text: t('common.confirmDelete', { x: u.username ?? u.uuid }),
                            action: t('common.delete'),
                            run: () => api('DELETE', `/users/${enc(u.uuid)}`),
                          })
                        }
                      >
                        {t('common.delete')}
                        <span class="sr-only"> {u.username ?? u.uuid}</span>
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager offset={offset} limit={limit} total={list.data.filtered} onOffset={setOffset} />
          {openUser !== undefined ? (
            <UserDetails key={openUser.uuid} user={openUser} onChanged={list.reload} tenantUuid={props.tenantUuid} />
          ) : null}
        </>
      )}
      {dialog}
    </Section>
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
            username: username || null,
            password: password || null,
            firstname: firstname || undefined,
            lastname: lastname || undefined,
            email_address: email || null,
            purpose,
          },
        });
      } else {
        await api('PUT', `/users/${enc(x.uuid)}`, {
          body: {
            ...userBody(x, {}),
            username: username || null,
            firstname: firstname || null,
            lastname: lastname || null,
            purpose,
          },
        });
      }
      props.onDone();
    } catch (error) {
      setErr(error);
    }
  };
  return (
    <form
      class="card"
      onSubmit={submit}
      aria-label={x === null ? t('users.new') : t('users.editTitle', { x: x.username ?? x.uuid })}
    >
      <div class="grid2">
        <Field label={t('users.username')} name="username" value={username} onInput={setUsername} error={fields.username} />
        {x === null ? (
          <Field
            label={t('users.password')}
            name="password"
            type="password"
            autocomplete="new-password"
            value={password}
            onInput={setPassword}
            error={fields.password}
          />
        ) : null}
        <Field label={t('users.firstname')} name="firstname" value={firstname} onInput={setFirstname} error={fields.firstname} />
        <Field label={t('users.lastname')} name="lastname" value={lastname} onInput={setLastname} error={fields.lastname} />
        {x === null ? (
          <Field
            label={t('users.email')}
            name="email_address"
            type="email"
            value={email}
            onInput={setEmail}
            error={fields.email_address}
          />
        ) : null}
        <Select
          label={t('users.purpose')}
          name="purpose"
          value={purpose}
          onChange={setPurpose}
          error={fields.purpose}
          options={PURPOSES.map((p) => ({ value: p, label: t(`purpose.${p}`) }))}
        />
      </div>
      <ErrorBox error={err} />
      <div class="buttons">
        <button type="button" onClick={props.onCancel}>
          {t('common.cancel')}
        </button>
        <button type="submit" class="primary">
          {x === null ? t('common.create') : t('common.save')}
        </button>
      </div>
    </form>
  );
}

/** A user's authentication method (POST /token refuses any other way). */
const USER_METHODS = ['default', 'native', 'ldap', 'saml', 'oidc'] as const;

/** PUT /users/{u} replaces the user: every editable field, with `changes` (the addresses are left as they are). */
function userBody(u: User, changes: Partial<Pick<User, 'enabled' | 'authentication_method'>>) {
  return {
    username: u.username,
    firstname: u.firstname,
    lastname: u.lastname,
    purpose: u.purpose,
    enabled: changes.enabled ?? u.enabled,
    authentication_method: changes.authentication_method ?? u.authentication_method,
  };
}

interface RefreshToken {
  client_id: string;
  created_at: string;
  mobile: boolean;
}

function UserDetails(props: { user: User; onChanged: () => void; tenantUuid: string | null }) {
  const user = props.user;
  const u = user.uuid;
  const name = user.username ?? u;
  const policies = useLoad(() => api<Page<Policy>>('GET', `/users/${enc(u)}/policies`), [u]);
  const groups = useLoad(() => api<Page<Group>>('GET', `/users/${enc(u)}/groups`), [u]);
  const sessions = useLoad(() => api<Page<Session>>('GET', `/users/${enc(u)}/sessions`), [u]);
  const all = useLoad(() => api<Page<Policy>>('GET', '/policies', { query: { limit: 500, order: 'name' } }), [u]);
  const allGroups = useLoad(
    () =>
      can('auth.groups.read')
        ? api<Page<Group>>('GET', '/groups', { query: { limit: 500, order: 'name' } })
        : Promise.resolve(null),
    [u, props.tenantUuid],
  );
  const [pick, setPick] = useState('');
  const [pickGroup, setPickGroup] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const run = (p: Promise<unknown>, reload: () => void) =>
    p.then(() => {
      setErr(null);
      reload();
    }, setErr);
  const { ask, dialog } = useConfirm(() => {
    sessions.reload();
    policies.reload();
    groups.reload();
  }, setErr);
  const member = new Set((groups.data?.items ?? []).map((g) => g.uuid));
  const joinable = (allGroups.data?.items ?? []).filter((g) => !member.has(g.uuid) && !g.system_managed);
  const attached = new Set((policies.data?.items ?? []).map((p) => p.uuid));
  const attachable = (all.data?.items ?? []).filter((p) => !attached.has(p.uuid));
  return (
    <div class="card details" role="region" aria-label={`${t('users.details')}: ${name}`} data-user={u}>
      <h2>{name}</h2>
      {can('auth.audit.read') ? (
        <p>
          <a href={`#/audit?actor=${enc(u)}`}>{t('users.audit')}</a>
        </p>
      ) : null}
      <ErrorBox error={err} />
      <AccountSection user={user} onChanged={props.onChanged} />
      {can(`auth.users.password.reset.${u}.create`) ? <PasswordSection user={user} onChanged={sessions.reload} /> : null}
      <EmailsSection user={user} onChanged={props.onChanged} />
      {can(`auth.users.${u}.mfa.read`) ? <MfaSection user={user} /> : null}
      <h3>{t('users.policies')}</h3>
      {policies.data === null ? (
        <Loading />
      ) : policies.data.items.length === 0 ? (
        <Empty />
      ) : (
        <ul class="rows">
          {policies.data.items.map((p) => (
            <li key={p.uuid} data-policy={p.name}>
              <span>{p.name}</span>
              {can(`auth.users.${u}.policies.${p.uuid}.delete`) ? (
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    ask({
                      text: t('users.confirmDetach', { x: p.name, u: name }),
                      action: t('users.detach'),
                      run: () => api('DELETE', `/users/${enc(u)}/policies/${enc(p.uuid)}`),
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
      {attachable.length > 0 ? (
        <div class="inline">
          <label for={`pick-${u}`}>{t('users.addPolicy')}</label>
          <select
            id={`pick-${u}`}
            name="policy"
            value={pick}
            onChange={(e) => setPick((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">—</option>
            {attachable.map((p) => (
              <option key={p.uuid} value={p.uuid}>
                {p.name}
              </option>
            ))}
          </select>
          <button
            type="button"
            disabled={pick === '' || !can(`auth.users.${u}.policies.${pick}.create`)}
            onClick={() =>
              run(
                api('PUT', `/users/${enc(u)}/policies/${enc(pick)}`).then(() => setPick('')),
                policies.reload,
              )
            }
          >
            {t('users.addPolicy')}
          </button>
        </div>
      ) : null}
      <h3>{t('users.groups')}</h3>
      {groups.data === null ? (
        <Loading />
      ) : groups.data.items.length === 0 ? (
        <Empty />
      ) : (
        <ul class="rows">
          {groups.data.items.map((g) => (
            <li key={g.uuid} data-group={g.name}>
              <span>{g.name}</span>
              {!g.system_managed && can(`auth.groups.${g.uuid}.users.${u}.delete`) ? (
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    ask({
                      text: t('users.confirmLeave', { x: name, g: g.name }),
                      action: t('users.leaveGroup'),
                      run: () => api('DELETE', `/groups/${enc(g.uuid)}/users/${enc(u)}`),
                    })
                  }
                >
                  {t('users.leaveGroup')}
                  <span class="sr-only"> {g.name}</span>
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {joinable.length > 0 ? (
        <div class="inline">
          <label for={`join-${u}`}>{t('users.joinGroup')}</label>
          <select
            id={`join-${u}`}
            name="join_group"
            value={pickGroup}
            onChange={(e) => setPickGroup((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">—</option>
            {joinable.map((g) => (
              <option key={g.uuid} value={g.uuid}>
                {g.name}
              </option>
            ))}
          </select>
          <button
            type="button"
            disabled={pickGroup === '' || !can(`auth.groups.${pickGroup}.users.${u}.create`)}
            onClick={() =>
              run(
                api('PUT', `/groups/${enc(pickGroup)}/users/${enc(u)}`).then(() => setPickGroup('')),
                groups.reload,
              )
            }
          >
            {t('users.joinGroup')}
          </button>
        </div>
      ) : null}
      <h3>{t('users.sessions')}</h3>
      {sessions.data === null ? (
        <Loading />
      ) : sessions.data.items.length === 0 ? (
        <Empty />
      ) : (
        <ul class="rows">
          {sessions.data.items.map((s) => (
            <li key={s.uuid} data-session={s.uuid}>
              <code>{s.uuid}</code>
              {s.mobile ? <span class="badge">{t('sessions.mobile')}</span> : null}
              {can(`auth.users.${u}.sessions.${s.uuid}.delete`) ? (
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    ask({
                      text: t('sessions.confirm', { x: s.uuid }),
                      action: t('sessions.revoke'),
                      run: () => api('DELETE', `/users/${enc(u)}/sessions/${enc(s.uuid)}`),
                    })
                  }
                >
                  {t('sessions.revoke')}
                </button>
              ) : null}
            </li>
          ))}
        </ul>
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
      {list.data === null ? (
        list.error ? null : (
          <Loading />
        )
      ) : list.data.items.length === 0 ? (
        <Empty text={t('users.tokensNone')} />
      ) : (
        <ul class="rows">
          {list.data.items.map((r) => (
            <li key={r.client_id} data-client={r.client_id}>
              <code>{r.client_id}</code>
              {r.mobile ? <span class="badge">{t('sessions.mobile')}</span> : null}
              <span class="muted">{t('users.tokenCreated', { d: new Date(r.created_at).toLocaleString() })}</span>
              {can(`auth.users.${u}.tokens.${r.client_id}.delete`) ? (
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    ask({
                      text: t('users.tokenConfirm', { x: r.client_id }),
                      action: t('common.delete'),
                      run: () => api('DELETE', `/users/${enc(u)}/tokens/${enc(r.client_id)}`),
                    })
                  }
                >
                  {t('common.delete')}
                  <span class="sr-only"> {r.client_id}</span>
                </button>
              ) : null}
            </li>
          ))}
        </ul>
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
    return (
      <p>
        <strong>{t('users.method')}</strong>:{' '}
        <span data-method={user.authentication_method}>
          {tOr(`method.${user.authentication_method}`, user.authentication_method)}
        </span>
      </p>
    );
  }
  return (
    <form class="inline-form" onSubmit={submit} aria-label={t('users.method')}>
      <Select
        label={t('users.method')}
        name="authentication_method"
        value={method}
        onChange={setMethod}
        options={USER_METHODS.map((m) => ({ value: m, label: t(`method.${m}`) }))}
        error={fields.authentication_method}
      />
      <button type="submit" class="primary" disabled={method === user.authentication_method}>
        {t('common.save')}
      </button>
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
  const { ask, dialog } = useConfirm(() => {
    setPassword('');
    setAgain('');
    setErr(null);
    setDone(true);
    props.onChanged();
  }, setErr);
  const { fields } = fieldErrors(err);
  const mismatch = again !== '' && again !== password;
  const submit = (e: Event) => {
    e.preventDefault();
    setDone(false);
    if (mismatch || password === '') return;
    ask({
      text: t('users.passwordConfirm', { x: user.username ?? user.uuid }),
      action: t('users.setPassword'),
      run: () => api('POST', '/users/password/reset', { query: { user_uuid: user.uuid }, body: { password } }),
    });
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-label={t('users.setPassword')}>
      <Field
        label={t('users.newPassword')}
        name="new_password"
        type="password"
        autocomplete="new-password"
        value={password}
        onInput={setPassword}
        error={fields.password}
        required
      />
      <Field
        label={t('users.passwordAgain')}
        name="new_password_again"
        type="password"
        autocomplete="new-password"
        value={again}
        onInput={setAgain}
        error={mismatch ? t('users.passwordMismatch') : undefined}
        required
      />
      <button type="submit" class="primary" disabled={mismatch}>
        {t('users.setPassword')}
      </button>
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
        address: m.address,
        main: m.main,
        ...(admin ? { confirmed: m.newOne ? confirmed : null } : {}),
      })),
    };
    const answer = await api<Email[]>(
      'PUT',
      admin ? `/admin/users/${enc(user.uuid)}/emails` : `/users/${enc(user.uuid)}/emails`,
      { body },
    );
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
      {emails.length === 0 ? (
        <Empty />
      ) : (
        <ul class="rows">
          {emails.map((m) => (
            <li key={m.address} data-email={m.address}>
              <span>{m.address}</span>
              {m.main ? <span class="badge">{t('users.main')}</span> : null}
              <span class="badge">{m.confirmed ? t('users.confirmed') : t('users.unconfirmed')}</span>
              {editable && !m.main ? (
                <button type="button" onClick={() => void makeMain(m)}>
                  {t('users.makeMain')}
                </button>
              ) : null}
              {editable ? (
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    ask({
                      text: t('users.emailConfirmRemove', { x: m.address }),
                      action: t('common.delete'),
                      run: () => remove(m),
                    })
                  }
                >
                  {t('common.delete')}
                  <span class="sr-only"> {m.address}</span>
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {editable ? (
        <form class="inline-form" onSubmit={add} aria-label={t('users.addEmail')}>
          <Field
            label={t('users.newEmail')}
            name="new_email"
            type="email"
            value={address}
            onInput={setAddress}
            error={fieldError}
            required
          />
          {admin ? (
            <Checkbox label={t('users.markConfirmed')} name="new_email_confirmed" checked={confirmed} onChange={setConfirmed} />
          ) : null}
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
      {list.data === null ? (
        list.error ? null : (
          <Loading />
        )
      ) : list.data.items.length === 0 ? (
        <Empty text={t('users.mfaNone')} />
      ) : (
        <ul class="rows">
          {list.data.items.map((f) => (
            <li key={f.uuid} data-factor={f.type}>
              <span>
                {tOr(`mfa.${f.type}`, f.type)}
                {f.name ? ` — ${f.name}` : ''}
              </span>
              <span class="badge">{f.confirmed ? t('users.confirmed') : t('users.unconfirmed')}</span>
              {f.remaining !== undefined ? <span class="muted">{t('users.mfaRemaining', { n: f.remaining })}</span> : null}
              {can(`auth.users.${u}.mfa.${f.uuid}.delete`) ? (
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    ask({
                      text: t('users.mfaConfirmRemove', { x: f.name ?? f.type }),
                      action: t('common.delete'),
                      run: () => api('DELETE', `/users/${enc(u)}/mfa/${enc(f.uuid)}`),
                    })
                  }
                >
                  {t('common.delete')}
                  <span class="sr-only"> {f.type}</span>
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {dialog}
    </div>
  );
}
