import { expect } from 'chai';
import type { Credential } from '../credential/credential.js';
import { openCredentialSecret, sealCredentialSecret } from '../credential/credential-secret.js';
import type { CredentialRepository } from '../credential/credential.repository.port.js';
import type { EncryptedSecret, SecretCipher } from '../credential/secret-cipher.port.js';
import { FakeClock } from '../system/clock.port.js';
import type { WebhookRepository } from '../webhook/webhook.repository.port.js';
import { openWebhookSecret, sealWebhookSecret, type WebhookRegistration } from '../webhook/webhook-registration.js';
import { CredentialKeyRotation } from './credential-key-rotation.js';

/** A reversible stand-in for AES-GCM over a ring of key ids (the first active), checking the associated data. */
class CipherMock implements SecretCipher {
  constructor(private readonly ring: string[]) {}
  get activeKeyId(): string {
    return this.ring[0]!;
  }
  encrypt(plaintext: string, associatedData = ''): EncryptedSecret {
    return { keyId: this.activeKeyId, nonce: 'n', ciphertext: Buffer.from(plaintext).toString('base64'), tag: Buffer.from(associatedData).toString('base64') };
  }
  decrypt(secret: EncryptedSecret, associatedData = ''): string {
    if (!this.ring.includes(secret.keyId)) throw new Error(`key "${secret.keyId}" is not in the key ring`);
    if (secret.tag !== Buffer.from(associatedData).toString('base64')) throw new Error('authentication failed');
    return Buffer.from(secret.ciphertext, 'base64').toString();
  }
}

/** Compare-and-set on updatedAt, ordered pages, and a hook to change a row between a read and a write. */
class CredentialRepositoryMock implements CredentialRepository {
  readonly rows = new Map<string, Credential>();
  beforeUpdate: ((c: Credential) => void) | null = null;
  async create(c: Credential) {
    this.rows.set(c.id, c);
  }
  async get(id: string) {
    return this.rows.get(id) ?? null;
  }
  async listByUser(userId: string) {
    return [...this.rows.values()].filter((c) => c.userId === userId);
  }
  async update(c: Credential, expected: Date) {
    this.beforeUpdate?.(c);
    const current = this.rows.get(c.id);
    if (!current || current.updatedAt.getTime() !== expected.getTime()) return false;
    this.rows.set(c.id, c);
    return true;
  }
  async delete(id: string) {
    return this.rows.delete(id);
  }
  async listAll(afterId: string | null, limit: number) {
    return [...this.rows.values()].sort((a, b) => a.id.localeCompare(b.id)).filter((c) => afterId === null || c.id > afterId).slice(0, limit);
  }
}

/** Ordered pages and the compare-and-set on the sealed secret; a hook to change a row between a read and a write. */
class WebhookRepositoryMock implements Pick<WebhookRepository, 'get' | 'listAll' | 'updateSecret'> {
  readonly rows = new Map<string, WebhookRegistration>();
  beforeUpdateSecret: ((id: string) => void) | null = null;
  async get(id: string) {
    return this.rows.get(id) ?? null;
  }
  async listAll(afterId: string | null, limit: number) {
    return [...this.rows.values()].sort((a, b) => a.id.localeCompare(b.id)).filter((w) => afterId === null || w.id > afterId).slice(0, limit);
  }
  async updateSecret(id: string, secret: EncryptedSecret, expected: EncryptedSecret) {
    this.beforeUpdateSecret?.(id);
    const current = this.rows.get(id);
    if (!current || JSON.stringify(current.secret) !== JSON.stringify(expected)) return false;
    this.rows.set(id, { ...current, secret });
    return true;
  }
  /** As the composition root would hand it over: the other methods are not rotation's business. */
  asRepository(): WebhookRepository {
    return this as unknown as WebhookRepository;
  }
}

const clock = new FakeClock('2026-06-01T00:00:00Z');
const oldCipher = new CipherMock(['A']);

function credentialFixture(id: string, token: string, cipher: SecretCipher = oldCipher): Credential {
  const secret = sealCredentialSecret(cipher, id, { kind: 'oauth2', access_token: token, scopes: ['repo'], refresh_token: `refresh-${token}` });
  return { id, userId: 'alice', provider: 'github', kind: 'oauth2', title: id, scopes: [], status: 'active', expiresAt: null, secret, createdAt: clock.now(), updatedAt: clock.now() };
}

function webhookFixture(id: string, signingSecret: string, cipher: SecretCipher = oldCipher): WebhookRegistration {
  return {
    id,
    userId: 'alice',
    agentId: `agent-${id}`,
    triggerNodeId: 'on-issue',
    blockId: 'github.issue_event',
    provider: 'github',
    events: ['issues'],
    mode: 'manual',
    secret: sealWebhookSecret(cipher, id, signingSecret),
    config: {},
    credentialId: null,
    externalId: null,
    status: 'active',
    createdAt: clock.now(),
    updatedAt: clock.now(),
  };
}

/** A rotation over both repositories; webhooks default to an empty store. */
function rotation(credentials: CredentialRepository, cipher: SecretCipher, webhooks = new WebhookRepositoryMock()): CredentialKeyRotation {
  return new CredentialKeyRotation({ credentials, webhooks: webhooks.asRepository(), cipher, clock });
}

describe('CredentialKeyRotation', () => {
  describe('rotate', () => {
    it('re-encrypts every page under the active key, keeping every field of the secret, and reports counts', async () => {
      const repo = new CredentialRepositoryMock();
      for (let i = 0; i < 7; i++) await repo.create(credentialFixture(`c${i}`, `token-${i}`));
      await repo.create(credentialFixture('c9', 'token-9', new CipherMock(['B'])));
      const cipher = new CipherMock(['B', 'A']);
      const report = await rotation(repo, cipher).rotate({ pageSize: 3 });
      expect(report.activeKeyId).to.equal('B');
      expect(report.credentials).to.deep.equal({ scanned: 8, rotated: 7, current: 1, retried: 0, vanished: 0, failures: [] });
      const onlyB = new CipherMock(['B']);
      for (const c of repo.rows.values()) {
        expect(c.secret.keyId).to.equal('B');
        const opened = openCredentialSecret(onlyB, c);
        expect(opened).to.deep.include({ kind: 'oauth2', access_token: `token-${c.id.slice(1)}`, refresh_token: `refresh-token-${c.id.slice(1)}` });
      }
      expect(repo.rows.get('c0')!.updatedAt.getTime()).to.be.greaterThan(clock.now().getTime() - 1);
      expect(repo.rows.get('c0')!.updatedAt.getTime()).not.to.equal(credentialFixture('x', 'y').updatedAt.getTime());
    });

    it('a credential that changed meanwhile is re-read and re-encrypted from its new state, never overwritten', async () => {
      const repo = new CredentialRepositoryMock();
      await repo.create(credentialFixture('c1', 'old-token'));
      let changes = 0;
      repo.beforeUpdate = (c) => {
        if (c.id === 'c1' && changes++ === 0) {
          // A token refresh in the server, still sealing with A, lands between our read and write.
          const refreshed = credentialFixture('c1', 'refreshed-token');
          repo.rows.set('c1', { ...refreshed, updatedAt: new Date(clock.now().getTime() + 5_000) });
        }
      };
      const cipher = new CipherMock(['B', 'A']);
      const report = await rotation(repo, cipher).rotate();
      expect(report.credentials).to.deep.include({ scanned: 1, rotated: 1, retried: 1, failures: [] });
      const stored = repo.rows.get('c1')!;
      expect(stored.secret.keyId).to.equal('B');
      expect(openCredentialSecret(cipher, stored)).to.deep.include({ access_token: 'refreshed-token' });
    });

    it('counts a credential deleted meanwhile as vanished', async () => {
      const repo = new CredentialRepositoryMock();
      await repo.create(credentialFixture('c1', 't'));
      repo.beforeUpdate = (c) => repo.rows.delete(c.id);
      const report = await rotation(repo, new CipherMock(['B', 'A'])).rotate();
      expect(report.credentials).to.deep.include({ scanned: 1, rotated: 0, retried: 1, vanished: 1, failures: [] });
    });

    it('gives up on a credential that keeps changing, reporting it', async () => {
      const repo = new CredentialRepositoryMock();
      await repo.create(credentialFixture('c1', 't'));
      let bump = 0;
      repo.beforeUpdate = (c) => repo.rows.set(c.id, { ...repo.rows.get(c.id)!, updatedAt: new Date(clock.now().getTime() + 10_000 + ++bump) });
      const report = await rotation(repo, new CipherMock(['B', 'A'])).rotate({ maxAttempts: 3 });
      expect(report.credentials.failures).to.have.length(1);
      expect(report.credentials.failures[0]).to.deep.include({ id: 'c1', keyId: 'A' });
      expect(report.credentials.retried).to.equal(2);
    });

    it('reports every secret it cannot open, naming credential and key, leaves them untouched, and rotates the rest', async () => {
      const repo = new CredentialRepositoryMock();
      await repo.create(credentialFixture('c1', 'lost-1', new CipherMock(['Z'])));
      await repo.create(credentialFixture('c2', 'fine'));
      await repo.create(credentialFixture('c3', 'lost-3', new CipherMock(['Z'])));
      const before = repo.rows.get('c1');
      const report = await rotation(repo, new CipherMock(['B', 'A'])).rotate();
      expect(report.credentials).to.deep.include({ scanned: 3, rotated: 1 });
      expect(report.credentials.failures.map((f) => [f.id, f.keyId])).to.deep.equal([
        ['c1', 'Z'],
        ['c3', 'Z'],
      ]);
      expect(report.credentials.failures[0]!.reason).to.contain('credential c1 cannot be decrypted').and.not.to.contain('lost-1');
      expect(repo.rows.get('c1')).to.equal(before);
    });

    it('does nothing on an empty store', async () => {
      const report = await rotation(new CredentialRepositoryMock(), new CipherMock(['B'])).rotate();
      const nothing = { scanned: 0, rotated: 0, current: 0, retried: 0, vanished: 0, failures: [] };
      expect(report).to.deep.equal({ activeKeyId: 'B', credentials: nothing, webhooks: nothing });
    });

    describe('webhook signing secrets', () => {
      it('re-seals every page under the active key, keeping the signing secret and everything else, counted apart from credentials', async () => {
        const credentials = new CredentialRepositoryMock();
        await credentials.create(credentialFixture('c1', 'token-1'));
        const webhooks = new WebhookRepositoryMock();
        for (let i = 0; i < 5; i++) webhooks.rows.set(`w${i}`, webhookFixture(`w${i}`, `signing-secret-${i}`));
        webhooks.rows.set('w9', webhookFixture('w9', 'signing-secret-9', new CipherMock(['B'])));
        const before = new Map(webhooks.rows);
        const report = await rotation(credentials, new CipherMock(['B', 'A']), webhooks).rotate({ pageSize: 2 });
        expect(report.credentials).to.deep.include({ scanned: 1, rotated: 1, current: 0 });
        expect(report.webhooks).to.deep.equal({ scanned: 6, rotated: 5, current: 1, retried: 0, vanished: 0, failures: [] });
        const onlyB = new CipherMock(['B']);
        for (const [id, stored] of webhooks.rows) {
          expect(stored.secret.keyId).to.equal('B');
          expect(openWebhookSecret(onlyB, stored)).to.equal(`signing-secret-${id.slice(1)}`);
          const { secret: _new, ...rest } = stored;
          const { secret: _old, ...restBefore } = before.get(id)!;
          expect(rest).to.deep.equal(restBefore);
        }
      });

      it('a webhook re-sealed by someone else meanwhile is counted rotated, and theirs is kept', async () => {
        const webhooks = new WebhookRepositoryMock();
        webhooks.rows.set('w1', webhookFixture('w1', 'the-signing-secret'));
        const theirs = webhookFixture('w1', 'the-signing-secret', new CipherMock(['B']));
        webhooks.beforeUpdateSecret = (id) => {
          if (webhooks.rows.get(id)!.secret.keyId === 'A') webhooks.rows.set(id, theirs);
        };
        const report = await rotation(new CredentialRepositoryMock(), new CipherMock(['B', 'A']), webhooks).rotate();
        expect(report.webhooks).to.deep.include({ scanned: 1, rotated: 1, retried: 1, failures: [] });
        expect(webhooks.rows.get('w1')).to.equal(theirs);
      });

      it('counts a webhook deleted meanwhile (deactivated) as vanished', async () => {
        const webhooks = new WebhookRepositoryMock();
        webhooks.rows.set('w1', webhookFixture('w1', 's'));
        webhooks.beforeUpdateSecret = (id) => webhooks.rows.delete(id);
        const report = await rotation(new CredentialRepositoryMock(), new CipherMock(['B', 'A']), webhooks).rotate();
        expect(report.webhooks).to.deep.include({ scanned: 1, rotated: 0, retried: 1, vanished: 1, failures: [] });
      });

      it('reports every webhook secret it cannot open, naming webhook and key, never the secret, and leaves it untouched', async () => {
        const credentials = new CredentialRepositoryMock();
        await credentials.create(credentialFixture('c1', 'lost', new CipherMock(['Z'])));
        const webhooks = new WebhookRepositoryMock();
        webhooks.rows.set('w1', webhookFixture('w1', 'lost-signing-secret', new CipherMock(['Z'])));
        webhooks.rows.set('w2', webhookFixture('w2', 'fine'));
        const lost = webhooks.rows.get('w1');
        const report = await rotation(credentials, new CipherMock(['B', 'A']), webhooks).rotate();
        expect(report.credentials.failures.map((f) => f.id)).to.deep.equal(['c1']);
        expect(report.webhooks).to.deep.include({ scanned: 2, rotated: 1 });
        expect(report.webhooks.failures.map((f) => [f.id, f.keyId])).to.deep.equal([['w1', 'Z']]);
        expect(report.webhooks.failures[0]!.reason).to.contain('webhook w1 cannot be decrypted').and.not.to.contain('lost-signing-secret');
        expect(webhooks.rows.get('w1')).to.equal(lost);
      });
    });
  });
});
