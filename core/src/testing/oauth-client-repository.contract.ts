import { expect } from 'chai';
import type { OAuthClient } from '../oauth-client/oauth-client.js';
import type { OAuthClientRepository } from '../oauth-client/oauth-client.repository.port.js';
import { expectConflict } from './expect-conflict.js';
import { fixedDate, uniqueSuffix } from './storage.fixtures.js';

export function oauthClientFixture(overrides: Partial<OAuthClient> = {}): OAuthClient {
  const suffix = uniqueSuffix();
  return {
    id: `app_${suffix}`,
    userId: `user-${suffix}`,
    name: 'Zoë’s App — ünïcødé ✓ 🚀',
    description: 'Reads "quoted" things\nand writes them back',
    type: 'confidential',
    secretHash: `hash-${suffix}`,
    redirectUris: ['https://app.example.com/oauth/callback', 'http://127.0.0.1:5173/cb?x=1&y=%20'],
    webhookDomains: ['app.example.com', '*.hooks.example.com'],
    webhookSecret: { keyId: 'k1', nonce: `bm9uY2Ut${suffix}`, ciphertext: `Y2lwaGVy+/=${suffix}`, tag: `dGFn${suffix}` },
    createdAt: fixedDate(),
    updatedAt: fixedDate(),
    disabledAt: null,
    ...overrides,
  };
}

/** The behaviour every OAuthClientRepository adapter shares; `clients()` is a fresh, empty repository. */
export function oauthClientRepositoryContract(clients: () => OAuthClientRepository): void {
  describe('OAuthClientRepository', () => {
    describe('create / get', () => {
      it('round-trips every field of a confidential client', async () => {
        const client = oauthClientFixture();
        await clients().create(client);
        const stored = await clients().get(client.id);
        expect(stored).to.deep.equal(client);
        expect(stored?.createdAt).to.be.instanceOf(Date);
      });

      it('round-trips a public, disabled client without secret hash, webhook domains or description', async () => {
        const client = oauthClientFixture({ type: 'public', secretHash: null, webhookDomains: [], description: '', disabledAt: fixedDate(5_555), updatedAt: fixedDate(5_555) });
        await clients().create(client);
        const stored = await clients().get(client.id);
        expect(stored).to.deep.equal(client);
        expect(stored?.disabledAt?.getTime()).to.equal(fixedDate(5_555).getTime());
      });

      it('round-trips a scope allow-list in its order, and a client without one has no scopes field', async () => {
        const client = oauthClientFixture({ type: 'public', secretHash: null, scopes: ['openid', 'integrations:list', 'READ_BLOCK', 'agents:execute'] });
        await clients().create(client);
        expect(await clients().get(client.id)).to.deep.equal(client);
        const unrestricted = oauthClientFixture();
        await clients().create(unrestricted);
        const stored = await clients().get(unrestricted.id);
        expect(stored).to.deep.equal(unrestricted);
        expect(stored).not.to.have.property('scopes');
      });

      it('answers null for an unknown id', async () => {
        expect(await clients().get('app_unknown')).to.equal(null);
      });

      it('rejects a duplicate id with a ConflictError and keeps the first client', async () => {
        const client = oauthClientFixture();
        await clients().create(client);
        await expectConflict(clients().create(oauthClientFixture({ id: client.id, name: 'Other' })));
        expect(await clients().get(client.id)).to.deep.equal(client);
      });
    });

    describe('listByUser', () => {
      it("lists only that user's clients, oldest first", async () => {
        const userId = `user-${uniqueSuffix()}`;
        const mine = [3, 1, 2].map((i) => oauthClientFixture({ userId, createdAt: fixedDate(i * 1000) }));
        for (const c of mine) await clients().create(c);
        await clients().create(oauthClientFixture({ createdAt: fixedDate(0) }));
        expect(await clients().listByUser(userId)).to.deep.equal([mine[1], mine[2], mine[0]]);
        expect(await clients().listByUser('user-without-clients')).to.deep.equal([]);
      });
    });

    describe('update', () => {
      it('changes only the given fields and answers the client as it is now', async () => {
        const client = oauthClientFixture();
        await clients().create(client);
        const patch = {
          name: 'Renamed',
          redirectUris: ['https://new.example.com/cb'],
          webhookDomains: ['*.new.example.com'],
          secretHash: 'new-hash',
          webhookSecret: { keyId: 'k2', nonce: 'n2', ciphertext: 'c2', tag: 't2' },
          disabledAt: fixedDate(9_000),
          updatedAt: fixedDate(9_000),
        };
        const updated = await clients().update(client.id, patch);
        const expected = { ...client, ...patch };
        expect(updated).to.deep.equal(expected);
        expect(await clients().get(client.id)).to.deep.equal(expected);
        const enabled = await clients().update(client.id, { disabledAt: null, description: 'd', updatedAt: fixedDate(9_001) });
        expect(enabled).to.deep.equal({ ...expected, disabledAt: null, description: 'd', updatedAt: fixedDate(9_001) });
      });

      it('sets a scope allow-list, keeps it through other patches, and lifts it with scopes: null', async () => {
        const client = oauthClientFixture();
        await clients().create(client);
        const limited = await clients().update(client.id, { scopes: ['openid', 'agents:execute'], updatedAt: fixedDate(9_100) });
        expect(limited).to.deep.equal({ ...client, scopes: ['openid', 'agents:execute'], updatedAt: fixedDate(9_100) });
        const renamed = await clients().update(client.id, { name: 'Still limited', updatedAt: fixedDate(9_200) });
        expect(renamed?.scopes).to.deep.equal(['openid', 'agents:execute']);
        const lifted = await clients().update(client.id, { scopes: null, updatedAt: fixedDate(9_300) });
        expect(lifted).to.deep.equal({ ...client, name: 'Still limited', updatedAt: fixedDate(9_300) });
        expect(lifted).not.to.have.property('scopes');
        expect(await clients().get(client.id)).to.deep.equal(lifted);
      });

      it('answers null for an unknown id', async () => {
        expect(await clients().update('app_unknown', { name: 'x', updatedAt: fixedDate(1) })).to.equal(null);
      });

      it('lands concurrent patches of different fields both', async () => {
        const client = oauthClientFixture();
        await clients().create(client);
        await Promise.all([
          clients().update(client.id, { name: 'A', updatedAt: fixedDate(1) }),
          clients().update(client.id, { secretHash: 'B', updatedAt: fixedDate(1) }),
          clients().update(client.id, { webhookDomains: ['c.example.com'], updatedAt: fixedDate(1) }),
          clients().update(client.id, { scopes: ['email'], updatedAt: fixedDate(1) }),
        ]);
        const stored = await clients().get(client.id);
        expect(stored?.name).to.equal('A');
        expect(stored?.secretHash).to.equal('B');
        expect(stored?.webhookDomains).to.deep.equal(['c.example.com']);
        expect(stored?.scopes).to.deep.equal(['email']);
      });
    });

    describe('delete', () => {
      it('deletes the client only, and answers false the second time', async () => {
        const client = oauthClientFixture();
        const other = oauthClientFixture({ userId: client.userId });
        await clients().create(client);
        await clients().create(other);
        expect(await clients().delete(client.id)).to.equal(true);
        expect(await clients().delete(client.id)).to.equal(false);
        expect(await clients().get(client.id)).to.equal(null);
        expect(await clients().listByUser(client.userId)).to.deep.equal([other]);
      });
    });

    describe('isolation', () => {
      it('is not changed by mutating a returned client or the one created', async () => {
        const client = oauthClientFixture({ scopes: ['openid'] });
        const copy = structuredClone(client);
        await clients().create(client);
        (client.redirectUris as string[]).push('https://evil.example/');
        client.createdAt.setTime(0);
        const returned = (await clients().get(client.id))!;
        (returned.webhookDomains as string[]).length = 0;
        (returned.scopes as string[]).push('email');
        (returned.webhookSecret as { keyId: string }).keyId = 'changed';
        returned.updatedAt.setTime(0);
        expect(await clients().get(client.id)).to.deep.equal(copy);
      });
    });
  });
}
