import type { ApiKey } from './api-key.js';

export interface ApiKeyRepository {
  create(key: ApiKey): Promise<void>;
  get(id: string): Promise<ApiKey | null>;
  findByHash(hash: string): Promise<ApiKey | null>;
  listByUser(userId: string): Promise<ApiKey[]>;
  /** Sets revokedAt; false when there is no such key. */
  revoke(id: string, at: Date): Promise<boolean>;
  /** Records a use (callers throttle how often). */
  touch(id: string, at: Date): Promise<void>;
}
export const ApiKeyRepository = Symbol.for('blockyard/ApiKeyRepository');
