import type { Principal } from '../api-key/principal.js';

/**
 * Checks an OAuth access token (`Authorization: Bearer ...`) and answers who it acts for: the
 * user, the client it was issued to, and only the scopes the token holds. Null for an unknown,
 * expired or revoked token, or one whose client is gone or disabled.
 */
export interface AccessTokenVerifier {
  verify(token: string): Promise<Principal | null>;
}
export const AccessTokenVerifier = Symbol.for('blockyard/AccessTokenVerifier');
