import { NotFoundError, ValidationError } from '../errors/domain.errors.js';
import type { SecretCipher } from '../credential/secret-cipher.port.js';
import type { OAuthArtifactStore } from '../oauth-client/oauth-artifact-store.port.js';
import {
  checkOAuthClientScopes,
  checkRedirectUris,
  checkWebhookDomains,
  generateClientSecret,
  generateWebhookSecret,
  hashClientSecret,
  isOAuthClientActive,
  originOfRedirectUris,
  OAUTH_CLIENT_ID_PREFIX,
  OAUTH_CLIENT_LIMITS,
  OAUTH_CLIENT_TYPES,
  webhookSecretAssociatedData,
  type OAuthClient,
  type OAuthClientPatch,
  type OAuthClientType,
} from '../oauth-client/oauth-client.js';
import type { OAuthClientRepository } from '../oauth-client/oauth-client.repository.port.js';
import type { Clock } from '../system/clock.port.js';
import type { IdGenerator } from '../system/id-generator.port.js';
import type { UserRepository } from '../user/user.repository.port.js';

export interface RegisterOAuthClientInput {
  name: string;
  description?: string;
  /** Default confidential. */
  type?: OAuthClientType | string;
  redirectUris: readonly unknown[];
  webhookDomains?: readonly unknown[];
  /** The scopes it may ever request (known scopes only); absent: every scope. */
  scopes?: readonly unknown[];
}

export interface UpdateOAuthClientInput {
  name?: string;
  description?: string;
  /** A client's type is fixed: only its current type is accepted here. */
  type?: string;
  redirectUris?: readonly unknown[];
  webhookDomains?: readonly unknown[];
  /** A new scope allow-list; null lifts it (every scope). */
  scopes?: readonly unknown[] | null;
  disabled?: boolean;
}

/** Which secret rotate-secret renews. */
export type OAuthSecretTarget = 'client_secret' | 'webhook_secret' | 'both';

/** A registered client with its secrets, shown this once. */
export interface RegisteredOAuthClient {
  client: OAuthClient;
  /** Null for public clients. */
  clientSecret: string | null;
  webhookSecret: string;
}

/** Told when a client is deleted, after its tokens are revoked (credential grants hook in here). */
export interface OAuthClientDeletionHook {
  oauthClientDeleted(client: OAuthClient): Promise<void>;
}
/** Bind (many) OAuthClientDeletionHook contributions under this id; coreModule collects them. */
export const OAuthClientDeletionHook = Symbol.for('blockyard/OAuthClientDeletionHook');

export interface OAuthClientServiceDeps {
  clients: OAuthClientRepository;
  cipher: SecretCipher;
  users: UserRepository;
  clock: Clock;
  ids: IdGenerator;
  /** The authorization server's storage: deleting a client revokes everything issued to it. */
  artifacts?: OAuthArtifactStore | null;
  /** Run in order after a client's deletion. */
  deletionHooks?: readonly OAuthClientDeletionHook[];
}

/**
 * Third-party applications, managed by the user who registered them: register, list, show,
 * change, rotate secrets, delete. Another user's client is "not found", never "forbidden",
 * so that client ids cannot be probed.
 */
export class OAuthClientService {
  constructor(private readonly deps: OAuthClientServiceDeps) {}

  /** Registers a client; its secrets are in the answer only (the client secret is stored hashed, the webhook secret sealed). */
  async register(userId: string, input: RegisterOAuthClientInput): Promise<RegisteredOAuthClient> {
    const { clients, users, clock, ids } = this.deps;
    const type = checkType(input.type ?? 'confidential');
    const name = checkName(input.name);
    const description = checkDescription(input.description ?? '');
    const redirectUris = checkRedirectUris(input.redirectUris);
    const webhookDomains = checkWebhookDomains(input.webhookDomains ?? []);
    const scopes = input.scopes === undefined ? undefined : checkOAuthClientScopes(input.scopes);
    if (!(await users.get(userId))) throw new NotFoundError(`user ${userId} not found`);
    const id = OAUTH_CLIENT_ID_PREFIX + ids.next().replace(/[^A-Za-z0-9]/g, '').toLowerCase();
    const clientSecret = type === 'confidential' ? generateClientSecret() : null;
    const webhookSecret = generateWebhookSecret();
    const now = clock.now();
    const client: OAuthClient = {
      id,
      userId,
      name,
      description,
      type,
      secretHash: clientSecret ? hashClientSecret(clientSecret) : null,
      redirectUris,
      webhookDomains,
      ...(scopes ? { scopes } : {}),
      webhookSecret: this.deps.cipher.encrypt(webhookSecret, webhookSecretAssociatedData(id)),
      createdAt: now,
      updatedAt: now,
      disabledAt: null,
    };
    await clients.create(client);
    return { client, clientSecret, webhookSecret };
  }

  list(userId: string): Promise<OAuthClient[]> {
    return this.deps.clients.listByUser(userId);
  }

  /** One of the user's clients; NotFoundError for an unknown id or another user's client. */
  async get(userId: string, id: string): Promise<OAuthClient> {
    const client = await this.deps.clients.get(id);
    if (!client || client.userId !== userId) throw new NotFoundError(`OAuth client ${id} not found`);
    return client;
  }

  /** Changes the given fields; disabling stops the client's authorizations and tokens at once. */
  async update(userId: string, id: string, input: UpdateOAuthClientInput): Promise<OAuthClient> {
    const current = await this.get(userId, id);
    if (input.type !== undefined && input.type !== current.type) {
      throw new ValidationError(`a client's type cannot change (it is ${current.type}); register a new client instead`, [{ path: '/client_type', message: 'cannot change' }]);
    }
    const patch: { -readonly [K in keyof OAuthClientPatch]: OAuthClientPatch[K] } = { updatedAt: this.deps.clock.now() };
    if (input.name !== undefined) patch.name = checkName(input.name);
    if (input.description !== undefined) patch.description = checkDescription(input.description);
    if (input.redirectUris !== undefined) patch.redirectUris = checkRedirectUris(input.redirectUris);
    if (input.webhookDomains !== undefined) patch.webhookDomains = checkWebhookDomains(input.webhookDomains);
    if (input.scopes !== undefined) patch.scopes = input.scopes === null ? null : checkOAuthClientScopes(input.scopes);
    if (input.disabled !== undefined && input.disabled !== (current.disabledAt !== null)) patch.disabledAt = input.disabled ? patch.updatedAt : null;
    const updated = await this.deps.clients.update(id, patch);
    if (!updated) throw new NotFoundError(`OAuth client ${id} not found`);
    return updated;
  }

  /**
   * Renews a secret: by default the client secret of a confidential client, the webhook secret
   * of a public one (it has no other). The new secrets are in the answer only; the old ones
   * stop working at once. Tokens already issued stay valid.
   */
  async rotateSecret(userId: string, id: string, target?: OAuthSecretTarget): Promise<{ client: OAuthClient; clientSecret?: string; webhookSecret?: string }> {
    const current = await this.get(userId, id);
    const which = target ?? (current.type === 'confidential' ? 'client_secret' : 'webhook_secret');
    if (!['client_secret', 'webhook_secret', 'both'].includes(which)) {
      throw new ValidationError('target must be client_secret, webhook_secret or both', [{ path: '/target', message: 'must be one of client_secret, webhook_secret, both' }]);
    }
    if (which !== 'webhook_secret' && current.type === 'public') {
      throw new ValidationError('a public client has no client secret; only its webhook_secret can be rotated', [{ path: '/target', message: 'public clients have no client secret' }]);
    }
    const patch: { -readonly [K in keyof OAuthClientPatch]: OAuthClientPatch[K] } = { updatedAt: this.deps.clock.now() };
    let clientSecret: string | undefined;
    let webhookSecret: string | undefined;
    if (which !== 'webhook_secret') {
      clientSecret = generateClientSecret();
      patch.secretHash = hashClientSecret(clientSecret);
    }
    if (which !== 'client_secret') {
      webhookSecret = generateWebhookSecret();
      patch.webhookSecret = this.deps.cipher.encrypt(webhookSecret, webhookSecretAssociatedData(id));
    }
    const client = await this.deps.clients.update(id, patch);
    if (!client) throw new NotFoundError(`OAuth client ${id} not found`);
    return { client, ...(clientSecret ? { clientSecret } : {}), ...(webhookSecret ? { webhookSecret } : {}) };
  }

  /**
   * Deletes one of the user's clients. Its authorization codes, access and refresh tokens and
   * grants are revoked first (a bearer token of a deleted client is refused anyway, because its
   * client is gone), then the deletion hooks run.
   */
  async delete(userId: string, id: string): Promise<void> {
    const client = await this.get(userId, id);
    await this.deps.artifacts?.revokeByClientId(id);
    if (!(await this.deps.clients.delete(id))) throw new NotFoundError(`OAuth client ${id} not found`);
    // Anything issued while the client was being deleted.
    await this.deps.artifacts?.revokeByClientId(id);
    for (const hook of this.deps.deletionHooks ?? []) await hook.oauthClientDeleted(client);
  }

  /**
   * Whether a browser app at `origin` may read the answers made for `clientId`'s access tokens:
   * the origin of one of the (active) client's redirect URIs. The token proves the client, so
   * no owner check here.
   */
  async allowsOrigin(clientId: string, origin: string): Promise<boolean> {
    const client = await this.deps.clients.get(clientId);
    return client !== null && isOAuthClientActive(client) && originOfRedirectUris(origin, client.redirectUris);
  }

  /** The client's webhook signing secret, for signing a delivery (never for showing). */
  openWebhookSecret(client: OAuthClient): string {
    return this.deps.cipher.decrypt(client.webhookSecret, webhookSecretAssociatedData(client.id));
  }
}

function checkType(value: string): OAuthClientType {
  if (!(OAUTH_CLIENT_TYPES as readonly string[]).includes(value)) {
    throw new ValidationError(`client_type must be confidential or public (got ${JSON.stringify(value)})`, [{ path: '/client_type', message: 'must be one of confidential, public' }]);
  }
  return value as OAuthClientType;
}

function checkName(value: string): string {
  const name = typeof value === 'string' ? value.trim() : '';
  if (!name || name.length > OAUTH_CLIENT_LIMITS.nameLength || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ValidationError(`a client name is 1 to ${OAUTH_CLIENT_LIMITS.nameLength} characters without control characters`, [{ path: '/name', message: 'is invalid' }]);
  }
  return name;
}

function checkDescription(value: string): string {
  const description = typeof value === 'string' ? value.trim() : '';
  if (description.length > OAUTH_CLIENT_LIMITS.descriptionLength) {
    throw new ValidationError(`a client description is at most ${OAUTH_CLIENT_LIMITS.descriptionLength} characters`, [{ path: '/description', message: 'is too long' }]);
  }
  return description;
}
