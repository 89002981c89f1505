import { ConflictError, type User, type UserRepository } from '@blockyard/core';

/** Users in a Map. Stores and returns copies, so callers never share state with it. */
export class InMemoryUserRepository implements UserRepository {
  private readonly byId = new Map<string, User>();
  private readonly idByEmail = new Map<string, string>();
  private readonly passwordHashById = new Map<string, string>();

  async create(user: User): Promise<void> {
    if (this.byId.has(user.id)) throw new ConflictError(`user ${user.id} already exists`);
    if (this.idByEmail.has(user.email)) throw new ConflictError(`a user with email ${user.email} already exists`);
    this.byId.set(user.id, structuredClone(user));
    this.idByEmail.set(user.email, user.id);
  }

  async get(id: string): Promise<User | null> {
    const user = this.byId.get(id);
    return user ? structuredClone(user) : null;
  }

  async findByEmail(email: string): Promise<User | null> {
    const id = this.idByEmail.get(email);
    return id === undefined ? null : this.get(id);
  }

  async list(limit: number): Promise<User[]> {
    if (limit <= 0) return [];
    return [...this.byId.values()].sort(oldestFirst).slice(0, limit).map((user) => structuredClone(user));
  }

  async setPasswordHash(id: string, hash: string | null): Promise<boolean> {
    if (!this.byId.has(id)) return false;
    if (hash === null) this.passwordHashById.delete(id);
    else this.passwordHashById.set(id, hash);
    return true;
  }

  async getPasswordHash(id: string): Promise<string | null> {
    return this.passwordHashById.get(id) ?? null;
  }
}

function oldestFirst(a: User, b: User): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
