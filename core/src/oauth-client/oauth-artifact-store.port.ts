/**
 * One thing the authorization server keeps between requests: an authorization code, an access
 * or refresh token, a grant, a login interaction, a session ... `model` names its kind (the
 * authorization server's own names: `AccessToken`, `AuthorizationCode`, `RefreshToken`,
 * `Grant`, `Interaction`, `Session`, ...), `payload` is the server's JSON for it. The other
 * fields are the payload's keys the store looks things up by.
 */
export interface OAuthArtifact {
  readonly model: string;
  /** Unique within its model (a token's id, never the token value's hash: the server picks ids). */
  readonly id: string;
  readonly payload: Readonly<Record<string, unknown>>;
  /** The grant it belongs to, so that a grant can be revoked with everything it issued. */
  readonly grantId: string | null;
  /** The client it was issued to, so that deleting a client revokes its artifacts. */
  readonly clientId: string | null;
  /** A device flow's user code. */
  readonly userCode: string | null;
  /** A session's uid. */
  readonly uid: string | null;
  /** When it stops being valid; null for never. Expired artifacts are still found (the server says "expired"), until pruned. */
  readonly expiresAt: Date | null;
  /** When it was used up (single-use codes and rotated refresh tokens); null while unused. */
  readonly consumedAt: Date | null;
}

/**
 * The authorization server's storage. Every adapter passes the shared contract
 * (`oauthArtifactStoreContract` in @blockyard/core/testing).
 */
export interface OAuthArtifactStore {
  /** Creates the artifact, or replaces every field of the one with its model and id. */
  upsert(artifact: OAuthArtifact): Promise<void>;
  find(model: string, id: string): Promise<OAuthArtifact | null>;
  findByUserCode(model: string, userCode: string): Promise<OAuthArtifact | null>;
  findByUid(model: string, uid: string): Promise<OAuthArtifact | null>;
  /**
   * Marks it used at `at`, atomically: of concurrent consumers exactly one gets true; false
   * when it was already used or does not exist. This is what makes codes single-use.
   */
  consume(model: string, id: string, at: Date): Promise<boolean>;
  /** False when there was none. */
  destroy(model: string, id: string): Promise<boolean>;
  /** Deletes the model's artifacts of the grant; answers how many. */
  revokeByGrantId(model: string, grantId: string): Promise<number>;
  /** Deletes every artifact (any model) issued to the client; answers how many. */
  revokeByClientId(clientId: string): Promise<number>;
  /** Deletes artifacts that expired before `before`; answers how many. */
  deleteExpired(before: Date): Promise<number>;
}
export const OAuthArtifactStore = Symbol.for('blockyard/OAuthArtifactStore');
