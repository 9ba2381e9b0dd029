// Sessions of the tenant, with their user's name; revoke.
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { api, can, currentToken, enc, type Page } from '../session.js';
import { Empty, ErrorBox, Loading, Section, useLoad } from '../ui.js';
import { Pager, useConfirm, useUserNames, type Session } from './common.js';

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
      {list.data === null ? (
        <Loading />
      ) : list.data.items.length === 0 ? (
        <Empty />
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('sessions.session')}</th>
                <th scope="col">{t('sessions.user')}</th>
                <th scope="col">{t('sessions.mobile')}</th>
                <th scope="col">{t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((s) => (
                <tr key={s.uuid} data-session={s.uuid}>
                  <td>
                    <code>{s.uuid}</code>
                    {s.uuid === mine ? (
                      <>
                        {' '}
                        <span class="badge">{t('sessions.mine')}</span>
                      </>
                    ) : null}
                  </td>
                  <td data-user={s.user_uuid ?? ''}>
                    {s.user_uuid === null ? '—' : (who.get(s.user_uuid) ?? <code>{s.user_uuid}</code>)}
                  </td>
                  <td>{s.mobile ? t('common.yes') : t('common.no')}</td>
                  <td class="actions">
                    {can(`auth.sessions.${s.uuid}.delete`) ? (
                      <button
                        type="button"
                        class="danger"
                        onClick={() =>
                          ask({
                            text: t('sessions.confirm', { x: s.uuid }),
                            action: t('sessions.revoke'),
                            run: () => api('DELETE', `/sessions/${enc(s.uuid)}`),
                          })
                        }
                      >
                        {t('sessions.revoke')}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager offset={offset} limit={limit} total={list.data.filtered} onOffset={setOffset} />
        </>
      )}
      {dialog}
    </Section>
  );
}
