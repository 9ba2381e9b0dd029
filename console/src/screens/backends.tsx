// Backends: service status, readiness, enabled backends, and the tenant's
// LDAP configuration (the bind password write-only).
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { api, can, client } from '../session.js';
import { Empty, ErrorBox, Field, fieldErrors, Loading, Section, Select, useLoad } from '../ui.js';
import { useConfirm } from './common.js';

interface Ldap {
  host: string;
  port: number;
  protocol_security: string | null;
  bind_dn: string | null;
  user_base_dn: string;
  user_login_attribute: string;
  user_email_attribute: string;
  search_filters: string | null;
}
interface Readiness {
  status: 'ready' | 'not_ready';
  checks: Record<string, 'ok' | 'fail'>;
}

/** GET /health/ready (outside /0.1, unauthenticated): 503 still carries the failed checks. */
async function readiness(): Promise<Readiness> {
  const res = await fetch('/health/ready', { headers: { accept: 'application/json' }, cache: 'no-store' });
  return (await res.json()) as Readiness;
}

function StateBadge(props: { state: string }) {
  const ok = props.state === 'ok' || props.state === 'ready';
  return <span class={`state ${ok ? 'ok' : props.state === 'disabled' ? 'off' : 'bad'}`}>{props.state}</span>;
}

export function BackendsScreen(props: { tenantUuid: string | null }) {
  const status = useLoad(() => client.status.get(), []);
  const health = useLoad(readiness, []);
  const names = useLoad(() => client.backends.list(), []);
  const ldap = useLoad<Ldap | null | 'hidden'>(
    () =>
      can('auth.backends.ldap.read')
        ? api<Ldap>('GET', '/backends/ldap').catch((e: unknown) =>
            (e as { status?: number }).status === 404 ? null : Promise.reject(e),
          )
        : Promise.resolve('hidden' as const),
    [props.tenantUuid],
  );
  // Kept here: saving or removing reloads the configuration, which remounts the form.
  const [notice, setNotice] = useState<string | null>(null);
  const components = status.data === null ? [] : Object.entries(status.data as unknown as Record<string, { status?: unknown }>);
  return (
    <Section
      title={t('nav.backends')}
      actions={
        <button
          type="button"
          onClick={() => {
            status.reload();
            health.reload();
          }}
        >
          {t('common.reload')}
        </button>
      }
    >
      <div class="grid2">
        <div>
          <h2>{t('backends.status')}</h2>
          {status.data === null ? (
            status.error ? (
              <ErrorBox error={status.error} />
            ) : (
              <Loading />
            )
          ) : (
            <table class="status">
              <thead>
                <tr>
                  <th scope="col">{t('backends.component')}</th>
                  <th scope="col">{t('backends.state')}</th>
                </tr>
              </thead>
              <tbody>
                {components.map(([name, c]) => (
                  <tr key={name} data-component={name}>
                    <td>{name}</td>
                    <td>
                      <StateBadge state={String(c?.status ?? '?')} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div>
          <h2>{t('backends.health')}</h2>
          {health.data === null ? (
            health.error ? (
              <ErrorBox error={health.error} />
            ) : (
              <Loading />
            )
          ) : (
            <table class="health" data-ready={health.data.status}>
              <caption>{health.data.status === 'ready' ? t('backends.ready') : t('backends.notReady')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('backends.component')}</th>
                  <th scope="col">{t('backends.state')}</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(health.data.checks).map(([name, state]) => (
                  <tr key={name} data-check={name}>
                    <td>{name}</td>
                    <td>
                      <StateBadge state={state} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
      <h2>{t('backends.enabled')}</h2>
      {names.data === null ? (
        <Loading />
      ) : names.data.length === 0 ? (
        <Empty />
      ) : (
        <ul>
          {names.data.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      {ldap.data !== 'hidden' ? (
        <>
          <h2>{t('backends.ldap')}</h2>
          {ldap.error ? (
            <ErrorBox error={ldap.error} />
          ) : ldap.loading && ldap.data === null ? (
            <Loading />
          ) : (
            <LdapForm
              key={`${String(props.tenantUuid)}-${ldap.data === null ? 'none' : 'set'}`}
              current={ldap.data}
              notice={notice}
              onChanged={(n) => {
                setNotice(n);
                ldap.reload();
              }}
              onEdit={() => setNotice(null)}
            />
          )}
        </>
      ) : null}
    </Section>
  );
}

function LdapForm(props: {
  current: Ldap | null;
  notice: string | null;
  onChanged: (notice: string) => void;
  onEdit: () => void;
}) {
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
  const { ask, dialog } = useConfirm(() => {
    setErr(null);
    props.onChanged(t('backends.removed'));
  }, setErr);
  const submit = async (e: Event) => {
    e.preventDefault();
    props.onEdit();
    try {
      await api('PUT', '/backends/ldap', {
        body: {
          host,
          port: port === '' ? undefined : Number(port),
          protocol_security: security === '' ? null : security,
          // Write-only: sent when typed, else the stored one is kept (the service says when it may not be).
          bind_dn: bindDn || null,
          ...(bindPassword !== '' ? { bind_password: bindPassword } : {}),
          user_base_dn: baseDn,
          user_login_attribute: loginAttr,
          user_email_attribute: emailAttr || undefined,
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
          <Select
            label={t('backends.protocol')}
            name="protocol_security"
            value={security}
            onChange={setSecurity}
            error={fields.protocol_security}
            options={[
              { value: '', label: t('backends.plain') },
              { value: 'tls', label: 'StartTLS' },
              { value: 'ldaps', label: 'LDAPS' },
            ]}
          />
          <Field label={t('backends.bindDn')} name="bind_dn" value={bindDn} onInput={setBindDn} error={fields.bind_dn} />
          <Field
            label={t('backends.bindPassword')}
            name="bind_password"
            type="password"
            autocomplete="new-password"
            value={bindPassword}
            onInput={setBindPassword}
            error={fields.bind_password}
          />
          <Field
            label={t('backends.baseDn')}
            name="user_base_dn"
            value={baseDn}
            onInput={setBaseDn}
            error={fields.user_base_dn}
            required
          />
          <Field
            label={t('backends.loginAttr')}
            name="user_login_attribute"
            value={loginAttr}
            onInput={setLoginAttr}
            error={fields.user_login_attribute}
            required
          />
          <Field
            label={t('backends.emailAttr')}
            name="user_email_attribute"
            value={emailAttr}
            onInput={setEmailAttr}
            error={fields.user_email_attribute}
          />
          <Field
            label={t('backends.searchFilters')}
            name="search_filters"
            value={filters}
            onInput={setFilters}
            error={fields.search_filters}
          />
        </div>
      </fieldset>
      <ErrorBox error={err} />
      {props.notice !== null ? <p role="status">{props.notice}</p> : null}
      {editable || (c !== null && can('auth.backends.ldap.delete')) ? (
        <div class="buttons">
          {c !== null && can('auth.backends.ldap.delete') ? (
            <button
              type="button"
              class="danger"
              onClick={() =>
                ask({
                  text: t('backends.confirmRemove'),
                  action: t('backends.remove'),
                  run: () => api('DELETE', '/backends/ldap'),
                })
              }
            >
              {t('backends.remove')}
            </button>
          ) : null}
          {editable ? (
            <button type="submit" class="primary">
              {t('common.save')}
            </button>
          ) : null}
        </div>
      ) : null}
      {dialog}
    </form>
  );
}
