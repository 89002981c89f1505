import type { ContractValidators } from '@blockyard/contracts';
import type { ApiKeyService, BlockCatalog, CredentialService, ExecutionService, Logger, PluginCatalog } from '@blockyard/core';

/** What the HTTP adapter needs from the rest of the system. */
export interface HttpDeps {
  catalog: BlockCatalog;
  plugins: PluginCatalog;
  executions: ExecutionService;
  apiKeys: ApiKeyService;
  /** Null in compositions without credential storage and a secret cipher. */
  credentials: CredentialService | null;
  validators: ContractValidators;
  logger: Logger;
}

export interface HttpOptions {
  /** Largest JSON body accepted. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Longest `?wait=` in seconds. Default 30. */
  maxWaitSeconds?: number;
}
