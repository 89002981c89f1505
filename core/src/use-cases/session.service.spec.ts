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
  const failures: Array<{ key: string; at: number }> = [];
  const userRepo = {
    get: async (id: string) => users.get(id) ?? null,
    findByEmail: async (email: string) => [...users.values()].find((u) => u.email === email) ?? null,
    getPasswordHash: async (id: string) => hashes.get(id) ?? null,
  } as unknown as UserRepository;
  const sessionRepo: SessionRepository = {
    create: async (s) => void sessions.set(s.idHash, s),
    get: async (h) => sessions.get(h) ?? null,
    touch: async (h, at) => (sessions.has(h) ? (sessions.set(h, { ...sessions.get(h)!, lastSeenAt: at }), true) : false),
    delete: async (h) => sessions.delete(h),
    deleteExpired: async () => 0,
  };
  const throttle: LoginThrottleRepository = {
    recordFailure: async (key, at) => void failures.push({ key, at: at.getTime() }),
    failuresSince: async (key, since) => failures.filter((f) => f.key === key && f.at > since.getTime()).map((f) => new Date(f.at)),
    clear: async (key) => void failures.splice(0, failures.length, ...failures.filter((f) => f.key !== key)),
    prune: async () => 0,
  };
  return { users, hashes, sessions, failures, userRepo, sessionRepo, throttle };
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
