import { RateLimitedError, UnauthorizedError } from '../errors/domain.errors.js';
import type { LoginThrottleRepository, ThrottlePolicy } from '../session/login-throttle.repository.port.js';
import { hashSessionId, randomToken, type Session } from '../session/session.js';
import type { SessionRepository } from '../session/session.repository.port.js';
import type { Clock } from '../system/clock.port.js';
import { normalizeEmail, type User } from '../user/user.js';
import type { UserRepository } from '../user/user.repository.port.js';
import { hashPassword, verifyPassword } from '../user/password.js';

export interface SessionServiceOptions {
  /** How long a session lives after login. Default 12 hours. */
  ttlMs?: number;
  /** Login attempts allowed per IP and per account within `throttleWindowMs` (successful ones are given back). Default 5. */
  maxFailures?: number;
  /** Default 15 minutes. */
  throttleWindowMs?: number;
}

export interface SessionServiceDeps {
  users: UserRepository;
  sessions: SessionRepository;
  throttle: LoginThrottleRepository;
  clock: Clock;
}

/** A logged-in browser: the session id goes into the cookie and is never stored. */
export interface LoginResult {
  sessionId: string;
  session: Session;
  user: User;
}

/** lastSeenAt is written at most this often per session. */
const TOUCH_INTERVAL_MS = 60_000;

/** Browser sessions for our own pages: login with a password, logout, and resolving a cookie. */
export class SessionService {
  readonly ttlMs: number;
  private readonly policy: ThrottlePolicy;
  /** Verified against when the email is unknown, so that the answer takes as long either way. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly deps: SessionServiceDeps,
    options: SessionServiceOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 12 * 3_600_000;
    this.policy = { limit: options.maxFailures ?? 5, windowMs: options.throttleWindowMs ?? 15 * 60_000 };
  }

  /**
   * A fresh session for the user with this email and password (a new id on every login).
   * Unauthorized for a wrong email or password alike; RateLimitedError when the IP or the
   * account has used up its attempts lately.
   *
   * Each attempt is counted before the password is checked, by one atomic increment-and-check
   * in storage per key (the IP first, then the account), so a burst of parallel attempts gets
   * exactly `maxFailures` password checks per window, not more. A successful login gives its
   * IP attempt back and clears the account's count.
   */
  async login(input: { email: string; password: string; ip: string }): Promise<LoginResult> {
    const { users, sessions, throttle, clock } = this.deps;
    const email = normalizeEmail(input.email);
    const ipKey = `ip:${input.ip}`;
    const accountKey = `account:${email}`;
    await this.takeAttempt([ipKey, accountKey]);
    const user = email ? await users.findByEmail(email) : null;
    const stored = user ? await users.getPasswordHash(user.id) : null;
    const ok = stored ? await verifyPassword(input.password, stored) : (await verifyPassword(input.password, await this.dummy()), false);
    if (!user || !ok) {
      // Housekeeping on the failure path keeps the table as small as the window.
      await throttle.prune(new Date(clock.now().getTime() - this.policy.windowMs));
      throw new UnauthorizedError('wrong email or password');
    }
    await Promise.all([throttle.clear(accountKey), throttle.release(ipKey, clock.now(), this.policy)]);
    const sessionId = randomToken();
    const now = clock.now();
    const session: Session = {
      idHash: hashSessionId(sessionId),
      userId: user.id,
      csrfToken: randomToken(),
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.ttlMs),
      lastSeenAt: now,
    };
    await sessions.create(session);
    await sessions.deleteExpired(now);
    return { sessionId, session, user };
  }

  /** Ends the session behind this id (a no-op for an unknown one). */
  async logout(sessionId: string | undefined): Promise<void> {
    if (!sessionId) return;
    await this.deps.sessions.delete(hashSessionId(sessionId));
  }

  /** The live session and its user behind a cookie value, or null (unknown, expired, user gone). */
  async resolve(sessionId: string | undefined): Promise<{ session: Session; user: User } | null> {
    if (!sessionId || sessionId.length > 200) return null;
    const { sessions, users, clock } = this.deps;
    const idHash = hashSessionId(sessionId);
    const session = await sessions.get(idHash);
    if (!session) return null;
    const now = clock.now();
    if (session.expiresAt.getTime() <= now.getTime()) {
      await sessions.delete(idHash);
      return null;
    }
    const user = await users.get(session.userId);
    if (!user) return null;
    if (now.getTime() - session.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) await sessions.touch(idHash, now);
    return { session, user };
  }

  /** Counts this attempt against each key in turn; RateLimitedError at the first key over its limit. */
  private async takeAttempt(keys: readonly string[]): Promise<void> {
    const now = this.deps.clock.now();
    for (const key of keys) {
      const verdict = await this.deps.throttle.attempt(key, now, this.policy);
      if (verdict.allowed) continue;
      const retryAfterMs = verdict.windowEndsAt.getTime() - now.getTime();
      throw new RateLimitedError('too many failed logins; try again later', Math.max(1, Math.ceil(retryAfterMs / 1000)));
    }
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(randomToken());
    return this.dummyHash;
  }
}
