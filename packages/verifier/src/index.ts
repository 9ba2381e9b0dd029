// @xivo-auth/verifier: protect a service's routes with xivo-auth tokens.
// Framework adapters: '@xivo-auth/verifier/fastify', '@xivo-auth/verifier/express'.
export {
  createVerifier,
  tokenHash,
  Verifier,
  VerificationError,
  type DenyReason,
  type Identity,
  type VerifierAuth,
  type VerifierMode,
  type VerifierOptions,
  type VerifierStats,
  type VerifyRequest,
} from './verifier.js';
export { requiredAccessFor, templateParams } from './access.js';
export { refusalFor, tokenFromHeaders, type Refusal } from './reply.js';
export { deletedSessionOf, type BusOptions, type BusState } from './bus.js';
