import { expect } from 'chai';
import type { Credential } from '../credential/credential.js';
import type { CredentialRepository } from '../credential/credential.repository.port.js';
import type { EncryptedSecret } from '../credential/secret-cipher.port.js';
import { expectConflict } from './expect-conflict.js';
import { credentialFixture, fixedDate, uniqueSuffix } from './storage.fixtures.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The behaviour every CredentialRepository adapter shares; `credentials()` is a fresh, empty repository. */
export function credentialRepositoryContract(credentials: () => CredentialRepository): void {
  describe('CredentialRepository', () => {
    describe('create / get', () => {
      it('round-trips every field, the sealed secret parts and a null expiry', async () => {
        const credential = credentialFixture();
        await credentials().create(credential);
        const stored = await credentials().get(credential.id);
        expect(stored).to.deep.equal(credential);
        expect(stored?.secret).to.deep.equal(credential.secret);
        expect(stored?.expiresAt).to.equal(null);
        expect(stored?.createdAt).to.be.instanceOf(Date);
        expect(stored?.updatedAt).to.be.instanceOf(Date);
      });

      it('round-trips every field with all dates set, at millisecond precision', async () => {
        const credential = credentialFixture({
          provider: 'google',
          kind: 'api_key',
          title: 'Zoë Ångström 李雷 🚀 "quoted" \\ back/slash',
          scopes: [],
          status: 'needs_reauth',
          expiresAt: fixedDate(3_600_007),
          secret: { keyId: 'kid-2024', nonce: 'AAECAwQFBgcICQoL', ciphertext: 'q83vASNFZ4mrze8BI0Vn+/==', tag: 'ABEiM0RVZneImaq7zN3u/w==' },
          createdAt: fixedDate(1),
          updatedAt: fixedDate(999_999),
        });
        await credentials().create(credential);
        const stored = await credentials().get(credential.id);
        expect(stored).to.deep.equal(credential);
        for (const field of ['createdAt', 'updatedAt', 'expiresAt'] as const) {
          expect(stored?.[field], field).to.be.instanceOf(Date);
          expect(stored?.[field]?.getTime(), field).to.equal(credential[field]?.getTime());
        }
      });

      it('round-trips every kind and status', async () => {
        const kinds = ['api_key', 'oauth2', 'user_password', 'host_scoped'] as const;
        const statuses = ['active', 'needs_reauth', 'revoked'] as const;
        const made = kinds.flatMap((kind) => statuses.map((status) => credentialFixture({ kind, status })));
        for (const credential of made) await credentials().create(credential);
        for (const credential of made) expect(await credentials().get(credential.id)).to.deep.equal(credential);
      });

      it('answers null for an unknown id', async () => {
        expect(await credentials().get('no-such-credential')).to.equal(null);
      });

      it('rejects a duplicate id with a ConflictError and keeps the first credential', async () => {
        const credential = credentialFixture();
        await credentials().create(credential);
        await expectConflict(credentials().create(credentialFixture({ id: credential.id, title: 'the twin' })));
        expect(await credentials().get(credential.id)).to.deep.equal(credential);
      });
    });

    describe('listByUser', () => {
      it("lists only that user's credentials, oldest first", async () => {
        const userId = 'user-with-credentials';
        const mine = [3, 1, 2].map((i) => credentialFixture({ userId, createdAt: fixedDate(i * 1000) }));
        for (const credential of mine) await credentials().create(credential);
        await credentials().create(credentialFixture({ userId: 'someone-else', createdAt: fixedDate(0) }));
        expect(await credentials().listByUser(userId)).to.deep.equal([mine[1], mine[2], mine[0]]);
      });

      it('answers an empty list for a user without credentials', async () => {
        await credentials().create(credentialFixture());
        expect(await credentials().listByUser('user-without-credentials')).to.deep.equal([]);
      });
    });

    describe('update', () => {
      it('replaces every field when updatedAt matches and answers true', async () => {
        const credential = credentialFixture({ expiresAt: fixedDate(60_000) });
        const other = credentialFixture({ userId: credential.userId });
        await credentials().create(credential);
        await credentials().create(other);
        const refreshed: Credential = {
          ...credential,
          provider: 'github-enterprise',
          kind: 'oauth2',
          title: 'renamed ✓',
          scopes: ['github:repo.write'],
          status: 'needs_reauth',
          expiresAt: fixedDate(7_260_001),
          secret: { keyId: 'k2', nonce: 'bmV3LW5vbmNl', ciphertext: 'bmV3LWNpcGhlcnRleHQ=', tag: 'bmV3LXRhZw==' },
          updatedAt: fixedDate(61_234),
        };
        expect(await credentials().update(refreshed, credential.updatedAt)).to.equal(true);
        const stored = await credentials().get(credential.id);
        expect(stored).to.deep.equal(refreshed);
        expect(stored?.updatedAt.getTime()).to.equal(refreshed.updatedAt.getTime());
        expect(await credentials().get(other.id)).to.deep.equal(other);
      });

      it('can clear the expiry', async () => {
        const credential = credentialFixture({ expiresAt: fixedDate(60_000) });
        await credentials().create(credential);
        const changed = { ...credential, expiresAt: null, updatedAt: fixedDate(5) };
        expect(await credentials().update(changed, credential.updatedAt)).to.equal(true);
        expect(await credentials().get(credential.id)).to.deep.equal(changed);
      });

      it('answers false and changes nothing when updatedAt has moved', async () => {
        const credential = credentialFixture({ updatedAt: fixedDate(10_000) });
        await credentials().create(credential);
        const stale = { ...credential, title: 'stale write', secret: { ...credential.secret, keyId: 'k9' }, updatedAt: fixedDate(20_000) };
        expect(await credentials().update(stale, fixedDate(9_999))).to.equal(false);
        expect(await credentials().update(stale, fixedDate(10_001))).to.equal(false);
        expect(await credentials().get(credential.id)).to.deep.equal(credential);
      });

      it('fails a second writer holding the old updatedAt, then succeeds with the new one', async () => {
        const credential = credentialFixture();
        await credentials().create(credential);
        const first = { ...credential, title: 'first', updatedAt: fixedDate(1_000) };
        expect(await credentials().update(first, credential.updatedAt)).to.equal(true);
        const second = { ...credential, title: 'second', updatedAt: fixedDate(2_000) };
        expect(await credentials().update(second, credential.updatedAt)).to.equal(false);
        expect(await credentials().get(credential.id)).to.deep.equal(first);
        const third = { ...first, title: 'third', updatedAt: fixedDate(3_000) };
        expect(await credentials().update(third, first.updatedAt)).to.equal(true);
        expect(await credentials().get(credential.id)).to.deep.equal(third);
      });

      it('answers false for an unknown id and creates nothing', async () => {
        const credential = credentialFixture();
        expect(await credentials().update(credential, credential.updatedAt)).to.equal(false);
        expect(await credentials().get(credential.id)).to.equal(null);
      });
    });

    describe('delete', () => {
      it('removes the credential, answers true, then false', async () => {
        const credential = credentialFixture();
        const other = credentialFixture({ userId: credential.userId });
        await credentials().create(credential);
        await credentials().create(other);
        expect(await credentials().delete(credential.id)).to.equal(true);
        expect(await credentials().get(credential.id)).to.equal(null);
        expect(await credentials().listByUser(credential.userId)).to.deep.equal([other]);
        expect(await credentials().delete(credential.id)).to.equal(false);
      });

      it('answers false for an unknown id and changes no other credential', async () => {
        const credential = credentialFixture();
        await credentials().create(credential);
        expect(await credentials().delete('no-such-credential')).to.equal(false);
        expect(await credentials().get(credential.id)).to.deep.equal(credential);
      });
    });

    describe('listAll', () => {
      it('pages through every credential exactly once, ordered by id', async () => {
        const prefix = `cred-page-${uniqueSuffix()}-`;
        const ids = Array.from({ length: 23 }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
        const shuffled = ids.map((id, i) => ({ id, rank: (i * 7) % ids.length })).sort((a, b) => a.rank - b.rank);
        for (const [i, { id }] of shuffled.entries()) {
          await credentials().create(credentialFixture({ id, userId: `user-${i % 3}`, createdAt: fixedDate(-i) }));
        }
        const seen: Credential[] = [];
        let afterId: string | null = null;
        for (let page = 0; page < 10; page += 1) {
          const batch: Credential[] = await credentials().listAll(afterId, 5);
          expect(batch.length).to.be.at.most(5);
          if (batch.length === 0) break;
          seen.push(...batch);
          afterId = batch[batch.length - 1]!.id;
        }
        expect(seen.map((credential) => credential.id)).to.deep.equal(ids);
        for (const credential of seen) expect(await credentials().get(credential.id)).to.deep.equal(credential);
      });

      it('answers full pages then an empty one, and nothing for a zero limit', async () => {
        const made = [credentialFixture({ id: 'cred-a' }), credentialFixture({ id: 'cred-b' })];
        for (const credential of made) await credentials().create(credential);
        expect(await credentials().listAll(null, 2)).to.deep.equal(made);
        expect(await credentials().listAll('cred-a', 10)).to.deep.equal([made[1]]);
        expect(await credentials().listAll('cred-b', 10)).to.deep.equal([]);
        expect(await credentials().listAll(null, 0)).to.deep.equal([]);
      });

      it('answers an empty list on empty storage', async () => {
        expect(await credentials().listAll(null, 100)).to.deep.equal([]);
      });
    });

    describe('concurrency', () => {
      it('persists 200 credentials created in parallel', async () => {
        const userId = 'busy-user';
        const made = Array.from({ length: 200 }, (_, i) => credentialFixture({ userId, createdAt: fixedDate(i) }));
        await Promise.all(made.map((credential) => credentials().create(credential)));
        expect(await credentials().listByUser(userId)).to.deep.equal(made);
      });

      it('lets exactly one of 20 parallel updates with the same updatedAt win', async () => {
        const credential = credentialFixture();
        await credentials().create(credential);
        const attempts = Array.from({ length: 20 }, (_, i) => ({ ...credential, title: `writer ${i}`, updatedAt: fixedDate(1_000 + i) }));
        const results = await Promise.all(attempts.map((attempt) => credentials().update(attempt, credential.updatedAt)));
        expect(results.filter(Boolean)).to.have.length(1);
        expect(await credentials().get(credential.id)).to.deep.equal(attempts[results.indexOf(true)]);
      });
    });

    describe('isolation', () => {
      it('is not changed by mutating a returned credential, its scopes, secret or dates', async () => {
        const credential = credentialFixture({ expiresAt: fixedDate(7) });
        await credentials().create(credential);
        const returned = (await credentials().get(credential.id)) as Mutable<Credential>;
        (returned.scopes as string[]).push('github:admin');
        (returned.secret as Mutable<EncryptedSecret>).ciphertext = 'tampered';
        returned.expiresAt?.setTime(0);
        returned.title = 'changed';
        const [listed] = await credentials().listByUser(credential.userId);
        listed!.createdAt.setTime(0);
        (listed!.secret as Mutable<EncryptedSecret>).keyId = 'other';
        const [paged] = await credentials().listAll(null, 1);
        paged!.updatedAt.setTime(0);
        (paged!.scopes as string[]).length = 0;
        expect(await credentials().get(credential.id)).to.deep.equal(credential);
      });

      it('is not changed by mutating the credential after creating or updating it', async () => {
        const credential = credentialFixture();
        const copy = structuredClone(credential);
        await credentials().create(credential);
        (credential.scopes as string[]).push('github:admin');
        (credential.secret as Mutable<EncryptedSecret>).nonce = 'changed';
        credential.createdAt.setTime(0);
        expect(await credentials().get(credential.id)).to.deep.equal(copy);

        const updated = structuredClone({ ...copy, title: 'updated', updatedAt: fixedDate(50) });
        const updatedCopy = structuredClone(updated);
        expect(await credentials().update(updated, copy.updatedAt)).to.equal(true);
        (updated.secret as Mutable<EncryptedSecret>).tag = 'changed';
        updated.updatedAt.setTime(0);
        expect(await credentials().get(credential.id)).to.deep.equal(updatedCopy);
      });
    });
  });
}
