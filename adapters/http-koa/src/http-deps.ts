import type { ContractValidators } from '@blockyard/contracts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';
import type { HttpRateLimits } from './middleware/rate-limit.js';
import type { ExternalExecutionService, GrantService } from '@blockyard/core';
import type { AccessTokenVerifier, ClientWebhookService, AgentService, AgentTriggerService, OAuthClientService, ProviderOAuthService } from '@blockyard/core';
import type { ApiKeyService, BlockCatalog, CredentialService, ExecutionService, Logger, PluginCatalog, SessionService } from '@blockyard/core';

/** What the HTTP adapter needs from the rest of the system. */
export interface HttpDeps {
  catalog: BlockCatalog;
  plugins: PluginCatalog;
  executions: ExecutionService;
  apiKeys: ApiKeyService;
  /** Null in compositions without credential storage and a secret cipher. */
  credentials: CredentialService | null;
  /** Provider OAuth2 login/callback; the routes answer 404 without it. */
  oauth?: ProviderOAuthService | null;
  validators: ContractValidators;
  logger: Logger;
  /** Browser sessions for /login and our other pages; the pages are left out without it. */
  sessions?: SessionService | null;
  /** Agents (graphs of blocks); the /api/v1/agents routes answer 404 without them. */
  agents?: AgentService | null;
  /** Agent activation and inbound webhooks (/webhooks/...); those routes answer 404 without it. */
  triggers?: AgentTriggerService | null;
  /** Third-party apps' registrations (/oauth/clients/); those routes answer 404 without it. */
  oauthClients?: OAuthClientService | null;
  /** The OAuth authorization server (/oauth/authorize, /oauth/token, ...); left out without it. */
  authorizationServer?: HttpAuthorizationServer | null;
  /** Checks OAuth access tokens sent as `Authorization: Bearer`; without it only API keys are accepted. */
  bearer?: AccessTokenVerifier | null;
  /** Outbound webhooks of OAuth clients (GET /oauth/clients/:client_id/webhook-deliveries); that route answers 404 without it. */
  clientWebhooks?: ClientWebhookService | null;
  /** Rate limits per client and endpoint class (see middleware/rate-limit.ts); none without them. */
  rateLimits?: HttpRateLimits | null;
  /** Credential grants (/connect, /api/v1/grants, the external API's grants); those routes answer 404 without them. */
  grants?: GrantService | null;
  /** Apps' agent executions (/api/external/v1/executions); those routes answer 404 without it. */
  externalExecutions?: ExternalExecutionService | null;
}

/** A pending authorization request, as the consent page shows it. */
export interface PendingAuthorizationView {
  readonly uid: string;
  readonly clientId: string;
  readonly clientName: string;
  readonly clientDescription: string;
  readonly redirectUri: string;
  readonly scopes: ReadonlyArray<{ name: string; description: string }>;
}

/**
 * The authorization server as this adapter drives it (@blockyard/oauth-server's OAuthServer):
 * its protocol endpoints as middleware, and the pending request behind a browser's interaction
 * cookie for our consent page.
 */
export interface HttpAuthorizationServer {
  /** Answers the protocol endpoints and passes anything else on; mounted before the body parsers. */
  middleware(): (ctx: Context, next: Next) => Promise<void>;
  /** NotFoundError when the request expired, was completed, or belongs to another browser. */
  pendingAuthorization(uid: string, req: IncomingMessage, res: ServerResponse): Promise<PendingAuthorizationView>;
  /** Approves (for `userId`) or denies the request; answers where to send the browser. */
  finishAuthorization(uid: string, req: IncomingMessage, res: ServerResponse, outcome: { userId: string; approved: boolean }): Promise<string>;
  /** The name of the app behind a pending request (for the login page), or null. */
  clientNameOfInteraction?(uid: string): Promise<string | null>;
}
/** Where a composition binds its HttpAuthorizationServer for httpKoaModule. */
export const HttpAuthorizationServer = Symbol.for('blockyard/HttpAuthorizationServer');

export interface HttpOptions {
  /** Largest JSON body accepted. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Longest `?wait=` in seconds. Default 30. */
  maxWaitSeconds?: number;
  /** Trust X-Forwarded-Proto/-For (for Secure cookies and the client IP) from a reverse proxy. Default false. */
  trustProxy?: boolean;
  /** Largest inbound webhook delivery (POST /webhooks/...) accepted. Default 1 MiB. */
  webhookBodyLimitBytes?: number;
}
