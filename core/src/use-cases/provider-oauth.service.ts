import { createHash, randomBytes } from 'node:crypto';
import type { ProviderDefinition } from '@blockyard/contracts';
import type { ResolvedCredential } from '../block/block.js';
import type { Credential } from '../credential/credential.js';
import { openCredentialSecret, sealCredentialSecret } from '../credential/credential-secret.js';
import type { CredentialRepository } from '../credential/credential.repository.port.js';
import type { OAuthState, OAuthStateRepository } from '../credential/oauth-state.repository.port.js';
import type { SecretCipher } from '../credential/secret-cipher.port.js';
import { NotFoundError, PermissionError, UnexpectedError, ValidationError } from '../errors/domain.errors.js';
import { OutboundRequestError, type FetchResponse, type OutboundHttp } from '../outbound/outbound-http.port.js';
import type { ProviderRegistry } from '../provider/provider-registry.js';
import type { Clock } from '../system/clock.port.js';
import type { IdGenerator } from '../system/id-generator.port.js';
import type { Logger } from '../system/logger.port.js';
import type { CredentialView } from './credential.service.js';

type OAuth2Method = Extract<ProviderDefinition['auth'][number], { type: 'oauth2' }>;
type OAuth2Secret = Extract<ResolvedCredential, { kind: 'oauth2' }> & { refresh_token?: string; refresh_lease_until?: number };

/** This server's OAuth client at a provider (from the server's configuration). */
export interface OAuthClientCredentials {
  clientId: string;
  clientSecret?: string;
}

export interface ProviderOAuthOptions {
  /** The server's OAuth client at each provider; undefined when none is configured. */
  clients: (provider: string) => OAuthClientCredentials | undefined;
  /** The callback URL the provider redirects to (`/api/v1/integrations/:provider/callback`). */
  redirectUri: (provider: string) => string;
  /** How long a login state is valid. Default 10 minutes. */
  stateTtlMs?: number;
  /** Refresh a token this long before it expires. Default 5 minutes. */
  refreshMarginMs?: number;
  /** How long one refresher holds a credential before another may take over. Default 15 s. */
  refreshLeaseMs?: number;
  /** Token endpoint attempts of one refresh (transient failures). Default 3. */
  refreshAttempts?: number;
  /** Pause between refresh attempts, doubled each time. Default 200 ms. */
  retryDelayMs?: number;
  /** How often a run waiting for another's refresh looks again. Default 50 ms. */
  pollMs?: number;
  /** Time limit of each token or revoke request. Default 10 s. */
  requestTimeoutMs?: number;
}

/** The query of a provider's redirect to the callback. */
export interface OAuthCallbackQuery {
  code?: string;
  state?: string;
  error?: string;
  error_description?: string;
}

export interface RevokeOutcome {
  /** False when the provider declares no revoke endpoint. */
  attempted: boolean;
  /** Set when the revoke failed (the credential is deleted locally all the same). */
  error?: string;
}

type TokenOutcome =
  | { ok: true; accessToken: string; refreshToken?: string; expiresIn?: number; scope?: string }
  | { ok: false; transient: boolean; error: string; description: string };

const sha256 = (value: string, encoding: 'hex' | 'base64url') => createHash('sha256').update(value).digest(encoding);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Provider OAuth2 for users' credentials: the login (authorization code with a single-use
 * state and PKCE), the callback that stores the credential, the proactive refresh that runs
 * use (single-flight across processes: a lease held in the credential row, taken by
 * compare-and-set on `updatedAt`), and revocation on delete.
 */
export class ProviderOAuthService {
  readonly #o: Required<Omit<ProviderOAuthOptions, 'clients' | 'redirectUri'>> & Pick<ProviderOAuthOptions, 'clients' | 'redirectUri'>;

  constructor(
    private readonly deps: {
      providers: ProviderRegistry;
      states: OAuthStateRepository;
      credentials: CredentialRepository;
      cipher: SecretCipher;
      outbound: OutboundHttp | null;
      clock: Clock;
      ids: IdGenerator;
      logger: Logger;
      options: ProviderOAuthOptions;
    },
  ) {
    const o = deps.options;
    this.#o = {
      clients: o.clients,
      redirectUri: o.redirectUri,
      stateTtlMs: o.stateTtlMs ?? 10 * 60_000,
      refreshMarginMs: o.refreshMarginMs ?? 5 * 60_000,
      refreshLeaseMs: o.refreshLeaseMs ?? 15_000,
      refreshAttempts: Math.max(1, o.refreshAttempts ?? 3),
      retryDelayMs: o.retryDelayMs ?? 200,
      pollMs: o.pollMs ?? 50,
      requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
    };
  }

  /** The provider's authorization URL for this user, with a fresh single-use state (and PKCE when supported). */
  async startLogin(userId: string, providerName: string, requestedScopes?: readonly string[]): Promise<{ loginUrl: string; stateExpiresAt: Date }> {
    const { definition, method, client } = this.#oauthProvider(providerName);
    const known = Object.keys(definition.integration_scopes ?? {});
    const scopes = [...new Set(requestedScopes?.length ? requestedScopes : known)];
    const unknown = scopes.filter((s) => !known.includes(s));
    if (unknown.length) throw new ValidationError(`unknown scope(s) of ${providerName}: ${unknown.join(', ')}`, [{ path: '/scopes', message: `must be among ${known.join(', ') || 'none'}` }]);
    const providerScopes = [...new Set(scopes.flatMap((s) => definition.integration_scopes?.[s] ?? []))];

    const now = this.deps.clock.now();
    await this.deps.states.deleteExpired(now).catch(() => 0);
    const stateValue = randomBytes(32).toString('base64url');
    const id = sha256(stateValue, 'hex');
    const verifier = method.pkce ? randomBytes(48).toString('base64url') : null;
    const redirectUri = this.#o.redirectUri(providerName);
    const state: OAuthState = {
      id,
      userId,
      provider: providerName,
      codeVerifier: verifier ? this.deps.cipher.encrypt(verifier, id) : null,
      redirectUri,
      scopes,
      expiresAt: new Date(now.getTime() + this.#o.stateTtlMs),
      createdAt: now,
    };
    await this.deps.states.create(state);

    const url = new URL(method.authorize_url);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', client.clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('state', stateValue);
    if (providerScopes.length) url.searchParams.set('scope', providerScopes.join(method.scope_separator ?? ' '));
    if (verifier) {
      url.searchParams.set('code_challenge', sha256(verifier, 'base64url'));
      url.searchParams.set('code_challenge_method', 'S256');
    }
    return { loginUrl: url.toString(), stateExpiresAt: state.expiresAt };
  }

  /**
   * Completes a login from the provider's redirect: checks the state (single use, not expired,
   * same provider), exchanges the code and stores the oauth2 credential. Any failure stores nothing.
   */
  async completeLogin(providerName: string, query: OAuthCallbackQuery): Promise<CredentialView> {
    const { definition, method, client } = this.#oauthProvider(providerName);
    if (!query.state) throw new ValidationError('the callback carries no state: start the login again', [{ path: '/state', message: 'is required' }]);
    // Consumed first, whatever the outcome: a state is good for one callback only.
    const state = await this.deps.states.consume(sha256(query.state, 'hex'));
    if (query.error) {
      const description = query.error_description ? `: ${query.error_description.slice(0, 300)}` : '';
      if (query.error === 'access_denied') throw new PermissionError(`${providerName} login was denied (access_denied)${description}; nothing was stored`);
      throw new ValidationError(`${providerName} answered the login with ${query.error.slice(0, 100)}${description}; nothing was stored`);
    }
    if (!state) throw new ValidationError('unknown or already used login state: start the login again', [{ path: '/state', message: 'is unknown or used' }]);
    if (state.provider !== providerName) throw new ValidationError(`this login state belongs to ${state.provider}, not ${providerName}: start the login again`, [{ path: '/state', message: 'is for another provider' }]);
    const now = this.deps.clock.now();
    if (state.expiresAt.getTime() <= now.getTime()) throw new ValidationError(`the login state expired at ${state.expiresAt.toISOString()}: start the login again`, [{ path: '/state', message: 'expired' }]);
    if (!query.code) throw new ValidationError('the callback carries no code: start the login again', [{ path: '/code', message: 'is required' }]);

    const params: Record<string, string> = { grant_type: 'authorization_code', code: query.code, redirect_uri: state.redirectUri, client_id: client.clientId };
    if (client.clientSecret) params.client_secret = client.clientSecret;
    if (state.codeVerifier) params.code_verifier = this.deps.cipher.decrypt(state.codeVerifier, state.id);
    const token = await this.#tokenRequest(method.token_url, params);
    if (!token.ok) {
      throw new UnexpectedError(`${providerName} token endpoint refused the code (${token.error}${token.description ? `: ${token.description}` : ''}); nothing was stored`);
    }

    const id = this.deps.ids.next();
    const providerScopes = token.scope !== undefined ? splitScopes(token.scope) : [...new Set(state.scopes.flatMap((s) => definition.integration_scopes?.[s] ?? []))];
    const secret: OAuth2Secret = { kind: 'oauth2', access_token: token.accessToken, scopes: providerScopes, ...(token.refreshToken ? { refresh_token: token.refreshToken } : {}) };
    const credential: Credential = {
      id,
      userId: state.userId,
      provider: providerName,
      kind: 'oauth2',
      title: `${definition.display_name} OAuth`,
      scopes: [...state.scopes],
      status: 'active',
      expiresAt: token.expiresIn !== undefined ? new Date(now.getTime() + token.expiresIn * 1000) : null,
      secret: sealCredentialSecret(this.deps.cipher, id, secret),
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.credentials.create(credential);
    return { id, provider: providerName, kind: 'oauth2', title: credential.title, scopes: [...credential.scopes], expiresAt: credential.expiresAt, status: 'active', system: false, createdAt: now };
  }

  /**
   * The credential with a token good for at least the refresh margin: refreshed when it is
   * about to expire. One caller across all processes refreshes (it takes the lease by
   * compare-and-set); the others wait for its result and use that.
   */
  async ensureFresh(credential: Credential): Promise<Credential> {
    if (credential.kind !== 'oauth2' || !credential.expiresAt) return credential;
    let current = credential;
    const maxLooks = Math.ceil((2 * this.#o.refreshLeaseMs) / Math.max(1, this.#o.pollMs)) + 2;
    for (let look = 0; look < maxLooks; look++) {
      if (current.status === 'needs_reauth') throw reauthError(current);
      if (current.status !== 'active') throw new PermissionError(`credential ${current.id} is ${current.status}: connect it again`);
      const now = this.deps.clock.now().getTime();
      if (!this.#expiresSoon(current, now)) return current;
      const secret = openCredentialSecret(this.deps.cipher, current) as OAuth2Secret;
      if (!secret.refresh_lease_until || secret.refresh_lease_until <= now) {
        const claimed: Credential = {
          ...current,
          secret: sealCredentialSecret(this.deps.cipher, current.id, { ...secret, refresh_lease_until: now + this.#o.refreshLeaseMs } as OAuth2Secret),
          updatedAt: later(now, current.updatedAt),
        };
        if (await this.deps.credentials.update(claimed, current.updatedAt)) return this.#refreshAsOwner(claimed, secret);
      } else {
        await sleep(this.#o.pollMs);
      }
      const reread = await this.deps.credentials.get(current.id);
      if (!reread) throw new NotFoundError(`credential ${current.id} not found`);
      current = reread;
    }
    throw new UnexpectedError(`credential ${current.id}: its token refresh by another run did not finish in time; try again`);
  }

  /** Revokes an oauth2 credential at the provider's revoke endpoint (RFC 7009), when it declares one. */
  async revoke(credential: Credential): Promise<RevokeOutcome> {
    if (credential.kind !== 'oauth2') return { attempted: false };
    const method = this.#methodOf(this.deps.providers.get(credential.provider)?.definition);
    if (!method?.revoke_url) return { attempted: false };
    try {
      const secret = openCredentialSecret(this.deps.cipher, credential) as OAuth2Secret;
      const client = this.#o.clients(credential.provider);
      const params: Record<string, string> = secret.refresh_token
        ? { token: secret.refresh_token, token_type_hint: 'refresh_token' }
        : { token: secret.access_token, token_type_hint: 'access_token' };
      if (client) params.client_id = client.clientId;
      if (client?.clientSecret) params.client_secret = client.clientSecret;
      const response = await this.#postForm(method.revoke_url, params);
      if (response.ok) return { attempted: true };
      const error = `${credential.provider} revoke endpoint answered ${response.status}`;
      this.deps.logger.warn('credential revoke failed; deleted locally anyway', { credentialId: credential.id, provider: credential.provider, error });
      return { attempted: true, error };
    } catch (e) {
      const error = `${credential.provider} revoke failed: ${e instanceof OutboundRequestError ? e.code : 'error'}: ${(e as Error).message}`;
      this.deps.logger.warn('credential revoke failed; deleted locally anyway', { credentialId: credential.id, provider: credential.provider, error });
      return { attempted: true, error };
    }
  }

  #expiresSoon(credential: Credential, now: number): boolean {
    return !!credential.expiresAt && credential.expiresAt.getTime() - now <= this.#o.refreshMarginMs;
  }

  async #refreshAsOwner(claimed: Credential, secret: OAuth2Secret): Promise<Credential> {
    const { refresh_lease_until: _lease, ...plain } = secret;
    const method = this.#methodOf(this.deps.providers.get(claimed.provider)?.definition);
    const client = this.#o.clients(claimed.provider);
    const write = async (changes: Partial<Credential>, newSecret: OAuth2Secret): Promise<Credential> => {
      const next: Credential = { ...claimed, ...changes, secret: sealCredentialSecret(this.deps.cipher, claimed.id, newSecret), updatedAt: later(this.deps.clock.now().getTime(), claimed.updatedAt) };
      if (await this.deps.credentials.update(next, claimed.updatedAt)) return next;
      // Our lease ran out and another took over: its outcome stands.
      const latest = await this.deps.credentials.get(claimed.id);
      if (!latest) throw new NotFoundError(`credential ${claimed.id} not found`);
      return latest;
    };
    const giveUp = async (error: string): Promise<Credential> => {
      const released = await write({}, plain);
      if (released.expiresAt && released.expiresAt.getTime() > this.deps.clock.now().getTime() && released.status === 'active') {
        this.deps.logger.warn('oauth2 token refresh failed; using the current token until it expires', { credentialId: claimed.id, provider: claimed.provider, error });
        return released;
      }
      throw new UnexpectedError(`credential ${claimed.id}: could not refresh its ${claimed.provider} token (${error}); try again later`);
    };

    if (!plain.refresh_token) {
      if (claimed.expiresAt && claimed.expiresAt.getTime() <= this.deps.clock.now().getTime()) {
        await write({ status: 'needs_reauth' }, plain);
        throw new PermissionError(`credential ${claimed.id} needs re-authorisation: its ${claimed.provider} token expired and it has no refresh token; connect it again`);
      }
      return write({}, plain);
    }
    if (!method || !client) return giveUp(`${claimed.provider} has no OAuth client or token endpoint configured`);

    let outcome: TokenOutcome | undefined;
    for (let attempt = 0; attempt < this.#o.refreshAttempts; attempt++) {
      if (attempt > 0) await sleep(this.#o.retryDelayMs * 2 ** (attempt - 1));
      const params: Record<string, string> = { grant_type: 'refresh_token', refresh_token: plain.refresh_token, client_id: client.clientId };
      if (client.clientSecret) params.client_secret = client.clientSecret;
      outcome = await this.#tokenRequest(method.token_url, params);
      if (outcome.ok || !outcome.transient) break;
    }
    if (!outcome) return giveUp('no attempt');
    if (outcome.ok) {
      const refreshed: OAuth2Secret = { kind: 'oauth2', access_token: outcome.accessToken, scopes: outcome.scope !== undefined ? splitScopes(outcome.scope) : plain.scopes, refresh_token: outcome.refreshToken ?? plain.refresh_token };
      const expiresAt = outcome.expiresIn !== undefined ? new Date(this.deps.clock.now().getTime() + outcome.expiresIn * 1000) : null;
      this.deps.logger.info('oauth2 token refreshed', { credentialId: claimed.id, provider: claimed.provider });
      return write({ expiresAt }, refreshed);
    }
    if (outcome.error === 'invalid_grant') {
      await write({ status: 'needs_reauth' }, plain);
      throw reauthError(claimed);
    }
    return giveUp(`${outcome.error}${outcome.description ? `: ${outcome.description}` : ''}`);
  }

  async #tokenRequest(url: string, params: Record<string, string>): Promise<TokenOutcome> {
    let response: FetchResponse;
    try {
      response = await this.#postForm(url, params);
    } catch (e) {
      return { ok: false, transient: true, error: e instanceof OutboundRequestError ? e.code : 'network', description: (e as Error).message };
    }
    const body = typeof response.data === 'string' ? Object.fromEntries(new URLSearchParams(response.data)) : ((response.data ?? {}) as Record<string, unknown>);
    const str = (name: string) => (typeof body[name] === 'string' && body[name] ? (body[name] as string) : undefined);
    if (response.ok && str('access_token')) {
      const expiresIn = Number(body.expires_in);
      return { ok: true, accessToken: str('access_token')!, refreshToken: str('refresh_token'), expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : undefined, scope: str('scope') };
    }
    const transient = response.status === 429 || response.status >= 500;
    return { ok: false, transient, error: str('error') ?? `status ${response.status}`, description: (str('error_description') ?? '').slice(0, 300) };
  }

  #postForm(url: string, params: Record<string, string>): Promise<FetchResponse> {
    if (!this.deps.outbound) throw new UnexpectedError('outbound HTTP is not configured on this server');
    const fetch = this.deps.outbound.createFetch({});
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(params).toString(),
      timeoutMs: this.#o.requestTimeoutMs,
    });
  }

  #methodOf(definition: ProviderDefinition | undefined): OAuth2Method | undefined {
    return definition?.auth.find((m): m is OAuth2Method => m.type === 'oauth2');
  }

  #oauthProvider(name: string): { definition: ProviderDefinition; method: OAuth2Method; client: OAuthClientCredentials } {
    const definition = this.deps.providers.get(name)?.definition;
    if (!definition) throw new NotFoundError(`unknown provider ${name}`);
    const method = this.#methodOf(definition);
    if (!method) throw new ValidationError(`provider ${name} does not take oauth2 credentials`, [{ path: '/provider', message: 'has no oauth2 auth method' }]);
    const client = this.#o.clients(name);
    if (!client) throw new ValidationError(`provider ${name} has no OAuth client configured on this server`, [{ path: '/provider', message: 'has no OAuth client configured' }]);
    return { definition, method, client };
  }
}

function reauthError(credential: Credential): PermissionError {
  return new PermissionError(`credential ${credential.id} needs re-authorisation: ${credential.provider} rejected its refresh token (invalid_grant); connect it again`);
}

/** A timestamp after `previous` (compare-and-set needs every write to change updatedAt). */
function later(now: number, previous: Date): Date {
  return new Date(Math.max(now, previous.getTime() + 1));
}

function splitScopes(scope: string): string[] {
  return scope.split(/[\s,]+/).filter(Boolean);
}
