import { expect } from 'chai';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OAUTH_SCOPES, type OAuthArtifact, type OAuthArtifactStore, type OAuthClient, type OAuthClientRepository } from '@blockyard/core';
import { ArtifactAdapter, ClientAdapter, Housekeeping, narrowToClientScopes, storageId, type InvalidGrantClass } from './oidc-storage.adapter.js';
import { generateSigningKey, loadOrCreateSigningKeys, SIGNING_KEYS_FILE_NAME, SigningKeysError } from './signing-keys.js';

/** A Map-backed store (the real ones pass the OAuthArtifactStore contract in the storage adapters). */
function storeMock(): OAuthArtifactStore & { rows: Map<string, OAuthArtifact> } {
  const rows = new Map<string, OAuthArtifact>();
  const key = (model: string, id: string) => `${model}/${id}`;
  const removeWhere = (test: (a: OAuthArtifact) => boolean) => {
    let n = 0;
    for (const [k, a] of rows) if (test(a)) (rows.delete(k), n++);
    return n;
  };
  return {
    rows,
    upsert: async (a) => void rows.set(key(a.model, a.id), structuredClone(a)),
    find: async (model, id) => structuredClone(rows.get(key(model, id)) ?? null),
    findByUserCode: async () => null,
    findByUid: async (model, uid) => [...rows.values()].find((a) => a.model === model && a.uid === uid) ?? null,
    consume: async (model, id, at) => {
      const a = rows.get(key(model, id));
      if (!a || a.consumedAt) return false;
      rows.set(key(model, id), { ...a, consumedAt: at });
      return true;
    },
    destroy: async (model, id) => rows.delete(key(model, id)),
    revokeByGrantId: async (model, grantId) => removeWhere((a) => a.model === model && a.grantId === grantId),
    revokeByClientId: async (clientId) => removeWhere((a) => a.clientId === clientId),
    deleteExpired: async (before) => removeWhere((a) => a.expiresAt !== null && a.expiresAt < before),
  };
}

class InvalidGrantMock extends Error {
  error = 'invalid_grant';
  error_detail?: string;
}

describe('ArtifactAdapter (oidc-provider storage over OAuthArtifactStore)', () => {
  let store: ReturnType<typeof storeMock>;
  const adapter = (model: string) => new ArtifactAdapter(model, store, new Housekeeping(store), InvalidGrantMock as unknown as InvalidGrantClass);

  beforeEach(() => {
    store = storeMock();
  });

  it('stores under the SHA-256 of the id, without the id (the token value) in the payload, and gives both back', async () => {
    const token = 'tok-value-that-is-the-bearer-token';
    await adapter('AccessToken').upsert(token, { jti: token, grantId: 'g1', clientId: 'app_1', accountId: 'u1', scope: 'openid', exp: 2_000_000_000 } as never, 3600);
    const [row] = [...store.rows.values()];
    expect(row!.id).to.equal(storageId(token)).and.not.equal(token);
    expect(JSON.stringify(row)).not.to.contain(token);
    expect(row).to.include({ model: 'AccessToken', grantId: 'g1', clientId: 'app_1', consumedAt: null });
    expect(row!.expiresAt!.getTime()).to.be.greaterThan(Date.now() + 3_500_000);
    expect(await adapter('AccessToken').find(token)).to.deep.include({ jti: token, grantId: 'g1', scope: 'openid' });
    expect(await adapter('RefreshToken').find(token)).to.equal(undefined);
    expect(await adapter('AccessToken').find('other')).to.equal(undefined);
  });

  it('finds sessions by uid (never knowing their id) and keeps consumed times as epoch seconds', async () => {
    await adapter('Session').upsert('cookie-value', { jti: 'cookie-value', uid: 'uid-1', accountId: 'u1' } as never, 60);
    const session = await adapter('Session').findByUid('uid-1');
    expect(session).to.include({ uid: 'uid-1', accountId: 'u1' });
    expect(session).not.to.have.property('jti');
    await adapter('AuthorizationCode').upsert('code-1', { jti: 'code-1', grantId: 'g1' } as never, 60);
    await adapter('AuthorizationCode').consume('code-1');
    const consumed = await adapter('AuthorizationCode').find('code-1');
    expect(consumed?.consumed).to.be.a('number').within(Date.now() / 1000 - 5, Date.now() / 1000 + 1);
  });

  it('refuses a second consumption of a code with invalid_grant and revokes everything of its grant', async () => {
    await adapter('AuthorizationCode').upsert('code-1', { jti: 'code-1', grantId: 'g1', clientId: 'app_1' } as never, 60);
    await adapter('AccessToken').upsert('at-1', { jti: 'at-1', grantId: 'g1', clientId: 'app_1' } as never, 60);
    await adapter('RefreshToken').upsert('rt-1', { jti: 'rt-1', grantId: 'g1', clientId: 'app_1' } as never, 60);
    await adapter('Grant').upsert('g1', { jti: 'g1', clientId: 'app_1', accountId: 'u1' } as never, 60);
    await adapter('AccessToken').upsert('at-other', { jti: 'at-other', grantId: 'g2', clientId: 'app_1' } as never, 60);
    await adapter('AuthorizationCode').consume('code-1');
    let thrown: unknown;
    try {
      await adapter('AuthorizationCode').consume('code-1');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).to.be.instanceOf(InvalidGrantMock);
    expect((thrown as InvalidGrantMock).error_detail).to.equal('authorization code already used');
    expect(await adapter('AccessToken').find('at-1')).to.equal(undefined);
    expect(await adapter('RefreshToken').find('rt-1')).to.equal(undefined);
    expect(await adapter('Grant').find('g1')).to.equal(undefined);
    expect(await adapter('AccessToken').find('at-other')).to.not.equal(undefined);
  });

  it('lets models that are not single-use be consumed again without an error', async () => {
    await adapter('Interaction').upsert('i-1', { jti: 'i-1' } as never, 60);
    await adapter('Interaction').consume('i-1');
    await adapter('Interaction').consume('i-1');
  });
});

describe('ClientAdapter', () => {
  const client = (overrides: Partial<OAuthClient> = {}): OAuthClient => ({
    id: 'app_1',
    userId: 'u1',
    name: 'App',
    description: '',
    type: 'confidential',
    secretHash: 'ab'.repeat(32),
    redirectUris: ['https://a.example/cb'],
    webhookDomains: [],
    webhookSecret: { keyId: 'k', nonce: 'n', ciphertext: 'c', tag: 't' },
    createdAt: new Date(0),
    updatedAt: new Date(0),
    disabledAt: null,
    ...overrides,
  });
  const repo = (c: OAuthClient | null) => ({ get: async (id: string) => (c && c.id === id ? c : null) }) as unknown as OAuthClientRepository;

  it('gives oidc-provider code + refresh_token metadata with the secret hash, and auth method none for public clients', async () => {
    const confidential = await new ClientAdapter(repo(client())).find('app_1');
    expect(confidential).to.include({ client_id: 'app_1', client_secret: 'ab'.repeat(32), token_endpoint_auth_method: 'client_secret_basic', application_type: 'web' });
    expect(confidential?.grant_types).to.deep.equal(['authorization_code', 'refresh_token']);
    expect(confidential?.response_types).to.deep.equal(['code']);
    const pub = await new ClientAdapter(repo(client({ type: 'public', secretHash: null }))).find('app_1');
    expect(pub).to.include({ token_endpoint_auth_method: 'none' });
    expect(pub).not.to.have.property('client_secret');
  });

  it("gives oidc-provider the client's scope allow-list as its `scope` metadata, every scope without one", async () => {
    expect((await new ClientAdapter(repo(client({ scopes: ['openid', 'agents:execute'] }))).find('app_1'))?.scope).to.equal('openid agents:execute');
    expect((await new ClientAdapter(repo(client())).find('app_1'))?.scope).to.equal(OAUTH_SCOPES.join(' '));
  });

  it('does not know disabled or unknown clients', async () => {
    expect(await new ClientAdapter(repo(client({ disabledAt: new Date() }))).find('app_1')).to.equal(undefined);
    expect(await new ClientAdapter(repo(client())).find('app_2')).to.equal(undefined);
  });
});

describe('narrowToClientScopes', () => {
  const repo = (scopes?: string[]) => ({ get: async (id: string) => (id === 'app_1' ? ({ id, scopes } as unknown as OAuthClient) : null) }) as unknown as OAuthClientRepository;

  it("drops from a refresh token's scope and a grant's OpenID scope what the client may no longer request", async () => {
    const clients = repo(['openid', 'READ_BLOCK']);
    expect(await narrowToClientScopes('RefreshToken', { clientId: 'app_1', scope: 'openid email READ_BLOCK' } as never, clients)).to.include({ scope: 'openid READ_BLOCK' });
    const grant = await narrowToClientScopes('Grant', { clientId: 'app_1', accountId: 'u1', openid: { scope: 'openid email READ_BLOCK', claims: ['sub'] } } as never, clients);
    expect(grant).to.deep.equal({ clientId: 'app_1', accountId: 'u1', openid: { scope: 'openid READ_BLOCK', claims: ['sub'] } });
  });

  it('leaves them alone for a client without an allow-list, or an unknown client', async () => {
    const payload = { clientId: 'app_1', scope: 'openid email' } as never;
    expect(await narrowToClientScopes('RefreshToken', payload, repo())).to.equal(payload);
    const other = { clientId: 'app_2', scope: 'openid email' } as never;
    expect(await narrowToClientScopes('RefreshToken', other, repo(['openid']))).to.equal(other);
  });

  it('is applied by the adapter to refresh tokens and grants only, never to what is stored', async () => {
    const store = storeMock();
    const clients = repo(['openid']);
    const adapter = (model: string) => new ArtifactAdapter(model, store, new Housekeeping(store), InvalidGrantMock as unknown as InvalidGrantClass, clients);
    await adapter('RefreshToken').upsert('rt-1', { jti: 'rt-1', clientId: 'app_1', scope: 'openid email' } as never, 60);
    await adapter('AccessToken').upsert('at-1', { jti: 'at-1', clientId: 'app_1', scope: 'openid email' } as never, 60);
    expect((await adapter('RefreshToken').find('rt-1'))?.scope).to.equal('openid');
    expect((await adapter('AccessToken').find('at-1'))?.scope).to.equal('openid email');
    expect([...store.rows.values()].find((r) => r.model === 'RefreshToken')?.payload.scope).to.equal('openid email');
  });
});

describe('loadOrCreateSigningKeys', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blockyard-oauth-keys-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates a private RSA key into a 0600 file on first use, and reads the same one after', async () => {
    const logs: string[] = [];
    const first = await loadOrCreateSigningKeys({ dataDir: dir, logger: { info: (msg) => void logs.push(msg) } });
    const path = join(dir, SIGNING_KEYS_FILE_NAME);
    expect((await stat(path)).mode & 0o777).to.equal(0o600);
    expect(first.jwks.keys).to.have.length(1);
    expect(first.jwks.keys[0]).to.include({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(first.jwks.keys[0]!.d).to.be.a('string');
    expect(first.cookieKeys[0]).to.be.a('string').with.length.greaterThan(20);
    expect(logs.join('\n')).to.contain('generated an OAuth signing key').and.not.contain(first.jwks.keys[0]!.d);
    const again = await loadOrCreateSigningKeys({ dataDir: dir });
    expect(again).to.deep.equal(first);
    expect(JSON.parse(await readFile(path, 'utf8'))).to.deep.equal(first.jwks);
  });

  it('makes one key for concurrent first starts', async () => {
    const all = await Promise.all(Array.from({ length: 4 }, () => loadOrCreateSigningKeys({ dataDir: dir })));
    for (const keys of all) expect(keys).to.deep.equal(all[0]);
  });

  it('prefers configured keys, and refuses bad ones and a key file others can read, naming why but no key material', async () => {
    const key = generateSigningKey();
    const configured = await loadOrCreateSigningKeys({ dataDir: dir, configured: JSON.stringify({ keys: [key] }) });
    expect(configured.jwks.keys[0]!.kid).to.equal(key.kid);
    const { d: _d, ...publicOnly } = key;
    for (const [raw, message] of [
      ['not json', /not JSON/],
      ['{"keys":[]}', /at least one key/],
      [JSON.stringify({ keys: [publicOnly] }), /no private part/],
      [JSON.stringify({ keys: [{ kty: 'oct', k: 'x' }] }), /RSA, EC or OKP/],
    ] as const) {
      let thrown: unknown;
      try {
        await loadOrCreateSigningKeys({ dataDir: dir, configured: raw });
      } catch (e) {
        thrown = e;
      }
      expect(thrown, raw).to.be.instanceOf(SigningKeysError);
      expect((thrown as Error).message).to.match(message).and.contain('BLOCKYARD_OAUTH_SIGNING_KEYS');
    }
    await loadOrCreateSigningKeys({ dataDir: dir });
    await chmod(join(dir, SIGNING_KEYS_FILE_NAME), 0o644);
    let thrown: unknown;
    try {
      await loadOrCreateSigningKeys({ dataDir: dir });
    } catch (e) {
      thrown = e;
    }
    expect((thrown as Error).message).to.contain('chmod 600');
  });
});
