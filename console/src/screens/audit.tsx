// The audit trail: newest first, paginated; filters by action, outcome and
// actor, a text filter and a time window, all applied by the service.
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { api, type Page } from '../session.js';
import { Empty, ErrorBox, Field, fieldErrors, Loading, Section, Select, useLoad } from '../ui.js';
import { Pager, useUserNames } from './common.js';

interface AuditEntry {
  uuid: string;
  timestamp: string;
  action: string;
  outcome: string;
  user_uuid: string | null;
  auth_id: string | null;
  login: string | null;
  remote_addr: string | null;
  target_type: string | null;
  target_id: string | null;
  status_code: number | null;
  details: Record<string, unknown>;
}

/** A datetime-local value (the browser's zone) as the API's instant (UTC), or undefined. */
function instant(local: string): string | undefined {
  if (local === '') return undefined;
  const ms = new Date(local).getTime();
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

const OUTCOMES = ['success', 'failure', 'denied', 'throttled', 'error', 'mfa_required', 'challenged', 'enrolment_required'];

export function AuditScreen(props: { tenantUuid: string | null }) {
  // A link may open the trail already filtered (a user's details: `#/audit?actor=<user uuid>`).
  const linked = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const [search, setSearch] = useState(() => linked.get('search') ?? '');
  const [action, setAction] = useState(() => linked.get('action') ?? '');
  const [outcome, setOutcome] = useState(() => linked.get('outcome') ?? '');
  const [actor, setActor] = useState(() => linked.get('actor') ?? '');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [offset, setOffset] = useState(0);
  const limit = 25;
  // The time window is filtered by the service (from inclusive, until exclusive): pages hold only its records.
  const list = useLoad(
    () =>
      api<Page<AuditEntry>>('GET', '/audit', {
        query: {
          limit,
          offset,
          search: search || undefined,
          recurse: true,
          from: instant(from),
          until: instant(to),
          action: action.trim() || undefined,
          outcome: outcome || undefined,
          actor: actor.trim() || undefined,
        },
      }),
    [props.tenantUuid, search, offset, from, to, action, outcome, actor],
  );
  const { fields } = fieldErrors(list.error);
  const items = list.data?.items ?? [];
  const who = useUserNames(props.tenantUuid);
  return (
    <Section title={t('nav.audit')}>
      <div class="toolbar" role="search">
        <Field
          label={t('audit.action')}
          name="action"
          value={action}
          onInput={(v) => {
            setAction(v);
            setOffset(0);
          }}
          error={fields.action}
          hint={t('audit.action.hint')}
        />
        <Select
          label={t('audit.outcome')}
          name="outcome"
          value={outcome}
          onChange={(v) => {
            setOutcome(v);
            setOffset(0);
          }}
          options={[{ value: '', label: t('audit.outcome.any') }, ...OUTCOMES.map((o) => ({ value: o, label: o }))]}
        />
        <Field
          label={t('audit.actor')}
          name="actor"
          value={actor}
          onInput={(v) => {
            setActor(v);
            setOffset(0);
          }}
          error={fields.actor}
          hint={t('audit.actor.hint')}
        />
        <Field
          label={t('audit.filter')}
          name="search"
          type="search"
          value={search}
          onInput={(v) => {
            setSearch(v);
            setOffset(0);
          }}
        />
        <Field
          label={t('audit.from')}
          name="from"
          type="datetime-local"
          value={from}
          onInput={(v) => {
            setFrom(v);
            setOffset(0);
          }}
          error={fields.from}
        />
        <Field
          label={t('audit.to')}
          name="to"
          type="datetime-local"
          value={to}
          onInput={(v) => {
            setTo(v);
            setOffset(0);
          }}
          error={fields.until}
        />
      </div>
      <ErrorBox error={fields.from || fields.until || fields.action || fields.actor ? null : list.error} />
      {list.data === null ? (
        list.error ? null : (
          <Loading />
        )
      ) : items.length === 0 ? (
        <Empty />
      ) : (
        <table class="audit">
          <thead>
            <tr>
              <th scope="col">{t('audit.when')}</th>
              <th scope="col">{t('audit.action')}</th>
              <th scope="col">{t('audit.outcome')}</th>
              <th scope="col">{t('audit.actor')}</th>
              <th scope="col">{t('audit.target')}</th>
              <th scope="col">{t('audit.details')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.uuid} data-action={e.action}>
                <td>
                  <time dateTime={e.timestamp}>{new Date(e.timestamp).toLocaleString()}</time>
                </td>
                <td>
                  <button
                    type="button"
                    class="link"
                    title={t('audit.only')}
                    onClick={() => {
                      setAction(e.action);
                      setOffset(0);
                    }}
                  >
                    {e.action}
                  </button>
                </td>
                <td>{e.outcome}</td>
                <td data-actor={e.user_uuid ?? ''}>
                  {(e.user_uuid !== null ? who.get(e.user_uuid) : undefined) ?? e.auth_id ?? e.login ?? '—'}{' '}
                  <span class="muted">{e.remote_addr ?? ''}</span>
                </td>
                <td>
                  {e.target_type ? `${e.target_type} ` : ''}
                  <code>{e.target_id ?? ''}</code>
                </td>
                <td>
                  {e.status_code ?? ''}
                  {Object.keys(e.details).length > 0 ? (
                    <details>
                      <summary>{t('audit.details')}</summary>
                      <pre class="json">{JSON.stringify(e.details, null, 2)}</pre>
                    </details>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data !== null ? <Pager offset={offset} limit={limit} total={list.data.filtered} onOffset={setOffset} /> : null}
    </Section>
  );
}
