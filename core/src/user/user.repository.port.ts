import type { User } from './user.js';

export interface UserRepository {
  /** A duplicate id or email is a ConflictError. */
  create(user: User): Promise<void>;
  get(id: string): Promise<User | null>;
  findByEmail(email: string): Promise<User | null>;
  /** Users, oldest first. */
  list(limit: number): Promise<User[]>;
}
export const UserRepository = Symbol.for('blockyard/UserRepository');
