import { expect } from 'chai';
import type { OAuthState, OAuthStateRepository } from '../credential/oauth-state.repository.port.js';
import { expectConflict } from './expect-conflict.js';
import { fixedDate, uniqueSuffix } from './storage.fixtures.js';

export function oauthStateFixture(overrides: Partial<OAuthState> = {}): OAuthState {
  const suffix = uniqueSuffix();
  return {
    id: `state-hash-${suffix}`,
    userId: `user-${suffix}`,
    provider: 'github',
    codeVerifier: { keyId: 'k1', nonce: 'bm9uY2U=', ciphertext: 'Y2lwaGVy', tag: 'dGFn' },
    redirectUri: 'http://127.0.0.1:8080/api/v1/integrations/github/callback',
    scopes: ['github:repo.read', 'github:repo.write'],
    expiresAt: fixedDate(600_000),
    createdAt: fixedDate(),
    ...overrides,
  };
}

/** The behaviour every OAuthStateRepository adapter shares; `states()` is a fresh, empty repository. */
export function oauthStateRepositoryContract(states: () => OAuthStateRepository): void {
  describe('OAuthStateRepository', () => {
    describe('create / consume', () => {
      it('round-trips every field, a sealed verifier and a null one', async () => {
        const withPkce = oauthStateFixture();
        const without = oauthStateFixture({ codeVerifier: null, scopes: [] });
        await states().create(withPkce);
        await states().create(without);
        expect(await states().consume(withPkce.id)).to.deep.equal(withPkce);
        expect(await states().consume(without.id)).to.deep.equal(without);
      });

      it('answers a state once: a second consume finds nothing', async () => {
        const state = oauthStateFixture();
        await states().create(state);
        expect(await states().consume(state.id)).to.not.equal(null);
        expect(await states().consume(state.id)).to.equal(null);
      });

      it('answers null for a state never issued', async () => {
        expect(await states().consume('no-such-state')).to.equal(null);
      });

      it('gives a state to exactly one of concurrent consumers', async () => {
        const state = oauthStateFixture();
        await states().create(state);
        const results = await Promise.all(Array.from({ length: 10 }, () => states().consume(state.id)));
        expect(results.filter((r) => r !== null)).to.have.length(1);
      });

      it('refuses a duplicate id', async () => {
        const state = oauthStateFixture();
        await states().create(state);
        await expectConflict(states().create(state));
      });

      it('answers an expired state too (the caller tells expired from unknown)', async () => {
        const state = oauthStateFixture({ expiresAt: fixedDate(-1) });
        await states().create(state);
        expect((await states().consume(state.id))?.expiresAt).to.deep.equal(fixedDate(-1));
      });
    });

    describe('deleteExpired', () => {
      it('deletes only the states that expired before now', async () => {
        const old = oauthStateFixture({ expiresAt: fixedDate(1_000) });
        const fresh = oauthStateFixture({ expiresAt: fixedDate(100_000) });
        await states().create(old);
        await states().create(fresh);
        expect(await states().deleteExpired(fixedDate(50_000))).to.equal(1);
        expect(await states().consume(old.id)).to.equal(null);
        expect(await states().consume(fresh.id)).to.not.equal(null);
      });
    });
  });
}
