import { ConflictError, type ApiKey, type ApiKeyRepository } from '@blockyard/core';

/** API keys in a Map, indexed by hash. Stores and returns copies. */
export class InMemoryApiKeyRepository implements ApiKeyRepository {
  private readonly byId = new Map<string, ApiKey>();
  private readonly idByHash = new Map<string, string>();

  async create(key: ApiKey): Promise<void> {
    if (this.byId.has(key.id)) throw new ConflictError(`API key ${key.id} already exists`);
    if (this.idByHash.has(key.hash)) throw new ConflictError('an API key with this hash already exists');
    this.byId.set(key.id, structuredClone(key));
    this.idByHash.set(key.hash, key.id);
  }

  async get(id: string): Promise<ApiKey | null> {
    const key = this.byId.get(id);
    return key ? structuredClone(key) : null;
  }

  async findByHash(hash: string): Promise<ApiKey | null> {
    const id = this.idByHash.get(hash);
    return id === undefined ? null : this.get(id);
  }

  async listByUser(userId: string): Promise<ApiKey[]> {
    return [...this.byId.values()]
      .filter((key) => key.userId === userId)
      .sort(oldestFirst)
      .map((key) => structuredClone(key));
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    return this.patch(id, { revokedAt: new Date(at) });
  }

  async touch(id: string, at: Date): Promise<void> {
    this.patch(id, { lastUsedAt: new Date(at) });
  }

  private patch(id: string, change: Partial<ApiKey>): boolean {
    const key = this.byId.get(id);
    if (!key) return false;
    this.byId.set(id, { ...key, ...change });
    return true;
  }
}

function oldestFirst(a: ApiKey, b: ApiKey): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
