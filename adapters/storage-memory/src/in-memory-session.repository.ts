import { ConflictError, type Session, type SessionRepository } from '@blockyard/core';

/** Sessions in a Map keyed by the id's hash; stores and returns copies. */
export class InMemorySessionRepository implements SessionRepository {
  private readonly byHash = new Map<string, Session>();

  async create(session: Session): Promise<void> {
    if (this.byHash.has(session.idHash)) throw new ConflictError('a session with this id already exists');
    this.byHash.set(session.idHash, structuredClone(session));
  }

  async get(idHash: string): Promise<Session | null> {
    const session = this.byHash.get(idHash);
    return session ? structuredClone(session) : null;
  }

  async touch(idHash: string, at: Date): Promise<boolean> {
    const session = this.byHash.get(idHash);
    if (!session) return false;
    this.byHash.set(idHash, { ...session, lastSeenAt: new Date(at) });
    return true;
  }

  async delete(idHash: string): Promise<boolean> {
    return this.byHash.delete(idHash);
  }

  async deleteExpired(now: Date): Promise<number> {
    let removed = 0;
    for (const [hash, session] of this.byHash) {
      if (session.expiresAt.getTime() <= now.getTime()) {
        this.byHash.delete(hash);
        removed += 1;
      }
    }
    return removed;
  }
}
