// The admin web console (issue 25) in a real browser: Debian's Chromium
// (installed by .ci/run) driven by playwright-core, against a service this
// test starts, on both engines. Logs in, creates a tenant, a user and a
// policy, attaches it, checks the explainer's verdict against
// HEAD /token?scope=, revokes a session and sees its token die, unlocks a
// throttled login, reads the audit entry of each action, sees a revoked and
// an expired token send back to the login page, sees TokenRenewer replace the
// token (the browser's clock moved on), logs out. On the way, every
// other screen and action of the issue: a tenant's address, method, parent,
// contact, deletion; a user's edit, enable/disable, search and filters,
// authentication method, a password set by the administrator (then used over
// HTTP), addresses, second factors, groups, refresh tokens; a group renamed
// with members added and removed; a policy edited; deletions; the backends'
// status, readiness and LDAP form; the audit trail's text filter and time
// window (filtered by the service); the keyboard (links, skip link, dialogs
// and Escape); French; a phone-sized viewport; a console login answering the
// MFA challenge with a TOTP code and with a recovery code, by a user whose
// ACL is offered none of the administration screens. Runs axe-core on each
// screen (no serious or critical violation) and, on SQLite with
// XIVO_AUTH_CONSOLE_SCREENSHOTS=1, saves the screenshots of docs/console/.
// Fails, never skips, when Chromium or the built console is missing
// (`npm run build`).
import axe from 'axe-core';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../src/clock.js';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { CONSOLE_CSP, DEFAULT_CONSOLE_ROOT } from '../../src/http/routes/console.js';
import { ADMIN, basic, ENGINES, startTestService, type TestService } from '../helpers/service.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(import.meta.dirname, '../../docs/console');
const CAROL = { username: 'carol', password: 'carol-secret-password' };
/** The password the administrator sets in the console (then carol's). */
const CAROL_NEW_PASSWORD = 'carol-password-set-by-admin';

function totpAt(secret: string, at: number): string {
  return new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: at });
}
/** An instant as a datetime-local value (the browser runs in UTC here). */
const localMinute = (ms: number) => new Date(ms).toISOString().slice(0, 16);

async function axeCheck(page: Page, screen: string): Promise<void> {
  // Evaluated through the DevTools protocol: not subject to the page's CSP.
  await page.evaluate(axe.source);
  const result = await page.evaluate(async () => {
    const r = await (globalThis as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  const serious = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `${screen}: ${JSON.stringify(serious)}`).toEqual([]);
}

describe.each(ENGINES)('admin console in Chromium (%s)', (engine) => {
  let t: TestService;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  /** X-Auth-Token values the console sent (kept in its memory only). */
  const sentTokens = new Set<string>();

  const http = (method: string, url: string, headers: Record<string, string> = {}, body?: unknown) =>
    fetch(`${base}${url}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const loginApi = async (username: string, password: string) =>
    http('POST', '/0.1/token', { authorization: basic(username, password) }, {});
  const shot = async (name: string, fullPage = false) => {
    // The docs' screenshots are refreshed on request only: a test run leaves the tree as it was.
    if (engine === 'sqlite' && process.env.XIVO_AUTH_CONSOLE_SCREENSHOTS === '1') {
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
    }
  };
  const go = async (screen: string) => {
    await page.click(`nav a[href="#/${screen}"]`);
    await page.waitForSelector(`nav a[href="#/${screen}"][aria-current="page"]`, { state: 'attached' });
    await page.waitForSelector(`#main[data-screen="${screen}"] #screen-title`);
    await page.waitForSelector('.loading', { state: 'detached' });
  };
  const confirm = async () => {
    await page.waitForSelector('[role="alertdialog"]');
    await page.click('[role="alertdialog"] button.danger');
    await page.waitForSelector('[role="alertdialog"]', { state: 'detached' });
  };

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run installs Debian's chromium`).toBe(true);
    expect(existsSync(path.join(DEFAULT_CONSOLE_ROOT, 'index.html')), 'the console is not built: npm run build').toBe(true);
    t = await startTestService(engine, {
      security: {
        ...DEFAULT_CONFIG.security,
        login_throttle: {
          ...DEFAULT_CONFIG.security.login_throttle,
          threshold: 2,
          base_delay_seconds: 600,
          max_delay_seconds: 600,
        },
      },
    });
    base = await t.service.listen();
    userDataDir = mkdtempSync(path.join(tmpdir(), 'xivo-auth-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
      viewport: { width: 1280, height: 800 },
      locale: 'en-US',
      // datetime-local values are the browser's zone: UTC, as the service's clock is read.
      timezoneId: 'UTC',
    });
    // The browser's clock, moved on to see TokenRenewer renew (it flows as usual until then).
    await context.clock.install();
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('request', (r) => {
      const token = r.headers()['x-auth-token'];
      if (token !== undefined) sentTokens.add(token);
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await t?.close();
  });

  it('serves the console with its own CSP, and the API keeps its own', async () => {
    const res = await http('GET', '/console/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await http('GET', asset!);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    const apiAnswer = await http('GET', '/0.1/status');
    expect(apiAnswer.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect((await http('GET', '/console', {}, undefined)).url).toMatch(/\/console\/$/);
  });

  it('does all of it in the browser', async () => {
    // -- login (wrong password first: the error is shown)
    const first = await page.goto(`${base}/console/`);
    expect(first?.headers()['content-security-policy']).toBe(CONSOLE_CSP);
    await page.fill('input[name="username"]', ADMIN.username);
    await page.fill('input[name="password"]', 'not-the-password');
    await page.click('button[type="submit"]');
    await page.waitForSelector('.login [role="alert"]');
    await axeCheck(page, 'login');
    await shot('login');
    await page.fill('input[name="password"]', ADMIN.password);
    await page.click('button[type="submit"]');
    await page.waitForSelector('nav#nav');
    expect(await page.evaluate(() => Object.keys(localStorage).length)).toBe(0);

    // -- the keyboard: a link followed with Enter puts the focus on the screen's title; so does the skip link
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent || '');
    await page.focus('nav a[href="#/policies"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#main[data-screen="policies"]');
    await expect.poll(focused).toBe('screen-title');
    await page.focus('a.skip');
    await page.keyboard.press('Enter');
    await expect.poll(focused).toBe('screen-title');

    // -- a tenant
    await go('tenants');
    await page.click('text=New tenant');
    await page.fill('form input[name="name"]', 'Acme');
    await page.fill('form input[name="domain_names"]', 'acme.example.com');
    await page.click('form button[type="submit"]');
    await page.waitForSelector('td:has-text("Acme")');
    const adminToken = ((await (await loginApi(ADMIN.username, ADMIN.password)).json()).data as { token: string }).token;
    const asAdmin = { 'x-auth-token': adminToken };
    const tenantNamed = async (name: string) => {
      const all = (await (await http('GET', '/0.1/tenants?limit=500', asAdmin)).json()).items as Array<Record<string, unknown>>;
      return all.find((x) => x.name === name)!;
    };
    const acme = await tenantNamed('Acme');

    // -- its address and default authentication method (a too long postal code first: the API's details next to the field)
    await page.click('tr:has-text("Acme") button:has-text("Edit")');
    await page.fill('form input[name="address.city"]', 'Lyon');
    await page.fill('form input[name="address.zip_code"]', '6'.repeat(20));
    await page.selectOption('form select[name="default_authentication_method"]', 'ldap');
    await page.click('form button[type="submit"]');
    await page.waitForSelector('form .field:has(input[name="address.zip_code"]) .field-error');
    await axeCheck(page, 'tenant form');
    await shot('tenant-form');
    await page.fill('form input[name="address.zip_code"]', '69001');
    await page.click('form button[type="submit"]');
    await page.waitForSelector('form[aria-label^="Edit"]', { state: 'detached' });
    expect(await tenantNamed('Acme')).toMatchObject({
      uuid: acme.uuid,
      domain_names: ['acme.example.com'],
      default_authentication_method: 'ldap',
      address: { city: 'Lyon', zip_code: '69001', line_1: null },
    });

    // -- a second tenant, moved under Acme
    await page.click('text=New tenant');
    await page.fill('form input[name="name"]', 'Beta');
    await page.click('form button[type="submit"]');
    await page.waitForSelector('td:has-text("Beta")');
    await page.click('tr:has-text("Beta") button:has-text("Edit")');
    await page.selectOption('form select[name="parent"]', acme.uuid as string);
    await page.click('form button[type="submit"]');
    await page.waitForSelector('tr:has-text("Beta") .depth-2'); // the top tenant, Acme, Beta
    expect((await tenantNamed('Beta')).parent_uuid).toBe(acme.uuid);
    await axeCheck(page, 'tenants');
    await shot('tenants');

    // -- a user (an invalid one first: the API's details are shown next to the field)
    await go('users');
    await page.click('text=New user');
    await page.fill('form input[name="username"]', CAROL.username);
    await page.fill('form input[name="password"]', 'x');
    await page.click('form button[type="submit"]');
    await page.waitForSelector('form .field-error, form .error');
    await page.fill('form input[name="password"]', CAROL.password);
    await page.click('form button[type="submit"]');
    await page.waitForSelector(`td:has-text("${CAROL.username}")`);
    await axeCheck(page, 'users');

    // -- a policy; the ACL editor validates as you type
    await go('policies');
    await page.click('text=New policy');
    await page.fill('form input[name="name"]', 'carol-policy');
    await page.fill('form textarea[name="acl"]', 'confd.users.me.read\nbad access');
    await page.waitForSelector('form .field-error:has-text("line 2")');
    expect(await page.isDisabled('form button[type="submit"]')).toBe(true);
    await page.fill('form textarea[name="acl"]', 'confd.users.me.read\n!confd.users.me.delete\nauth.users.me.#');
    await page.waitForSelector('form .field-error', { state: 'detached' });
    await page.click('form button[type="submit"]');
    await page.waitForSelector('td:has-text("carol-policy")');
    await axeCheck(page, 'policies');
    await shot('policies');

    // -- attach it to carol
    await go('users');
    await page.click(`tr:has-text("${CAROL.username}") button:has-text("Details")`);
    await page.waitForSelector('.details select[name="policy"] option:has-text("carol-policy")', { state: 'attached' });
    const policyValue = await page.$eval(
      '.details select[name="policy"]',
      (s) => [...(s as HTMLSelectElement).options].find((o) => o.text === 'carol-policy')!.value,
    );
    await page.selectOption('.details select[name="policy"]', policyValue);
    await page.click('.details button:has-text("Attach policy")');
    await page.waitForSelector('.details li:has-text("carol-policy")');
    const carolUuid = (await page.getAttribute('.details', 'data-user'))!;
    const carolNow = async () =>
      (await (await http('GET', `/0.1/users/${carolUuid}`, asAdmin)).json()) as Record<string, unknown>;

    // -- her authentication method
    expect(await page.inputValue('.details select[name="authentication_method"]')).toBe('default');
    await page.selectOption('.details select[name="authentication_method"]', 'native');
    await page.click('.details form[aria-label="Authentication method"] button[type="submit"]');
    await page.waitForSelector('.details form[aria-label="Authentication method"] [role="status"]');
    expect(await carolNow()).toMatchObject({ authentication_method: 'native', enabled: true, purpose: 'user' });

    // -- a password set by the administrator (too short first: the policy's details next to the field), then used over HTTP
    await page.fill('.details input[name="new_password"]', 'short');
    await page.fill('.details input[name="new_password_again"]', 'short');
    await page.click('.details form[aria-label="Set password"] button[type="submit"]');
    await confirm();
    await page.waitForSelector('.details .field:has(input[name="new_password"]) .field-error');
    await page.fill('.details input[name="new_password"]', CAROL_NEW_PASSWORD);
    await page.fill('.details input[name="new_password_again"]', CAROL_NEW_PASSWORD);
    await page.click('.details form[aria-label="Set password"] button[type="submit"]');
    await axeCheck(page, 'set password confirmation');
    await confirm();
    await page.waitForSelector('.details form[aria-label="Set password"] [role="status"]');
    expect((await loginApi(CAROL.username, CAROL_NEW_PASSWORD)).status).toBe(200);
    CAROL.password = CAROL_NEW_PASSWORD;

    // -- her addresses: two added, the main one removed (the other becomes main)
    for (const address of ['carol@example.com', 'carol.two@example.com']) {
      await page.fill('.details input[name="new_email"]', address);
      await page.click('.details button:has-text("Add address")');
      await page.waitForSelector(`.details li[data-email="${address}"]`);
    }
    expect((await carolNow()).emails).toMatchObject([
      { address: 'carol@example.com', main: true },
      { address: 'carol.two@example.com', main: false },
    ]);
    await page.click('.details li[data-email="carol@example.com"] button.danger');
    await confirm();
    await page.waitForSelector('.details li[data-email="carol@example.com"]', { state: 'detached' });
    expect((await carolNow()).emails).toMatchObject([{ address: 'carol.two@example.com', main: true }]);
    await page.waitForSelector('.details .mfa .empty');

    // -- her refresh token (a phone app's), deleted after a confirmation
    const offline = await http(
      'POST',
      '/0.1/token',
      { authorization: basic(CAROL.username, CAROL.password) },
      { access_type: 'offline', client_id: 'carol-phone' },
    );
    expect(offline.status).toBe(200);
    const refreshTokens = async () =>
      ((await (await http('GET', `/0.1/users/${carolUuid}/tokens`, asAdmin)).json()).items as Array<{ client_id: string }>).map(
        (r) => r.client_id,
      );
    expect(await refreshTokens()).toEqual(['carol-phone']);
    const reopen = async () => {
      await page.click('tr[data-username="carol"] button:has-text("Details")');
      await page.waitForSelector('.details', { state: 'detached' });
      await page.click('tr[data-username="carol"] button:has-text("Details")');
      await page.waitForSelector('.details');
    };
    await reopen();
    await page.waitForSelector('.details li[data-client="carol-phone"]');
    await axeCheck(page, 'user details');
    await shot('users');
    await shot('user-details', true);
    await page.click('.details li[data-client="carol-phone"] button.danger');
    await confirm();
    await page.waitForSelector('.details li[data-client="carol-phone"]', { state: 'detached' });
    await page.waitForSelector('.details .tokens .empty');
    expect(await refreshTokens()).toEqual([]);

    // -- her names edited (the rest of her kept)
    await page.click('tr[data-username="carol"] button:has-text("Edit")');
    const editForm = 'form[aria-label="Edit carol"]';
    await page.fill(`${editForm} input[name="firstname"]`, 'Carol');
    await page.fill(`${editForm} input[name="lastname"]`, 'Doe');
    await axeCheck(page, 'user form');
    await page.click(`${editForm} button[type="submit"]`);
    await page.waitForSelector(editForm, { state: 'detached' });
    expect(await carolNow()).toMatchObject({
      firstname: 'Carol',
      lastname: 'Doe',
      authentication_method: 'native',
      enabled: true,
      emails: [{ address: 'carol.two@example.com', main: true }],
    });

    // -- disabled (asked first: her sessions end), enabled again
    await page.click('tr[data-username="carol"] button:has-text("Disable")');
    await confirm();
    await page.waitForSelector('tr[data-username="carol"] td[data-enabled="false"]');
    expect((await carolNow()).enabled).toBe(false);
    await page.click('tr[data-username="carol"] button:has-text("Enable")');
    await page.waitForSelector('tr[data-username="carol"] td[data-enabled="true"]');
    expect((await carolNow()).enabled).toBe(true);

    // -- search and filters (the API's: the page counts follow)
    const listed = () => page.$$eval('tr[data-username]', (r) => r.map((x) => x.getAttribute('data-username')));
    await page.fill('.toolbar input[name="search"]', 'car');
    await expect.poll(listed).toEqual(['carol']);
    await page.fill('.toolbar input[name="search"]', '');
    await expect.poll(async () => (await listed()).length).toBeGreaterThan(1);
    await page.selectOption('.toolbar select[name="policy_filter"]', policyValue);
    await expect.poll(listed).toEqual(['carol']);
    await page.selectOption('.toolbar select[name="purpose"]', 'internal');
    await page.waitForSelector('.screen > .empty');
    await axeCheck(page, 'users: filters, empty');
    await page.selectOption('.toolbar select[name="purpose"]', '');
    await page.selectOption('.toolbar select[name="policy_filter"]', '');
    await expect.poll(async () => (await listed()).length).toBeGreaterThan(1);

    // -- the tenant's contact: a user picked by name; a tenant deleted after a confirmation
    await go('tenants');
    await page.click('tr:has-text("Acme") button:has-text("Edit")');
    await page.waitForSelector('form select[name="contact"] option:has-text("carol")', { state: 'attached' });
    await page.selectOption('form select[name="contact"]', carolUuid);
    await page.click('form button[type="submit"]');
    await page.waitForSelector('form[aria-label^="Edit"]', { state: 'detached' });
    expect((await tenantNamed('Acme')).contact).toBe(carolUuid);
    await page.click('text=New tenant');
    await page.fill('form input[name="name"]', 'Gamma');
    await page.click('form button[type="submit"]');
    await page.waitForSelector('td:has-text("Gamma")');
    await page.click('tr:has-text("Gamma") button:has-text("Delete")');
    await axeCheck(page, 'tenant deletion');
    await confirm();
    await page.waitForSelector('td:has-text("Gamma")', { state: 'detached' });
    expect(await tenantNamed('Gamma')).toBeUndefined();
    await go('users');

    // -- a group carrying the policy
    await go('groups');
    await page.fill('form input[name="name"]', 'Agents');
    await page.press('form input[name="name"]', 'Enter');
    await page.waitForSelector('td:has-text("Agents")');
    await page.click('tr[data-group="Agents"] button:has-text("Details")');
    const details = '[data-group-details]';
    const groupUuid = (await page.getAttribute(details, 'data-group-details'))!;
    await page.waitForSelector(`${details} select[name="group_policy"] option:has-text("carol-policy")`, { state: 'attached' });
    await page.selectOption(`${details} select[name="group_policy"]`, policyValue);
    await page.click(`${details} button:has-text("Attach policy")`);
    await page.waitForSelector(`${details} li[data-policy="carol-policy"]`);
    // renamed
    await page.fill(`${details} input[name="group_name"]`, 'Support agents');
    await page.click(`${details} form button[type="submit"]`);
    await page.waitForSelector('tr[data-group="Support agents"]');
    expect((await (await http('GET', `/0.1/groups/${groupUuid}`, asAdmin)).json()).name).toBe('Support agents');
    // a member added, then removed
    const members = async () =>
      ((await (await http('GET', `/0.1/groups/${groupUuid}/users`, asAdmin)).json()).items as Array<{ username: string }>).map(
        (u) => u.username,
      );
    await page.waitForSelector(`${details} select[name="member"] option:has-text("carol")`, { state: 'attached' });
    await page.selectOption(`${details} select[name="member"]`, carolUuid);
    await page.click(`${details} button:has-text("Add user")`);
    await page.waitForSelector(`${details} li[data-member="carol"]`);
    expect(await members()).toEqual(['carol']);
    await axeCheck(page, 'group details');
    await shot('groups');
    await page.click(`${details} li[data-member="carol"] button.danger`);
    await confirm();
    await page.waitForSelector(`${details} li[data-member="carol"]`, { state: 'detached' });
    expect(await members()).toEqual([]);
    await axeCheck(page, 'groups');

    // -- the same from the user's side: she joins the group (the group filter then lists her), then leaves it
    await go('users');
    await page.click('tr[data-username="carol"] button:has-text("Details")');
    await page.waitForSelector('.details select[name="join_group"] option:has-text("Support agents")', { state: 'attached' });
    await page.selectOption('.details select[name="join_group"]', groupUuid);
    await page.click('.details button:has-text("Add to group")');
    await page.waitForSelector('.details li[data-group="Support agents"]');
    expect(await members()).toEqual(['carol']);
    await page.selectOption('.toolbar select[name="group_filter"]', groupUuid);
    await expect.poll(listed).toEqual(['carol']);
    await page.selectOption('.toolbar select[name="group_filter"]', '');
    await page.click('.details li[data-group="Support agents"] button.danger');
    await confirm();
    await page.waitForSelector('.details li[data-group="Support agents"]', { state: 'detached' });
    expect(await members()).toEqual([]);

    // -- the tenant switcher: Acme has no user yet (empty state), then back
    await page.selectOption('#tenant-select', { label: 'Acme' });
    await go('users');
    await page.waitForSelector('.empty');
    await page.selectOption('#tenant-select', '');
    await page.waitForSelector(`td:has-text("${CAROL.username}")`);

    // -- the explainer's verdicts agree with HEAD /token/{t}?scope=
    const carolLogin = await loginApi(CAROL.username, CAROL.password);
    expect(carolLogin.status).toBe(200);
    const carolToken = (await carolLogin.json()).data as { token: string; auth_id: string; session_uuid: string };
    await go('explain');
    expect(pageErrors).toEqual([]);
    await page.waitForSelector('select[name="user"] option:has-text("carol")', { state: 'attached' });
    const carolOption = await page.$eval(
      'select[name="user"]',
      (s) => [...(s as HTMLSelectElement).options].find((o) => o.text === 'carol')!.value,
    );
    expect(carolOption).toBe(carolToken.auth_id);
    const cases: Array<[string, string, string | null]> = [
      [`confd.users.${carolToken.auth_id}.read`, 'granted', 'confd.users.me.read'],
      [`auth.users.${carolToken.auth_id}.tokens.read`, 'granted', 'auth.users.me.#'],
      [`confd.users.${carolToken.auth_id}.delete`, 'denied', '!confd.users.me.delete'],
      ['confd.users.someone-else.read', 'denied', null],
    ];
    for (const [access, verdict, pattern] of cases) {
      await page.selectOption('select[name="user"]', carolOption);
      await page.fill('input[name="access"]', access);
      await page.click('form button[type="submit"]');
      const shown = await page.waitForSelector('[data-verdict]');
      expect(await shown.getAttribute('data-verdict'), access).toBe(verdict);
      const text = await shown.textContent();
      if (pattern !== null) expect(text).toContain(pattern);
      expect(text).toContain(`me = ${carolToken.auth_id}`);
      const head = await http('HEAD', `/0.1/token/${carolToken.token}?scope=${encodeURIComponent(access)}`);
      expect(head.status, access).toBe(verdict === 'granted' ? 204 : 403);
    }
    // the same with the pasted token: my_session is its session
    await page.selectOption('select[name="user"]', '');
    await page.fill('input[name="token"]', carolToken.token);
    await page.fill('input[name="access"]', `confd.users.${carolToken.auth_id}.read`);
    await page.click('form button[type="submit"]');
    await page.waitForSelector(`[data-verdict="granted"]:has-text("${carolToken.session_uuid}")`);
    await axeCheck(page, 'explainer');
    await shot('explain');
    await page.fill('input[name="token"]', '');

    // -- revoke carol's session: her token dies
    await go('sessions');
    await page.waitForSelector(`tr[data-session="${carolToken.session_uuid}"] td[data-user="${carolUuid}"]:has-text("carol")`);
    await page.focus(`tr[data-session="${carolToken.session_uuid}"] button:has-text("Revoke")`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[role="alertdialog"]');
    await expect.poll(focused).toBe('Cancel');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[role="alertdialog"]', { state: 'detached' });
    expect((await http('HEAD', `/0.1/token/${carolToken.token}`)).status).toBe(204);
    await page.click(`tr[data-session="${carolToken.session_uuid}"] button:has-text("Revoke")`);
    await axeCheck(page, 'confirmation dialog');
    await confirm();
    await page.waitForSelector(`tr[data-session="${carolToken.session_uuid}"]`, { state: 'detached' });
    expect((await http('HEAD', `/0.1/token/${carolToken.token}`)).status).toBe(404);
    await axeCheck(page, 'sessions');
    await shot('sessions');

    // -- carol guesses wrong until throttled; unlock her
    for (let i = 0; i < 2; i++) expect((await loginApi(CAROL.username, 'wrong-password')).status).toBe(401);
    expect((await loginApi(CAROL.username, CAROL.password)).status).toBe(429);
    await go('throttles');
    await page.waitForSelector('tr[data-login="carol"]');
    await axeCheck(page, 'throttles');
    await shot('throttles');
    await page.click('tr[data-login="carol"] button:has-text("Unlock")');
    await confirm();
    await page.waitForSelector('tr[data-login="carol"]', { state: 'detached' });
    expect((await loginApi(CAROL.username, CAROL.password)).status).toBe(200);

    // -- backends: status, LDAP form (bind password write-only)
    await go('backends');
    await page.waitForSelector('table.status tr[data-component="store"] .state.ok');
    await page.waitForSelector('table.health[data-ready="ready"] tr[data-check="migrations"] .state.ok');
    await page.fill('input[name="host"]', 'ldap.example.com');
    await page.fill('input[name="user_base_dn"]', 'ou=people,dc=example,dc=com');
    await page.fill('input[name="bind_dn"]', 'cn=reader,dc=example,dc=com');
    await page.fill('input[name="bind_password"]', 'reader-secret');
    const filter = '(&(objectClass=person)({user_login_attribute}={username}))';
    await page.fill('input[name="search_filters"]', filter);
    await page.click('form button[type="submit"]');
    await page.waitForSelector('form [role="status"]:has-text("Saved"), form .error');
    expect(await page.textContent('form[aria-label="LDAP configuration"]')).not.toMatch(/error|invalid/i);
    await page.waitForSelector('form [role="status"]:has-text("Saved")');
    expect(await page.inputValue('input[name="bind_password"]')).toBe('');
    const ldapNow = await http('GET', '/0.1/backends/ldap', asAdmin);
    const ldapBody = (await ldapNow.json()) as Record<string, unknown>;
    expect(ldapBody).toMatchObject({ host: 'ldap.example.com', bind_dn: 'cn=reader,dc=example,dc=com', search_filters: filter });
    expect(ldapBody).not.toHaveProperty('bind_password');
    await page.waitForSelector('form button:has-text("Remove the configuration")');
    await axeCheck(page, 'backends');
    await shot('backends');
    await page.click('form button:has-text("Remove the configuration")');
    await confirm();
    await page.waitForSelector('form [role="status"]:has-text("Configuration removed")');
    expect((await http('GET', '/0.1/backends/ldap', asAdmin)).status).toBe(404);

    // -- a policy edited; a user, a group and a policy deleted, each after a confirmation
    await go('policies');
    await page.click('tr[data-policy="carol-policy"] button:has-text("Edit")');
    await page.fill('form[aria-label="Edit carol-policy"] input[name="description"]', 'What carol may do');
    await page.click('form[aria-label="Edit carol-policy"] button[type="submit"]');
    await page.waitForSelector('form[aria-label="Edit carol-policy"]', { state: 'detached' });
    const carolPolicy = (await (await http('GET', `/0.1/policies/${policyValue}`, asAdmin)).json()) as Record<string, unknown>;
    expect(carolPolicy).toMatchObject({
      description: 'What carol may do',
      acl: ['confd.users.me.read', '!confd.users.me.delete', 'auth.users.me.#'],
    });
    const scratch = {
      user: (await (await http('POST', '/0.1/users', asAdmin, { username: 'dave', password: 'dave-secret-password' })).json())
        .uuid as string,
      group: (await (await http('POST', '/0.1/groups', asAdmin, { name: 'Scratch' })).json()).uuid as string,
      policy: (await (await http('POST', '/0.1/policies', asAdmin, { name: 'scratch', acl: ['confd.#'] })).json()).uuid as string,
    };
    for (const [screen, row, url] of [
      // Policies last: that screen is open already, and is read again only when entered anew.
      ['groups', 'tr[data-group="Scratch"]', `/0.1/groups/${scratch.group}`],
      ['users', 'tr[data-username="dave"]', `/0.1/users/${scratch.user}`],
      ['policies', 'tr[data-policy="scratch"]', `/0.1/policies/${scratch.policy}`],
    ] as const) {
      await go(screen);
      await page.click(`${row} button:has-text("Delete")`);
      await confirm();
      await page.waitForSelector(row, { state: 'detached' });
      expect((await http('GET', url, asAdmin)).status, url).toBe(404);
    }

    // -- a user's audit trail, from her details: her logins (the throttled ones too); an action keeps only its records
    await go('users');
    await page.click('tr[data-username="carol"] button:has-text("Details")');
    await page.click('.details a:has-text("Audit trail of this user")');
    await page.waitForSelector('#main[data-screen="audit"] tr[data-action="login"]');
    expect(await page.inputValue('input[name="actor"]')).toBe(carolUuid);
    // Her failed and throttled logins name her login only: the service matches them to her uuid.
    await page.waitForSelector('tr[data-action="login"] td:has-text("throttled")');
    const actorRows = () => page.$$eval('tr[data-action]', (r) => r.length);
    const allOfCarol = await actorRows();
    await page.selectOption('select[name="outcome"]', 'throttled');
    await expect
      .poll(() => page.$$eval('tr[data-action] td:nth-child(3)', (c) => [...new Set(c.map((x) => x.textContent))]))
      .toEqual(['throttled']);
    await axeCheck(page, 'audit filtered by actor and outcome');
    await page.selectOption('select[name="outcome"]', '');
    await expect.poll(actorRows).toBe(allOfCarol);
    await page.click('tr[data-action="login"] button:has-text("login")');
    await expect.poll(() => page.inputValue('input[name="action"]')).toBe('login');
    await expect
      .poll(() => page.$$eval('tr[data-action]', (r) => [...new Set(r.map((x) => x.getAttribute('data-action')))]))
      .toEqual(['login']);
    await page.fill('input[name="action"]', '');
    await page.fill('input[name="actor"]', '');

    // -- the audit entry of each action
    await go('audit');
    for (const action of [
      'tenants.create',
      'tenants.update',
      'tenants.parent.update',
      'users.create',
      'users.update',
      'policies.create',
      'users.policies.update',
      'sessions.delete',
      'security.throttles.delete',
      'backends.ldap.update',
      'groups.create',
      'groups.update',
      'groups.policies.update',
      'groups.users.update',
      'groups.users.delete',
      'admin.users.emails.update',
      'users.password.reset.create',
      'users.tokens.delete',
      'tenants.delete',
      'backends.ldap.delete',
      'policies.update',
      'policies.delete',
      'groups.delete',
      'users.delete',
    ]) {
      await page.fill('input[name="search"]', action);
      await page.waitForSelector(`tr[data-action="${action}"]`);
    }

    // -- the time window, filtered by the service: a tenant created ten minutes later
    const clock = t.clock as FakeClock;
    const boundary = clock.now() + 5 * 60_000;
    clock.advance(10 * 60_000);
    expect((await http('POST', '/0.1/tenants', asAdmin, { name: 'Late' })).status).toBe(200);
    // The audit record is written once the answer is sent: the console's list is read after it is there.
    const creations = async () =>
      ((await (await http('GET', '/0.1/audit?search=tenants.create&recurse=true', asAdmin)).json()) as { filtered: number })
        .filtered;
    await expect.poll(creations, { timeout: 5000 }).toBe(4);
    const rows = () => page.$$eval('tr[data-action]', (r) => r.length);
    const times = () => page.$$eval('tr[data-action] time', (r) => r.map((x) => x.getAttribute('datetime') ?? ''));
    await page.fill('input[name="search"]', 'tenants.create');
    await expect.poll(rows).toBe(4); // Acme, Beta, Gamma, Late
    await page.fill('input[name="from"]', localMinute(boundary));
    await expect.poll(rows).toBe(1);
    expect((await times())[0] >= new Date(boundary).toISOString()).toBe(true);
    await axeCheck(page, 'audit with a time window');
    await page.fill('input[name="from"]', '');
    await page.fill('input[name="to"]', localMinute(boundary));
    await expect.poll(rows).toBe(3);
    expect((await times()).every((x) => x < new Date(boundary).toISOString())).toBe(true);
    // an inverted window: the service's 400 shown next to the field
    await page.fill('input[name="from"]', localMinute(boundary + 60_000));
    await page.waitForSelector('.field:has(input[name="to"]) .field-error');
    await page.fill('input[name="from"]', '');
    await page.fill('input[name="to"]', '');
    await page.fill('input[name="search"]', '');
    await page.waitForSelector('tr[data-action]');
    await axeCheck(page, 'audit');
    await shot('audit');

    // -- French
    await page.selectOption('#lang-select', 'fr');
    await page.waitForSelector('nav a:has-text("Utilisateurs")');
    await page.waitForSelector('button.logout:has-text("Se déconnecter")');
    await page.waitForSelector('#screen-title:has-text("Journal d\'audit")');
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await axeCheck(page, 'audit in French');
    await page.selectOption('#lang-select', 'en');

    // -- phone-sized: the menu opens the navigation
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.isVisible('nav#nav a[href="#/users"]')).toBe(false);
    await page.click('button.menu');
    await page.click('nav a[href="#/users"]');
    await page.waitForSelector(`tr[data-username="${CAROL.username}"]`);
    await axeCheck(page, 'users on a phone');
    await shot('users-phone');
    await page.setViewportSize({ width: 1280, height: 800 });

    // -- a revoked token sends back to the login page
    const consoleToken = [...sentTokens].at(-1)!;
    expect((await http('DELETE', `/0.1/token/${consoleToken}`)).status).toBe(200);
    await page.click('nav a[href="#/tenants"]');
    await page.waitForSelector('.login .notice');

    // -- log in again; TokenRenewer replaces the token at 80 % of its hour (the browser's clock 49 minutes
    // on) and revokes the old one; log out: the token is revoked
    sentTokens.clear();
    await page.fill('input[name="username"]', ADMIN.username);
    await page.fill('input[name="password"]', ADMIN.password);
    await page.click('button[type="submit"]');
    await page.waitForSelector('nav#nav');
    await go('users');
    const second = [...sentTokens].at(-1)!;
    expect((await http('HEAD', `/0.1/token/${second}`)).status).toBe(204);
    await page.clock.fastForward('49:00');
    await expect.poll(async () => (await http('HEAD', `/0.1/token/${second}`)).status, { timeout: 5000 }).toBe(404);
    await go('tenants');
    const renewed = [...sentTokens].at(-1)!;
    expect(renewed).not.toBe(second);
    expect((await http('HEAD', `/0.1/token/${renewed}`)).status).toBe(204);
    await page.click('button.logout');
    await page.waitForSelector('.login');
    expect((await http('HEAD', `/0.1/token/${renewed}`)).status).toBe(404);

    // -- carol enrols a TOTP factor and recovery codes (over HTTP: enrolment is the user's own business)
    const carolHttp = {
      'x-auth-token': ((await (await loginApi(CAROL.username, CAROL.password)).json()).data as { token: string }).token,
    };
    const enrol = await http('POST', '/0.1/users/me/mfa/totp', carolHttp, {});
    expect(enrol.status).toBe(200);
    const { uuid: totpUuid, secret } = (await enrol.json()) as { uuid: string; secret: string };
    expect(
      (await http('PUT', `/0.1/users/me/mfa/totp/${totpUuid}/confirm`, carolHttp, { code: totpAt(secret, clock.now()) })).status,
    ).toBe(204);
    const recovery = await http('POST', '/0.1/users/me/mfa/recovery_codes', carolHttp, {});
    expect(recovery.status).toBe(200);
    const codes = (await recovery.json()).codes as string[];
    clock.advance(30_000); // the confirmation used this step's code

    // -- the console's login asks her second factor: a wrong code, then the TOTP code
    const carolSignsIn = async () => {
      await page.fill('input[name="username"]', CAROL.username);
      await page.fill('input[name="password"]', CAROL.password);
      await page.click('button[type="submit"]');
      await page.waitForSelector('input[name="totp"]');
    };
    await carolSignsIn();
    await axeCheck(page, 'login: second factor');
    await shot('login-mfa');
    await page.fill('input[name="totp"]', totpAt(secret, clock.now() - 120_000));
    await page.click('button[type="submit"]');
    await page.waitForSelector('.login [role="alert"]:has-text("Wrong code")');
    await page.fill('input[name="totp"]', totpAt(secret, clock.now()));
    await page.click('button[type="submit"]');
    await page.waitForSelector('nav#nav');
    // Her ACL reaches none of the administration screens: they are not offered.
    expect(await page.$$eval('nav#nav a', (a) => a.map((x) => x.getAttribute('href')))).toEqual(['#/explain', '#/backends']);
    await page.waitForSelector('.top .who:has-text("carol")');
    await page.click('nav a[href="#/backends"]');
    await page.waitForSelector('table.status');
    expect(await page.$$('form[aria-label="LDAP configuration"]')).toEqual([]);
    expect(await page.$$('#tenant-select')).toEqual([]);
    await page.click('button.logout');
    await page.waitForSelector('.login');

    // -- ...or one of her recovery codes
    await carolSignsIn();
    await page.click('button:has-text("Use a recovery code instead")');
    await page.fill('input[name="recovery_code"]', codes[0]);
    await page.click('button[type="submit"]');
    await page.waitForSelector('nav#nav');
    await page.click('button.logout');
    await page.waitForSelector('.login');

    // -- the administrator sees her factors and removes the TOTP one
    await page.fill('input[name="username"]', ADMIN.username);
    await page.fill('input[name="password"]', ADMIN.password);
    await page.click('button[type="submit"]');
    await page.waitForSelector('nav#nav');
    await go('users');
    await page.click(`tr:has-text("${CAROL.username}") button:has-text("Details")`);
    await page.waitForSelector('.details li[data-factor="recovery_code"]:has-text("9 codes left")');
    await page.waitForSelector('.details li[data-factor="totp"]');
    await axeCheck(page, 'user MFA factors');
    await page.click('.details li[data-factor="totp"] button.danger');
    await confirm();
    await page.waitForSelector('.details li[data-factor="totp"]', { state: 'detached' });
    const left = (await (await http('GET', `/0.1/users/${carolUuid}/mfa`, asAdmin)).json()).items as Array<{ type: string }>;
    expect(left.map((f) => f.type)).toEqual(['recovery_code']);

    // -- an expired token (the service's clock two hours on) sends back to the sign-in page
    clock.advance(2 * 3600_000);
    await page.click('nav a[href="#/tenants"]');
    await page.waitForSelector('.login .notice:has-text("Your session ended")');

    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 300_000);
});
