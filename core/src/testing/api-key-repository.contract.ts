import { expect } from 'chai';
import type { ApiKey } from '../api-key/api-key.js';
import type { ApiKeyScope } from '../api-key/api-key-scope.js';
import type { ApiKeyRepository } from '../api-key/api-key.repository.port.js';
import { expectConflict } from './expect-conflict.js';
import { apiKeyFixture, fixedDate } from './storage.fixtures.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The behaviour every ApiKeyRepository adapter shares; `apiKeys()` is a fresh, empty repository. */
export function apiKeyRepositoryContract(apiKeys: () => ApiKeyRepository): void {
  describe('ApiKeyRepository', () => {
    describe('create / get', () => {
      it('round-trips every field with null dates', async () => {
        const key = apiKeyFixture();
        await apiKeys().create(key);
        const stored = await apiKeys().get(key.id);
        expect(stored).to.deep.equal(key);
        expect(stored?.createdAt).to.be.instanceOf(Date);
        expect(stored?.lastUsedAt).to.equal(null);
        expect(stored?.expiresAt).to.equal(null);
        expect(stored?.revokedAt).to.equal(null);
      });

      it('round-trips every field with all dates set, at millisecond precision', async () => {
        const key = apiKeyFixture({
          scopes: ['IDENTITY', 'RUN_AGENT', 'READ_RUN', 'MANAGE_INTEGRATIONS'],
          createdAt: fixedDate(1),
          lastUsedAt: fixedDate(22),
          expiresAt: fixedDate(86_400_333),
          revokedAt: fixedDate(4_444),
        });
        await apiKeys().create(key);
        const stored = await apiKeys().get(key.id);
        expect(stored).to.deep.equal(key);
        for (const field of ['createdAt', 'lastUsedAt', 'expiresAt', 'revokedAt'] as const) {
          expect(stored?.[field], field).to.be.instanceOf(Date);
          expect(stored?.[field]?.getTime(), field).to.equal(key[field]?.getTime());
        }
      });

      it('answers null for an unknown id', async () => {
        expect(await apiKeys().get('no-such-key')).to.equal(null);
      });

      it('rejects a duplicate id with a ConflictError and keeps the first key', async () => {
        const key = apiKeyFixture();
        await apiKeys().create(key);
        await expectConflict(apiKeys().create(apiKeyFixture({ id: key.id })));
        expect(await apiKeys().get(key.id)).to.deep.equal(key);
      });

      it('rejects a duplicate hash with a ConflictError and stores nothing', async () => {
        const key = apiKeyFixture();
        await apiKeys().create(key);
        const twin = apiKeyFixture({ hash: key.hash });
        await expectConflict(apiKeys().create(twin));
        expect(await apiKeys().get(twin.id)).to.equal(null);
        expect(await apiKeys().findByHash(key.hash)).to.deep.equal(key);
      });
    });

    describe('findByHash', () => {
      it('finds the key with that hash and answers null for an unknown one', async () => {
        const key = apiKeyFixture();
        await apiKeys().create(key);
        await apiKeys().create(apiKeyFixture());
        expect(await apiKeys().findByHash(key.hash)).to.deep.equal(key);
        expect(await apiKeys().findByHash('no-such-hash')).to.equal(null);
      });
    });

    describe('listByUser', () => {
      it("lists only that user's keys, oldest first", async () => {
        const userId = 'user-with-keys';
        const mine = [3, 1, 2].map((i) => apiKeyFixture({ userId, createdAt: fixedDate(i * 1000) }));
        for (const key of mine) await apiKeys().create(key);
        await apiKeys().create(apiKeyFixture({ userId: 'someone-else', createdAt: fixedDate(0) }));
        const listed = await apiKeys().listByUser(userId);
        expect(listed).to.deep.equal([mine[1], mine[2], mine[0]]);
      });

      it('answers an empty list for a user without keys', async () => {
        await apiKeys().create(apiKeyFixture());
        expect(await apiKeys().listByUser('user-without-keys')).to.deep.equal([]);
      });
    });

    describe('revoke', () => {
      it('sets revokedAt, changes nothing else and answers true', async () => {
        const key = apiKeyFixture();
        await apiKeys().create(key);
        const at = fixedDate(60_001);
        expect(await apiKeys().revoke(key.id, at)).to.equal(true);
        expect(await apiKeys().get(key.id)).to.deep.equal({ ...key, revokedAt: at });
      });

      it('answers false for an unknown id and changes no other key', async () => {
        const key = apiKeyFixture();
        await apiKeys().create(key);
        expect(await apiKeys().revoke('no-such-key', fixedDate(5))).to.equal(false);
        expect(await apiKeys().get(key.id)).to.deep.equal(key);
      });
    });

    describe('touch', () => {
      it('records lastUsedAt and changes nothing else', async () => {
        const key = apiKeyFixture();
        const other = apiKeyFixture();
        await apiKeys().create(key);
        await apiKeys().create(other);
        await apiKeys().touch(key.id, fixedDate(1_000));
        await apiKeys().touch(key.id, fixedDate(2_345));
        expect(await apiKeys().get(key.id)).to.deep.equal({ ...key, lastUsedAt: fixedDate(2_345) });
        expect(await apiKeys().get(other.id)).to.deep.equal(other);
      });

      it('does nothing for an unknown id', async () => {
        await apiKeys().touch('no-such-key', fixedDate(1));
        expect(await apiKeys().get('no-such-key')).to.equal(null);
      });
    });

    describe('concurrency', () => {
      it('persists 200 keys created and 200 touches made in parallel', async () => {
        const userId = 'busy-user';
        const keys = Array.from({ length: 200 }, (_, i) => apiKeyFixture({ userId, createdAt: fixedDate(i) }));
        await Promise.all(keys.map((key) => apiKeys().create(key)));
        await Promise.all(keys.map((key, i) => apiKeys().touch(key.id, fixedDate(10_000 + i))));
        const expected = keys.map((key, i) => ({ ...key, lastUsedAt: fixedDate(10_000 + i) }));
        expect(await apiKeys().listByUser(userId)).to.deep.equal(expected);
      });
    });

    describe('isolation', () => {
      it('is not changed by mutating a returned key or its scopes', async () => {
        const key = apiKeyFixture({ lastUsedAt: fixedDate(7) });
        await apiKeys().create(key);
        const returned = (await apiKeys().get(key.id)) as Mutable<ApiKey>;
        (returned.scopes as ApiKeyScope[]).push('WRITE_STORE');
        returned.lastUsedAt?.setTime(0);
        returned.name = 'changed';
        const byHash = (await apiKeys().findByHash(key.hash)) as Mutable<ApiKey>;
        (byHash.scopes as ApiKeyScope[]).length = 0;
        const [listed] = await apiKeys().listByUser(key.userId);
        listed!.createdAt.setTime(0);
        expect(await apiKeys().get(key.id)).to.deep.equal(key);
      });

      it('is not changed by mutating the key after creating it', async () => {
        const key = apiKeyFixture();
        const copy = { ...key, scopes: [...key.scopes], createdAt: new Date(key.createdAt) };
        await apiKeys().create(key);
        (key.scopes as ApiKeyScope[]).push('WRITE_STORE');
        key.createdAt.setTime(0);
        expect(await apiKeys().get(key.id)).to.deep.equal(copy);
      });
    });
  });
}
