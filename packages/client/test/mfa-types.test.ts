// The package's wire types of multi-factor authentication (issue 24) held to
// the server's TypeBox schemas (src/http/routes/mfa.ts): this file only
// compiles (`npm run typecheck`) while both agree, field for field; the
// runtime checks compare the property names.
import type { Static } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import type { MfaFactor, RecoveryCodes, TotpEnrolment } from '@xivo-auth/client';
import { Factor, RecoveryCodes as RecoveryCodesSchema, TotpCreated } from '../../../src/http/routes/mfa.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameFactor: Same<Static<typeof Factor>, MfaFactor> = true;
const sameTotp: Same<Static<typeof TotpCreated>, TotpEnrolment> = true;
const sameCodes: Same<Static<typeof RecoveryCodesSchema>, RecoveryCodes> = true;

describe('MFA wire types follow the server schemas', () => {
  it('compile-time equality holds', () => {
    expect([sameFactor, sameTotp, sameCodes]).toEqual([true, true, true]);
  });

  it('the schemas name the fields the package declares', () => {
    const factor: Record<keyof MfaFactor, true> = {
      uuid: true,
      type: true,
      name: true,
      confirmed: true,
      created_at: true,
      confirmed_at: true,
      remaining: true,
    };
    const totp: Record<keyof TotpEnrolment, true> = {
      uuid: true,
      secret: true,
      otpauth_uri: true,
      qr_svg: true,
      confirmed: true,
    };
    const codes: Record<keyof RecoveryCodes, true> = { uuid: true, codes: true };
    expect(Object.keys(Factor.properties).sort()).toEqual(Object.keys(factor).sort());
    expect(Object.keys(TotpCreated.properties).sort()).toEqual(Object.keys(totp).sort());
    expect(Object.keys(RecoveryCodesSchema.properties).sort()).toEqual(Object.keys(codes).sort());
  });
});
