// Issue 16, finding 6: absurd pagination (offset=1e300, 99999999999999999999)
// reached the store and answered 500 on every listing. offset and limit have a
// schema maximum: over it (or under 0), 400 naming the field; a large but
// allowed offset is an empty page.
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_LIST_LIMIT, MAX_LIST_OFFSET } from '../../src/http/schemas/common.js';
import { withoutThrottling } from '../backends/relaxed.js';
import { iamApi } from '../helpers/iam.js';
import { ENGINES, startTestService, type TestService } from '../helpers/service.js';

const BAD: [query: string, field: 'offset' | 'limit'][] = [
  ['offset=99999999999999999999', 'offset'],
  ['offset=1e300', 'offset'],
  [`offset=${MAX_LIST_OFFSET + 1}`, 'offset'],
  ['offset=-1', 'offset'],
  ['limit=1e300', 'limit'],
  ['limit=99999999999999999999', 'limit'],
  [`limit=${MAX_LIST_LIMIT + 1}`, 'limit'],
  ['limit=-1', 'limit'],
];

describe.each(ENGINES)('listing bounds on %s', (engine) => {
  let t: TestService;
  let admin: string;
  let userUuid: string;
  let groupUuid: string;
  const api = iamApi(() => t);
  const listings = () => [
    '/0.1/users',
    '/0.1/policies',
    '/0.1/groups',
    '/0.1/sessions',
    '/0.1/tenants',
    '/0.1/tokens',
    '/0.1/audit',
    `/0.1/users/${userUuid}/sessions`,
    `/0.1/users/${userUuid}/groups`,
    `/0.1/users/${userUuid}/policies`,
    `/0.1/users/${userUuid}/tokens`,
    `/0.1/groups/${groupUuid}/users`,
    `/0.1/groups/${groupUuid}/policies`,
  ];

  beforeAll(async () => {
    t = await startTestService(engine, withoutThrottling());
    admin = await api.adminToken();
    userUuid = await api.createUser(admin, 'paged', 'paged-password');
    await api.login('paged', 'paged-password');
    const group = await api.as(admin, 'POST', '/0.1/groups', { name: 'paged group' });
    expect(group.statusCode, group.body).toBe(200);
    groupUuid = group.json().uuid;
  });

  it('answers 400 naming offset or limit, never 500, on every listing', async () => {
    for (const url of listings()) {
      for (const [query, field] of BAD) {
        const res = await api.as(admin, 'GET', `${url}?${query}`);
        expect(res.statusCode, `${url}?${query}: ${res.body}`).toBe(400);
        const body = res.json();
        expect(body.error_id, `${url}?${query}`).toBe('invalid-list-param');
        expect(Object.keys(body.details), `${url}?${query}`).toEqual([field]);
      }
    }
  });

  it('answers an empty page for the largest allowed offset, with or without a limit', async () => {
    for (const url of listings()) {
      for (const query of [`offset=${MAX_LIST_OFFSET}`, `offset=${MAX_LIST_OFFSET}&limit=${MAX_LIST_LIMIT}`]) {
        const res = await api.as(admin, 'GET', `${url}?${query}`);
        expect(res.statusCode, `${url}?${query}: ${res.body}`).toBe(200);
        expect(res.json().items, `${url}?${query}`).toEqual([]);
      }
    }
  });
});
