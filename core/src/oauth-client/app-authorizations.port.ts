/**
 * The users' authorizations of apps at the authorization server (the consent a user gave on
 * the consent page, which the app's tokens are issued under): whether one is live and includes
 * a scope. The connect flow asks it, so that only an app the user authorized with
 * `integrations:connect` may ask for credential grants.
 */
export interface AppAuthorizations {
  /**
   * True when the user holds a live authorization (not revoked, not expired) of this client,
   * an active one, that includes `scope` (and the client may still request it).
   */
  hasAuthorized(userId: string, clientId: string, scope: string): Promise<boolean>;
}
export const AppAuthorizations = Symbol.for('blockyard/AppAuthorizations');
