import type { User, UserRepository } from '@blockyard/core';
import type { Knex } from 'knex';
import type { DbDate, RowCodec } from './row-codec.js';
import { rethrowUniqueViolation } from './unique-violation.js';
import type { ReadRunner } from './read-runner.js';
import type { WriteRunner } from './write-runner.js';

interface UserRow {
  id: string;
  email: string;
  name: string;
  created_at: DbDate;
  password_hash?: string | null;
}

/** Users in the `users` table. */
export class KnexUserRepository implements UserRepository {
  constructor(
    /** Reads: on SQLite a separate pool, so reads never wait behind a committing write batch. */
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async create(user: User): Promise<void> {
    const row: UserRow = { id: user.id, email: user.email, name: user.name, created_at: this.codec.date(user.createdAt) };
    await this.writes.runStatement((db) => db<UserRow>('users').insert(row)).catch((error: unknown) =>
      rethrowUniqueViolation(error, (column) =>
        column === 'email' ? `a user with email ${user.email} already exists` : `user ${user.id} already exists`,
      ),
    );
  }

  async get(id: string): Promise<User | null> {
    const row = await this.reads.first<UserRow>(this.reads.knex<UserRow>('users').where('id', id));
    return row ? this.toUser(row) : null;
  }

  async findByEmail(email: string): Promise<User | null> {
    const row = await this.reads.first<UserRow>(this.reads.knex<UserRow>('users').where('email', email));
    return row ? this.toUser(row) : null;
  }

  async list(limit: number): Promise<User[]> {
    if (limit <= 0) return [];
    const rows = await this.reads.all<UserRow>(this.reads.knex<UserRow>('users').orderBy([{ column: 'created_at' }, { column: 'id' }]).limit(limit));
    return rows.map((row) => this.toUser(row));
  }

  async setPasswordHash(id: string, hash: string | null): Promise<boolean> {
    const changed = await this.writes.runStatement<number>((db) => db<UserRow>('users').where('id', id).update({ password_hash: hash }));
    return changed > 0;
  }

  async getPasswordHash(id: string): Promise<string | null> {
    const row = await this.reads.first<Pick<UserRow, 'password_hash'>>(this.reads.knex<UserRow>('users').select('password_hash').where('id', id));
    return row?.password_hash ?? null;
  }

  private toUser(row: UserRow): User {
    return { id: row.id, email: row.email, name: row.name, createdAt: this.codec.readDate(row.created_at) };
  }
}
