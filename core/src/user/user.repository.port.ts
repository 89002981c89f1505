import type { User } from './user.js';

export interface UserRepository {
  /** A duplicate id or email is a ConflictError. */
  create(user: User): Promise<void>;
  get(id: string): Promise<User | null>;
  findByEmail(email: string): Promise<User | null>;
  /** Users, oldest first. */
  list(limit: number): Promise<User[]>;
  /** Sets (or, with null, removes) the user's encoded password hash; false for an unknown user. */
  setPasswordHash(id: string, hash: string | null): Promise<boolean>;
  /** The user's encoded password hash; null when it has none or the user is unknown. */
  getPasswordHash(id: string): Promise<string | null>;
}
export const UserRepository = Symbol.for('blockyard/UserRepository');
