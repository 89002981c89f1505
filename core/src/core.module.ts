import { ContainerModule } from 'inversify';
import { BlockRegistry } from './block/block-registry.port.js';
import { InMemoryBlockRegistry } from './block/in-memory-block-registry.js';
import { BlockEngine, type BlockEngineOptions } from './engine/block-engine.js';
import { ExecutionEvents } from './execution/execution-events.port.js';
import { ExecutionQueue } from './execution/execution-queue.port.js';
import { ExecutionRepository } from './execution/execution.repository.port.js';
import { ExecutionLifecycle, ExecutionLifecycleListener } from './execution/execution-lifecycle.js';
import { ApiKeyRepository } from './api-key/api-key.repository.port.js';
import { Clock, SystemClock } from './system/clock.port.js';
import { IdGenerator, UuidGenerator } from './system/id-generator.port.js';
import { Logger, silentLogger } from './system/logger.port.js';
import { UserRepository } from './user/user.repository.port.js';
import { ApiKeyService } from './use-cases/api-key.service.js';
import { BlockCatalog } from './use-cases/block-catalog.js';
import { PluginCatalog } from './use-cases/plugin-catalog.js';
import { ExecutionRunner } from './use-cases/execution-runner.js';
import { ExecutionService } from './use-cases/execution.service.js';
import { UserService } from './use-cases/user.service.js';
import { SessionService, type SessionServiceOptions } from './use-cases/session.service.js';
import { SessionRepository } from './session/session.repository.port.js';
import { LoginThrottleRepository } from './session/login-throttle.repository.port.js';
import { ExecutionWorker, type ExecutionWorkerOptions } from './worker/execution-worker.js';
import { RunContextFactory } from './engine/run-context-factory.js';
import { CredentialResolver } from './credential/credential-resolver.port.js';
import { SystemCredentialResolver } from './credential/system-credential-resolver.js';
import { UserCredentialResolver } from './credential/user-credential-resolver.js';
import { CredentialRepository } from './credential/credential.repository.port.js';
import { CredentialDeletionHook } from './credential/credential-deletion-hook.js';
import { CredentialCache, InvalidatingCredentialRepository, type CredentialCacheOptions } from './credential/credential-cache.js';
import { SecretCipher } from './credential/secret-cipher.port.js';
import { CredentialService } from './use-cases/credential.service.js';
import { ProviderOAuthService, type ProviderOAuthOptions } from './use-cases/provider-oauth.service.js';
import { OAuthStateRepository } from './credential/oauth-state.repository.port.js';
import { OutboundHttp } from './outbound/outbound-http.port.js';
import { ProviderRegistry } from './provider/provider-registry.js';
import type { ResolvedCredential } from './block/block.js';
import { AgentRepository } from './agent/agent.repository.port.js';
import { AgentService } from './use-cases/agent.service.js';
import { AgentRunRepository } from './agent/agent-run.repository.port.js';
import { AgentPlans } from './agent/agent-plans.js';
import { AgentRunner, type AgentRunnerOptions } from './use-cases/agent-runner.js';
import { WebhookRepository } from './webhook/webhook.repository.port.js';
import { AgentTriggerService } from './use-cases/agent-trigger.service.js';
import { OAuthClientRepository } from './oauth-client/oauth-client.repository.port.js';
import { OAuthArtifactStore } from './oauth-client/oauth-artifact-store.port.js';
import { OAuthClientDeletionHook, OAuthClientService } from './use-cases/oauth-client.service.js';
import { bindGrants } from './grant/grant.bindings.js';
import { GrantRepository } from './grant/grant.repository.port.js';

export interface CoreModuleOptions {
  clock?: Clock;
  ids?: IdGenerator;
  logger?: Logger;
  engine?: BlockEngineOptions;
  worker?: ExecutionWorkerOptions;
  /** Provider name -> base URL, overriding the plugins' declared base_url. */
  providerBaseUrls?: Readonly<Record<string, string>>;
  /** Provider name -> system credential (from a provider's default_credential env var). */
  systemCredentials?: ReadonlyMap<string, ResolvedCredential>;
  /** Provider OAuth2: the server's OAuth clients, its callback URL, refresh timing. */
  oauth?: ProviderOAuthOptions;
  /** How long credential rows read for runs are reused in this process (sealed). */
  credentialCache?: CredentialCacheOptions;
  /** Agent executions: nodes run at once per execution, execution timeout. */
  agents?: AgentRunnerOptions;
  /** Session lifetime and login throttling. */
  sessions?: SessionServiceOptions;
  /** Inbound webhooks: the public URL providers deliver to (`<publicUrl>/webhooks/...`), provider call time limit. */
  webhooks?: { publicUrl?: string | null; providerTimeoutMs?: number };
}

/**
 * Binds the domain: block registry and engine, use-case services and the worker. Storage
 * (UserRepository, ApiKeyRepository, ExecutionRepository) and the queue (ExecutionQueue,
 * ExecutionEvents) come from adapter modules loaded beside it.
 */
export function coreModule(options: CoreModuleOptions = {}): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(Clock).toConstantValue(options.clock ?? new SystemClock());
    bind(IdGenerator).toConstantValue(options.ids ?? new UuidGenerator());
    bind(Logger).toConstantValue(options.logger ?? silentLogger);
    bind(BlockRegistry).toConstantValue(new InMemoryBlockRegistry());
    bind(BlockEngine).toConstantValue(new BlockEngine(options.engine));
    bind(ProviderRegistry).toConstantValue(new ProviderRegistry(options.providerBaseUrls));
    const systemCredentials = new SystemCredentialResolver(options.systemCredentials);
    bind(SystemCredentialResolver).toConstantValue(systemCredentials);
    // Core's services write credentials through one wrapper that keeps the runs' cache honest.
    const credentialCache = new CredentialCache(options.credentialCache);
    bind(CredentialCache).toConstantValue(credentialCache);
    let credentialRepository: CredentialRepository | undefined;
    const credentialsOf = (ctx: { get<T>(id: symbol): T }): CredentialRepository =>
      (credentialRepository ??= new InvalidatingCredentialRepository(ctx.get<CredentialRepository>(CredentialRepository), credentialCache));
    // Users' own credentials when storage and a cipher are bound; system credentials always.
    bind(CredentialResolver)
      .toDynamicValue((ctx) => {
        const credentials = ctx.get<CredentialRepository>(CredentialRepository, { optional: true });
        const cipher = ctx.get<SecretCipher>(SecretCipher, { optional: true });
        if (!credentials || !cipher) return systemCredentials;
        const refresher = ctx.get<OAuthStateRepository>(OAuthStateRepository, { optional: true }) ? ctx.get(ProviderOAuthService) : undefined;
        return new UserCredentialResolver({ credentials: credentialsOf(ctx), cipher, fallback: systemCredentials, clock: ctx.get(Clock), refresher, cache: credentialCache });
      })
      .inSingletonScope();
    bind(CredentialService)
      .toDynamicValue(
        (ctx) =>
          new CredentialService({
            credentials: credentialsOf(ctx),
            cipher: ctx.get<SecretCipher>(SecretCipher),
            providers: ctx.get(ProviderRegistry),
            system: systemCredentials,
            clock: ctx.get(Clock),
            ids: ctx.get(IdGenerator),
            revoker: ctx.get<OAuthStateRepository>(OAuthStateRepository, { optional: true }) ? ctx.get(ProviderOAuthService) : undefined,
            deletionHooks: () => ctx.getAll<CredentialDeletionHook>(CredentialDeletionHook, { optional: true }),
          }),
      )
      .inSingletonScope();
    // Provider logins, token refresh and revoke: needs OAuthStateRepository, credential storage and a cipher.
    bind(ProviderOAuthService)
      .toDynamicValue(
        (ctx) =>
          new ProviderOAuthService({
            providers: ctx.get(ProviderRegistry),
            states: ctx.get<OAuthStateRepository>(OAuthStateRepository),
            credentials: credentialsOf(ctx),
            cipher: ctx.get<SecretCipher>(SecretCipher),
            outbound: ctx.get<OutboundHttp>(OutboundHttp, { optional: true }) ?? null,
            clock: ctx.get(Clock),
            ids: ctx.get(IdGenerator),
            logger: ctx.get<Logger>(Logger),
            options: options.oauth ?? { clients: () => undefined, redirectUri: (provider) => `/api/v1/integrations/${encodeURIComponent(provider)}/callback` },
          }),
      )
      .inSingletonScope();
    bind(RunContextFactory)
      .toDynamicValue(
        (ctx) =>
          new RunContextFactory({
            providers: ctx.get(ProviderRegistry),
            credentials: ctx.get<CredentialResolver>(CredentialResolver),
            outbound: ctx.get<OutboundHttp>(OutboundHttp, { optional: true }),
          }),
      )
      .inSingletonScope();
    // Agents: needs an AgentRepository; credentials named by nodes are checked when credential storage is bound.
    bind(AgentService)
      .toDynamicValue(
        (ctx) =>
          new AgentService({
            agents: ctx.get<AgentRepository>(AgentRepository),
            blocks: ctx.get(BlockRegistry),
            credentials: ctx.get<CredentialRepository>(CredentialRepository, { optional: true }) ?? null,
            systemCredentials: systemCredentials,
            clock: ctx.get(Clock),
            ids: ctx.get(IdGenerator),
          }),
      )
      .inSingletonScope();
    // Agent executions, when storage binds agents and their runs.
    let agentParts: { agents: AgentRepository; plans: AgentPlans; runs: AgentRunRepository; runner: AgentRunner } | null | undefined;
    const agentsOf = (ctx: { get<T>(id: symbol | (abstract new (...args: never[]) => T), options?: { optional: true }): T | undefined }) => {
      if (agentParts !== undefined) return agentParts ?? undefined;
      const agents = ctx.get<AgentRepository>(AgentRepository, { optional: true });
      const runs = ctx.get<AgentRunRepository>(AgentRunRepository, { optional: true });
      if (!agents || !runs) {
        agentParts = null;
        return undefined;
      }
      const registry = ctx.get<BlockRegistry>(BlockRegistry)!;
      const plans = new AgentPlans({ agents, registry });
      const runner = new AgentRunner(
        {
          registry,
          executions: ctx.get<ExecutionRepository>(ExecutionRepository)!,
          runs,
          plans,
          queue: ctx.get<ExecutionQueue>(ExecutionQueue)!,
          events: ctx.get<ExecutionEvents>(ExecutionEvents)!,
          engine: ctx.get<BlockEngine>(BlockEngine)!,
          runContexts: ctx.get<RunContextFactory>(RunContextFactory)!,
          clock: ctx.get<Clock>(Clock)!,
          ids: ctx.get<IdGenerator>(IdGenerator)!,
          logger: ctx.get<Logger>(Logger)!,
          lifecycle: ctx.get<ExecutionLifecycle>(ExecutionLifecycle)!,
          grants: ctx.get<GrantRepository>(GrantRepository, { optional: true }) ?? null,
        },
        options.agents,
      );
      agentParts = { agents, plans, runs, runner };
      return agentParts;
    };
    bind(ExecutionLifecycle)
      .toDynamicValue((ctx) => new ExecutionLifecycle(ctx.getAll<ExecutionLifecycleListener>(ExecutionLifecycleListener, { optional: true }), ctx.get<Logger>(Logger)))
      .inSingletonScope();
    bind(PluginCatalog).toConstantValue(new PluginCatalog());
    bind(BlockCatalog)
      .toDynamicValue((ctx) => new BlockCatalog(ctx.get(BlockRegistry)))
      .inSingletonScope();
    bind(ExecutionService)
      .toDynamicValue(
        (ctx) =>
          new ExecutionService({
            registry: ctx.get(BlockRegistry),
            credentials: ctx.get<CredentialResolver>(CredentialResolver),
            executions: ctx.get(ExecutionRepository),
            queue: ctx.get(ExecutionQueue),
            events: ctx.get(ExecutionEvents),
            clock: ctx.get(Clock),
            ids: ctx.get(IdGenerator),
            agents: agentsOf(ctx),
            lifecycle: ctx.get(ExecutionLifecycle),
          }),
      )
      .inSingletonScope();
    bind(ExecutionRunner)
      .toDynamicValue(
        (ctx) =>
          new ExecutionRunner({
            registry: ctx.get(BlockRegistry),
            executions: ctx.get(ExecutionRepository),
            queue: ctx.get(ExecutionQueue),
            events: ctx.get(ExecutionEvents),
            engine: ctx.get(BlockEngine),
            runContexts: ctx.get(RunContextFactory),
            clock: ctx.get(Clock),
            logger: ctx.get<Logger>(Logger),
            agents: agentsOf(ctx)?.runner,
            lifecycle: ctx.get(ExecutionLifecycle),
            grants: ctx.get<GrantRepository>(GrantRepository, { optional: true }) ?? null,
          }),
      )
      .inSingletonScope();
    bind(ExecutionWorker)
      .toDynamicValue((ctx) => new ExecutionWorker(ctx.get(ExecutionQueue), ctx.get(ExecutionRunner), ctx.get<Logger>(Logger), options.worker))
      .inSingletonScope();
    // Triggers and inbound webhooks: needs a WebhookRepository, agent storage and a cipher.
    bind(AgentTriggerService)
      .toDynamicValue(
        (ctx) =>
          new AgentTriggerService({
            agents: ctx.get<AgentRepository>(AgentRepository),
            webhooks: ctx.get<WebhookRepository>(WebhookRepository),
            registry: ctx.get(BlockRegistry),
            providers: ctx.get(ProviderRegistry),
            cipher: ctx.get<SecretCipher>(SecretCipher),
            runContexts: ctx.get(RunContextFactory),
            executions: ctx.get(ExecutionService),
            clock: ctx.get(Clock),
            ids: ctx.get(IdGenerator),
            logger: ctx.get<Logger>(Logger),
            publicUrl: options.webhooks?.publicUrl?.replace(/\/+$/, '') || null,
            providerTimeoutMs: options.webhooks?.providerTimeoutMs,
          }),
      )
      .inSingletonScope();
    bind(ApiKeyService)
      .toDynamicValue((ctx) => new ApiKeyService({ apiKeys: ctx.get(ApiKeyRepository), users: ctx.get(UserRepository), clock: ctx.get(Clock), ids: ctx.get(IdGenerator) }))
      .inSingletonScope();
    // Third-party apps: needs an OAuthClientRepository and a cipher; their tokens are revoked through the OAuthArtifactStore when bound.
    bind(OAuthClientService)
      .toDynamicValue(
        (ctx) =>
          new OAuthClientService({
            clients: ctx.get<OAuthClientRepository>(OAuthClientRepository),
            cipher: ctx.get<SecretCipher>(SecretCipher),
            users: ctx.get(UserRepository),
            clock: ctx.get(Clock),
            ids: ctx.get(IdGenerator),
            artifacts: ctx.get<OAuthArtifactStore>(OAuthArtifactStore, { optional: true }) ?? null,
            deletionHooks: ctx.getAll<OAuthClientDeletionHook>(OAuthClientDeletionHook, { optional: true }),
          }),
      )
      .inSingletonScope();
    // Credential grants and the external API's executions: needs a GrantRepository and an ExternalExecutionRepository.
    bindGrants(bind, systemCredentials);
    bind(UserService)
      .toDynamicValue((ctx) => new UserService({ users: ctx.get(UserRepository), clock: ctx.get(Clock), ids: ctx.get(IdGenerator) }))
      .inSingletonScope();
    bind(SessionService)
      .toDynamicValue(
        (ctx) =>
          new SessionService(
            { users: ctx.get(UserRepository), sessions: ctx.get(SessionRepository), throttle: ctx.get(LoginThrottleRepository), clock: ctx.get(Clock) },
            options.sessions,
          ),
      )
      .inSingletonScope();
  });
}
