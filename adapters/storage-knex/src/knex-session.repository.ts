import type { Session, SessionRepository } from '@blockyard/core';
import type { DbDate, RowCodec } from './row-codec.js';
import { rethrowUniqueViolation } from './unique-violation.js';
import type { ReadRunner } from './read-runner.js';
import type { WriteRunner } from './write-runner.js';

interface SessionRow {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: DbDate;
  expires_at: DbDate;
  last_seen_at: DbDate;
}

/** Browser sessions in the `sessions` table, keyed by the SHA-256 of the session id. */
export class KnexSessionRepository implements SessionRepository {
  constructor(
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async create(session: Session): Promise<void> {
    const { codec } = this;
    const row: SessionRow = {
      id_hash: session.idHash,
      user_id: session.userId,
      csrf_token: session.csrfToken,
      created_at: codec.date(session.createdAt),
      expires_at: codec.date(session.expiresAt),
      last_seen_at: codec.date(session.lastSeenAt),
    };
    await this.writes.runStatement((db) => db<SessionRow>('sessions').insert(row)).catch((error: unknown) =>
      rethrowUniqueViolation(error, () => 'a session with this id already exists'),
    );
  }

  async get(idHash: string): Promise<Session | null> {
    const row = await this.reads.first<SessionRow>(this.reads.knex<SessionRow>('sessions').where('id_hash', idHash));
    return row ? this.toSession(row) : null;
  }

  async touch(idHash: string, at: Date): Promise<boolean> {
    const lastSeenAt = this.codec.date(at);
    const changed = await this.writes.runStatement<number>((db) => db<SessionRow>('sessions').where('id_hash', idHash).update({ last_seen_at: lastSeenAt }));
    return changed > 0;
  }

  async delete(idHash: string): Promise<boolean> {
    const changed = await this.writes.runStatement<number>((db) => db<SessionRow>('sessions').where('id_hash', idHash).delete());
    return changed > 0;
  }

  async deleteExpired(now: Date): Promise<number> {
    const at = this.codec.date(now);
    return this.writes.runStatement<number>((db) => db<SessionRow>('sessions').where('expires_at', '<=', at).delete());
  }

  private toSession(row: SessionRow): Session {
    const { codec } = this;
    return {
      idHash: row.id_hash,
      userId: row.user_id,
      csrfToken: row.csrf_token,
      createdAt: codec.readDate(row.created_at),
      expiresAt: codec.readDate(row.expires_at),
      lastSeenAt: codec.readDate(row.last_seen_at),
    };
  }
}
