import { ConflictError, ValidationError } from '../errors/domain.errors.js';
import type { Clock } from '../system/clock.port.js';
import type { IdGenerator } from '../system/id-generator.port.js';
import { normalizeEmail, type User } from '../user/user.js';
import type { UserRepository } from '../user/user.repository.port.js';
import { checkPasswordStrength, hashPassword } from '../user/password.js';

export const DEFAULT_USER_EMAIL = 'owner@localhost';

export class UserService {
  constructor(private readonly deps: { users: UserRepository; clock: Clock; ids: IdGenerator }) {}

  /** Creates a user; with a password, stores only its scrypt hash. */
  async createUser(input: { email: string; name: string; password?: string }): Promise<User> {
    const email = normalizeEmail(input.email);
    if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) throw new ValidationError(`invalid email ${JSON.stringify(input.email)}`);
    const name = input.name.trim();
    if (!name || name.length > 200) throw new ValidationError('a name is 1 to 200 characters');
    if (input.password !== undefined) {
      const weak = checkPasswordStrength(input.password);
      if (weak) throw new ValidationError(weak);
    }
    if (await this.deps.users.findByEmail(email)) throw new ConflictError(`a user with email ${email} exists`);
    const passwordHash = input.password !== undefined ? await hashPassword(input.password) : null;
    const user: User = { id: this.deps.ids.next(), email, name, createdAt: this.deps.clock.now() };
    await this.deps.users.create(user);
    if (passwordHash) await this.deps.users.setPasswordHash(user.id, passwordHash);
    return user;
  }

  /** The user with this email (compared as stored: trimmed, lower-cased), or null. */
  async findByEmail(email: string): Promise<User | null> {
    return this.deps.users.findByEmail(normalizeEmail(email));
  }

  /** The first user, created as owner@localhost when there is none (single-user setups, the CLI). */
  async ensureDefaultUser(): Promise<User> {
    const [first] = await this.deps.users.list(1);
    if (first) return first;
    try {
      return await this.createUser({ email: DEFAULT_USER_EMAIL, name: 'Owner' });
    } catch (e) {
      const [raced] = await this.deps.users.list(1);
      if (raced) return raced;
      throw e;
    }
  }
}
