/** How many login attempts a key may make in how long. */
export interface ThrottlePolicy {
  /** Attempts allowed per window. */
  limit: number;
  /** A window opens at a key's first attempt and lasts this long. */
  windowMs: number;
}

/** The answer to one attempt. */
export interface ThrottleVerdict {
  /** True when this attempt is among the first `limit` of its window. */
  allowed: boolean;
  /** The key's attempts in the window so far, this one included (refused ones too). */
  attempts: number;
  /** When the window closes: a refused caller may try again then. */
  windowEndsAt: Date;
}

/**
 * Login attempts, counted per key (`ip:<address>`, `account:<email>`) in fixed windows, in
 * storage so that every process serving logins sees the same counts.
 *
 * `attempt` is one atomic increment-and-check: however many attempts of one key arrive at
 * once, in however many processes, each gets its own count, so exactly `limit` of them are
 * allowed per window.
 */
export interface LoginThrottleRepository {
  /**
   * Counts one attempt of `key` at `at` and answers whether it is allowed. The key's window
   * restarts (count 1) when it opened `windowMs` or more before `at`.
   */
  attempt(key: string, at: Date, policy: ThrottlePolicy): Promise<ThrottleVerdict>;
  /**
   * Gives one allowed attempt back (its login succeeded, so it was no failure): the count
   * becomes min(count, limit) - 1, never below 0. A no-op when the key's window has closed.
   */
  release(key: string, at: Date, policy: ThrottlePolicy): Promise<void>;
  /** Forgets the key's attempts (after a successful login). */
  clear(key: string): Promise<void>;
  /** Forgets every key whose window opened at or before `before`; answers how many. */
  prune(before: Date): Promise<number>;
}
export const LoginThrottleRepository = Symbol.for('blockyard/LoginThrottleRepository');
