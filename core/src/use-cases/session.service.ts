import { RateLimitedError, UnauthorizedError } from '../errors/domain.errors.js';
import type { LoginThrottleRepository } from '../session/login-throttle.repository.port.js';
import { hashSessionId, randomToken, type Session } from '../session/session.js';
import type { SessionRepository } from '../session/session.repository.port.js';
import type { Clock } from '../system/clock.port.js';
import { normalizeEmail, type User } from '../user/user.js';
import type { UserRepository } from '../user/user.repository.port.js';
import { hashPassword, verifyPassword } from '../user/password.js';

export interface SessionServiceOptions {
  /** How long a session lives after login. Default 12 hours. */
  ttlMs?: number;
  /** Failures allowed per account and per IP within `throttleWindowMs`. Default 5. */
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
  private readonly maxFailures: number;
  private readonly windowMs: number;
  /** Verified against when the email is unknown, so that the answer takes as long either way. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly deps: SessionServiceDeps,
    options: SessionServiceOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 12 * 3_600_000;
    this.maxFailures = options.maxFailures ?? 5;
    this.windowMs = options.throttleWindowMs ?? 15 * 60_000;
  }

  /**
   * A fresh session for the user with this email and password (a new id on every login).
   * Unauthorized for a wrong email or password alike; RateLimitedError when the account or
   * the IP has failed too often lately.
   */
  async login(input: { email: string; password: string; ip: string }): Promise<LoginResult> {
    const { users, sessions, throttle, clock } = this.deps;
    const email = normalizeEmail(input.email);
    const keys = [`account:${email}`, `ip:${input.ip}`];
    await this.checkThrottle(keys);
    const user = email ? await users.findByEmail(email) : null;
    const stored = user ? await users.getPasswordHash(user.id) : null;
    const ok = stored ? await verifyPassword(input.password, stored) : (await verifyPassword(input.password, await this.dummy()), false);
    if (!user || !ok) {
      const at = clock.now();
      await Promise.all(keys.map((key) => throttle.recordFailure(key, at)));
      // Housekeeping on the failure path keeps the table as small as the window.
      await throttle.prune(new Date(at.getTime() - this.windowMs));
      throw new UnauthorizedError('wrong email or password');
    }
    await throttle.clear(keys[0]!);
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

  private async checkThrottle(keys: readonly string[]): Promise<void> {
    const now = this.deps.clock.now().getTime();
    const since = new Date(now - this.windowMs);
    let retryAfterMs = 0;
    for (const key of keys) {
      const failures = await this.deps.throttle.failuresSince(key, since);
      if (failures.length < this.maxFailures) continue;
      // Allowed again once enough of the window's failures have aged out of it.
      const freeing = failures[failures.length - this.maxFailures]!;
      retryAfterMs = Math.max(retryAfterMs, freeing.getTime() + this.windowMs - now);
    }
    if (retryAfterMs > 0) throw new RateLimitedError('too many failed logins; try again later', Math.max(1, Math.ceil(retryAfterMs / 1000)));
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(randomToken());
    return this.dummyHash;
  }
}
