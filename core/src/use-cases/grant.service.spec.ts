import { expect } from 'chai';
import type { ProviderDefinition } from '@blockyard/contracts';
import { DomainError } from '../errors/domain.errors.js';
import { ConnectError, type ConnectRequest } from '../grant/connect.js';
import { describeIntegrationScope, parseIntegrationScopes, type Grant } from '../grant/grant.js';
import { appFixture, clientsMock, credentialFixtureFor, CredentialRepositoryMock, GrantRepositoryMock } from '../grant/grant.mocks.js';
import { ProviderRegistry } from '../provider/provider-registry.js';
import { FakeClock } from '../system/clock.port.js';
import { SequentialIdGenerator } from '../system/id-generator.port.js';
import { silentLogger } from '../system/logger.port.js';
import type { CredentialDeletion } from './credential.service.js';
import { GrantService } from './grant.service.js';

const github: ProviderDefinition = {
  name: 'github',
  display_name: 'GitHub',
  auth: [{ type: 'oauth2', authorize_url: 'https://github.example/authorize', token_url: 'https://github.example/token' }],
  integration_scopes: { 'github:repo.read': ['repo'], 'github:repo.write': ['repo'], 'github:user.read': ['read:user'] },
};
const linear: ProviderDefinition = { name: 'linear', display_name: 'Linear', auth: [{ type: 'api_key', in: 'header', name: 'Authorization' }], integration_scopes: { 'linear:read': [], 'linear:write': [] } };

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('GrantService', () => {
  let grants: GrantRepositoryMock;
  let credentials: CredentialRepositoryMock;
  let clock: FakeClock;
  let announced: Grant[];
  let deleted: string[];
  let service: GrantService;
  const app = appFixture();
  const other = appFixture({ id: 'app_other', name: 'Other App', redirectUris: ['https://other.example.com/cb'] });
  const disabled = appFixture({ id: 'app_off', name: 'Off App', disabledAt: new Date(0) });
  const query = (overrides: Record<string, string | null> = {}) => ({
    provider: 'github',
    clientId: app.id,
    scopes: 'github:repo.read,github:repo.write',
    nonce: 'nonce-1',
    redirectOrigin: 'https://app.example.com',
    ...overrides,
  });

  beforeEach(() => {
    grants = new GrantRepositoryMock();
    credentials = new CredentialRepositoryMock();
    clock = new FakeClock('2026-03-01T10:00:00.000Z');
    announced = [];
    deleted = [];
    const providers = new ProviderRegistry();
    providers.registerAll([github, linear], 'spec');
    service = new GrantService({
      grants,
      clients: clientsMock(app, other, disabled),
      credentials,
      providers,
      credentialDeleter: {
        deleteCredential: async (userId, id): Promise<CredentialDeletion> => {
          deleted.push(`${userId}/${id}`);
          await credentials.delete(id);
          return { id, deleted: true, revoked: null };
        },
      },
      events: { revoked: async (g) => void announced.push(g) },
      clock,
      ids: new SequentialIdGenerator('g'),
      logger: silentLogger,
    });
    for (const c of [
      credentialFixtureFor({ id: 'cred-ann', userId: 'u-ann' }),
      credentialFixtureFor({ id: 'cred-ann-read', userId: 'u-ann', title: 'Read only', scopes: ['github:repo.read'] }),
      credentialFixtureFor({ id: 'cred-ann-stale', userId: 'u-ann', status: 'needs_reauth' }),
      credentialFixtureFor({ id: 'cred-ann-linear', userId: 'u-ann', provider: 'linear', kind: 'api_key', scopes: ['linear:read'] }),
      credentialFixtureFor({ id: 'cred-bob', userId: 'u-bob' }),
    ]) {
      void credentials.create(c);
    }
  });

  async function connectError(q: ReturnType<typeof query>): Promise<ConnectError> {
    const e = await errorOf(service.checkConnect(q));
    expect(e).to.be.instanceOf(ConnectError);
    return e as ConnectError;
  }

  describe('checkConnect', () => {
    it('answers the client, provider, scopes (comma or space separated), nonce and the verified origin', async () => {
      const request = await service.checkConnect(query({ scopes: 'github:repo.read, github:repo.write github:repo.read' }));
      expect(request.client.id).to.equal(app.id);
      expect(request.provider.name).to.equal('github');
      expect(request.scopes).to.deep.equal(['github:repo.read', 'github:repo.write']);
      expect(request.nonce).to.equal('nonce-1');
      expect(request.redirectOrigin).to.equal('https://app.example.com');
      expect((await service.checkConnect(query({ redirectOrigin: 'http://localhost:5173/' }))).redirectOrigin).to.equal('http://localhost:5173');
    });

    it('refuses an unknown or missing client as invalid_client without an origin to post to', async () => {
      for (const clientId of ['app_unknown', null, '']) {
        const e = await connectError(query({ clientId }));
        expect(e.error).to.equal('invalid_client');
        expect(e.origin).to.equal(null);
      }
    });

    it("refuses an origin that is not one of the client's redirect URIs' origins, without posting", async () => {
      for (const redirectOrigin of ['https://evil.example', 'https://other.example.com', 'https://app.example.com/oauth', 'https://app.example.com:8443', 'http://app.example.com', 'not a url', null]) {
        const e = await connectError(query({ redirectOrigin }));
        expect(e.error, String(redirectOrigin)).to.equal('invalid_request');
        expect(e.origin, String(redirectOrigin)).to.equal(null);
      }
    });

    it('refuses a missing nonce, a disabled client, an unknown provider and unknown or missing scopes, to be posted to the verified origin', async () => {
      const cases: Array<[ReturnType<typeof query>, string, RegExp]> = [
        [query({ nonce: null }), 'invalid_request', /nonce is required/],
        [query({ nonce: 'x'.repeat(513) }), 'invalid_request', /nonce must be/],
        [query({ clientId: disabled.id }), 'invalid_client', /Off App is disabled/],
        [query({ provider: 'nope' }), 'invalid_request', /unknown provider nope/],
        [query({ scopes: 'github:repo.read,github:admin' }), 'invalid_scope', /unknown scope\(s\) of github: github:admin/],
        [query({ scopes: 'linear:read' }), 'invalid_scope', /linear:read/],
        [query({ scopes: '' }), 'invalid_scope', /name the scopes of github/],
      ];
      for (const [q, code, message] of cases) {
        const e = await connectError(q);
        expect(e.error, message.source).to.equal(code);
        expect(e.message).to.match(message);
        expect(e.origin).to.equal('https://app.example.com');
      }
    });
  });

  describe('connectChoices / grantCredential', () => {
    let request: ConnectRequest;
    beforeEach(async () => {
      request = await service.checkConnect(query());
    });

    it("offers the user's credentials of the provider, saying why some cannot be granted", async () => {
      const choices = await service.connectChoices('u-ann', request);
      expect(choices.map((c) => [c.credential.id, c.unusableBecause])).to.deep.equal([
        ['cred-ann', null],
        ['cred-ann-read', 'it lacks github:repo.write'],
        ['cred-ann-stale', 'it needs to be connected again'],
      ]);
    });

    it('grants a usable credential for the requested scopes', async () => {
      const grant = await service.grantCredential('u-ann', request, 'cred-ann');
      expect(grant).to.deep.equal({
        id: 'g-1',
        userId: 'u-ann',
        clientId: app.id,
        credentialId: 'cred-ann',
        provider: 'github',
        scopes: ['github:repo.read', 'github:repo.write'],
        createdAt: clock.now(),
        lastUsedAt: null,
        revokedAt: null,
      });
      expect(grants.rows.get('g-1')).to.deep.equal(grant);
    });

    it("refuses another user's, another provider's, an unknown or an unusable credential (invalid_request, posted), storing nothing", async () => {
      for (const id of ['cred-bob', 'cred-ann-linear', 'cred-unknown', 'cred-ann-read', 'cred-ann-stale']) {
        const e = await errorOf(service.grantCredential('u-ann', request, id));
        expect(e, id).to.be.instanceOf(ConnectError);
        expect((e as ConnectError).error).to.equal('invalid_request');
        expect((e as ConnectError).origin).to.equal('https://app.example.com');
      }
      expect(grants.rows.size).to.equal(0);
    });
  });

  describe("a user's grants", () => {
    let grant: Grant;
    beforeEach(async () => {
      grant = await service.grantCredential('u-ann', await service.checkConnect(query()), 'cred-ann');
      await service.grantCredential('u-ann', await service.checkConnect(query({ clientId: other.id, redirectOrigin: 'https://other.example.com' })), 'cred-ann');
    });

    it('lists them with the app each went to', async () => {
      const listed = await service.listForUser('u-ann');
      expect(listed.map((x) => [x.grant.id, x.client?.name])).to.deep.equal([
        ['g-1', 'Mail Helper'],
        ['g-2', 'Other App'],
      ]);
      expect(await service.listForUser('u-bob')).to.deep.equal([]);
    });

    it('revokes one once, announcing it once; revoking again is a no-op', async () => {
      clock.advance(1000);
      const revoked = await service.revokeForUser('u-ann', grant.id);
      expect(revoked.revokedAt).to.deep.equal(clock.now());
      expect(announced.map((g) => g.id)).to.deep.equal([grant.id]);
      clock.advance(1000);
      expect((await service.revokeForUser('u-ann', grant.id)).revokedAt).to.deep.equal(new Date(clock.now().getTime() - 1000));
      expect(announced).to.have.length(1);
    });

    it("answers NotFoundError for another user's grant and leaves it live", async () => {
      const e = await errorOf(service.revokeForUser('u-bob', grant.id));
      expect(DomainError.is(e, 'not_found')).to.equal(true);
      expect(grants.rows.get(grant.id)?.revokedAt).to.equal(null);
    });

    it('revokes (and announces) every grant of a credential at once when its owner deletes it', async () => {
      const credential = (await credentials.get('cred-ann'))!;
      await credentials.delete('cred-ann');
      await service.credentialDeleted(credential);
      expect(announced.map((g) => g.id).sort()).to.deep.equal(['g-1', 'g-2']);
      expect([...grants.rows.values()].every((g) => g.revokedAt !== null)).to.equal(true);
      await service.credentialDeleted(credential);
      expect(announced).to.have.length(2);
    });

    it('revokes (and announces) grants whose credential was deleted, when they are listed', async () => {
      await credentials.delete('cred-ann');
      const listed = await service.listForUser('u-ann');
      expect(listed.every((x) => x.grant.revokedAt !== null)).to.equal(true);
      expect(announced.map((g) => g.id).sort()).to.deep.equal(['g-1', 'g-2']);
    });
  });

  describe("an app's grants", () => {
    let mine: Grant;
    let others: Grant;
    beforeEach(async () => {
      mine = await service.grantCredential('u-ann', await service.checkConnect(query()), 'cred-ann');
      others = await service.grantCredential('u-ann', await service.checkConnect(query({ clientId: other.id, redirectOrigin: 'https://other.example.com' })), 'cred-ann');
    });
    const ann = { userId: 'u-ann', clientId: app.id };

    it("lists only the app's live grants from this user (revoked ones on request)", async () => {
      expect((await service.listForClient(ann)).map((g) => g.id)).to.deep.equal([mine.id]);
      await service.revokeForUser('u-ann', mine.id);
      expect(await service.listForClient(ann)).to.deep.equal([]);
      expect((await service.listForClient(ann, { includeRevoked: true })).map((g) => g.id)).to.deep.equal([mine.id]);
      expect(await service.listForClient({ userId: 'u-bob', clientId: app.id })).to.deep.equal([]);
    });

    it("answers NotFoundError for another app's or another user's grant", async () => {
      expect((await service.getForClient(ann, mine.id)).id).to.equal(mine.id);
      for (const [actor, id] of [
        [ann, others.id],
        [{ userId: 'u-bob', clientId: app.id }, mine.id],
        [ann, 'g-unknown'],
      ] as const) {
        expect(DomainError.is(await errorOf(service.getForClient(actor, id)), 'not_found')).to.equal(true);
      }
    });

    it('deletes the credential through a live grant, revoking every grant on it (of any app) and announcing each', async () => {
      const { grant, deletion } = await service.deleteCredentialViaGrant(ann, mine.id);
      expect(deleted).to.deep.equal(['u-ann/cred-ann']);
      expect(deletion).to.include({ id: 'cred-ann', deleted: true });
      expect(grant.revokedAt).to.not.equal(null);
      expect(grants.rows.get(others.id)?.revokedAt).to.not.equal(null);
      expect(announced.map((g) => g.id).sort()).to.deep.equal([mine.id, others.id].sort());
    });

    it('refuses to delete through a revoked grant (403) or another app\'s grant (404), deleting nothing', async () => {
      await service.revokeForUser('u-ann', mine.id);
      expect(DomainError.is(await errorOf(service.deleteCredentialViaGrant(ann, mine.id)), 'forbidden')).to.equal(true);
      expect(DomainError.is(await errorOf(service.deleteCredentialViaGrant(ann, others.id)), 'not_found')).to.equal(true);
      expect(deleted).to.deep.equal([]);
    });

    it("revokes a deleted client's grants and announces them", async () => {
      await service.oauthClientDeleted(app);
      expect(grants.rows.get(mine.id)?.revokedAt).to.deep.equal(clock.now());
      expect(grants.rows.get(others.id)?.revokedAt).to.equal(null);
      expect(announced.map((g) => g.id)).to.deep.equal([mine.id]);
    });

    it('records use at most once a minute per grant', async () => {
      await service.markUsed([mine]);
      const first = grants.rows.get(mine.id)!.lastUsedAt;
      expect(first).to.deep.equal(clock.now());
      clock.advance(30_000);
      await service.markUsed([grants.rows.get(mine.id)!]);
      expect(grants.rows.get(mine.id)!.lastUsedAt).to.deep.equal(first);
      clock.advance(30_000);
      await service.markUsed([grants.rows.get(mine.id)!]);
      expect(grants.rows.get(mine.id)!.lastUsedAt).to.deep.equal(clock.now());
    });

    it('keeps a revocation when the grant.revoked listener fails', async () => {
      const failing = new GrantService({ ...(service as unknown as { deps: ConstructorParameters<typeof GrantService>[0] }).deps, events: { revoked: async () => Promise.reject(new Error('webhook store down')) } });
      expect((await failing.revokeForUser('u-ann', mine.id)).revokedAt).to.not.equal(null);
      expect(grants.rows.get(mine.id)?.revokedAt).to.not.equal(null);
    });
  });

  describe('integration scopes in words', () => {
    it('parses comma and space separated lists', () => {
      expect(parseIntegrationScopes(' a:b, c:d  e:f,,a:b ')).to.deep.equal(['a:b', 'c:d', 'e:f']);
      expect(parseIntegrationScopes(null)).to.deep.equal([]);
    });

    it('describes scopes in plain words', () => {
      expect(describeIntegrationScope('github:repo.read', github)).to.equal('Read repo on GitHub');
      expect(describeIntegrationScope('google:gmail.send', { display_name: 'Google' })).to.equal('Send gmail on Google');
      expect(describeIntegrationScope('linear:write', linear)).to.equal('Create and change your Linear data');
      expect(describeIntegrationScope('example:resources.write', { display_name: 'Example' })).to.equal('Create and change resources on Example');
      expect(describeIntegrationScope('x:odd_thing', { display_name: 'X' })).to.equal('Use odd thing on X');
    });
  });
});
