import { ConflictError, type OAuthState, type OAuthStateRepository } from '@blockyard/core';

/** Pending provider logins in a Map; `consume` takes a state out in one synchronous step. */
export class InMemoryOAuthStateRepository implements OAuthStateRepository {
  private readonly byId = new Map<string, OAuthState>();

  async create(state: OAuthState): Promise<void> {
    if (this.byId.has(state.id)) throw new ConflictError(`oauth state ${state.id} already exists`);
    this.byId.set(state.id, structuredClone(state));
  }

  async consume(id: string): Promise<OAuthState | null> {
    const state = this.byId.get(id);
    if (!state) return null;
    this.byId.delete(id);
    return state;
  }

  async deleteExpired(now: Date): Promise<number> {
    let deleted = 0;
    for (const [id, state] of this.byId) {
      if (state.expiresAt.getTime() < now.getTime()) {
        this.byId.delete(id);
        deleted += 1;
      }
    }
    return deleted;
  }
}
