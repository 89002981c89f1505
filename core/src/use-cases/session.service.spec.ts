import { expect } from 'chai';
import { DomainError, RateLimitedError } from '../errors/domain.errors.js';
import type { LoginThrottleRepository } from '../session/login-throttle.repository.port.js';
import { hashSessionId, type Session } from '../session/session.js';
import type { SessionRepository } from '../session/session.repository.port.js';
import { FakeClock } from '../system/clock.port.js';
import type { User } from '../user/user.js';
import type { UserRepository } from '../user/user.repository.port.js';
import { hashPassword } from '../user/password.js';
import { SessionService } from './session.service.js';

/** Map-backed doubles of the storage ports (the real adapters pass the storage contract). */
function storageMock() {
  const users = new Map<string, User>();
  const hashes = new Map<string, string>();
  const sessions = new Map<string, Session>();
  const windows = new Map<string, { count: number; startedAt: number }>();
  let passwordChecks = 0;
  const userRepo = {
    get: async (id: string) => users.get(id) ?? null,
    findByEmail: async (email: string) => [...users.values()].find((u) => u.email === email) ?? null,
    getPasswordHash: async (id: string) => {
      passwordChecks += 1;
      return hashes.get(id) ?? null;
    },
  } as unknown as UserRepository;
  const sessionRepo: SessionRepository = {
    create: async (s) => void sessions.set(s.idHash, s),
    get: async (h) => sessions.get(h) ?? null,
    touch: async (h, at) => (sessions.has(h) ? (sessions.set(h, { ...sessions.get(h)!, lastSeenAt: at }), true) : false),
    delete: async (h) => sessions.delete(h),
    deleteExpired: async () => 0,
  };
  // Reads and writes in one turn, as atomic as the real adapters' upsert.
  const throttle: LoginThrottleRepository = {
    attempt: async (key, at, { limit, windowMs }) => {
      const w = windows.get(key);
      const next = w && w.startedAt > at.getTime() - windowMs ? { count: w.count + 1, startedAt: w.startedAt } : { count: 1, startedAt: at.getTime() };
      windows.set(key, next);
      return { allowed: next.count <= limit, attempts: next.count, windowEndsAt: new Date(next.startedAt + windowMs) };
    },
    release: async (key, at, { limit, windowMs }) => {
      const w = windows.get(key);
      if (w && w.startedAt > at.getTime() - windowMs) windows.set(key, { ...w, count: Math.max(0, Math.min(w.count, limit) - 1) });
    },
    clear: async (key) => void windows.delete(key),
    prune: async () => 0,
  };
  return { users, hashes, sessions, windows, userRepo, sessionRepo, throttle, passwordChecks: () => passwordChecks };
}

describe('SessionService', () => {
  let clock: FakeClock;
  let store: ReturnType<typeof storageMock>;
  let service: SessionService;
  const ann: User = { id: 'u-ann', email: 'ann@example.org', name: 'Ann', createdAt: new Date(0) };

  before(async function () {
    this.timeout(10_000);
  });

  beforeEach(async () => {
    clock = new FakeClock('2026-01-01T00:00:00.000Z');
    store = storageMock();
    store.users.set(ann.id, ann);
    store.hashes.set(ann.id, await hashPassword('correct horse battery', { N: 1024, r: 8, p: 1 }));
    service = new SessionService({ users: store.userRepo, sessions: store.sessionRepo, throttle: store.throttle, clock });
  });

  const login = (password = 'correct horse battery', ip = '10.0.0.1', email = 'Ann@Example.org ') => service.login({ email, password, ip });

  describe('login', () => {
    it('answers a new session whose id is stored only as its SHA-256, expiring in 12 hours', async () => {
      const { sessionId, session, user } = await login();
      expect(user).to.deep.equal(ann);
      expect(sessionId).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(session.idHash).to.equal(hashSessionId(sessionId));
      expect(JSON.stringify([...store.sessions.values()])).not.to.contain(sessionId);
      expect(session.expiresAt.getTime() - clock.now().getTime()).to.equal(12 * 3_600_000);
      expect(session.csrfToken).to.match(/^[A-Za-z0-9_-]{43}$/);
    });

    it('rotates: every login is a fresh session id and CSRF token', async () => {
      const a = await login();
      const b = await login();
      expect(a.sessionId).not.to.equal(b.sessionId);
      expect(a.session.csrfToken).not.to.equal(b.session.csrfToken);
    });

    it('gives the same unauthorized answer for a wrong password and an unknown email', async () => {
      const wrong = await login('wrong password!').catch((e: unknown) => e);
      const unknown = await login('correct horse battery', '10.0.0.1', 'nobody@example.org').catch((e: unknown) => e);
      for (const e of [wrong, unknown]) {
        expect(DomainError.is(e, 'unauthorized')).to.equal(true);
        expect((e as Error).message).to.equal('wrong email or password');
      }
    });

    it('refuses a user without a password', async () => {
      store.hashes.delete(ann.id);
      const e = await login().catch((x: unknown) => x);
      expect(DomainError.is(e, 'unauthorized')).to.equal(true);
    });
  });

  describe('throttling', () => {
    it('locks the account after 5 failures in 15 minutes, from any IP, even for the right password', async () => {
      for (let i = 0; i < 5; i++) await login('wrong password!', `10.0.0.${i}`).catch(() => {});
      clock.advance(60_000);
      const e = await login('correct horse battery', '10.9.9.9').catch((x: unknown) => x);
      expect(e).to.be.instanceOf(RateLimitedError);
      expect((e as RateLimitedError).retryAfterSeconds).to.equal(14 * 60);
      clock.advance(14 * 60_000 + 1);
      expect((await login('correct horse battery', '10.9.9.9')).user.id).to.equal(ann.id);
    });

    it('locks an IP after 5 failures across accounts', async () => {
      for (let i = 0; i < 5; i++) await login('wrong password!', '10.0.0.7', `nobody${i}@example.org`).catch(() => {});
      const e = await login('correct horse battery', '10.0.0.7').catch((x: unknown) => x);
      expect(e).to.be.instanceOf(RateLimitedError);
      expect((await login('correct horse battery', '10.0.0.8')).user.id).to.equal(ann.id);
    });

    it('50 parallel wrong logins for one account from one IP: exactly 5 password checks, 45 refused', async () => {
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => login('wrong password!', '10.5.5.5').then(() => 'ok', (e: unknown) => (e instanceof RateLimitedError ? 'limited' : DomainError.is(e, 'unauthorized') ? 'unauthorized' : String(e)))));
      expect(outcomes.filter((o) => o === 'unauthorized')).to.have.length(5);
      expect(outcomes.filter((o) => o === 'limited')).to.have.length(45);
      expect(store.passwordChecks()).to.equal(5);
    });

    it('does not count successful logins against the IP', async () => {
      for (let i = 0; i < 10; i++) await login('correct horse battery', '10.6.6.6');
      for (let i = 0; i < 4; i++) await login('wrong password!', '10.6.6.6', `nobody${i}@example.org`).catch(() => {});
      expect((await login('correct horse battery', '10.6.6.6')).user.id).to.equal(ann.id);
    });

    it('forgets the account failures after a successful login', async () => {
      for (let i = 0; i < 4; i++) await login('wrong password!', `10.1.0.${i}`).catch(() => {});
      await login('correct horse battery', '10.2.0.1');
      for (let i = 0; i < 4; i++) await login('wrong password!', `10.3.0.${i}`).catch(() => {});
      expect((await login('correct horse battery', '10.4.0.1')).user.id).to.equal(ann.id);
    });
  });

  describe('resolve / logout', () => {
    it('resolves a live session and touches lastSeenAt at most once a minute', async () => {
      const { sessionId, session } = await login();
      clock.advance(30_000);
      expect((await service.resolve(sessionId))?.user.id).to.equal(ann.id);
      expect(store.sessions.get(session.idHash)!.lastSeenAt.getTime()).to.equal(session.lastSeenAt.getTime());
      clock.advance(60_000);
      await service.resolve(sessionId);
      expect(store.sessions.get(session.idHash)!.lastSeenAt.getTime()).to.equal(clock.now().getTime());
    });

    it('answers null for unknown, missing and expired sessions, deleting the expired one', async () => {
      const { sessionId, session } = await login();
      expect(await service.resolve(undefined)).to.equal(null);
      expect(await service.resolve('not-a-session')).to.equal(null);
      clock.advance(12 * 3_600_000);
      expect(await service.resolve(sessionId)).to.equal(null);
      expect(store.sessions.has(session.idHash)).to.equal(false);
    });

    it('logout ends the session', async () => {
      const { sessionId } = await login();
      await service.logout(sessionId);
      expect(await service.resolve(sessionId)).to.equal(null);
      await service.logout(undefined);
    });
  });
});
