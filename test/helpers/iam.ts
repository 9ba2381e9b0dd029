// Request helpers for the IAM HTTP tests (tenants, policies, groups, sessions).
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { ADMIN, basic, type TestService } from './service.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

export interface Api {
  /** Any request, as the holder of `token` (null: no token). */
  as(
    token: string | null,
    method: string,
    url: string,
    payload?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  /** A token for login/password, or throws. */
  login(username: string, password: string): Promise<string>;
  adminToken(): Promise<string>;
  /** Creates a user as `token` (with Wazo-Tenant when tenant is given); returns its uuid. */
  createUser(token: string, username: string, password: string, tenant?: string): Promise<string>;
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
}

export function iamApi(t: () => TestService): Api {
  const inject = (opts: InjectOptions) => t().service.app.inject(opts);
  const api: Api = {
    inject,
    as(token, method, url, payload, headers = {}) {
      return inject({
        method: method as 'GET',
        url,
        headers: { ...JSON_HEADERS, ...(token === null ? {} : { 'x-auth-token': token }), ...headers },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    },
    async login(username, password) {
      const res = await inject({
        method: 'POST',
        url: '/0.1/token',
        headers: { ...JSON_HEADERS, authorization: basic(username, password) },
        payload: {},
      });
      if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
      return res.json().data.token as string;
    },
    adminToken() {
      return api.login(ADMIN.username, ADMIN.password);
    },
    async createUser(token, username, password, tenant) {
      const res = await api.as(token, 'POST', '/0.1/users', { username, password }, tenant ? { 'wazo-tenant': tenant } : {});
      if (res.statusCode !== 200) throw new Error(`create user ${username}: ${res.statusCode} ${res.body}`);
      return res.json().uuid as string;
    },
  };
  return api;
}

export const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';
