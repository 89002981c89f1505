import { expect } from 'chai';
import type { ExternalExecution, ExternalExecutionRepository } from '../grant/external-execution.repository.port.js';
import type { GrantRepository } from '../grant/grant.repository.port.js';
import type { Grant } from '../grant/grant.js';
import { expectConflict } from './expect-conflict.js';
import { fixedDate, uniqueSuffix } from './storage.fixtures.js';

export function grantFixture(overrides: Partial<Grant> = {}): Grant {
  const suffix = uniqueSuffix();
  return {
    id: `grant-${suffix}`,
    userId: `user-${suffix}`,
    clientId: `app_${suffix}`,
    credentialId: `cred-${suffix}`,
    provider: 'github',
    scopes: ['github:repo.read', 'github:user.read'],
    createdAt: fixedDate(),
    lastUsedAt: null,
    revokedAt: null,
    ...overrides,
  };
}

export function externalExecutionFixture(overrides: Partial<ExternalExecution> = {}): ExternalExecution {
  const suffix = uniqueSuffix();
  return {
    executionId: `exec-${suffix}`,
    clientId: `app_${suffix}`,
    userId: `user-${suffix}`,
    idempotencyKey: null,
    requestHash: null,
    createdAt: fixedDate(),
    ...overrides,
  };
}

const byId = (grants: readonly Grant[]) => [...grants].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** The behaviour every GrantRepository adapter shares; `grants()` is a fresh, empty repository. */
export function grantRepositoryContract(grants: () => GrantRepository): void {
  describe('GrantRepository', () => {
    describe('create / get', () => {
      it('round-trips every field, dates as Dates', async () => {
        const grant = grantFixture({ scopes: ['github:repo.read', 'ünïcødé:scope.✓'], lastUsedAt: fixedDate(5), revokedAt: fixedDate(9) });
        await grants().create(grant);
        const stored = await grants().get(grant.id);
        expect(stored).to.deep.equal(grant);
        expect(stored?.lastUsedAt).to.be.instanceOf(Date);
        expect(stored?.revokedAt).to.be.instanceOf(Date);
      });

      it('round-trips a live, unused grant without scopes', async () => {
        const grant = grantFixture({ scopes: [] });
        await grants().create(grant);
        expect(await grants().get(grant.id)).to.deep.equal(grant);
      });

      it('answers null for an unknown id', async () => {
        expect(await grants().get('grant-unknown')).to.equal(null);
      });

      it('rejects a duplicate id with a ConflictError and keeps the first grant', async () => {
        const grant = grantFixture();
        await grants().create(grant);
        await expectConflict(grants().create(grantFixture({ id: grant.id, provider: 'slack' })));
        expect(await grants().get(grant.id)).to.deep.equal(grant);
      });
    });

    describe('listByUser / listByUserAndClient', () => {
      it("lists only the user's grants (live and revoked), oldest first", async () => {
        const userId = `user-${uniqueSuffix()}`;
        const mine = [3, 1, 2].map((i) => grantFixture({ userId, createdAt: fixedDate(i * 1000), revokedAt: i === 2 ? fixedDate(9_000) : null }));
        for (const g of mine) await grants().create(g);
        await grants().create(grantFixture({ createdAt: fixedDate(0) }));
        expect(await grants().listByUser(userId)).to.deep.equal([mine[1], mine[2], mine[0]]);
        expect(await grants().listByUser('user-without-grants')).to.deep.equal([]);
      });

      it("lists only the user's grants to that client, oldest first", async () => {
        const userId = `user-${uniqueSuffix()}`;
        const clientId = `app_${uniqueSuffix()}`;
        const a = grantFixture({ userId, clientId, createdAt: fixedDate(2_000) });
        const b = grantFixture({ userId, clientId, createdAt: fixedDate(1_000), revokedAt: fixedDate(3_000) });
        const otherClient = grantFixture({ userId, createdAt: fixedDate(0) });
        const otherUser = grantFixture({ clientId, createdAt: fixedDate(0) });
        for (const g of [a, b, otherClient, otherUser]) await grants().create(g);
        expect(await grants().listByUserAndClient(userId, clientId)).to.deep.equal([b, a]);
        expect(await grants().listByUserAndClient(userId, 'app_none')).to.deep.equal([]);
      });
    });

    describe('revoke', () => {
      it('revokes a live grant once: the grant as revoked, then null', async () => {
        const grant = grantFixture();
        await grants().create(grant);
        const revoked = await grants().revoke(grant.id, fixedDate(7_000));
        expect(revoked).to.deep.equal({ ...grant, revokedAt: fixedDate(7_000) });
        expect(await grants().revoke(grant.id, fixedDate(8_000))).to.equal(null);
        expect(await grants().get(grant.id)).to.deep.equal({ ...grant, revokedAt: fixedDate(7_000) });
      });

      it('answers null for an unknown id', async () => {
        expect(await grants().revoke('grant-unknown', fixedDate(1))).to.equal(null);
      });

      it('lets exactly one of concurrent revokers revoke', async () => {
        const grant = grantFixture();
        await grants().create(grant);
        const results = await Promise.all([1, 2, 3, 4, 5].map((i) => grants().revoke(grant.id, fixedDate(i))));
        expect(results.filter((r) => r !== null)).to.have.length(1);
      });
    });

    describe('revokeByClient / revokeByCredential', () => {
      it("revokes the client's live grants only, answering those it revoked", async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const live = [grantFixture({ clientId }), grantFixture({ clientId })];
        const already = grantFixture({ clientId, revokedAt: fixedDate(1) });
        const other = grantFixture();
        for (const g of [...live, already, other]) await grants().create(g);
        const revoked = await grants().revokeByClient(clientId, fixedDate(5_000));
        expect(byId(revoked)).to.deep.equal(byId(live.map((g) => ({ ...g, revokedAt: fixedDate(5_000) }))));
        expect(await grants().get(already.id)).to.deep.equal(already);
        expect(await grants().get(other.id)).to.deep.equal(other);
        expect(await grants().revokeByClient(clientId, fixedDate(6_000))).to.deep.equal([]);
      });

      it("revokes the credential's live grants of every client, answering those it revoked", async () => {
        const credentialId = `cred-${uniqueSuffix()}`;
        const live = [grantFixture({ credentialId }), grantFixture({ credentialId })];
        const other = grantFixture();
        for (const g of [...live, other]) await grants().create(g);
        const revoked = await grants().revokeByCredential(credentialId, fixedDate(5_000));
        expect(byId(revoked)).to.deep.equal(byId(live.map((g) => ({ ...g, revokedAt: fixedDate(5_000) }))));
        expect(await grants().get(other.id)).to.deep.equal(other);
        expect(await grants().revokeByCredential(credentialId, fixedDate(6_000))).to.deep.equal([]);
      });

      it('gives each grant to one of concurrent revokers only', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const credentialId = `cred-${uniqueSuffix()}`;
        const shared = [1, 2, 3].map(() => grantFixture({ clientId, credentialId }));
        for (const g of shared) await grants().create(g);
        const [a, b, c] = await Promise.all([grants().revokeByClient(clientId, fixedDate(1)), grants().revokeByCredential(credentialId, fixedDate(2)), grants().revokeByClient(clientId, fixedDate(3))]);
        const ids = [...a!, ...b!, ...c!].map((g) => g.id).sort();
        expect(ids).to.deep.equal(shared.map((g) => g.id).sort());
      });
    });

    describe('markUsed', () => {
      it('sets lastUsedAt on the given grants when it is unset or earlier, never moving it back', async () => {
        const fresh = grantFixture();
        const older = grantFixture({ lastUsedAt: fixedDate(1_000) });
        const newer = grantFixture({ lastUsedAt: fixedDate(9_000) });
        const untouched = grantFixture();
        for (const g of [fresh, older, newer, untouched]) await grants().create(g);
        await grants().markUsed([fresh.id, older.id, newer.id, 'grant-unknown'], fixedDate(5_000));
        expect((await grants().get(fresh.id))?.lastUsedAt).to.deep.equal(fixedDate(5_000));
        expect((await grants().get(older.id))?.lastUsedAt).to.deep.equal(fixedDate(5_000));
        expect((await grants().get(newer.id))?.lastUsedAt).to.deep.equal(fixedDate(9_000));
        expect(await grants().get(untouched.id)).to.deep.equal(untouched);
        await grants().markUsed([], fixedDate(6_000));
      });
    });

    describe('isolation', () => {
      it('is not changed by mutating a returned grant or the one created', async () => {
        const grant = grantFixture();
        const copy = structuredClone(grant);
        await grants().create(grant);
        (grant.scopes as string[]).push('github:admin');
        grant.createdAt.setTime(0);
        const returned = (await grants().get(grant.id))!;
        (returned.scopes as string[]).length = 0;
        returned.createdAt.setTime(0);
        expect(await grants().get(grant.id)).to.deep.equal(copy);
      });
    });
  });
}

/** The behaviour every ExternalExecutionRepository adapter shares; `records()` is a fresh, empty repository. */
export function externalExecutionRepositoryContract(records: () => ExternalExecutionRepository): void {
  describe('ExternalExecutionRepository', () => {
    it('round-trips a record with and without an idempotency key', async () => {
      const keyed = externalExecutionFixture({ idempotencyKey: 'key-ünï-1', requestHash: 'a'.repeat(64) });
      const plain = externalExecutionFixture();
      expect(await records().create(keyed)).to.equal(null);
      expect(await records().create(plain)).to.equal(null);
      expect(await records().get(keyed.executionId)).to.deep.equal(keyed);
      expect(await records().get(plain.executionId)).to.deep.equal(plain);
      expect(await records().get('exec-unknown')).to.equal(null);
    });

    it('answers the record holding a key of the same client and user, storing nothing', async () => {
      const first = externalExecutionFixture({ idempotencyKey: 'k', requestHash: 'h1' });
      await records().create(first);
      const again = externalExecutionFixture({ clientId: first.clientId, userId: first.userId, idempotencyKey: 'k', requestHash: 'h2' });
      expect(await records().create(again)).to.deep.equal(first);
      expect(await records().get(again.executionId)).to.equal(null);
    });

    it('keeps keys apart per client and per user, and records without a key never collide', async () => {
      const first = externalExecutionFixture({ idempotencyKey: 'same' });
      await records().create(first);
      expect(await records().create(externalExecutionFixture({ userId: first.userId, idempotencyKey: 'same' }))).to.equal(null);
      expect(await records().create(externalExecutionFixture({ clientId: first.clientId, idempotencyKey: 'same' }))).to.equal(null);
      const a = externalExecutionFixture();
      expect(await records().create(a)).to.equal(null);
      expect(await records().create(externalExecutionFixture({ clientId: a.clientId, userId: a.userId }))).to.equal(null);
    });

    it('lets exactly one of concurrent creates with the same key store its record', async () => {
      const base = externalExecutionFixture({ idempotencyKey: 'race' });
      const attempts = [1, 2, 3, 4, 5].map((i) => externalExecutionFixture({ clientId: base.clientId, userId: base.userId, idempotencyKey: 'race', requestHash: `h${i}` }));
      const results = await Promise.all(attempts.map((r) => records().create(r)));
      expect(results.filter((r) => r === null)).to.have.length(1);
      const winner = attempts[results.indexOf(null)]!;
      for (const r of results) if (r) expect(r).to.deep.equal(winner);
    });

    it('rejects a duplicate execution id with a ConflictError', async () => {
      const record = externalExecutionFixture();
      await records().create(record);
      await expectConflict(records().create(externalExecutionFixture({ executionId: record.executionId })));
      expect(await records().get(record.executionId)).to.deep.equal(record);
    });

    it('replaces a record only while it is still there (compare-and-set)', async () => {
      const stale = externalExecutionFixture({ idempotencyKey: 'k', requestHash: 'h' });
      await records().create(stale);
      const next = externalExecutionFixture({ clientId: stale.clientId, userId: stale.userId, idempotencyKey: 'k', requestHash: 'h', createdAt: fixedDate(60_000) });
      const other = externalExecutionFixture({ clientId: stale.clientId, userId: stale.userId, idempotencyKey: 'k', requestHash: 'h', createdAt: fixedDate(61_000) });
      const [a, b] = await Promise.all([records().replace(stale.executionId, next), records().replace(stale.executionId, other)]);
      expect([a, b].filter(Boolean)).to.have.length(1);
      const winner = a ? next : other;
      expect(await records().get(stale.executionId)).to.equal(null);
      expect(await records().get(winner.executionId)).to.deep.equal(winner);
      expect(await records().create(externalExecutionFixture({ clientId: stale.clientId, userId: stale.userId, idempotencyKey: 'k' }))).to.deep.equal(winner);
      expect(await records().replace('exec-unknown', externalExecutionFixture())).to.equal(false);
    });

    it('deletes a record, freeing its key', async () => {
      const record = externalExecutionFixture({ idempotencyKey: 'free-me' });
      await records().create(record);
      expect(await records().delete(record.executionId)).to.equal(true);
      expect(await records().delete(record.executionId)).to.equal(false);
      expect(await records().get(record.executionId)).to.equal(null);
      expect(await records().create(externalExecutionFixture({ clientId: record.clientId, userId: record.userId, idempotencyKey: 'free-me' }))).to.equal(null);
    });
  });
}
