import type { Session } from './session.js';

export interface SessionRepository {
  /** A duplicate idHash is a ConflictError. */
  create(session: Session): Promise<void>;
  get(idHash: string): Promise<Session | null>;
  /** Moves lastSeenAt; false when there is no such session. */
  touch(idHash: string, at: Date): Promise<boolean>;
  /** False when there was no such session. */
  delete(idHash: string): Promise<boolean>;
  /** Removes sessions that expired at or before `now`; answers how many. */
  deleteExpired(now: Date): Promise<number>;
}
export const SessionRepository = Symbol.for('blockyard/SessionRepository');
