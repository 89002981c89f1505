import type { LoginThrottleRepository, ThrottlePolicy, ThrottleVerdict } from '@blockyard/core';
import type { DbDate, RowCodec } from './row-codec.js';
import type { ReadRunner } from './read-runner.js';
import type { WriteRunner } from './write-runner.js';

interface LoginAttemptRow {
  key: string;
  count: number;
  window_started_at: DbDate;
}

/**
 * Login attempts in the `login_attempts` table (a count and a window start per key), shared by
 * every process on the database.
 *
 * An attempt is one upsert that increments (or restarts) the key's count and returns it
 * (`INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING count`): PostgreSQL serialises
 * concurrent upserts of one key on its row lock, SQLite has a single writer, so no two
 * attempts of a key ever see the same count and the check needs no separate read.
 */
export class KnexLoginThrottleRepository implements LoginThrottleRepository {
  constructor(
    // Every method writes (even the check is an upsert), so the read runner goes unused.
    _reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async attempt(key: string, at: Date, policy: ThrottlePolicy): Promise<ThrottleVerdict> {
    const now = this.codec.date(at);
    const cutoff = this.codec.date(new Date(at.getTime() - policy.windowMs));
    const ts = this.codec.dialect === 'postgres' ? '?::timestamptz' : '?';
    // `run`, not `runStatement`: the SQLite statement batch answers changed-row counts, not rows.
    const rows = await this.writes.run((db) =>
      db<LoginAttemptRow>('login_attempts')
        .insert({ key, count: 1, window_started_at: now })
        .onConflict('key')
        .merge({
          count: db.raw(`CASE WHEN login_attempts.window_started_at <= ${ts} THEN 1 ELSE login_attempts.count + 1 END`, [cutoff]),
          window_started_at: db.raw(`CASE WHEN login_attempts.window_started_at <= ${ts} THEN ${ts} ELSE login_attempts.window_started_at END`, [cutoff, now]),
        })
        .returning(['count', 'window_started_at'])
        .then((result) => result as unknown as Array<Pick<LoginAttemptRow, 'count' | 'window_started_at'>>),
    );
    const row = rows[0];
    if (!row) throw new Error(`login throttle upsert of ${key} returned no row`);
    const attempts = Number(row.count);
    const startedAt = this.codec.readDate(row.window_started_at);
    return { allowed: attempts <= policy.limit, attempts, windowEndsAt: new Date(startedAt.getTime() + policy.windowMs) };
  }

  async release(key: string, at: Date, policy: ThrottlePolicy): Promise<void> {
    const cutoff = this.codec.date(new Date(at.getTime() - policy.windowMs));
    const limit = Math.max(0, Math.floor(policy.limit));
    await this.writes.runStatement((db) =>
      db<LoginAttemptRow>('login_attempts')
        .where('key', key)
        .andWhere('window_started_at', '>', cutoff)
        .andWhere('count', '>', 0)
        .update({ count: db.raw('CASE WHEN count > ? THEN ? ELSE count - 1 END', [limit, Math.max(0, limit - 1)]) }),
    );
  }

  async clear(key: string): Promise<void> {
    await this.writes.runStatement((db) => db<LoginAttemptRow>('login_attempts').where('key', key).delete());
  }

  async prune(before: Date): Promise<number> {
    const at = this.codec.date(before);
    return this.writes.runStatement<number>((db) => db<LoginAttemptRow>('login_attempts').where('window_started_at', '<=', at).delete());
  }
}
