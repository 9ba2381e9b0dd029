// An example third-party backend for xivo-auth: accounts listed in the
// plugin's options, each with a password and either a local xivo-auth user
// it logs in as, or an ACL of its own. Plain ESM; the JSDoc types come from
// xivo-auth's plugin contract (src/backends/plugin-api.ts).
//
//   backend_plugins:
//     static_accounts:
//       module: /usr/share/xivo-auth-example/index.js
//       options:
//         accounts:
//           kiosk: {password: "...", acl: ["confd.parkings.read"]}
//           alice: {password: "...", local_user: alice}
//   enabled_backend_plugins:
//     static_accounts: true
import { createHash, timingSafeEqual } from 'node:crypto';

/** @typedef {import('xivo-auth/plugin-api').BackendPluginFactory} BackendPluginFactory */
/** @typedef {import('xivo-auth/plugin-api').PluginIdentity} PluginIdentity */

/**
 * @typedef {object} Account
 * @property {string} password
 * @property {string} [local_user] username of the xivo-auth user this account logs in as
 * @property {string[]} [acl] ACL granted by this plugin
 */

/** Compares digests, so neither length nor content leaks through timing. */
function samePassword(expected, given) {
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(given, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** @type {BackendPluginFactory} */
export default function createStaticAccountsBackend(options, services) {
  /** @type {Record<string, Account>} */
  const accounts = /** @type {Record<string, Account>} */ (options.accounts ?? {});
  if (typeof accounts !== 'object' || accounts === null) throw new Error('options.accounts must be a mapping');
  services.logger.info({ accounts: Object.keys(accounts).length }, 'static accounts ready');

  return {
    async verifyPassword(login, password) {
      const account = Object.prototype.hasOwnProperty.call(accounts, login) ? accounts[login] : undefined;
      // Compare against something even for unknown logins: same work either way.
      const ok = samePassword(account?.password ?? '\u0000no account', password) && account !== undefined;
      if (!ok) return null;
      if (account.local_user !== undefined) {
        const user = await services.findUserByLogin(account.local_user);
        if (user === null || !user.enabled) return null;
        /** @type {PluginIdentity} */
        const identity = { authId: user.uuid, userUuid: user.uuid, acl: account.acl ?? [], metadata: { static_account: login } };
        return identity;
      }
      return { authId: `static:${login}`, purpose: 'external_api', acl: account.acl ?? [], metadata: { static_account: login } };
    },
    async close() {
      services.logger.info({}, 'static accounts closed');
    },
  };
}
