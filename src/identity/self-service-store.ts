// Storage verbs of self-service accounts (issue 21): the links of emailed
// tokens, and the email addresses they confirm. Declared here, in the
// domain's words; implemented by src/store/self-service-verbs.ts (table
// emailed_tokens, migration 14) and usable inside store transactions.
import type { MailTx } from '../mail/types.js';
import type { TokenStoreTx } from '../tokens/store.js';
import type { UserEmail } from './types.js';

/** What an emailed token is for. */
export type EmailedTokenPurpose = 'email_confirmation' | 'password_reset';

/** An emailed token: its hash (a row of `tokens`), tied to a user and, for a confirmation, to one address. */
export interface EmailedTokenLink {
  tokenHash: string;
  purpose: EmailedTokenPurpose;
  userUuid: string;
  /** The address a confirmation token confirms; null for a reset token. */
  emailUuid: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface SelfServiceTx {
  /** Ties a token just inserted to what it was mailed for. */
  linkEmailedToken(link: EmailedTokenLink): Promise<void>;
  /** The link of a token (by its hash), or null: not an emailed token, or its user or address is gone. */
  findEmailedToken(tokenHash: string): Promise<EmailedTokenLink | null>;
  /** An address by its uuid, with its user; null when unknown. */
  findUserEmail(emailUuid: string): Promise<{ userUuid: string; email: UserEmail } | null>;
  /** Marks the address confirmed (a login from now on); false when unknown. */
  confirmUserEmail(emailUuid: string): Promise<boolean>;
  /** The user whose username is `username` (case-insensitive), or null. */
  findUserUuidByUsername(username: string): Promise<string | null>;
  /** The user holding the confirmed address `address` (case-insensitive), or null. */
  findUserUuidByConfirmedEmail(address: string): Promise<string | null>;
}

/**
 * What mailing an emailed token writes in the caller's transaction: the
 * token's session and record, its link, and the mail that carries it.
 */
export interface EmailedTokenTx
  extends Pick<SelfServiceTx, 'linkEmailedToken'>, Pick<TokenStoreTx, 'createSession' | 'insertToken'>, MailTx {}
