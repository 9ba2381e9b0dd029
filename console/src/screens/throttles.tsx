// Login throttling: the counters backing off, and unlock.
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { api, can, enc } from '../session.js';
import { Empty, ErrorBox, Loading, Section, useLoad } from '../ui.js';
import { useConfirm } from './common.js';

interface Throttle {
  id: string;
  kind: 'address' | 'account';
  login: string | null;
  remote_addr: string | null;
  failures: number;
  attempts: number;
  blocked_until: string;
}

export function ThrottlesScreen(props: { tenantUuid: string | null }) {
  const list = useLoad(
    () => api<{ total: number; items: Throttle[] }>('GET', '/security/throttles', { query: { recurse: true } }),
    [props.tenantUuid],
  );
  const [err, setErr] = useState<unknown>(null);
  const { ask, dialog } = useConfirm(list.reload, setErr);
  return (
    <Section
      title={t('nav.throttles')}
      actions={
        <button type="button" onClick={list.reload} aria-label={t('common.refresh')}>
          ↻
        </button>
      }
    >
      <ErrorBox error={err ?? list.error} />
      {list.data === null ? (
        <Loading />
      ) : list.data.items.length === 0 ? (
        <Empty text={t('throttles.none')} />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('throttles.login')}</th>
              <th scope="col">{t('throttles.kind')}</th>
              <th scope="col">{t('throttles.failures')}</th>
              <th scope="col">{t('throttles.until')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((x) => (
              <tr key={x.id} data-login={x.login ?? ''}>
                <td>{x.login ?? t('throttles.unknown')}</td>
                <td>{x.kind === 'account' ? t('throttles.account') : `${t('throttles.address')} ${x.remote_addr ?? ''}`}</td>
                <td>{x.failures}</td>
                <td>
                  <time dateTime={x.blocked_until}>{new Date(x.blocked_until).toLocaleString()}</time>
                </td>
                <td class="actions">
                  {can('auth.security.throttles.delete') ? (
                    <button
                      type="button"
                      onClick={() =>
                        ask({
                          text: t('throttles.confirm', { x: x.login ?? x.id }),
                          action: t('throttles.unlock'),
                          run: () => api('DELETE', `/security/throttles/${enc(x.id)}`),
                        })
                      }
                    >
                      {t('throttles.unlock')}
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
