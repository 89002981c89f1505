import type { ContractValidators } from '@blockyard/contracts';
import type { AgentService, AgentTriggerService, ProviderOAuthService } from '@blockyard/core';
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
}

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
