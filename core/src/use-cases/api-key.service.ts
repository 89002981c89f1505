import { generateApiKeySecret, hashApiKeySecret, isApiKeyActive, parseScopes, API_KEY_PREFIX, type ApiKey } from '../api-key/api-key.js';
import type { ApiKeyRepository } from '../api-key/api-key.repository.port.js';
import type { Principal } from '../api-key/principal.js';
import { NotFoundError, PermissionError, UnauthorizedError, ValidationError } from '../errors/domain.errors.js';
import type { UserRepository } from '../user/user.repository.port.js';
import type { Clock } from '../system/clock.port.js';
import type { IdGenerator } from '../system/id-generator.port.js';

export interface ApiKeyServiceDeps {
  apiKeys: ApiKeyRepository;
  users: UserRepository;
  clock: Clock;
  ids: IdGenerator;
}

/** Last-used times are written at most this often per key, to keep requests read-only. */
const TOUCH_INTERVAL_MS = 60_000;

/** Creating, listing, revoking and checking API keys. */
export class ApiKeyService {
  constructor(private readonly deps: ApiKeyServiceDeps) {}

  /**
   * Creates a key; the secret is in the answer only, never stored. With `grantor` (the key of an
   * HTTP caller) the new key may hold only scopes the grantor holds: no escalation.
   */
  async createApiKey(input: { userId: string; name?: string; scopes: readonly string[]; expiresAt?: Date | null; grantor?: Principal }): Promise<{ key: ApiKey; secret: string }> {
    const { apiKeys, users, clock, ids } = this.deps;
    // An app's access token must not outlive its revocation as a key it minted.
    if (input.grantor?.clientId) throw new PermissionError('an OAuth access token cannot create API keys; use an API key or sign in');
    const scopes = parseScopes(input.scopes);
    if (input.grantor) {
      const extra = scopes.filter((s) => !input.grantor!.scopes.has(s));
      if (extra.length) throw new PermissionError(`a key cannot grant scopes it does not hold: ${extra.join(', ')}`);
    }
    if (!(await users.get(input.userId))) throw new NotFoundError(`user ${input.userId} not found`);
    const name = (input.name ?? 'default').trim();
    if (!name || name.length > 100) throw new ValidationError('a key name is 1 to 100 characters');
    const now = clock.now();
    if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) throw new ValidationError('expiry must be in the future');
    const secret = generateApiKeySecret();
    const key: ApiKey = {
      id: ids.next(),
      userId: input.userId,
      name,
      prefix: secret.slice(0, API_KEY_PREFIX.length + 6),
      hash: hashApiKeySecret(secret),
      scopes,
      createdAt: now,
      lastUsedAt: null,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
    };
    await apiKeys.create(key);
    return { key, secret };
  }

  listApiKeys(userId: string): Promise<ApiKey[]> {
    return this.deps.apiKeys.listByUser(userId);
  }

  /** Revokes one of the user's keys (or any key when userId is null: the operator's CLI). */
  async revokeApiKey(userId: string | null, id: string): Promise<ApiKey> {
    const { apiKeys, clock } = this.deps;
    const key = await apiKeys.get(id);
    if (!key || (userId !== null && key.userId !== userId)) throw new NotFoundError(`API key ${id} not found`);
    if (key.revokedAt) return key;
    const at = clock.now();
    await apiKeys.revoke(id, at);
    return { ...key, revokedAt: at };
  }

  /** The caller behind a secret; unknown, revoked or expired keys are unauthorized. */
  async authenticate(secret: string | undefined): Promise<Principal> {
    if (!secret) throw new UnauthorizedError('missing X-API-Key header');
    if (!secret.startsWith(API_KEY_PREFIX) || secret.length > 200) throw new UnauthorizedError('invalid API key');
    const { apiKeys, clock } = this.deps;
    const key = await apiKeys.findByHash(hashApiKeySecret(secret));
    const now = clock.now();
    if (!key || !isApiKeyActive(key, now)) throw new UnauthorizedError('invalid API key');
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
      await apiKeys.touch(key.id, now);
    }
    return { userId: key.userId, scopes: new Set(key.scopes), via: `api-key:${key.id}` };
  }
}
