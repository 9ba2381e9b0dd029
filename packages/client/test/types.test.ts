// The package declares the wire types itself (no dependency on the server or
// TypeBox). This file holds them to the server's TypeBox schemas: it only
// compiles (`npm run typecheck`) while both agree, field for field, and the
// runtime checks compare the property names of the schemas.
import type { Static } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import type { Policy, RefreshToken, Tenant, Token, User } from '@xivo-auth/client';
import { PolicyView } from '../../../src/http/routes/policies.js';
import { TenantView } from '../../../src/http/routes/tenants.js';
import { UserView } from '../../../src/http/routes/users.js';
import { RefreshTokenItem, Token as TokenSchema } from '../../../src/http/schemas/token.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameToken: Same<Omit<Static<typeof TokenSchema>, 'metadata'>, Omit<Token, 'metadata'>> = true;
const sameRefresh: Same<Static<typeof RefreshTokenItem>, RefreshToken> = true;
const samePolicy: Same<Static<typeof PolicyView>, Policy> = true;
const sameTenant: Same<Static<typeof TenantView>, Tenant> = true;
const sameUser: Same<Omit<Static<typeof UserView>, 'purpose'>, Omit<User, 'purpose'>> = true;

describe('wire types follow the server schemas', () => {
  it('compile-time equality holds', () => {
    expect([sameToken, sameRefresh, samePolicy, sameUser, sameTenant]).toEqual([true, true, true, true, true]);
  });

  it('the schemas name the fields the package declares', () => {
    const token: Record<keyof Token, true> = {
      token: true,
      uuid: true,
      auth_id: true,
      xivo_user_uuid: true,
      xivo_uuid: true,
      issued_at: true,
      expires_at: true,
      utc_issued_at: true,
      utc_expires_at: true,
      acl: true,
      metadata: true,
      session_uuid: true,
      remote_addr: true,
      user_agent: true,
      refresh_token: true,
    };
    expect(Object.keys(TokenSchema.properties).sort()).toEqual(Object.keys(token).sort());
  });
});
