/**
 * Failed login attempts, counted per key (`account:<email>`, `ip:<address>`). Kept in storage so
 * that every process serving logins sees the same counts.
 */
export interface LoginThrottleRepository {
  recordFailure(key: string, at: Date): Promise<void>;
  /** The times of the key's failures after `since`, oldest first. */
  failuresSince(key: string, since: Date): Promise<Date[]>;
  /** Forgets the key's failures (after a successful login). */
  clear(key: string): Promise<void>;
  /** Forgets failures at or before `before`, for every key. */
  prune(before: Date): Promise<number>;
}
export const LoginThrottleRepository = Symbol.for('blockyard/LoginThrottleRepository');
