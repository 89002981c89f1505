import { ConflictError, type OAuthClient, type OAuthClientPatch, type OAuthClientRepository } from '@blockyard/core';

/** OAuth clients in a Map. Stores and returns copies. */
export class InMemoryOAuthClientRepository implements OAuthClientRepository {
  private readonly byId = new Map<string, OAuthClient>();

  async create(client: OAuthClient): Promise<void> {
    if (this.byId.has(client.id)) throw new ConflictError(`OAuth client ${client.id} already exists`);
    this.byId.set(client.id, structuredClone(client));
  }

  async get(id: string): Promise<OAuthClient | null> {
    const client = this.byId.get(id);
    return client ? structuredClone(client) : null;
  }

  async listByUser(userId: string): Promise<OAuthClient[]> {
    return [...this.byId.values()]
      .filter((c) => c.userId === userId)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((c) => structuredClone(c));
  }

  async update(id: string, patch: OAuthClientPatch): Promise<OAuthClient | null> {
    const client = this.byId.get(id);
    if (!client) return null;
    const { scopes, ...rest } = patch;
    const changes = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    const { scopes: current, ...others } = client;
    // `scopes: null` lifts the allow-list: a client without one has no scopes field.
    const kept = scopes === undefined ? current : (scopes ?? undefined);
    const updated: OAuthClient = { ...others, ...structuredClone(changes), ...(kept ? { scopes: [...kept] } : {}) };
    this.byId.set(id, updated);
    return structuredClone(updated);
  }

  async delete(id: string): Promise<boolean> {
    return this.byId.delete(id);
  }
}
