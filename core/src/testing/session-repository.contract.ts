import { expect } from 'chai';
import type { Session } from '../session/session.js';
import type { SessionRepository } from '../session/session.repository.port.js';
import type { LoginThrottleRepository } from '../session/login-throttle.repository.port.js';
import { expectConflict } from './expect-conflict.js';
import { fixedDate, uniqueSuffix } from './storage.fixtures.js';

export function sessionFixture(overrides: Partial<Session> = {}): Session {
  const suffix = uniqueSuffix();
  return {
    idHash: `hash-${suffix}`,
    userId: `user-${suffix}`,
    csrfToken: `csrf-${suffix}`,
    createdAt: fixedDate(),
    expiresAt: fixedDate(12 * 3_600_000),
    lastSeenAt: fixedDate(),
    ...overrides,
  };
}

/** The behaviour every SessionRepository adapter shares. */
export function sessionRepositoryContract(sessions: () => SessionRepository): void {
  describe('SessionRepository', () => {
    it('round-trips every field, dates as equal Dates', async () => {
      const session = sessionFixture({ lastSeenAt: fixedDate(5) });
      await sessions().create(session);
      const stored = await sessions().get(session.idHash);
      expect(stored).to.deep.equal(session);
      expect(stored?.expiresAt).to.be.instanceOf(Date);
    });

    it('answers null for an unknown hash', async () => {
      expect(await sessions().get('nope')).to.equal(null);
    });

    it('rejects a duplicate hash with a ConflictError', async () => {
      const session = sessionFixture();
      await sessions().create(session);
      await expectConflict(sessions().create({ ...sessionFixture(), idHash: session.idHash }));
      expect(await sessions().get(session.idHash)).to.deep.equal(session);
    });

    it('touch moves lastSeenAt only', async () => {
      const session = sessionFixture();
      await sessions().create(session);
      expect(await sessions().touch(session.idHash, fixedDate(60_000))).to.equal(true);
      expect(await sessions().get(session.idHash)).to.deep.equal({ ...session, lastSeenAt: fixedDate(60_000) });
      expect(await sessions().touch('nope', fixedDate())).to.equal(false);
    });

    it('delete removes one session', async () => {
      const [a, b] = [sessionFixture(), sessionFixture()];
      await sessions().create(a);
      await sessions().create(b);
      expect(await sessions().delete(a.idHash)).to.equal(true);
      expect(await sessions().delete(a.idHash)).to.equal(false);
      expect(await sessions().get(a.idHash)).to.equal(null);
      expect(await sessions().get(b.idHash)).to.deep.equal(b);
    });

    it('deleteExpired removes the sessions expired by then', async () => {
      const old = sessionFixture({ expiresAt: fixedDate(1000) });
      const live = sessionFixture({ expiresAt: fixedDate(3000) });
      await sessions().create(old);
      await sessions().create(live);
      expect(await sessions().deleteExpired(fixedDate(2000))).to.equal(1);
      expect(await sessions().get(old.idHash)).to.equal(null);
      expect(await sessions().get(live.idHash)).to.deep.equal(live);
    });

    it('is not changed by mutating a returned session', async () => {
      const session = sessionFixture();
      await sessions().create(session);
      const returned = (await sessions().get(session.idHash))!;
      returned.expiresAt.setTime(0);
      expect(await sessions().get(session.idHash)).to.deep.equal(session);
    });
  });
}

/** The behaviour every LoginThrottleRepository adapter shares. */
export function loginThrottleRepositoryContract(throttle: () => LoginThrottleRepository): void {
  describe('LoginThrottleRepository', () => {
    const policy = { limit: 5, windowMs: 60_000 };

    it('allows `limit` attempts per window, counting refused ones too, and says when the window ends', async () => {
      const key = `account:${uniqueSuffix()}@example.org`;
      const verdicts = [];
      for (let i = 0; i < 7; i++) verdicts.push(await throttle().attempt(key, fixedDate(i * 1000), policy));
      expect(verdicts.map((v) => v.allowed)).to.deep.equal([true, true, true, true, true, false, false]);
      expect(verdicts.map((v) => v.attempts)).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
      for (const v of verdicts) expect(v.windowEndsAt.getTime()).to.equal(fixedDate(60_000).getTime());
      expect(verdicts[0]!.windowEndsAt).to.be.instanceOf(Date);
    });

    it('50 concurrent attempts of one key at a limit of 5: exactly 5 allowed, every count distinct', async () => {
      const key = `ip:${uniqueSuffix()}`;
      const verdicts = await Promise.all(Array.from({ length: 50 }, () => throttle().attempt(key, fixedDate(), policy)));
      expect(verdicts.filter((v) => v.allowed)).to.have.length(5);
      expect(verdicts.map((v) => v.attempts).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it('concurrent attempts of different keys do not count against each other', async () => {
      const keys = Array.from({ length: 10 }, () => `ip:${uniqueSuffix()}`);
      const verdicts = await Promise.all(keys.flatMap((key) => Array.from({ length: 3 }, () => throttle().attempt(key, fixedDate(), policy))));
      expect(verdicts.every((v) => v.allowed)).to.equal(true);
      expect(Math.max(...verdicts.map((v) => v.attempts))).to.equal(3);
    });

    it('opens a new window once the last one has passed', async () => {
      const key = `account:${uniqueSuffix()}`;
      for (let i = 0; i < 6; i++) await throttle().attempt(key, fixedDate(), policy);
      expect((await throttle().attempt(key, fixedDate(59_999), policy)).allowed).to.equal(false);
      const fresh = await throttle().attempt(key, fixedDate(60_000), policy);
      expect(fresh).to.deep.equal({ allowed: true, attempts: 1, windowEndsAt: fixedDate(120_000) });
    });

    it('release gives one allowed attempt back (refused ones do not count), never going below 0', async () => {
      const key = `ip:${uniqueSuffix()}`;
      for (let i = 0; i < 8; i++) await throttle().attempt(key, fixedDate(), policy);
      await throttle().release(key, fixedDate(1000), policy);
      expect(await throttle().attempt(key, fixedDate(2000), policy)).to.include({ allowed: true, attempts: 5 });
      expect((await throttle().attempt(key, fixedDate(2000), policy)).allowed).to.equal(false);

      const other = `ip:${uniqueSuffix()}`;
      await throttle().attempt(other, fixedDate(), policy);
      await throttle().release(other, fixedDate(), policy);
      await throttle().release(other, fixedDate(), policy);
      await throttle().release(`ip:${uniqueSuffix()}`, fixedDate(), policy);
      expect((await throttle().attempt(other, fixedDate(), policy)).attempts).to.equal(1);
    });

    it('50 concurrent attempts with releases in between still allow no more than the limit at once', async () => {
      const key = `ip:${uniqueSuffix()}`;
      const verdicts = await Promise.all(Array.from({ length: 50 }, () => throttle().attempt(key, fixedDate(), policy)));
      const allowed = verdicts.filter((v) => v.allowed).length;
      await Promise.all(Array.from({ length: allowed }, () => throttle().release(key, fixedDate(), policy)));
      const again = await Promise.all(Array.from({ length: 50 }, () => throttle().attempt(key, fixedDate(1), policy)));
      expect(again.filter((v) => v.allowed)).to.have.length(5);
    });

    it('clear forgets one key; prune forgets the keys whose window opened by then', async () => {
      const [a, b, c] = [`a-${uniqueSuffix()}`, `b-${uniqueSuffix()}`, `c-${uniqueSuffix()}`];
      for (let i = 0; i < 6; i++) await throttle().attempt(a, fixedDate(), policy);
      await throttle().attempt(b, fixedDate(1000), policy);
      await throttle().attempt(c, fixedDate(3000), policy);
      await throttle().clear(a);
      expect(await throttle().attempt(a, fixedDate(10), policy)).to.include({ allowed: true, attempts: 1 });
      expect(await throttle().prune(fixedDate(1000))).to.equal(2);
      expect((await throttle().attempt(b, fixedDate(4000), policy)).attempts).to.equal(1);
      expect((await throttle().attempt(c, fixedDate(4000), policy)).attempts).to.equal(2);
    });
  });
}
