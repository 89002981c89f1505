import type { OAuthClient, OAuthClientPatch } from './oauth-client.js';

/** Registered third-party applications. */
export interface OAuthClientRepository {
  /** Stores a new client; a duplicate id is a ConflictError. */
  create(client: OAuthClient): Promise<void>;
  get(id: string): Promise<OAuthClient | null>;
  /** The user's clients, oldest first. */
  listByUser(userId: string): Promise<OAuthClient[]>;
  /**
   * Changes the given fields only (concurrent patches of different fields both land) and
   * answers the client as it is now; null when there is no such client.
   */
  update(id: string, patch: OAuthClientPatch): Promise<OAuthClient | null>;
  /** False when there was no such client. */
  delete(id: string): Promise<boolean>;
}
export const OAuthClientRepository = Symbol.for('blockyard/OAuthClientRepository');
