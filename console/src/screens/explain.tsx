// The access explainer: a user's (or a pasted token's) ACL, an access, and
// the verdict of @xivo-auth/acl's explain() with the pattern that decided.
import { explain } from '@xivo-auth/acl';
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { api, can, client, enc, type Page } from '../session.js';
import { ErrorBox, Field, Section, useLoad } from '../ui.js';
import type { Group, Policy, User } from './common.js';
import { accessProblem } from './policies.js';

export function ExplainScreen(props: { tenantUuid: string | null }) {
  const users = useLoad(
    () =>
      can('auth.users.read')
        ? api<Page<User>>('GET', '/users', { query: { limit: 500, order: 'username' } })
        : Promise.resolve({ total: 0, filtered: 0, items: [] as User[] }),
    [props.tenantUuid],
  );
  const [user, setUser] = useState('');
  const [pasted, setPasted] = useState('');
  const [access, setAccess] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [result, setResult] = useState<{
    allowed: boolean;
    pattern: string | null;
    acl: string[];
    me: string;
    session: string;
  } | null>(null);
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
          <select
            id="explain-user"
            name="user"
            value={user}
            onChange={(e) => setUser((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">{t('explain.pick')}</option>
            {(users.data?.items ?? []).map((u) => (
              <option key={u.uuid} value={u.uuid}>
                {u.username ?? u.uuid}
              </option>
            ))}
          </select>
        </div>
        <Field label={t('explain.token')} name="token" type="password" value={pasted} onInput={setPasted} />
        <Field
          label={t('explain.access')}
          name="access"
          value={access}
          onInput={setAccess}
          required
          error={
            access !== '' && accessProblem(access.replace(/^!/, '')) !== null ? (accessProblem(access) ?? undefined) : undefined
          }
        />
        <div class="buttons">
          <button type="submit" class="primary">
            {t('explain.check')}
          </button>
        </div>
        <p class="hint">{t('explain.userNote')}</p>
      </form>
      <ErrorBox error={err} />
      {result !== null ? (
        <div
          class={`verdict ${result.allowed ? 'granted' : 'denied'}`}
          role="status"
          data-verdict={result.allowed ? 'granted' : 'denied'}
        >
          <p class="verdict-word">{result.allowed ? t('explain.granted') : t('explain.denied')}</p>
          <p>{result.pattern !== null ? t('explain.by', { p: result.pattern }) : t('explain.nothing')}</p>
          <p class="muted">{t('explain.subst', { me: result.me, s: result.session || '—' })}</p>
          <details>
            <summary>{t('explain.acl')}</summary>
            <ul>
              {result.acl.map((a) => (
                <li key={a}>
                  <code>{a}</code>
                </li>
              ))}
            </ul>
          </details>
        </div>
      ) : null}
    </Section>
  );
}
