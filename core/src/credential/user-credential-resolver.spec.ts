import { expect } from 'chai';
import type { CredentialRequirement } from '@blockyard/contracts';
import { DomainError } from '../errors/domain.errors.js';
import { FakeClock } from '../system/clock.port.js';
import type { Credential } from './credential.js';
import { credentialFromFields, openCredentialSecret, sealCredentialSecret } from './credential-secret.js';
import type { CredentialRepository } from './credential.repository.port.js';
import type { EncryptedSecret, SecretCipher } from './secret-cipher.port.js';
import { SystemCredentialResolver } from './system-credential-resolver.js';
import { UserCredentialResolver } from './user-credential-resolver.js';
import { CredentialCache, InvalidatingCredentialRepository } from './credential-cache.js';

/** A reversible stand-in for AES-GCM that still checks the key id and associated data. */
class CipherMock implements SecretCipher {
  constructor(
    readonly activeKeyId = 'k1',
    private readonly known = new Set(['k1']),
  ) {}
  encrypt(plaintext: string, associatedData = ''): EncryptedSecret {
    return { keyId: this.activeKeyId, nonce: 'n', ciphertext: Buffer.from(plaintext).toString('base64'), tag: Buffer.from(associatedData).toString('base64') };
  }
  decrypt(secret: EncryptedSecret, associatedData = ''): string {
    if (!this.known.has(secret.keyId)) throw new Error(`key ${secret.keyId} is not in the key ring`);
    if (secret.tag !== Buffer.from(associatedData).toString('base64')) throw new Error('authentication failed');
    return Buffer.from(secret.ciphertext, 'base64').toString();
  }
}

class CredentialRepositoryMock implements CredentialRepository {
  readonly rows = new Map<string, Credential>();
  async create(c: Credential) {
    this.rows.set(c.id, c);
  }
  async get(id: string) {
    return this.rows.get(id) ?? null;
  }
  async listByUser(userId: string) {
    return [...this.rows.values()].filter((c) => c.userId === userId);
  }
  async update(c: Credential) {
    this.rows.set(c.id, c);
    return true;
  }
  async delete(id: string) {
    return this.rows.delete(id);
  }
  async listAll() {
    return [...this.rows.values()];
  }
}

const cipher = new CipherMock();
const clock = new FakeClock('2026-06-01T00:00:00Z');
const requirement: CredentialRequirement = { provider: 'github', kinds: ['api_key', 'oauth2'], scopes: ['github:repo.write'] };

function credentialFixture(over: Partial<Credential> & { fields?: Record<string, unknown> } = {}): Credential {
  const id = over.id ?? 'cred-1';
  const kind = over.kind ?? 'api_key';
  const secret = sealCredentialSecret(cipher, id, credentialFromFields(kind, over.fields ?? { api_key: 'ghp_secret' }));
  const { fields: _fields, ...rest } = over;
  return { id, userId: 'alice', provider: 'github', kind, title: 'mine', scopes: ['github:repo.write', 'github:repo.read'], status: 'active', expiresAt: null, secret, createdAt: clock.now(), updatedAt: clock.now(), ...rest };
}

async function resolverWith(...credentials: Credential[]) {
  const repo = new CredentialRepositoryMock();
  for (const c of credentials) await repo.create(c);
  const fallback = new SystemCredentialResolver(new Map([['github', { kind: 'api_key', api_key: 'system-token' }]]));
  return new UserCredentialResolver({ credentials: repo, cipher, fallback, clock });
}

const kindOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (DomainError.is(e) ? `${e.kind}: ${e.message}` : `not a domain error: ${String(e)}`));

describe('UserCredentialResolver', () => {
  describe('resolve', () => {
    it("gives the caller's own credential, decrypted", async () => {
      const resolver = await resolverWith(credentialFixture());
      expect(await resolver.resolve({ userId: 'alice', requirement, credentialId: 'cred-1' })).to.deep.equal({ kind: 'api_key', api_key: 'ghp_secret' });
    });

    it('falls back to the system credential when the run names none', async () => {
      const resolver = await resolverWith();
      expect(await resolver.resolve({ userId: 'alice', requirement })).to.deep.equal({ kind: 'api_key', api_key: 'system-token' });
    });

    it("answers not_found for another user's credential", async () => {
      const resolver = await resolverWith(credentialFixture());
      expect(await kindOf(resolver.resolve({ userId: 'bob', requirement, credentialId: 'cred-1' }))).to.equal('not_found: credential cred-1 not found');
    });

    it('answers forbidden for a credential of another provider or kind', async () => {
      const resolver = await resolverWith(credentialFixture({ provider: 'slack' }), credentialFixture({ id: 'cred-2', kind: 'user_password', fields: { username: 'u', password: 'p' } }));
      expect(await kindOf(resolver.resolve({ userId: 'alice', requirement, credentialId: 'cred-1' }))).to.equal('forbidden: credential cred-1 is for slack; this block needs a github credential');
      expect(await kindOf(resolver.resolve({ userId: 'alice', requirement, credentialId: 'cred-2' }))).to.equal('forbidden: credential cred-2 is user_password; this block takes api_key or oauth2');
    });

    it('answers forbidden naming the scopes the credential lacks', async () => {
      const resolver = await resolverWith(credentialFixture({ scopes: ['github:repo.read'] }));
      expect(await kindOf(resolver.resolve({ userId: 'alice', requirement, credentialId: 'cred-1' }))).to.equal('forbidden: credential cred-1 lacks the scope(s) github:repo.write');
    });

    it('refuses a credential that needs re-authorisation', async () => {
      const resolver = await resolverWith(credentialFixture({ status: 'needs_reauth' }));
      expect(await kindOf(resolver.resolve({ userId: 'alice', requirement, credentialId: 'cred-1' }))).to.match(/^forbidden: credential cred-1 is needs_reauth/);
    });

    it('hands an oauth2 credential to the refresher and uses what it answers', async () => {
      const stale = credentialFixture({ kind: 'oauth2', fields: { access_token: 'old', refresh_token: 'rt', scopes: ['repo'] } });
      const fresh = credentialFixture({ kind: 'oauth2', fields: { access_token: 'new', refresh_token: 'rt2', scopes: ['repo'] } });
      const repo = new CredentialRepositoryMock();
      await repo.create(stale);
      const seen: string[] = [];
      const refresher = { ensureFresh: async (c: Credential) => (seen.push(c.id), fresh) };
      const resolver = new UserCredentialResolver({ credentials: repo, cipher, fallback: new SystemCredentialResolver(), clock, refresher });
      expect(await resolver.resolve({ userId: 'alice', requirement, credentialId: 'cred-1' })).to.deep.equal({ kind: 'oauth2', access_token: 'new', scopes: ['repo'] });
      expect(seen).to.deep.equal(['cred-1']);
    });

    it('keeps an oauth2 refresh token out of the run', async () => {
      const resolver = await resolverWith(credentialFixture({ kind: 'oauth2', fields: { access_token: 'at', refresh_token: 'rt', scopes: ['repo'] } }));
      expect(await resolver.resolve({ userId: 'alice', requirement, credentialId: 'cred-1' })).to.deep.equal({ kind: 'oauth2', access_token: 'at', scopes: ['repo'] });
    });
  });
});

describe('credential secrets', () => {
  describe('credentialFromFields', () => {
    it('names the missing field of each kind', () => {
      expect(() => credentialFromFields('api_key', {})).to.throw(/needs a non-empty string api_key/);
      expect(() => credentialFromFields('user_password', { username: 'u' })).to.throw(/password/);
      expect(() => credentialFromFields('host_scoped', { host: 'h', headers: { a: 1 } })).to.throw(/headers: an object of strings/);
    });
  });

  describe('openCredentialSecret', () => {
    it('fails loudly naming the credential and key when the key is not in the ring', () => {
      const sealed = credentialFixture();
      const other = new CipherMock('k2', new Set(['k2']));
      expect(() => openCredentialSecret(other, sealed)).to.throw(/credential cred-1 cannot be decrypted \(key k1\)/);
    });

    it('refuses a secret sealed for another credential id (swapped rows)', () => {
      const a = credentialFixture({ id: 'cred-a' });
      expect(() => openCredentialSecret(cipher, { ...a, id: 'cred-b' })).to.throw(/credential cred-b cannot be decrypted/);
    });
  });

  describe('check', () => {
    it('makes the same checks as resolve without decrypting or refreshing', async () => {
      const repo = new CredentialRepositoryMock();
      await repo.create(credentialFixture({ kind: 'oauth2', fields: { access_token: 'at', refresh_token: 'rt', scopes: ['repo'] } }));
      await repo.create(credentialFixture({ id: 'cred-2', scopes: [] }));
      let refreshed = 0;
      const resolver = new UserCredentialResolver({ credentials: repo, cipher: new CipherMock('k9', new Set()), fallback: new SystemCredentialResolver(), clock, refresher: { ensureFresh: async (c) => (refreshed++, c) } });
      expect(await kindOf(resolver.check({ userId: 'alice', requirement, credentialId: 'cred-1' }))).to.equal('ok');
      expect(refreshed).to.equal(0);
      expect(await kindOf(resolver.check({ userId: 'bob', requirement, credentialId: 'cred-1' }))).to.equal('not_found: credential cred-1 not found');
      expect(await kindOf(resolver.check({ userId: 'alice', requirement, credentialId: 'cred-2' }))).to.equal('forbidden: credential cred-2 lacks the scope(s) github:repo.write');
    });
  });

  describe('with a credential cache', () => {
    class CountingRepository extends CredentialRepositoryMock {
      reads = 0;
      override async get(id: string) {
        this.reads++;
        return super.get(id);
      }
    }
    async function cachedResolver(ttlMs = 1000) {
      const raw = new CountingRepository();
      const cache = new CredentialCache({ ttlMs });
      const repo = new InvalidatingCredentialRepository(raw, cache);
      await repo.create(credentialFixture());
      const testClock = new FakeClock('2026-06-01T00:00:00Z');
      const resolver = new UserCredentialResolver({ credentials: repo, cipher, fallback: new SystemCredentialResolver(), clock: testClock, cache });
      return { raw, repo, resolver, testClock };
    }
    const request = { userId: 'alice', requirement, credentialId: 'cred-1' };

    it('reads a credential once for the check at acceptance and the run that follows', async () => {
      const { raw, resolver } = await cachedResolver();
      await resolver.check(request);
      expect(await resolver.resolve(request)).to.deep.equal({ kind: 'api_key', api_key: 'ghp_secret' });
      expect(raw.reads).to.equal(1);
    });

    it('reads storage again once the TTL has passed, and never when the cache is off', async () => {
      const { raw, resolver, testClock } = await cachedResolver();
      await resolver.resolve(request);
      testClock.advance(1001);
      await resolver.resolve(request);
      expect(raw.reads).to.equal(2);
      const off = await cachedResolver(0);
      await off.resolver.resolve(request);
      await off.resolver.resolve(request);
      expect(off.raw.reads).to.equal(2);
    });

    it('sees a delete or an update made in this process at once', async () => {
      const { repo, resolver } = await cachedResolver();
      await resolver.resolve(request);
      await repo.update(credentialFixture({ status: 'needs_reauth' }), clock.now());
      expect(await kindOf(resolver.resolve(request))).to.match(/^forbidden: credential cred-1 is needs_reauth/);
      await repo.delete('cred-1');
      expect(await kindOf(resolver.resolve(request))).to.equal('not_found: credential cred-1 not found');
    });

    it('does not cache a row whose read raced a write', async () => {
      const { raw, repo, resolver } = await cachedResolver();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const realGet = raw.get.bind(raw);
      raw.get = async (id: string) => {
        const row = await realGet(id);
        await gate;
        return row;
      };
      const racing = resolver.resolve(request);
      await new Promise((r) => setImmediate(r));
      await repo.delete('cred-1');
      release();
      await racing; // the read began before the delete and still sees the row
      raw.get = realGet;
      expect(await kindOf(resolver.resolve(request))).to.equal('not_found: credential cred-1 not found');
    });
  });
});
