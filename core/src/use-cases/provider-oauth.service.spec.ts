import { expect } from 'chai';
import type { ProviderDefinition } from '@blockyard/contracts';
import type { Credential } from '../credential/credential.js';
import { openCredentialSecret, sealCredentialSecret } from '../credential/credential-secret.js';
import type { CredentialRepository } from '../credential/credential.repository.port.js';
import type { OAuthState, OAuthStateRepository } from '../credential/oauth-state.repository.port.js';
import type { EncryptedSecret, SecretCipher } from '../credential/secret-cipher.port.js';
import type { FetchRequest, FetchResponse, OutboundHttp } from '../outbound/outbound-http.port.js';
import { ProviderRegistry } from '../provider/provider-registry.js';
import { SystemClock } from '../system/clock.port.js';
import { SequentialIdGenerator } from '../system/id-generator.port.js';
import { silentLogger } from '../system/logger.port.js';
import { ProviderOAuthService } from './provider-oauth.service.js';

class CipherMock implements SecretCipher {
  readonly activeKeyId = 'k1';
  encrypt(plaintext: string, ad = ''): EncryptedSecret {
    return { keyId: 'k1', nonce: 'n', ciphertext: Buffer.from(plaintext).toString('base64'), tag: ad };
  }
  decrypt(secret: EncryptedSecret, ad = ''): string {
    if (secret.tag !== ad) throw new Error('authentication failed');
    return Buffer.from(secret.ciphertext, 'base64').toString();
  }
}

/** Compare-and-set on updatedAt, as the real repositories do. */
class CredentialRepositoryMock implements CredentialRepository {
  readonly rows = new Map<string, Credential>();
  async create(c: Credential) {
    this.rows.set(c.id, c);
  }
  async get(id: string) {
    return this.rows.get(id) ?? null;
  }
  async listByUser() {
    return [...this.rows.values()];
  }
  async update(c: Credential, expected: Date) {
    if (this.rows.get(c.id)?.updatedAt.getTime() !== expected.getTime()) return false;
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

class StatesMock implements OAuthStateRepository {
  readonly rows = new Map<string, OAuthState>();
  async create(s: OAuthState) {
    this.rows.set(s.id, s);
  }
  async consume(id: string) {
    const s = this.rows.get(id) ?? null;
    this.rows.delete(id);
    return s;
  }
  async deleteExpired() {
    return 0;
  }
}

/** Answers token requests from a script, recording them. */
class OutboundMock implements OutboundHttp {
  readonly requests: Array<{ url: string; form: Record<string, string> }> = [];
  constructor(private readonly answer: (n: number) => { status: number; data: unknown }) {}
  createFetch() {
    return (async (url: string, request: FetchRequest = {}) => {
      this.requests.push({ url, form: Object.fromEntries(new URLSearchParams(String(request.body))) });
      const { status, data } = this.answer(this.requests.length);
      return { status, ok: status < 300, headers: {}, data, url } as FetchResponse;
    }) as ReturnType<OutboundHttp['createFetch']>;
  }
}

const cipher = new CipherMock();
const provider: ProviderDefinition = {
  name: 'acme',
  display_name: 'Acme',
  auth: [{ type: 'oauth2', authorize_url: 'https://acme.test/authorize', token_url: 'https://acme.test/token' }],
  integration_scopes: { 'acme:read': ['read', 'profile'] },
};

function setup(answer: (n: number) => { status: number; data: unknown }) {
  const providers = new ProviderRegistry();
  providers.registerAll([provider], 'spec');
  const credentials = new CredentialRepositoryMock();
  const states = new StatesMock();
  const outbound = new OutboundMock(answer);
  const service = new ProviderOAuthService({
    providers,
    states,
    credentials,
    cipher,
    outbound,
    clock: new SystemClock(),
    ids: new SequentialIdGenerator(),
    logger: silentLogger,
    options: { clients: () => ({ clientId: 'cid', clientSecret: 'cs' }), redirectUri: () => 'https://us.test/cb', refreshLeaseMs: 100, pollMs: 10, retryDelayMs: 1 },
  });
  return { service, credentials, states, outbound, providers };
}

function expiringCredential(leaseUntil?: number): Credential {
  const now = Date.now();
  const secret = { kind: 'oauth2' as const, access_token: 'old', refresh_token: 'rt', scopes: ['read'], ...(leaseUntil ? { refresh_lease_until: leaseUntil } : {}) };
  return { id: 'c1', userId: 'u', provider: 'acme', kind: 'oauth2', title: 't', scopes: ['acme:read'], status: 'active', expiresAt: new Date(now + 60_000), secret: sealCredentialSecret(cipher, 'c1', secret), createdAt: new Date(now), updatedAt: new Date(now) };
}

describe('ProviderOAuthService', () => {
  describe('startLogin', () => {
    it('leaves PKCE out for a provider without it and joins scopes with a space by default', async () => {
      const { service, states } = setup(() => ({ status: 500, data: {} }));
      const url = new URL((await service.startLogin('u', 'acme')).loginUrl);
      expect(url.searchParams.get('scope')).to.equal('read profile');
      expect(url.searchParams.has('code_challenge')).to.equal(false);
      expect([...states.rows.values()][0]).to.include({ userId: 'u', provider: 'acme', codeVerifier: null });
      expect([...states.rows.keys()][0]).to.not.equal(url.searchParams.get('state'));
    });
  });

  describe('completeLogin', () => {
    it("refuses a state issued for another provider, storing nothing", async () => {
      const { service, credentials, providers } = setup(() => ({ status: 200, data: { access_token: 'at' } }));
      const state = new URL((await service.startLogin('u', 'acme')).loginUrl).searchParams.get('state')!;
      const beta: ProviderDefinition = { ...provider, name: 'beta' };
      providers.registerAll([beta], 'spec');
      const outcome = await service.completeLogin('beta', { state, code: 'c' }).then(() => 'ok', (e: Error) => e.message);
      expect(outcome).to.equal('this login state belongs to acme, not beta: start the login again');
      expect(credentials.rows.size).to.equal(0);
    });
  });

  describe('revoke', () => {
    it('reports a failed revoke instead of throwing', async () => {
      const { service, providers } = setup(() => ({ status: 503, data: {} }));
      const revocable: ProviderDefinition = { ...provider, name: 'rev', auth: [{ type: 'oauth2', authorize_url: 'https://rev.test/a', token_url: 'https://rev.test/t', revoke_url: 'https://rev.test/r' }] };
      providers.registerAll([revocable], 'spec');
      const credential = { ...expiringCredential(), provider: 'rev' };
      expect(await service.revoke(credential)).to.deep.equal({ attempted: true, error: 'rev revoke endpoint answered 503' });
      expect(await service.revoke({ ...credential, provider: 'acme' })).to.deep.equal({ attempted: false });
    });
  });

  describe('ensureFresh', () => {
    it('waits for a refresh another holds, and takes over once its lease has run out', async () => {
      const { service, credentials, outbound } = setup(() => ({ status: 200, data: { access_token: 'new', refresh_token: 'rt2', expires_in: 3600 } }));
      await credentials.create(expiringCredential(Date.now() + 80));
      const started = Date.now();
      const fresh = await service.ensureFresh((await credentials.get('c1'))!);
      expect(Date.now() - started).to.be.greaterThanOrEqual(70);
      expect(outbound.requests).to.have.length(1);
      expect(outbound.requests[0]!.form).to.deep.equal({ grant_type: 'refresh_token', refresh_token: 'rt', client_id: 'cid', client_secret: 'cs' });
      expect(openCredentialSecret(cipher, fresh)).to.deep.equal({ kind: 'oauth2', access_token: 'new', refresh_token: 'rt2', scopes: ['read'] });
    });

    it('after transient failures keeps the still valid token and releases the lease', async () => {
      const { service, credentials, outbound } = setup(() => ({ status: 503, data: { error: 'temporarily_unavailable' } }));
      await credentials.create(expiringCredential());
      const result = await service.ensureFresh((await credentials.get('c1'))!);
      expect(outbound.requests).to.have.length(3);
      expect(openCredentialSecret(cipher, result)).to.deep.equal({ kind: 'oauth2', access_token: 'old', refresh_token: 'rt', scopes: ['read'] });
      expect(openCredentialSecret(cipher, (await credentials.get('c1'))!)).to.not.have.property('refresh_lease_until');
    });
  });
});
