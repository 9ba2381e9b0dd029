// Shared by the verifier tests: a real xivo-auth, tokens with chosen ACLs, and
// a publisher of the documented auth_session_deleted event (API.md §5).
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { XivoAuthClient, type Token } from '@xivo-auth/client';
import { ADMIN, type TestService } from '../../../test/helpers/service.js';

export const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

export function uniqueExchange(): string {
  return `xivo-auth-verifier-test-${randomUUID()}`;
}

export interface Fixture {
  url: string;
  admin: XivoAuthClient;
  /** A new user whose token carries exactly `acl`; returns its token. */
  tokenWith(acl: string[], expiration?: number, tenant?: string): Promise<Token>;
  /** Requests the xivo-auth server received so far. */
  serverRequests(): number;
  close(): void;
}

let seq = 0;

export async function fixture(t: TestService): Promise<Fixture> {
  const url = await t.service.listen();
  let requests = 0;
  t.service.app.server.on('request', () => requests++);
  const admin = new XivoAuthClient({ url, timeout: 10_000 });
  admin.setToken((await admin.token.create({ username: ADMIN.username, password: ADMIN.password })).token);
  return {
    url,
    admin,
    async tokenWith(acl, expiration = 3600, tenant) {
      const n = ++seq;
      const username = `verifier-user-${n}-${randomUUID().slice(0, 8)}`;
      const password = `pw-${randomUUID()}`;
      const user = await admin.users.create({ username, password }, { tenant });
      if (acl.length > 0) {
        const policy = await admin.policies.create({ name: `p-${username}`, acl }, { tenant });
        await admin.users.addPolicy(user.uuid, policy.uuid, { tenant });
      }
      return admin.token.create({ username, password, expiration });
    },
    serverRequests: () => requests,
    close: () => admin.close(),
  };
}

export interface Publisher {
  sessionDeleted(token: Token): Promise<void>;
  close(): Promise<void>;
}

/** Publishes `auth_session_deleted` for a token's session, as xivo-auth documents it. */
export async function publisher(exchange: string): Promise<Publisher> {
  const conn = await amqp.connect(AMQP_URL);
  const channel = await conn.createConfirmChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  return {
    async sessionDeleted(token) {
      const tenant = (token.metadata.tenant_uuid as string | undefined) ?? null;
      const headers = {
        name: 'auth_session_deleted',
        origin_uuid: null,
        timestamp: new Date().toISOString(),
        tenant_uuid: tenant,
        required_access: 'event.auth_session_deleted',
        [`user_uuid:${token.metadata.uuid as string}`]: true,
      };
      const body = { ...headers, data: { uuid: token.session_uuid, tenant_uuid: tenant, user_uuid: token.metadata.uuid } };
      channel.publish(exchange, `auth.sessions.${token.session_uuid}.deleted`, Buffer.from(JSON.stringify(body)), {
        headers,
        contentType: 'application/json',
      });
      await channel.waitForConfirms();
    },
    async close() {
      await channel.deleteExchange(exchange).catch(() => undefined);
      await conn.close().catch(() => undefined);
    },
  };
}
