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
    it('answers the failures after `since`, oldest first, per key', async () => {
      const key = `account:${uniqueSuffix()}@example.org`;
      for (const offset of [3000, 1000, 2000, 4000]) await throttle().recordFailure(key, fixedDate(offset));
      await throttle().recordFailure('ip:127.0.0.1', fixedDate(3500));
      const since = await throttle().failuresSince(key, fixedDate(1500));
      expect(since.map((d) => d.getTime())).to.deep.equal([2000, 3000, 4000].map((o) => fixedDate(o).getTime()));
      expect(since[0]).to.be.instanceOf(Date);
      expect(await throttle().failuresSince('ip:unknown', fixedDate(0))).to.deep.equal([]);
    });

    it('counts concurrent failures of one key', async () => {
      const key = 'ip:10.0.0.1';
      await Promise.all(Array.from({ length: 20 }, (_, i) => throttle().recordFailure(key, fixedDate(i))));
      expect(await throttle().failuresSince(key, fixedDate(-1))).to.have.length(20);
    });

    it('clear forgets one key; prune forgets old failures of every key', async () => {
      await throttle().recordFailure('a', fixedDate(1000));
      await throttle().recordFailure('a', fixedDate(3000));
      await throttle().recordFailure('b', fixedDate(1000));
      await throttle().recordFailure('b', fixedDate(3000));
      await throttle().clear('a');
      expect(await throttle().failuresSince('a', fixedDate(0))).to.deep.equal([]);
      expect(await throttle().prune(fixedDate(2000))).to.equal(1);
      expect((await throttle().failuresSince('b', fixedDate(0))).map((d) => d.getTime())).to.deep.equal([fixedDate(3000).getTime()]);
    });
  });
}
