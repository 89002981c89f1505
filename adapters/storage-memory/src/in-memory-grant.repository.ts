import { ConflictError, type Grant, type GrantRepository } from '@blockyard/core';

/** Credential grants in a Map. Stores and returns copies. */
export class InMemoryGrantRepository implements GrantRepository {
  private readonly byId = new Map<string, Grant>();

  async create(grant: Grant): Promise<void> {
    if (this.byId.has(grant.id)) throw new ConflictError(`grant ${grant.id} already exists`);
    this.byId.set(grant.id, structuredClone(grant));
  }

  async get(id: string): Promise<Grant | null> {
    const grant = this.byId.get(id);
    return grant ? structuredClone(grant) : null;
  }

  async listByUser(userId: string): Promise<Grant[]> {
    return this.list((g) => g.userId === userId);
  }

  async listByUserAndClient(userId: string, clientId: string): Promise<Grant[]> {
    return this.list((g) => g.userId === userId && g.clientId === clientId);
  }

  async revoke(id: string, at: Date): Promise<Grant | null> {
    const grant = this.byId.get(id);
    if (!grant || grant.revokedAt) return null;
    const revoked: Grant = { ...grant, revokedAt: new Date(at) };
    this.byId.set(id, revoked);
    return structuredClone(revoked);
  }

  async revokeByClient(clientId: string, at: Date): Promise<Grant[]> {
    return this.revokeWhere((g) => g.clientId === clientId, at);
  }

  async revokeByCredential(credentialId: string, at: Date): Promise<Grant[]> {
    return this.revokeWhere((g) => g.credentialId === credentialId, at);
  }

  async markUsed(ids: readonly string[], at: Date): Promise<void> {
    for (const id of ids) {
      const grant = this.byId.get(id);
      if (grant && (!grant.lastUsedAt || grant.lastUsedAt.getTime() < at.getTime())) this.byId.set(id, { ...grant, lastUsedAt: new Date(at) });
    }
  }

  private list(match: (g: Grant) => boolean): Grant[] {
    return [...this.byId.values()]
      .filter(match)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((g) => structuredClone(g));
  }

  private async revokeWhere(match: (g: Grant) => boolean, at: Date): Promise<Grant[]> {
    const revoked: Grant[] = [];
    for (const grant of this.byId.values()) {
      if (!match(grant) || grant.revokedAt) continue;
      const next: Grant = { ...grant, revokedAt: new Date(at) };
      this.byId.set(grant.id, next);
      revoked.push(structuredClone(next));
    }
    return revoked;
  }
}
