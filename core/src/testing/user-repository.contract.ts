import { expect } from 'chai';
import type { User } from '../user/user.js';
import type { UserRepository } from '../user/user.repository.port.js';
import { expectConflict } from './expect-conflict.js';
import { fixedDate, userFixture } from './storage.fixtures.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The behaviour every UserRepository adapter shares; `users()` is a fresh, empty repository. */
export function userRepositoryContract(users: () => UserRepository): void {
  describe('UserRepository', () => {
    describe('create / get', () => {
      it('round-trips every field, with createdAt as an equal Date', async () => {
        const user = userFixture({ email: 'zoë.ångström+tag@exämple.org', createdAt: fixedDate(987) });
        await users().create(user);
        const stored = await users().get(user.id);
        expect(stored).to.deep.equal(user);
        expect(stored?.createdAt).to.be.instanceOf(Date);
        expect(stored?.createdAt.getTime()).to.equal(user.createdAt.getTime());
      });

      it('answers null for an unknown id', async () => {
        expect(await users().get('no-such-user')).to.equal(null);
      });

      it('rejects a duplicate id with a ConflictError and keeps the first user', async () => {
        const user = userFixture();
        await users().create(user);
        await expectConflict(users().create({ ...userFixture(), id: user.id, name: 'second' }));
        expect(await users().get(user.id)).to.deep.equal(user);
      });

      it('rejects a duplicate email with a ConflictError and stores nothing', async () => {
        const user = userFixture();
        await users().create(user);
        const twin = userFixture({ email: user.email });
        await expectConflict(users().create(twin));
        expect(await users().get(twin.id)).to.equal(null);
        expect(await users().findByEmail(user.email)).to.deep.equal(user);
      });
    });

    describe('findByEmail', () => {
      it('finds the user with that email and answers null for an unknown one', async () => {
        const user = userFixture();
        await users().create(user);
        await users().create(userFixture());
        expect(await users().findByEmail(user.email)).to.deep.equal(user);
        expect(await users().findByEmail('nobody@example.org')).to.equal(null);
      });
    });

    describe('setPasswordHash / getPasswordHash', () => {
      it('stores, replaces and removes a hash, apart from the user itself', async () => {
        const user = userFixture();
        await users().create(user);
        expect(await users().getPasswordHash(user.id)).to.equal(null);
        expect(await users().setPasswordHash(user.id, 'scrypt$1$1$1$c2FsdA$aGFzaA')).to.equal(true);
        expect(await users().getPasswordHash(user.id)).to.equal('scrypt$1$1$1$c2FsdA$aGFzaA');
        expect(await users().get(user.id)).to.deep.equal(user);
        expect(await users().findByEmail(user.email)).to.deep.equal(user);
        expect(await users().setPasswordHash(user.id, 'scrypt$2')).to.equal(true);
        expect(await users().getPasswordHash(user.id)).to.equal('scrypt$2');
        expect(await users().setPasswordHash(user.id, null)).to.equal(true);
        expect(await users().getPasswordHash(user.id)).to.equal(null);
      });

      it('answers false / null for an unknown user', async () => {
        expect(await users().setPasswordHash('no-such-user', 'x')).to.equal(false);
        expect(await users().getPasswordHash('no-such-user')).to.equal(null);
      });
    });

    describe('list', () => {
      it('lists users oldest first, whatever the order they were created in', async () => {
        const offsets = [3000, 1000, 5000, 2000, 4000];
        const created = offsets.map((offset) => userFixture({ createdAt: fixedDate(offset) }));
        for (const user of created) await users().create(user);
        const listed = await users().list(10);
        const expected = [...created].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
        expect(listed).to.deep.equal(expected);
      });

      it('returns at most `limit` users, the oldest ones', async () => {
        const created = [2, 0, 4, 1, 3].map((i) => userFixture({ createdAt: fixedDate(i * 1000) }));
        for (const user of created) await users().create(user);
        const listed = await users().list(2);
        expect(listed.map((u) => u.createdAt.getTime())).to.deep.equal([fixedDate(0).getTime(), fixedDate(1000).getTime()]);
        expect(await users().list(0)).to.deep.equal([]);
      });

      it('answers an empty list when there are no users', async () => {
        expect(await users().list(5)).to.deep.equal([]);
      });
    });

    describe('concurrency', () => {
      it('persists 200 users created in parallel', async () => {
        const created = Array.from({ length: 200 }, (_, i) => userFixture({ createdAt: fixedDate(i) }));
        await Promise.all(created.map((user) => users().create(user)));
        expect(await users().list(1000)).to.deep.equal(created);
      });
    });

    describe('isolation', () => {
      it('is not changed by mutating a returned user', async () => {
        const user = userFixture();
        await users().create(user);
        const returned = (await users().get(user.id)) as Mutable<User>;
        returned.name = 'changed';
        returned.createdAt.setTime(0);
        const [listed] = (await users().list(1)) as Mutable<User>[];
        listed!.email = 'changed@example.org';
        expect(await users().get(user.id)).to.deep.equal(user);
        expect(await users().findByEmail(user.email)).to.deep.equal(user);
      });

      it('is not changed by mutating the user after creating it', async () => {
        const user = userFixture();
        const copy = { ...user, createdAt: new Date(user.createdAt) };
        await users().create(user);
        (user as Mutable<User>).name = 'changed';
        user.createdAt.setTime(0);
        expect(await users().get(user.id)).to.deep.equal(copy);
      });
    });
  });
}
