// Self-service accounts as one service runs them (built by
// src/wiring/mail.ts): the domain service, the mail relay, what
// GET /0.1/status says of mail, and which flows are on.
import type { MailRelay } from '../mail/relay.js';
import type { SelfService } from './self-service.js';

export interface SelfServiceDeps {
  service: SelfService;
  relay: MailRelay;
  /** `mail` of GET /0.1/status. */
  status(): Promise<Record<string, unknown>>;
  plugins: { emailConfirm: boolean; passwordReset: boolean; userRegistration: boolean };
}
