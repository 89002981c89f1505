import type { AgentRepository } from '../agent/agent.repository.port.js';
import type { ApiKeyRepository } from '../api-key/api-key.repository.port.js';
import { agentRepositoryContract } from './agent-repository.contract.js';
import type { AgentRunRepository } from '../agent/agent-run.repository.port.js';
import { agentRunRepositoryContract } from './agent-run-repository.contract.js';
import type { CredentialRepository } from '../credential/credential.repository.port.js';
import type { ExecutionRepository } from '../execution/execution.repository.port.js';
import type { UserRepository } from '../user/user.repository.port.js';
import { apiKeyRepositoryContract } from './api-key-repository.contract.js';
import { credentialRepositoryContract } from './credential-repository.contract.js';
import { executionRepositoryContract } from './execution-repository.contract.js';
import { userRepositoryContract } from './user-repository.contract.js';
import type { OAuthStateRepository } from '../credential/oauth-state.repository.port.js';
import { oauthStateRepositoryContract } from './oauth-state-repository.contract.js';
import type { SessionRepository } from '../session/session.repository.port.js';
import type { LoginThrottleRepository } from '../session/login-throttle.repository.port.js';
import { loginThrottleRepositoryContract, sessionRepositoryContract } from './session-repository.contract.js';
import type { WebhookRepository } from '../webhook/webhook.repository.port.js';
import { webhookRepositoryContract } from './webhook-repository.contract.js';
import type { OAuthClientRepository } from '../oauth-client/oauth-client.repository.port.js';
import { oauthClientRepositoryContract } from './oauth-client-repository.contract.js';
import type { OAuthArtifactStore } from '../oauth-client/oauth-artifact-store.port.js';
import { oauthArtifactStoreContract } from './oauth-artifact-store.contract.js';
import type { GrantRepository } from '../grant/grant.repository.port.js';
import type { ExternalExecutionRepository } from '../grant/external-execution.repository.port.js';
import { externalExecutionRepositoryContract, grantRepositoryContract } from './grant-repository.contract.js';
import type { ClientWebhookRepository } from '../client-webhook/client-webhook.repository.port.js';
import { clientWebhookRepositoryContract } from './client-webhook-repository.contract.js';

/** One opened storage: the repositories over empty state, and how to let go of them. */
export interface StorageFixture {
  users: UserRepository;
  apiKeys: ApiKeyRepository;
  executions: ExecutionRepository;
  credentials: CredentialRepository;
  oauthStates: OAuthStateRepository;
  sessions: SessionRepository;
  loginThrottle: LoginThrottleRepository;
  agents: AgentRepository;
  agentRuns: AgentRunRepository;
  webhooks: WebhookRepository;
  oauthClients: OAuthClientRepository;
  oauthArtifacts: OAuthArtifactStore;
  grants: GrantRepository;
  externalExecutions: ExternalExecutionRepository;
  clientWebhooks: ClientWebhookRepository;
  close(): Promise<void>;
}

/**
 * The shared contract of the storage ports, as mocha suites. Every storage adapter runs it;
 * `open` is called before each test and must answer repositories over empty storage.
 */
export function storageContract(name: string, open: () => Promise<StorageFixture>): void {
  describe(`${name} storage contract`, () => {
    let fixture: StorageFixture | undefined;

    beforeEach(async () => {
      fixture = await open();
    });

    afterEach(async () => {
      const opened = fixture;
      fixture = undefined;
      await opened?.close();
    });

    const current = (): StorageFixture => {
      if (!fixture) throw new Error('storage fixture is not open');
      return fixture;
    };

    userRepositoryContract(() => current().users);
    apiKeyRepositoryContract(() => current().apiKeys);
    executionRepositoryContract(() => current().executions);
    credentialRepositoryContract(() => current().credentials);
    oauthStateRepositoryContract(() => current().oauthStates);
    sessionRepositoryContract(() => current().sessions);
    loginThrottleRepositoryContract(() => current().loginThrottle);
    agentRepositoryContract(() => current().agents);
    agentRunRepositoryContract(() => current().agentRuns);
    webhookRepositoryContract(() => current().webhooks);
    oauthClientRepositoryContract(() => current().oauthClients);
    oauthArtifactStoreContract(() => current().oauthArtifacts);
    grantRepositoryContract(() => current().grants);
    externalExecutionRepositoryContract(() => current().externalExecutions);
    clientWebhookRepositoryContract(() => current().clientWebhooks);
  });
}
