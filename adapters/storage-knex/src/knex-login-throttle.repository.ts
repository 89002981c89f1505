import type { LoginThrottleRepository } from '@blockyard/core';
import type { DbDate, RowCodec } from './row-codec.js';
import type { ReadRunner } from './read-runner.js';
import type { WriteRunner } from './write-runner.js';

interface LoginFailureRow {
  key: string;
  at: DbDate;
}

/** Failed logins in the `login_failures` table, shared by every process on the database. */
export class KnexLoginThrottleRepository implements LoginThrottleRepository {
  constructor(
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async recordFailure(key: string, at: Date): Promise<void> {
    const row: LoginFailureRow = { key, at: this.codec.date(at) };
    await this.writes.runStatement((db) => db<LoginFailureRow>('login_failures').insert(row));
  }

  async failuresSince(key: string, since: Date): Promise<Date[]> {
    const rows = await this.reads.all<{ at: DbDate }>(
      this.reads.knex<LoginFailureRow>('login_failures').select('at').where('key', key).andWhere('at', '>', this.codec.date(since)).orderBy('at'),
    );
    return rows.map((row) => this.codec.readDate(row.at));
  }

  async clear(key: string): Promise<void> {
    await this.writes.runStatement((db) => db<LoginFailureRow>('login_failures').where('key', key).delete());
  }

  async prune(before: Date): Promise<number> {
    const at = this.codec.date(before);
    return this.writes.runStatement<number>((db) => db<LoginFailureRow>('login_failures').where('at', '<=', at).delete());
  }
}
