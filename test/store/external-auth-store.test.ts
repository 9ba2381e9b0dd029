// The store verbs of external accounts (issue 22; migration 13) on both
// engines: one poll claim among concurrent ones, one refresh lease, a
// completed flow that was cancelled meanwhile writes nothing, connections
// and configurations go with their user and tenant, connected users hold a
// live token, and the events commit with their change.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceFlowRecord, ExternalConnectionRecord } from '../../src/external/types.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/types.js';
import { dbUriFor, ENGINES } from '../helpers/service.js';

const NOW = Date.UTC(2026, 5, 1);

describe.each(ENGINES)('external-auth store verbs on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let tenant: string;

  const newUser = async (tenantUuid = tenant) => {
    const uuid = randomUUID();
    await store.createUser({
      uuid,
      tenantUuid,
      username: `u-${uuid}`,
      firstname: null,
      lastname: null,
      emailAddress: null,
      emailConfirmed: false,
      passwordHash: null,
      purpose: 'user',
      enabled: true,
      createdAt: NOW,
    });
    return uuid;
  };
  const flow = (userUuid: string, extra: Partial<DeviceFlowRecord> = {}): DeviceFlowRecord => ({
    userUuid,
    authType: 'google',
    tenantUuid: tenant,
    status: 'pending',
    error: null,
    deviceCode: 'sealed-code',
    scope: ['a', 'b'],
    intervalMs: 5000,
    nextPollAt: NOW,
    expiresAt: NOW + 600_000,
    createdAt: NOW,
    ...extra,
  });
  const connection = (userUuid: string, extra: Partial<ExternalConnectionRecord> = {}): ExternalConnectionRecord => ({
    userUuid,
    authType: 'google',
    data: { scope: ['a'] },
    secrets: 'sealed-tokens',
    expiresAt: NOW + 3600_000,
    createdAt: NOW,
    updatedAt: NOW,
    ...extra,
  });

  beforeAll(async () => {
    const db = await dbUriFor(engine);
    store = await openStore(db.uri, { recordEvents: true });
    await store.migrate();
    tenant = randomUUID();
    await store.createTenant({ uuid: tenant, name: 'external', slug: null, parentUuid: null });
    cleanup = async () => {
      await store.close();
      await db.cleanup();
    };
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('gives a due poll to exactly one of concurrent claimers, and moves the next one an interval on', async () => {
    const user = await newUser();
    await store.putDeviceFlow(flow(user));
    const claims = await Promise.all(Array.from({ length: 6 }, () => store.claimDeviceFlowPoll(user, 'google', NOW)));
    expect(claims.filter((c) => c !== null)).toHaveLength(1);
    expect(claims.find((c) => c !== null)).toMatchObject({ scope: ['a', 'b'], deviceCode: 'sealed-code', intervalMs: 5000 });
    expect((await store.getDeviceFlow(user, 'google'))?.nextPollAt).toBe(NOW + 5000);
    expect(await store.claimDeviceFlowPoll(user, 'google', NOW + 4999)).toBeNull();
    expect(await store.listDueDeviceFlows(NOW + 4999, 10)).not.toContainEqual({ userUuid: user, authType: 'google' });
    expect(await store.listDueDeviceFlows(NOW + 5000, 10)).toContainEqual({ userUuid: user, authType: 'google' });
    await store.updateDeviceFlow(user, 'google', { status: 'denied' });
    expect(await store.claimDeviceFlowPoll(user, 'google', NOW + 10_000)).toBeNull();
    expect(await store.listDueDeviceFlows(NOW + 10_000, 10)).not.toContainEqual({ userUuid: user, authType: 'google' });
  });

  it('completes a flow once, with its events; a flow deleted meanwhile writes nothing', async () => {
    const user = await newUser();
    const before = (await store.outboxBacklog()).pending;
    await store.putDeviceFlow(flow(user));
    expect(await store.completeDeviceFlow(connection(user), tenant)).toBe('created');
    expect(await store.getDeviceFlow(user, 'google')).toBeNull();
    expect(await store.getExternalConnection(user, 'google')).toMatchObject({
      secrets: 'sealed-tokens',
      expiresAt: NOW + 3600_000,
      data: { scope: ['a'] },
    });
    // added + authorized
    expect((await store.outboxBacklog()).pending).toBe(before + 2);
    expect(await store.completeDeviceFlow(connection(user, { secrets: 'other' }), tenant)).toBe('missing');
    expect((await store.getExternalConnection(user, 'google'))?.secrets).toBe('sealed-tokens');

    const cancelled = await newUser();
    await store.putDeviceFlow(flow(cancelled));
    expect(await store.deleteExternalConnection(cancelled, 'google', tenant)).toBeNull();
    expect(await store.completeDeviceFlow(connection(cancelled), tenant)).toBe('missing');
    expect(await store.getExternalConnection(cancelled, 'google')).toBeNull();
  });

  it('creates, refuses a second create, updates, and holds one refresh lease at a time', async () => {
    const user = await newUser();
    expect(await store.writeExternalConnection(connection(user, { authType: 'mobile', expiresAt: null }), 'update', tenant)).toBe(
      'missing',
    );
    expect(await store.writeExternalConnection(connection(user, { authType: 'mobile', expiresAt: null }), 'create', tenant)).toBe(
      'created',
    );
    expect(await store.writeExternalConnection(connection(user, { authType: 'mobile' }), 'create', tenant)).toBe('exists');
    expect(
      await store.writeExternalConnection(
        connection(user, { authType: 'mobile', secrets: 'v2', updatedAt: NOW + 1 }),
        'upsert',
        tenant,
      ),
    ).toBe('updated');
    expect((await store.getExternalConnection(user, 'mobile'))?.secrets).toBe('v2');
    expect(await store.listExternalConnectionTypes(user)).toEqual(['mobile']);

    await store.writeExternalConnection(connection(user), 'create', tenant);
    const leases = await Promise.all(
      Array.from({ length: 4 }, () => store.claimExternalRefresh(user, 'google', NOW, NOW + 15_000)),
    );
    expect(leases.filter(Boolean)).toHaveLength(1);
    expect(await store.claimExternalRefresh(user, 'google', NOW + 15_000, NOW + 30_000)).toBe(true); // an expired lease is taken over
    await store.releaseExternalRefresh(user, 'google');
    expect(await store.claimExternalRefresh(user, 'google', NOW, NOW + 15_000)).toBe(true);
    // A write (the refresh's result) ends the lease.
    await store.writeExternalConnection(connection(user, { updatedAt: NOW + 2 }), 'update', tenant);
    expect(await store.claimExternalRefresh(user, 'google', NOW, NOW + 15_000)).toBe(true);
  });

  it('lists as connected the users with a connection of the type and a live token', async () => {
    const online = await newUser();
    const offline = await newUser();
    for (const user of [online, offline])
      await store.writeExternalConnection(connection(user, { authType: 'mobile' }), 'create', tenant);
    const session = randomUUID();
    await store.createSession({ uuid: session, tenantUuid: tenant, userUuid: online, mobile: true, createdAt: NOW });
    await store.insertToken({
      hash: randomUUID(),
      sessionUuid: session,
      authId: online,
      userUuid: online,
      tenantUuid: tenant,
      pbxUserUuid: null,
      xivoUuid: null,
      issuedAt: NOW,
      expiresAt: NOW + 60_000,
      acl: [],
      metadata: {},
      remoteAddr: null,
      userAgent: null,
      refreshTokenUuid: null,
    });
    const listed = await store.listConnectedUsers('mobile', [tenant], NOW, {});
    expect(listed.items).toContain(online);
    expect(listed.items).not.toContain(offline);
    expect((await store.listConnectedUsers('mobile', [tenant], NOW + 60_000, {})).items).not.toContain(online);
    expect((await store.listConnectedUsers('mobile', [randomUUID()], NOW, {})).total).toBe(0);
    expect((await store.listConnectedUsers('mobile', [tenant], NOW, { limit: 1, offset: 1 })).items).toHaveLength(
      Math.max(0, listed.total - 1),
    );
  });

  it('configurations: one per tenant and type, replaced, deleted, gone with their tenant; connections gone with their user', async () => {
    const other = randomUUID();
    await store.createTenant({ uuid: other, name: 'other', slug: null, parentUuid: tenant });
    const config = {
      tenantUuid: other,
      authType: 'google',
      data: { client_id: 'c' },
      secrets: 'sealed',
      createdAt: NOW,
      updatedAt: NOW,
    };
    expect(await store.replaceExternalAuthConfig(config)).toBe(false);
    expect(await store.createExternalAuthConfig(config)).toBe(true);
    expect(await store.createExternalAuthConfig(config)).toBe(false);
    expect(
      await store.replaceExternalAuthConfig({ ...config, data: { client_id: 'd' }, secrets: null, updatedAt: NOW + 1 }),
    ).toBe(true);
    expect(await store.getExternalAuthConfig(other, 'google')).toEqual({
      ...config,
      data: { client_id: 'd' },
      secrets: null,
      updatedAt: NOW + 1,
    });
    expect(await store.deleteExternalAuthConfig(other, 'google')).toBe(true);
    expect(await store.deleteExternalAuthConfig(other, 'google')).toBe(false);

    await store.createExternalAuthConfig(config);
    const user = await newUser(other);
    await store.writeExternalConnection(connection(user), 'create', other);
    await store.putDeviceFlow(flow(user, { authType: 'microsoft', tenantUuid: other }));
    await store.deleteUser(user);
    expect(await store.getExternalConnection(user, 'google')).toBeNull();
    expect(await store.getDeviceFlow(user, 'microsoft')).toBeNull();
    await store.deleteTenant(other);
    expect(await store.getExternalAuthConfig(other, 'google')).toBeNull();
  });
});
