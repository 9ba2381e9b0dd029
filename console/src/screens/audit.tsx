// The audit trail: newest first, paginated; a text filter and a time window,
// both applied by the service.
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { api, type Page } from '../session.js';
import { Empty, ErrorBox, Field, fieldErrors, Loading, Section, useLoad } from '../ui.js';
import { Pager, useUserNames } from './common.js';

interface AuditEntry {
  uuid: string; timestamp: string; action: string; outcome: string; user_uuid: string | null; auth_id: string | null;
  login: string | null; remote_addr: string | null; target_type: string | null; target_id: string | null;
  status_code: number | null; details: Record<string, unknown>;
}

/** A datetime-local value (the browser's zone) as the API's instant (UTC), or undefined. */
function instant(local: string): string | undefined {
  if (local === '') return undefined;
  const ms = new Date(local).getTime();
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function AuditScreen(props: { tenantUuid: string | null }) {
  // A link may open the trail already filtered (a user's details: `#/audit?search=<username>`).
  const [search, setSearch] = useState(() => new URLSearchParams(location.hash.split('?')[1] ?? '').get('search') ?? '');
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
              <td><button type="button" class="link" title={t('audit.only')} onClick={() => { setSearch(e.action); setOffset(0); }}>{e.action}</button></td>
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
