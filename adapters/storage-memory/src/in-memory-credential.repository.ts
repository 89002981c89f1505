import { ConflictError, type Credential, type CredentialRepository } from '@blockyard/core';

/** Credentials in a Map. Stores and returns copies; `update` is a compare-and-set on updatedAt. */
export class InMemoryCredentialRepository implements CredentialRepository {
  private readonly byId = new Map<string, Credential>();

  async create(credential: Credential): Promise<void> {
    if (this.byId.has(credential.id)) throw new ConflictError(`credential ${credential.id} already exists`);
    this.byId.set(credential.id, structuredClone(credential));
  }

  async get(id: string): Promise<Credential | null> {
    const credential = this.byId.get(id);
    return credential ? structuredClone(credential) : null;
  }

  async listByUser(userId: string): Promise<Credential[]> {
    return [...this.byId.values()]
      .filter((credential) => credential.userId === userId)
      .sort(oldestFirst)
      .map((credential) => structuredClone(credential));
  }

  async update(credential: Credential, expectedUpdatedAt: Date): Promise<boolean> {
    const stored = this.byId.get(credential.id);
    if (!stored || stored.updatedAt.getTime() !== expectedUpdatedAt.getTime()) return false;
    this.byId.set(credential.id, structuredClone(credential));
    return true;
  }

  async delete(id: string): Promise<boolean> {
    return this.byId.delete(id);
  }

  async listAll(afterId: string | null, limit: number): Promise<Credential[]> {
    if (limit <= 0) return [];
    return [...this.byId.values()]
      .filter((credential) => afterId === null || credential.id > afterId)
      .sort(byId)
      .slice(0, limit)
      .map((credential) => structuredClone(credential));
  }
}

function byId(a: Credential, b: Credential): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function oldestFirst(a: Credential, b: Credential): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || byId(a, b);
}
