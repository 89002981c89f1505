import { expect } from 'chai';
import type { OAuthArtifact, OAuthArtifactStore } from '../oauth-client/oauth-artifact-store.port.js';
import { fixedDate, richInputs, uniqueSuffix } from './storage.fixtures.js';

export function oauthArtifactFixture(overrides: Partial<OAuthArtifact> = {}): OAuthArtifact {
  const suffix = uniqueSuffix();
  return {
    model: 'AccessToken',
    id: `jti-${suffix}`,
    payload: { jti: `jti-${suffix}`, kind: 'AccessToken', scope: 'openid agents:execute', exp: 1_900_000_000, extra: richInputs() },
    grantId: `grant-${suffix}`,
    clientId: `app_${suffix}`,
    userCode: null,
    uid: null,
    expiresAt: fixedDate(3_600_000),
    consumedAt: null,
    ...overrides,
  };
}

/** The behaviour every OAuthArtifactStore adapter shares; `store()` is a fresh, empty store. */
export function oauthArtifactStoreContract(store: () => OAuthArtifactStore): void {
  describe('OAuthArtifactStore', () => {
    describe('upsert / find', () => {
      it('round-trips every field, the payload as JSON', async () => {
        const artifact = oauthArtifactFixture();
        await store().upsert(artifact);
        const found = await store().find(artifact.model, artifact.id);
        expect(found).to.deep.equal(artifact);
        expect(found?.expiresAt).to.be.instanceOf(Date);
      });

      it('round-trips nulls and a consumed date', async () => {
        const artifact = oauthArtifactFixture({ grantId: null, clientId: null, expiresAt: null, consumedAt: fixedDate(77) });
        await store().upsert(artifact);
        expect(await store().find(artifact.model, artifact.id)).to.deep.equal(artifact);
      });

      it('keys by model and id: the same id in two models are two artifacts', async () => {
        const token = oauthArtifactFixture();
        const code = oauthArtifactFixture({ model: 'AuthorizationCode', id: token.id, payload: { kind: 'AuthorizationCode' } });
        await store().upsert(token);
        await store().upsert(code);
        expect(await store().find('AccessToken', token.id)).to.deep.equal(token);
        expect(await store().find('AuthorizationCode', token.id)).to.deep.equal(code);
        expect(await store().find('RefreshToken', token.id)).to.equal(null);
      });

      it('replaces every field on a second upsert', async () => {
        const artifact = oauthArtifactFixture({ model: 'Session', consumedAt: fixedDate(1) });
        await store().upsert(artifact);
        const replaced = { ...artifact, payload: { accountId: 'u2' }, grantId: null, uid: 'uid-2', expiresAt: fixedDate(9), consumedAt: null };
        await store().upsert(replaced);
        expect(await store().find('Session', artifact.id)).to.deep.equal(replaced);
      });

      it('still finds an expired artifact (the server tells "expired" from "unknown")', async () => {
        const artifact = oauthArtifactFixture({ expiresAt: new Date(Date.UTC(2000, 0, 1)) });
        await store().upsert(artifact);
        expect(await store().find(artifact.model, artifact.id)).to.deep.equal(artifact);
      });
    });

    describe('findByUserCode / findByUid', () => {
      it('finds by user code and by uid within the model', async () => {
        const device = oauthArtifactFixture({ model: 'DeviceCode', userCode: `UC-${uniqueSuffix()}` });
        const session = oauthArtifactFixture({ model: 'Session', uid: `uid-${uniqueSuffix()}` });
        await store().upsert(device);
        await store().upsert(session);
        expect(await store().findByUserCode('DeviceCode', device.userCode!)).to.deep.equal(device);
        expect(await store().findByUid('Session', session.uid!)).to.deep.equal(session);
        expect(await store().findByUid('Interaction', session.uid!)).to.equal(null);
        expect(await store().findByUserCode('DeviceCode', 'nope')).to.equal(null);
      });
    });

    describe('consume', () => {
      it('marks it used once: true the first time, false after, and for an unknown one', async () => {
        const code = oauthArtifactFixture({ model: 'AuthorizationCode' });
        await store().upsert(code);
        expect(await store().consume('AuthorizationCode', code.id, fixedDate(10))).to.equal(true);
        expect(await store().consume('AuthorizationCode', code.id, fixedDate(20))).to.equal(false);
        expect(await store().find('AuthorizationCode', code.id)).to.deep.equal({ ...code, consumedAt: fixedDate(10) });
        expect(await store().consume('AuthorizationCode', 'unknown', fixedDate(10))).to.equal(false);
      });

      it('lets exactly one of 20 concurrent consumers have it', async () => {
        const code = oauthArtifactFixture({ model: 'AuthorizationCode' });
        await store().upsert(code);
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store().consume('AuthorizationCode', code.id, fixedDate(i))));
        expect(results.filter(Boolean)).to.have.length(1);
      });
    });

    describe('destroy', () => {
      it('deletes that artifact only', async () => {
        const a = oauthArtifactFixture();
        const b = oauthArtifactFixture();
        await store().upsert(a);
        await store().upsert(b);
        expect(await store().destroy(a.model, a.id)).to.equal(true);
        expect(await store().destroy(a.model, a.id)).to.equal(false);
        expect(await store().find(a.model, a.id)).to.equal(null);
        expect(await store().find(b.model, b.id)).to.deep.equal(b);
      });
    });

    describe('revokeByGrantId', () => {
      it("deletes the model's artifacts of the grant and nothing else", async () => {
        const grantId = `grant-${uniqueSuffix()}`;
        const tokens = [oauthArtifactFixture({ grantId }), oauthArtifactFixture({ grantId })];
        const refresh = oauthArtifactFixture({ model: 'RefreshToken', grantId });
        const otherGrant = oauthArtifactFixture();
        for (const a of [...tokens, refresh, otherGrant]) await store().upsert(a);
        expect(await store().revokeByGrantId('AccessToken', grantId)).to.equal(2);
        for (const t of tokens) expect(await store().find(t.model, t.id)).to.equal(null);
        expect(await store().find(refresh.model, refresh.id)).to.deep.equal(refresh);
        expect(await store().find(otherGrant.model, otherGrant.id)).to.deep.equal(otherGrant);
        expect(await store().revokeByGrantId('RefreshToken', grantId)).to.equal(1);
        expect(await store().revokeByGrantId('RefreshToken', grantId)).to.equal(0);
      });
    });

    describe('revokeByClientId', () => {
      it('deletes every artifact of the client, in any model, and nothing else', async () => {
        const clientId = `app_${uniqueSuffix()}`;
        const mine = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'Grant'].map((model) => oauthArtifactFixture({ model, clientId }));
        const other = oauthArtifactFixture();
        for (const a of [...mine, other]) await store().upsert(a);
        expect(await store().revokeByClientId(clientId)).to.equal(4);
        for (const a of mine) expect(await store().find(a.model, a.id)).to.equal(null);
        expect(await store().find(other.model, other.id)).to.deep.equal(other);
      });
    });

    describe('deleteExpired', () => {
      it('deletes what expired before the instant, keeps the rest and what never expires', async () => {
        const old = oauthArtifactFixture({ expiresAt: fixedDate(-1) });
        const fresh = oauthArtifactFixture({ expiresAt: fixedDate(1) });
        const forever = oauthArtifactFixture({ expiresAt: null });
        for (const a of [old, fresh, forever]) await store().upsert(a);
        expect(await store().deleteExpired(fixedDate(0))).to.equal(1);
        expect(await store().find(old.model, old.id)).to.equal(null);
        expect(await store().find(fresh.model, fresh.id)).to.deep.equal(fresh);
        expect(await store().find(forever.model, forever.id)).to.deep.equal(forever);
      });
    });

    describe('isolation', () => {
      it('is not changed by mutating a returned artifact or the one stored', async () => {
        const artifact = oauthArtifactFixture();
        const copy = structuredClone(artifact);
        await store().upsert(artifact);
        (artifact.payload as Record<string, unknown>).scope = 'changed';
        const found = (await store().find(artifact.model, artifact.id))!;
        (found.payload as Record<string, unknown>).jti = 'changed';
        found.expiresAt?.setTime(0);
        expect(await store().find(artifact.model, artifact.id)).to.deep.equal(copy);
      });
    });
  });
}
