import type { OAuthArtifact, OAuthArtifactStore } from '@blockyard/core';

/** The authorization server's artifacts in a Map keyed by model and id. Stores and returns copies. */
export class InMemoryOAuthArtifactStore implements OAuthArtifactStore {
  private readonly byKey = new Map<string, OAuthArtifact>();

  async upsert(artifact: OAuthArtifact): Promise<void> {
    this.byKey.set(key(artifact.model, artifact.id), structuredClone(artifact));
  }

  async find(model: string, id: string): Promise<OAuthArtifact | null> {
    const found = this.byKey.get(key(model, id));
    return found ? structuredClone(found) : null;
  }

  async findByUserCode(model: string, userCode: string): Promise<OAuthArtifact | null> {
    return this.findWhere((a) => a.model === model && a.userCode === userCode);
  }

  async findByUid(model: string, uid: string): Promise<OAuthArtifact | null> {
    return this.findWhere((a) => a.model === model && a.uid === uid);
  }

  async consume(model: string, id: string, at: Date): Promise<boolean> {
    const k = key(model, id);
    const found = this.byKey.get(k);
    if (!found || found.consumedAt) return false;
    this.byKey.set(k, { ...found, consumedAt: new Date(at) });
    return true;
  }

  async destroy(model: string, id: string): Promise<boolean> {
    return this.byKey.delete(key(model, id));
  }

  async revokeByGrantId(model: string, grantId: string): Promise<number> {
    return this.deleteWhere((a) => a.model === model && a.grantId === grantId);
  }

  async revokeByClientId(clientId: string): Promise<number> {
    return this.deleteWhere((a) => a.clientId === clientId);
  }

  async deleteExpired(before: Date): Promise<number> {
    return this.deleteWhere((a) => a.expiresAt !== null && a.expiresAt.getTime() < before.getTime());
  }

  private findWhere(test: (a: OAuthArtifact) => boolean): OAuthArtifact | null {
    for (const a of this.byKey.values()) if (test(a)) return structuredClone(a);
    return null;
  }

  private deleteWhere(test: (a: OAuthArtifact) => boolean): number {
    let deleted = 0;
    for (const [k, a] of this.byKey) {
      if (test(a)) {
        this.byKey.delete(k);
        deleted += 1;
      }
    }
    return deleted;
  }
}

function key(model: string, id: string): string {
  return `${model}\u0000${id}`;
}
