// The admin web console of xivo-auth (issue 25): login, then the screens the
// caller's ACL allows. Routing with the URL fragment (#/users); the token is
// in memory only, so reloading the page asks to sign in again.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, MfaEnrolmentRequiredError, MfaRequiredError, RateLimitedError } from '@xivo-auth/client';
import { lang, setLang, t, type Key, type Lang } from './i18n.js';
import { api, can, client, currentToken, login, logout, onExpired, type Page } from './session.js';
import { AuditScreen } from './screens/audit.js';
import { BackendsScreen } from './screens/backends.js';
import type { Tenant } from './screens/common.js';
import { ExplainScreen } from './screens/explain.js';
import { GroupsScreen } from './screens/groups.js';
import { PoliciesScreen } from './screens/policies.js';
import { SessionsScreen } from './screens/sessions.js';
import { TenantsScreen } from './screens/tenants.js';
import { ThrottlesScreen } from './screens/throttles.js';
import { UsersScreen } from './screens/users.js';
import { Field } from './ui.js';
import './styles.css';

interface Route {
  path: string;
  label: Key;
  /** Shown when the caller's ACL grants this access (null: always). */
  access: string | null;
  screen: (p: { tenantUuid: string | null; onTenantsChanged: () => void }) => preact.JSX.Element;
}

const ROUTES: Route[] = [
  { path: 'tenants', label: 'nav.tenants', access: 'auth.tenants.read', screen: TenantsScreen },
  { path: 'users', label: 'nav.users', access: 'auth.users.read', screen: UsersScreen },
  { path: 'groups', label: 'nav.groups', access: 'auth.groups.read', screen: GroupsScreen },
  { path: 'policies', label: 'nav.policies', access: 'auth.policies.read', screen: PoliciesScreen },
  { path: 'explain', label: 'nav.explain', access: null, screen: ExplainScreen },
  { path: 'sessions', label: 'nav.sessions', access: 'auth.sessions.read', screen: SessionsScreen },
  { path: 'audit', label: 'nav.audit', access: 'auth.audit.read', screen: AuditScreen },
  { path: 'throttles', label: 'nav.throttles', access: 'auth.security.throttles.read', screen: ThrottlesScreen },
  { path: 'backends', label: 'nav.backends', access: null, screen: BackendsScreen },
];

/** The screen of the URL fragment (`#/audit?search=carol`: audit; the query is the screen's own). */
function currentPath(): string {
  return location.hash.replace(/^#\/?/, '').split('?')[0];
}

function LangSwitch(props: { onChange: () => void }) {
  return (
    <div class="lang">
      <label for="lang-select">{t('header.lang')}</label>
      <select
        id="lang-select"
        value={lang()}
        onChange={(e) => {
          setLang((e.currentTarget as HTMLSelectElement).value as Lang);
          props.onChange();
        }}
      >
        <option value="en">English</option>
        <option value="fr">Français</option>
      </select>
    </div>
  );
}

function LoginPage(props: { notice: string | null; onLoggedIn: () => void; onLang: () => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [challenge, setChallenge] = useState<string | null>(null);
  // The second factor asked: a TOTP code, or one of the user's recovery codes (when it has some).
  const [factors, setFactors] = useState<string[]>([]);
  const [useRecovery, setUseRecovery] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const second =
        challenge === null
          ? undefined
          : useRecovery
            ? { mfaChallenge: challenge, recoveryCode: code.trim() }
            : { mfaChallenge: challenge, totp: code.trim() };
      await login(username, password, second);
      setPassword('');
      props.onLoggedIn();
    } catch (err) {
      if (err instanceof MfaRequiredError) {
        // Each challenge is used once: a wrong code comes back with a new one.
        setChallenge(err.challenge);
        setFactors(err.factors);
        setCode('');
        if (err.failed) setError(t('login.mfaFailed'));
      } else if (err instanceof MfaEnrolmentRequiredError) {
        setError(t('login.mfaEnrol'));
      } else if (err instanceof RateLimitedError) {
        setError(t('login.throttled'));
      } else if (err instanceof ApiError && err.status === 401) {
        setError(t('login.failed'));
      } else {
        setError(err instanceof Error ? err.message : String(err));
      }
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login" id="main">
      <form class="card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">{t('app.title')}</h1>
        <h2>{t('login.title')}</h2>
        {props.notice ? (
          <p class="notice" role="status">
            {props.notice}
          </p>
        ) : null}
        <Field
          label={t('login.username')}
          name="username"
          value={username}
          onInput={setUsername}
          autocomplete="username"
          required
        />
        <Field
          label={t('login.password')}
          name="password"
          type="password"
          value={password}
          onInput={setPassword}
          autocomplete="current-password"
          required
        />
        {challenge !== null ? (
          <>
            <p class="hint" role="status">
              {t('login.mfaAsked')}
            </p>
            {useRecovery ? (
              <Field
                label={t('login.recovery')}
                name="recovery_code"
                value={code}
                onInput={setCode}
                autocomplete="off"
                required
              />
            ) : (
              <Field label={t('login.mfa')} name="totp" value={code} onInput={setCode} autocomplete="one-time-code" required />
            )}
            {factors.includes('recovery_code') ? (
              <button
                type="button"
                class="link"
                onClick={() => {
                  setUseRecovery(!useRecovery);
                  setCode('');
                }}
              >
                {useRecovery ? t('login.useTotp') : t('login.useRecovery')}
              </button>
            ) : null}
          </>
        ) : null}
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>
            {t('login.submit')}
          </button>
        </div>
        <LangSwitch onChange={props.onLang} />
      </form>
    </main>
  );
}

function Shell(props: { onLang: () => void }) {
  const [path, setPath] = useState(currentPath());
  const [tenant, setTenant] = useState<string | null>(null);
  const [tenants, setTenants] = useState<Tenant[]>([]);
  const [navOpen, setNavOpen] = useState(false);
  const [tenantsVersion, setTenantsVersion] = useState(0);
  const firstPath = useRef(true);
  useEffect(() => {
    const onHash = () => {
      setPath(currentPath());
      setNavOpen(false);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    // Once the new screen is rendered (not before: the old one's title would be replaced under the focus).
    if (firstPath.current) firstPath.current = false;
    else document.getElementById('screen-title')?.focus();
  }, [path]);
  useEffect(() => {
    if (!can('auth.tenants.read')) return;
    // The tenants the caller may act on: its own and those below (with no Wazo-Tenant).
    api<Page<Tenant>>('GET', '/tenants', { query: { limit: 500, order: 'name' } }).then(
      (p) => setTenants(p.items),
      () => setTenants([]),
    );
  }, [tenantsVersion]);
  const visible = ROUTES.filter((r) => r.access === null || can(r.access));
  const route = visible.find((r) => r.path === path) ?? visible[0];
  const Screen = route.screen;
  const token = currentToken();
  // The token names its user by uuid: its username, when the caller may read it.
  const [me, setMe] = useState<string | null>(null);
  useEffect(() => {
    if (token === null || !can(`auth.users.${token.auth_id}.read`)) return;
    api<{ username: string | null }>('GET', `/users/${encodeURIComponent(token.auth_id)}`).then(
      (u) => setMe(u.username),
      () => undefined,
    );
  }, [token?.auth_id]);
  const switchTenant = (uuid: string) => {
    client.setTenant(uuid === '' ? null : uuid);
    setTenant(uuid === '' ? null : uuid);
  };
  return (
    <div class="shell">
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('screen-title')?.focus();
        }}
      >
        {t('common.skip')}
      </a>
      <header class="top">
        <button type="button" class="menu" aria-expanded={navOpen} aria-controls="nav" onClick={() => setNavOpen(!navOpen)}>
          <span aria-hidden="true">☰</span>
          <span class="sr-only">{t('common.menu')}</span>
        </button>
        <span class="brand">{t('app.title')}</span>
        {tenants.length > 0 ? (
          <div class="tenant-switch">
            <label for="tenant-select">{t('header.tenant')}</label>
            <select
              id="tenant-select"
              value={tenant ?? ''}
              onChange={(e) => switchTenant((e.currentTarget as HTMLSelectElement).value)}
            >
              <option value="">{tenants.find((x) => x.uuid === token?.metadata?.tenant_uuid)?.name ?? '—'}</option>
              {tenants
                .filter((x) => x.uuid !== token?.metadata?.tenant_uuid)
                .map((x) => (
                  <option key={x.uuid} value={x.uuid}>
                    {x.name ?? x.uuid}
                  </option>
                ))}
            </select>
          </div>
        ) : null}
        <LangSwitch onChange={props.onLang} />
        <span class="who">{me ?? token?.auth_id}</span>
        <button type="button" class="logout" onClick={() => void logout()}>
          {t('header.logout')}
        </button>
      </header>
      <nav id="nav" class={navOpen ? 'open' : ''} aria-label={t('nav.main')}>
        <ul>
          {visible.map((r) => (
            <li key={r.path}>
              <a href={`#/${r.path}`} aria-current={r === route ? 'page' : undefined}>
                {t(r.label)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" data-screen={route.path}>
        <Screen
          key={`${route.path}-${tenant ?? ''}`}
          tenantUuid={tenant}
          onTenantsChanged={() => setTenantsVersion((n) => n + 1)}
        />
      </main>
    </div>
  );
}

function App() {
  const [signedIn, setSignedIn] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [, setRev] = useState(0);
  const rerender = () => setRev((n) => n + 1);
  useEffect(() => {
    document.documentElement.lang = lang();
    onExpired((reason) => {
      setNotice(reason === 'expired' ? t('login.expired') : null);
      setSignedIn(false);
    });
  }, []);
  return signedIn ? (
    <Shell onLang={rerender} />
  ) : (
    <LoginPage
      notice={notice}
      onLang={rerender}
      onLoggedIn={() => {
        setNotice(null);
        setSignedIn(true);
      }}
    />
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
