// @xivo-auth/client: the xivo-auth /0.1 API for Node.
export {
  XivoAuthClient,
  type ClientOptions,
  type IterateOptions,
  type SecondFactorAnswer,
  type SecondFactorChallenge,
  type TokenCheckOptions,
  type TokenCreateOptions,
} from './client.js';
export { TokenRenewer, tokenLifetimeMs, type Timers, type TokenRenewerOptions } from './renewer.js';
export {
  ApiError,
  ConflictError,
  InvalidDataError,
  InvalidTokenError,
  MfaEnrolmentRequiredError,
  MfaRequiredError,
  MissingPermissionError,
  NotFoundError,
  RateLimitedError,
  ServiceUnavailableError,
  UnauthorizedError,
  errorFromResponse,
  parseRetryAfter,
  type ApiErrorBody,
  type ApiErrorInit,
} from './errors.js';
export type { CallOptions, TransportOptions } from './transport.js';
export type * from './types.js';
