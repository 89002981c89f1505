import type { EncryptedSecret } from './secret-cipher.port.js';

/**
 * A pending provider login: the single-use `state` of one authorization request, bound to the
 * user who started it. Stored under the SHA-256 of the state value (a leaked row cannot
 * complete a login); the PKCE code verifier is sealed.
 */
export interface OAuthState {
  /** SHA-256 (hex) of the state value sent to the provider. */
  readonly id: string;
  readonly userId: string;
  readonly provider: string;
  /** The sealed PKCE code_verifier (associated data: the id); null when the provider has no PKCE. */
  readonly codeVerifier: EncryptedSecret | null;
  /** The redirect_uri sent in the authorization request (the token request repeats it). */
  readonly redirectUri: string;
  /** Integration scopes the credential will hold. */
  readonly scopes: readonly string[];
  readonly expiresAt: Date;
  readonly createdAt: Date;
}

export interface OAuthStateRepository {
  /** Stores a new state; a duplicate id is a ConflictError. */
  create(state: OAuthState): Promise<void>;
  /**
   * Deletes the state and answers it, atomically: of concurrent consumers of one state only
   * one gets it. Null when there is none (never issued, already used). Expired states are
   * answered too, so that the caller can say so; they are deleted all the same.
   */
  consume(id: string): Promise<OAuthState | null>;
  /** Deletes the states that expired before `now`; answers how many. */
  deleteExpired(now: Date): Promise<number>;
}
export const OAuthStateRepository = Symbol.for('blockyard/OAuthStateRepository');
