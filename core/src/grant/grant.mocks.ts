import type { Credential } from '../credential/credential.js';
import type { CredentialRepository } from '../credential/credential.repository.port.js';
import type { OAuthClient } from '../oauth-client/oauth-client.js';
import type { OAuthClientRepository } from '../oauth-client/oauth-client.repository.port.js';
import type { ExternalExecution, ExternalExecutionRepository } from './external-execution.repository.port.js';
import type { GrantRepository } from './grant.repository.port.js';
import type { Grant } from './grant.js';

/** Test doubles for the grant specs: small Map-backed repositories with the ports' semantics. */

export class GrantRepositoryMock implements GrantRepository {
  readonly rows = new Map<string, Grant>();
  async create(g: Grant) {
    if (this.rows.has(g.id)) throw new Error(`duplicate ${g.id}`);
    this.rows.set(g.id, g);
  }
  async get(id: string) {
    return this.rows.get(id) ?? null;
  }
  async listByUser(userId: string) {
    return [...this.rows.values()].filter((g) => g.userId === userId);
  }
  async listByUserAndClient(userId: string, clientId: string) {
    return [...this.rows.values()].filter((g) => g.userId === userId && g.clientId === clientId);
  }
  async revoke(id: string, at: Date) {
    const g = this.rows.get(id);
    if (!g || g.revokedAt) return null;
    const next = { ...g, revokedAt: at };
    this.rows.set(id, next);
    return next;
  }
  async revokeByClient(clientId: string, at: Date) {
    return this.#revokeWhere((g) => g.clientId === clientId, at);
  }
  async revokeByCredential(credentialId: string, at: Date) {
    return this.#revokeWhere((g) => g.credentialId === credentialId, at);
  }
  async markUsed(ids: readonly string[], at: Date) {
    for (const id of ids) {
      const g = this.rows.get(id);
      if (g && (!g.lastUsedAt || g.lastUsedAt < at)) this.rows.set(id, { ...g, lastUsedAt: at });
    }
  }
  async #revokeWhere(match: (g: Grant) => boolean, at: Date) {
    const out: Grant[] = [];
    for (const g of this.rows.values()) if (match(g) && !g.revokedAt) out.push((await this.revoke(g.id, at))!);
    return out;
  }
}

export class ExternalExecutionRepositoryMock implements ExternalExecutionRepository {
  readonly rows = new Map<string, ExternalExecution>();
  async create(r: ExternalExecution) {
    const holder = r.idempotencyKey === null ? undefined : [...this.rows.values()].find((x) => x.clientId === r.clientId && x.userId === r.userId && x.idempotencyKey === r.idempotencyKey);
    if (holder) return holder;
    this.rows.set(r.executionId, r);
    return null;
  }
  async get(id: string) {
    return this.rows.get(id) ?? null;
  }
  async replace(expected: string, r: ExternalExecution) {
    if (!this.rows.delete(expected)) return false;
    this.rows.set(r.executionId, r);
    return true;
  }
  async delete(id: string) {
    return this.rows.delete(id);
  }
}

export class CredentialRepositoryMock implements CredentialRepository {
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
  async update() {
    return false;
  }
  async delete(id: string) {
    return this.rows.delete(id);
  }
  async listAll() {
    return [...this.rows.values()];
  }
}

export function clientsMock(...clients: OAuthClient[]): OAuthClientRepository & { rows: Map<string, OAuthClient> } {
  const rows = new Map(clients.map((c) => [c.id, c]));
  return {
    rows,
    create: async (c) => void rows.set(c.id, c),
    get: async (id) => rows.get(id) ?? null,
    listByUser: async (userId) => [...rows.values()].filter((c) => c.userId === userId),
    update: async () => null,
    delete: async (id) => rows.delete(id),
  };
}

/** An OAuth client fixture (webhook secret sealed by nothing: these specs never open it). */
export function appFixture(overrides: Partial<OAuthClient> = {}): OAuthClient {
  return {
    id: 'app_one',
    userId: 'u-owner',
    name: 'Mail Helper',
    description: 'Sorts your invoices',
    type: 'confidential',
    secretHash: 'h',
    redirectUris: ['https://app.example.com/oauth/callback', 'http://localhost:5173/cb'],
    webhookDomains: ['app.example.com', '*.hooks.example.com'],
    webhookSecret: { keyId: 'k', nonce: 'n', ciphertext: 'c', tag: 't' },
    createdAt: new Date(0),
    updatedAt: new Date(0),
    disabledAt: null,
    ...overrides,
  };
}

export function credentialFixtureFor(overrides: Partial<Credential> & Pick<Credential, 'id' | 'userId'>): Credential {
  return {
    provider: 'github',
    kind: 'oauth2',
    title: 'Work GitHub',
    scopes: ['github:repo.read', 'github:repo.write'],
    status: 'active',
    expiresAt: null,
    secret: { keyId: 'k', nonce: 'n', ciphertext: 'c', tag: 't' },
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...overrides,
  };
}
