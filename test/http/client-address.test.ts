// rest_api.num_proxies: X-Forwarded-For is honoured through exactly that many
// trusted hops, by Fastify (request.ip: the token's remote_addr, the audit
// trail, throttling) and by the fast check path alike. Regression: a numeric
// trustProxy is ignored by Fastify 5, so the proxy's address was used for
// every client behind it.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../src/http/client-address.js';
import { ADMIN, basic, startTestService } from '../helpers/service.js';

function raw(peer: string, xff?: string): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  } as unknown as IncomingMessage;
}

describe('clientAddress', () => {
  it('skips exactly num_proxies trusted hops from the right', () => {
    expect(clientAddress(raw('10.0.0.1', '1.1.1.1, 2.2.2.2'), 0)).toBe('10.0.0.1');
    expect(clientAddress(raw('10.0.0.1', '1.1.1.1, 2.2.2.2'), 1)).toBe('2.2.2.2');
    expect(clientAddress(raw('10.0.0.1', '1.1.1.1, 2.2.2.2'), 2)).toBe('1.1.1.1');
    // More trusted hops than the header has: the leftmost address given.
    expect(clientAddress(raw('10.0.0.1', '1.1.1.1'), 5)).toBe('1.1.1.1');
    expect(clientAddress(raw('10.0.0.1'), 1)).toBe('10.0.0.1');
    expect(clientAddress(raw('10.0.0.1', ' , 3.3.3.3 ,'), 1)).toBe('3.3.3.3');
  });
});

describe.each([
  { numProxies: 0, expected: '10.0.0.1' },
  { numProxies: 1, expected: '2.2.2.2' },
  { numProxies: 2, expected: '1.1.1.1' },
])('num_proxies $numProxies', ({ numProxies, expected }) => {
  it(`records ${expected} as the token's remote_addr`, async () => {
    const t = await startTestService('sqlite', { rest_api: { num_proxies: numProxies } });
    const res = await t.service.app.inject({
      method: 'POST',
      url: '/0.1/token',
      remoteAddress: '10.0.0.1',
      headers: {
        authorization: basic(ADMIN.username, ADMIN.password),
        'content-type': 'application/json',
        'x-forwarded-for': '1.1.1.1, 2.2.2.2',
      },
      payload: {},
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data.remote_addr).toBe(expected);
    await t.close();
  });
});
