// Errors of external accounts (issue 22), each with its stable error_id.
// Messages name types and users, never a secret or a provider's free text.
import { ConflictError, DomainError, NotFoundError, ServiceUnavailableError } from '../errors.js';

export class UnknownExternalAuthTypeError extends NotFoundError {
  constructor(authType: string) {
    super('unknown-external-auth-type', 'external auth type', authType);
  }
}

export class UnknownExternalAuthConfigError extends NotFoundError {
  constructor(authType: string) {
    super('unknown-external-auth-config', `${authType} configuration of the tenant`, authType);
  }
}

export class ExternalAuthConfigExistsError extends ConflictError {
  constructor(authType: string) {
    super('external', undefined, `The tenant already has a ${authType} configuration (PUT replaces it)`);
  }
}

export class UnknownExternalAuthError extends NotFoundError {
  constructor(authType: string) {
    super('unknown-external-auth', `${authType} connection of the user`, authType);
  }
}

export class ExternalAuthExistsError extends ConflictError {
  constructor(authType: string) {
    super('external', undefined, `The user already has a ${authType} connection (PUT replaces it)`);
  }
}

/**
 * 404 for a connection that is not there yet or any more, with why: the
 * user has not completed the authorization (pending), refused it (denied),
 * let it expire (expired), the provider refused it (failed), or no longer
 * accepts it (revoked): connect again.
 */
export class ExternalAuthNotReadyError extends DomainError {
  constructor(
    authType: string,
    state: 'pending' | 'denied' | 'expired' | 'failed' | 'revoked',
    providerError: string | null = null,
  ) {
    const messages = {
      pending: `The ${authType} authorization is not completed yet`,
      denied: `The user denied the ${authType} authorization`,
      expired: `The ${authType} authorization expired before the user completed it`,
      failed: `${authType} refused the authorization`,
      revoked: `${authType} no longer accepts this authorization: connect again`,
    };
    super(404, `external-auth-${state}`, messages[state], providerError === null ? { state } : { state, error: providerError }, {
      resource: 'external',
    });
  }
}

/** 503: the provider did not answer (down, timed out, 5xx): retry later. */
export class ProviderUnavailableError extends ServiceUnavailableError {
  constructor(authType: string, detail: string) {
    super(`${authType} is unavailable: ${detail}`, 5);
  }
}

/** 503: the provider refused xivo-auth's client (invalid_client...): the tenant's configuration needs fixing. */
export class ProviderRefusedError extends DomainError {
  constructor(authType: string, providerError: string) {
    super(
      503,
      'external-auth-provider-refused',
      `${authType} refused the request (${providerError}): check the tenant's ${authType} configuration (/external/${authType}/config)`,
      { error: providerError },
      { resource: 'external' },
    );
  }
}
