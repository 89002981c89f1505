// The short-lived per-process caches on the app request path: OAuth client rows and access-token
// checks (OAuthCaches), and the outbound webhook endpoints and targets (CachingClientWebhookRepository).
// Each spares storage reads for a moment, and every write made through this process takes effect at once.
import { expect } from 'chai';
import { InMemoryClientWebhookRepository, InMemoryOAuthArtifactStore, InMemoryOAuthClientRepository } from '@blockyard/storage-memory';
import {
  CachingAccessTokenVerifier,
  CachingClientWebhookRepository,
  CachingOAuthClientRepository,
  InvalidatingOAuthArtifactStore,
  OAuthCaches,
  type AccessTokenVerifier,
  type ClientWebhookRepository,
  type OAuthClient,
  type OAuthClientRepository,
  type Principal,
} from '@blockyard/core';

function clientFixture(overrides: Partial<OAuthClient> = {}): OAuthClient {
  return {
    id: 'app_cache',
    userId: 'user-1',
    name: 'Cache app',
    description: '',
    type: 'confidential',
    secretHash: 'x',
    redirectUris: ['https://app.example.com/cb'],
    webhookDomains: ['hooks.example.com'],
    webhookSecret: { keyId: 'k', nonce: 'n', ciphertext: 'c', tag: 't' },
    createdAt: new Date(0),
    updatedAt: new Date(0),
    disabledAt: null,
    ...overrides,
  };
}

/** Counts the calls of each method of `target`. */
function counting<T extends object>(target: T): { proxy: T; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const proxy = new Proxy(target, {
    get(t, name, receiver) {
      const value = Reflect.get(t, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[String(name)] = (calls[String(name)] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
  return { proxy, calls };
}

describe('request caches', () => {
  describe('OAuthCaches: client rows', () => {
    async function setup(ttlMs = 1000) {
      let now = 0;
      const caches = new OAuthCaches({ ttlMs, now: () => now });
      const inner = counting<OAuthClientRepository>(new InMemoryOAuthClientRepository());
      const repo = new CachingOAuthClientRepository(inner.proxy, caches);
      await inner.proxy.create(clientFixture());
      return { caches, repo, inner, advance: (ms: number) => (now += ms) };
    }

    it('reads a client from storage once per TTL', async () => {
      const { repo, inner, advance } = await setup();
      for (let i = 0; i < 5; i++) expect((await repo.get('app_cache'))?.name).to.equal('Cache app');
      expect(inner.calls.get).to.equal(1);
      advance(1000);
      await repo.get('app_cache');
      expect(inner.calls.get).to.equal(2);
    });

    it('sees an update, a disable and a deletion made through it at once', async () => {
      const { repo } = await setup();
      await repo.get('app_cache');
      await repo.update('app_cache', { name: 'Renamed', updatedAt: new Date(3) });
      expect((await repo.get('app_cache'))?.name).to.equal('Renamed');
      await repo.update('app_cache', { disabledAt: new Date(5), updatedAt: new Date(5) });
      expect((await repo.get('app_cache'))?.disabledAt).to.deep.equal(new Date(5));
      await repo.delete('app_cache');
      expect(await repo.get('app_cache')).to.equal(null);
    });

    it('does not keep a read that raced a write', async () => {
      const { repo, inner } = await setup();
      const reading = repo.get('app_cache'); // reads the old row...
      await repo.update('app_cache', { name: 'Renamed', updatedAt: new Date(3) }); // ...while this writes
      await reading;
      expect((await repo.get('app_cache'))?.name).to.equal('Renamed');
      expect(inner.calls.get).to.equal(2);
    });

    it('with a TTL of 0 reads storage every time', async () => {
      const { repo, inner } = await setup(0);
      await repo.get('app_cache');
      await repo.get('app_cache');
      expect(inner.calls.get).to.equal(2);
    });
  });

  describe('OAuthCaches: access-token checks', () => {
    function setup() {
      let now = 0;
      const caches = new OAuthCaches({ now: () => now });
      const live = new Set(['tok-live']);
      const principal: Principal = { userId: 'user-1', scopes: new Set(['agents:execute']), via: 'oauth:app_cache', clientId: 'app_cache' };
      const inner = counting<AccessTokenVerifier>({ verify: async (token) => (live.has(token) ? principal : null) });
      const verifier = new CachingAccessTokenVerifier(inner.proxy, caches);
      const artifacts = new InvalidatingOAuthArtifactStore(new InMemoryOAuthArtifactStore(), caches);
      const clients = new CachingOAuthClientRepository(new InMemoryOAuthClientRepository(), caches);
      return { verifier, inner, live, artifacts, clients, advance: (ms: number) => (now += ms) };
    }

    it('checks a token once per TTL and never caches an unknown token', async () => {
      const { verifier, inner, live, advance } = setup();
      expect((await verifier.verify('tok-live'))?.userId).to.equal('user-1');
      await verifier.verify('tok-live');
      expect(inner.calls.verify).to.equal(1);
      expect(await verifier.verify('tok-unknown')).to.equal(null);
      live.add('tok-unknown');
      expect((await verifier.verify('tok-unknown'))?.userId).to.equal('user-1');
      advance(1000);
      live.delete('tok-live');
      expect(await verifier.verify('tok-live')).to.equal(null);
    });

    it('checks every token again after a token or grant is revoked, destroyed or consumed in this process', async () => {
      const { verifier, inner, live, artifacts } = setup();
      const ending = [
        () => artifacts.destroy('AccessToken', 'tok-live'),
        () => artifacts.revokeByGrantId('AccessToken', 'grant-1'),
        () => artifacts.revokeByClientId('app_cache'),
        () => artifacts.consume('RefreshToken', 'rt-1', new Date(0)),
      ];
      for (const end of ending) {
        live.add('tok-live');
        await verifier.verify('tok-live');
        const before = inner.calls.verify!;
        live.delete('tok-live');
        await end();
        expect(await verifier.verify('tok-live')).to.equal(null);
        expect(inner.calls.verify).to.equal(before + 1);
      }
    });

    it('checks every token again after a client is changed in this process (disabled, deleted, rotated)', async () => {
      const { verifier, inner, clients } = setup();
      await clients.create(clientFixture());
      await verifier.verify('tok-live');
      await clients.update('app_cache', { disabledAt: new Date(1), updatedAt: new Date(1) });
      await verifier.verify('tok-live');
      expect(inner.calls.verify).to.equal(2);
    });
  });

  describe('CachingClientWebhookRepository', () => {
    const URL_A = 'https://hooks.example.com/in';
    function setup() {
      let now = 0;
      const inner = counting<ClientWebhookRepository>(new InMemoryClientWebhookRepository());
      const repo = new CachingClientWebhookRepository(inner.proxy, { now: () => now });
      return { repo, inner, advance: (ms: number) => (now += ms) };
    }

    it("reads an endpoint once per TTL, and sees this process's disable and use at once", async () => {
      const { repo, inner, advance } = setup();
      await repo.useEndpoint('app_cache', URL_A, new Date(0));
      expect((await repo.getEndpoint('app_cache', URL_A))?.disabledAt).to.equal(null);
      await repo.getEndpoint('app_cache', URL_A);
      expect(inner.calls.getEndpoint).to.equal(1);
      await repo.disableEndpoint('app_cache', URL_A, new Date(1));
      expect((await repo.getEndpoint('app_cache', URL_A))?.disabledAt).to.deep.equal(new Date(1));
      await repo.useEndpoint('app_cache', URL_A, new Date(2));
      expect((await repo.getEndpoint('app_cache', URL_A))?.disabledAt).to.equal(null);
      expect(inner.calls.getEndpoint).to.equal(3);
      advance(1000);
      await repo.getEndpoint('app_cache', URL_A);
      expect(inner.calls.getEndpoint).to.equal(4);
    });

    it('keeps a target it stored, moving its stage with its own advances, and forgets it once finished', async () => {
      const { repo, inner } = setup();
      await repo.recordTarget({ executionId: 'exec-1', clientId: 'app_cache', url: URL_A, stage: 'none', createdAt: new Date(0) });
      expect((await repo.getTarget('exec-1'))?.stage).to.equal('none');
      expect(await repo.advanceTarget('exec-1', 'started')).to.equal(true);
      expect((await repo.getTarget('exec-1'))?.stage).to.equal('started');
      expect(inner.calls.getTarget ?? 0).to.equal(0);
      expect(await repo.advanceTarget('exec-1', 'finished')).to.equal(true);
      expect((await repo.getTarget('exec-1'))?.stage).to.equal('finished');
      expect(inner.calls.getTarget).to.equal(1);
    });

    it('moves or forgets the targets it keeps with its own batched advances', async () => {
      const { repo, inner } = setup();
      for (const id of ['exec-a', 'exec-b', 'exec-c']) await repo.recordTarget({ executionId: id, clientId: 'app_cache', url: URL_A, stage: 'none', createdAt: new Date(0) });
      expect(await repo.advanceTargets(['exec-a', 'exec-b'], 'started')).to.equal(2);
      expect((await repo.getTarget('exec-a'))?.stage).to.equal('started');
      expect((await repo.getTarget('exec-c'))?.stage).to.equal('none');
      expect(inner.calls.getTarget ?? 0).to.equal(0);
      expect(await repo.advanceTargets(['exec-a', 'exec-c'], 'finished')).to.equal(2);
      expect((await repo.getTarget('exec-a'))?.stage).to.equal('finished');
      expect((await repo.getTarget('exec-c'))?.stage).to.equal('finished');
      expect((await repo.getTarget('exec-b'))?.stage).to.equal('started');
      expect(inner.calls.getTarget).to.equal(2);
    });

    it('asks storage once about an execution without a target (one is never added once it runs)', async () => {
      const { repo, inner } = setup();
      expect(await repo.getTarget('exec-plain')).to.equal(null);
      expect(await repo.getTarget('exec-plain')).to.equal(null);
      expect(inner.calls.getTarget).to.equal(1);
    });

    it("forgets a deleted client's endpoints and targets", async () => {
      const { repo } = setup();
      await repo.useEndpoint('app_cache', URL_A, new Date(0));
      await repo.recordTarget({ executionId: 'exec-2', clientId: 'app_cache', url: URL_A, stage: 'none', createdAt: new Date(0) });
      await repo.getEndpoint('app_cache', URL_A);
      await repo.deleteByClient('app_cache');
      expect(await repo.getEndpoint('app_cache', URL_A)).to.equal(null);
      expect(await repo.getTarget('exec-2')).to.equal(null);
    });
  });
});
