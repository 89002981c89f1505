import { expect } from 'chai';
import { DomainError } from '../errors/domain.errors.js';
import type { EncryptedSecret, SecretCipher } from '../credential/secret-cipher.port.js';
import type { OAuthArtifactStore } from '../oauth-client/oauth-artifact-store.port.js';
import { clientSecretMatches, oauthClientScopes, webhookHostAllowed, type OAuthClient } from '../oauth-client/oauth-client.js';
import { OAUTH_SCOPES } from '../oauth-client/oauth-scope.js';
import type { OAuthClientRepository } from '../oauth-client/oauth-client.repository.port.js';
import { FakeClock } from '../system/clock.port.js';
import { SequentialIdGenerator } from '../system/id-generator.port.js';
import type { UserRepository } from '../user/user.repository.port.js';
import { OAuthClientService, type OAuthClientDeletionHook } from './oauth-client.service.js';

/** A reversible stand-in for AES-GCM that, like it, refuses other associated data. */
const cipherMock: SecretCipher = {
  activeKeyId: 'k1',
  encrypt: (plaintext, ad) => ({ keyId: 'k1', nonce: 'n', ciphertext: Buffer.from(`${ad}|${plaintext}`).toString('base64'), tag: 't' }),
  decrypt: (secret: EncryptedSecret, ad) => {
    const [boundTo, plaintext] = Buffer.from(secret.ciphertext, 'base64').toString().split('|');
    if (boundTo !== ad) throw new Error('associated data mismatch');
    return plaintext!;
  },
};

function clientsMock(): OAuthClientRepository & { rows: Map<string, OAuthClient> } {
  const rows = new Map<string, OAuthClient>();
  return {
    rows,
    create: async (c) => void rows.set(c.id, c),
    get: async (id) => rows.get(id) ?? null,
    listByUser: async (userId) => [...rows.values()].filter((c) => c.userId === userId),
    update: async (id, patch) => {
      const c = rows.get(id);
      if (!c) return null;
      const { scopes, ...rest } = patch;
      const { scopes: current, ...others } = c;
      const kept = scopes === undefined ? current : (scopes ?? undefined);
      const next: OAuthClient = { ...others, ...rest, ...(kept ? { scopes: kept } : {}) };
      rows.set(id, next);
      return next;
    },
    delete: async (id) => rows.delete(id),
  };
}

async function expectKind(promise: Promise<unknown>, kind: string, message?: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(DomainError.is(error, kind as never), `expected a ${kind} error, got ${String(error)}`).to.equal(true);
  if (message) expect((error as Error).message).to.match(message);
}

describe('OAuthClientService', () => {
  let clients: ReturnType<typeof clientsMock>;
  let revoked: string[];
  let deleted: string[];
  let clock: FakeClock;
  let service: OAuthClientService;
  const users = { get: async (id: string) => (id.startsWith('u-') ? { id, email: `${id}@x.org`, name: id, createdAt: new Date(0) } : null) } as unknown as UserRepository;
  const valid = { name: 'My App', redirectUris: ['https://myapp.com/oauth/callback'], webhookDomains: ['myapp.com', '*.myapp.com'] };

  beforeEach(() => {
    clients = clientsMock();
    revoked = [];
    deleted = [];
    clock = new FakeClock('2026-03-01T10:00:00.000Z');
    const artifacts = { revokeByClientId: async (id: string) => (revoked.push(id), 3) } as unknown as OAuthArtifactStore;
    const hook: OAuthClientDeletionHook = { oauthClientDeleted: async (c) => void deleted.push(c.id) };
    service = new OAuthClientService({ clients, cipher: cipherMock, users, clock, ids: new SequentialIdGenerator('c'), artifacts, deletionHooks: [hook] });
  });

  describe('register', () => {
    it('stores a confidential client with its secret hashed and its webhook secret sealed, and answers both secrets once', async () => {
      const { client, clientSecret, webhookSecret } = await service.register('u-ann', { ...valid, description: '  Reads mail  ' });
      expect(client.id).to.equal('app_c1');
      expect(client).to.include({ userId: 'u-ann', name: 'My App', description: 'Reads mail', type: 'confidential', disabledAt: null });
      expect(clientSecret).to.match(/^secret_[A-Za-z0-9_-]{43}$/);
      expect(webhookSecret).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
      const stored = clients.rows.get(client.id)!;
      expect(JSON.stringify(stored)).not.to.contain(clientSecret!).and.not.to.contain(webhookSecret);
      expect(clientSecretMatches(stored.secretHash, clientSecret)).to.equal(true);
      expect(clientSecretMatches(stored.secretHash, `${clientSecret}x`)).to.equal(false);
      expect(service.openWebhookSecret(stored)).to.equal(webhookSecret);
      expect(stored.webhookDomains).to.deep.equal(['myapp.com', '*.myapp.com']);
    });

    it('gives a public client no secret', async () => {
      const { client, clientSecret } = await service.register('u-ann', { ...valid, type: 'public' });
      expect(client.type).to.equal('public');
      expect(client.secretHash).to.equal(null);
      expect(clientSecret).to.equal(null);
    });

    it('accepts https redirect URIs and http ones on localhost or 127.0.0.1 only', async () => {
      const ok = ['https://a.example/cb', 'http://localhost:3000/cb', 'http://127.0.0.1:8080/cb?x=1'];
      expect((await service.register('u-ann', { ...valid, redirectUris: ok })).client.redirectUris).to.deep.equal(ok);
      for (const bad of ['http://a.example/cb', 'ftp://a.example/', 'https://a.example/cb#frag', 'https://user:pw@a.example/', '/relative', 'https://a.example/ x', 'javascript:alert(1)']) {
        await expectKind(service.register('u-ann', { ...valid, redirectUris: [bad] }), 'invalid_input', /redirect_uris/);
      }
      await expectKind(service.register('u-ann', { ...valid, redirectUris: [] }), 'invalid_input', /at least one/);
      expect(clients.rows.size).to.equal(1);
    });

    it('accepts exact and *. webhook domains, lower-cased, and refuses the rest', async () => {
      const { client } = await service.register('u-ann', { ...valid, webhookDomains: ['Hooks.Example.com', '*.example.org', 'localhost'] });
      expect(client.webhookDomains).to.deep.equal(['hooks.example.com', '*.example.org', 'localhost']);
      for (const bad of ['*.com', 'exa mple.com', 'https://example.com', '*.*.example.com', 'example.com/path', '']) {
        await expectKind(service.register('u-ann', { ...valid, webhookDomains: [bad] }), 'invalid_input', /webhook_domains/);
      }
    });

    it('keeps a scope allow-list of known scopes (deduplicated, in order); without one the client may ask for every scope', async () => {
      const { client } = await service.register('u-ann', { ...valid, scopes: ['openid', 'agents:execute', 'READ_BLOCK', 'openid'] });
      expect(client.scopes).to.deep.equal(['openid', 'agents:execute', 'READ_BLOCK']);
      expect(oauthClientScopes(client)).to.deep.equal(['openid', 'agents:execute', 'READ_BLOCK']);
      const open = (await service.register('u-ann', valid)).client;
      expect(open).not.to.have.property('scopes');
      expect(oauthClientScopes(open)).to.deep.equal(OAUTH_SCOPES);
    });

    it('refuses an unknown scope (naming it) or an empty allow-list, storing nothing', async () => {
      await expectKind(service.register('u-ann', { ...valid, scopes: ['openid', 'admin:everything'] }), 'invalid_input', /unknown scope "admin:everything"/);
      await expectKind(service.register('u-ann', { ...valid, scopes: ['Openid'] }), 'invalid_input', /unknown scope/);
      await expectKind(service.register('u-ann', { ...valid, scopes: [] }), 'invalid_input', /at least one scope/);
      expect(clients.rows.size).to.equal(0);
    });

    it('refuses a bad name, type or an unknown user', async () => {
      await expectKind(service.register('u-ann', { ...valid, name: '  ' }), 'invalid_input');
      await expectKind(service.register('u-ann', { ...valid, name: 'x'.repeat(101) }), 'invalid_input');
      await expectKind(service.register('u-ann', { ...valid, type: 'spa' }), 'invalid_input', /client_type/);
      await expectKind(service.register('nobody', valid), 'not_found');
      expect(clients.rows.size).to.equal(0);
    });
  });

  describe('get / list', () => {
    it("shows a user their own clients only: another user's client is not found", async () => {
      const { client } = await service.register('u-ann', valid);
      await service.register('u-bob', valid);
      expect((await service.get('u-ann', client.id)).id).to.equal(client.id);
      await expectKind(service.get('u-bob', client.id), 'not_found');
      expect((await service.list('u-ann')).map((c) => c.id)).to.deep.equal([client.id]);
    });
  });

  describe('update', () => {
    it('changes the given fields, moves updatedAt, and disables and enables', async () => {
      const { client } = await service.register('u-ann', valid);
      clock.advance(1000);
      const updated = await service.update('u-ann', client.id, { name: 'Renamed', redirectUris: ['https://new.example/cb'], disabled: true });
      expect(updated).to.include({ name: 'Renamed', description: '' });
      expect(updated.redirectUris).to.deep.equal(['https://new.example/cb']);
      expect(updated.disabledAt?.toISOString()).to.equal('2026-03-01T10:00:01.000Z');
      expect(updated.updatedAt.toISOString()).to.equal('2026-03-01T10:00:01.000Z');
      expect(updated.webhookDomains).to.deep.equal(client.webhookDomains);
      expect((await service.update('u-ann', client.id, { disabled: false })).disabledAt).to.equal(null);
    });

    it('sets, validates and lifts (null) the scope allow-list', async () => {
      const { client } = await service.register('u-ann', valid);
      expect((await service.update('u-ann', client.id, { scopes: ['email', 'integrations:list'] })).scopes).to.deep.equal(['email', 'integrations:list']);
      await expectKind(service.update('u-ann', client.id, { scopes: ['email', 'nope'] }), 'invalid_input', /unknown scope "nope"/);
      expect(clients.rows.get(client.id)!.scopes).to.deep.equal(['email', 'integrations:list']);
      const lifted = await service.update('u-ann', client.id, { scopes: null });
      expect(lifted).not.to.have.property('scopes');
    });

    it("refuses a type change, bad values, and another user's client, changing nothing", async () => {
      const { client } = await service.register('u-ann', valid);
      await expectKind(service.update('u-ann', client.id, { type: 'public' }), 'invalid_input', /type cannot change/);
      await expectKind(service.update('u-ann', client.id, { redirectUris: ['http://evil.example/'] }), 'invalid_input');
      await expectKind(service.update('u-bob', client.id, { name: 'Stolen' }), 'not_found');
      expect(clients.rows.get(client.id)).to.deep.equal(client);
    });
  });

  describe('rotateSecret', () => {
    it('renews the client secret by default: the old one stops matching, the webhook secret stays', async () => {
      const { client, clientSecret, webhookSecret } = await service.register('u-ann', valid);
      const rotated = await service.rotateSecret('u-ann', client.id);
      expect(rotated.clientSecret).to.match(/^secret_/).and.not.equal(clientSecret);
      expect(rotated.webhookSecret).to.equal(undefined);
      const stored = clients.rows.get(client.id)!;
      expect(clientSecretMatches(stored.secretHash, clientSecret)).to.equal(false);
      expect(clientSecretMatches(stored.secretHash, rotated.clientSecret)).to.equal(true);
      expect(service.openWebhookSecret(stored)).to.equal(webhookSecret);
    });

    it('renews both, or the webhook secret only; a public client has only a webhook secret', async () => {
      const { client, webhookSecret } = await service.register('u-ann', valid);
      const both = await service.rotateSecret('u-ann', client.id, 'both');
      expect(both.clientSecret).to.match(/^secret_/);
      expect(both.webhookSecret).to.match(/^whsec_/).and.not.equal(webhookSecret);
      expect(service.openWebhookSecret(clients.rows.get(client.id)!)).to.equal(both.webhookSecret);
      const pub = (await service.register('u-ann', { ...valid, type: 'public' })).client;
      const rotated = await service.rotateSecret('u-ann', pub.id);
      expect(rotated.clientSecret).to.equal(undefined);
      expect(rotated.webhookSecret).to.match(/^whsec_/);
      await expectKind(service.rotateSecret('u-ann', pub.id, 'client_secret'), 'invalid_input', /public client/);
      await expectKind(service.rotateSecret('u-bob', client.id), 'not_found');
    });
  });

  describe('delete', () => {
    it('revokes what was issued to the client, deletes it, then runs the deletion hooks', async () => {
      const { client } = await service.register('u-ann', valid);
      await expectKind(service.delete('u-bob', client.id), 'not_found');
      expect(revoked).to.deep.equal([]);
      await service.delete('u-ann', client.id);
      expect(revoked).to.include(client.id);
      expect(deleted).to.deep.equal([client.id]);
      expect(clients.rows.has(client.id)).to.equal(false);
      await expectKind(service.delete('u-ann', client.id), 'not_found');
    });
  });

  describe('allowsOrigin', () => {
    it("allows the origins of an active client's redirect URIs only, whoever owns it", async () => {
      const { client } = await service.register('u-ann', { ...valid, type: 'public', redirectUris: ['https://app.example.com/oauth/cb', 'http://localhost:5173/callback'] });
      expect(await service.allowsOrigin(client.id, 'https://app.example.com')).to.equal(true);
      expect(await service.allowsOrigin(client.id, 'http://localhost:5173')).to.equal(true);
      for (const other of ['https://evil.example', 'http://app.example.com', 'https://app.example.com:8443', 'http://localhost:5174', 'null', '', 'https://sub.app.example.com']) {
        expect(await service.allowsOrigin(client.id, other), other).to.equal(false);
      }
      expect(await service.allowsOrigin('app_unknown', 'https://app.example.com')).to.equal(false);
      await service.update('u-ann', client.id, { disabled: true });
      expect(await service.allowsOrigin(client.id, 'https://app.example.com')).to.equal(false);
    });
  });

  describe('webhookHostAllowed', () => {
    it('matches exact hosts and subdomains of *. entries only', () => {
      const domains = ['myapp.com', '*.hooks.example.org'];
      expect(webhookHostAllowed('myapp.com', domains)).to.equal(true);
      expect(webhookHostAllowed('MyApp.com.', domains)).to.equal(true);
      expect(webhookHostAllowed('a.hooks.example.org', domains)).to.equal(true);
      expect(webhookHostAllowed('a.b.hooks.example.org', domains)).to.equal(true);
      expect(webhookHostAllowed('hooks.example.org', domains)).to.equal(false);
      expect(webhookHostAllowed('evilhooks.example.org', domains)).to.equal(false);
      expect(webhookHostAllowed('sub.myapp.com', domains)).to.equal(false);
      expect(webhookHostAllowed('myapp.com.evil.net', domains)).to.equal(false);
    });
  });
});
