import 'reflect-metadata';
import { Container } from 'inversify';
import { AccessTokenVerifier, CachingAccessTokenVerifier, CachingOAuthClientRepository, InvalidatingOAuthArtifactStore, OAuthArtifactStore, OAuthCaches, OAuthClientRepository, UserRepository } from '@blockyard/core';
import { BlockRegistry, clientWebhookModule, coreModule, ExecutionQueue, Logger, PluginCatalog, ProviderRegistry, silentLogger, SystemCredentialResolver, type CoreModuleOptions } from '@blockyard/core';
import { memoryQueueModule } from '@blockyard/queue-memory';
import { bullmqQueueModule } from '@blockyard/queue-bullmq';
import { memoryStorageModule } from '@blockyard/storage-memory';
import { createKnexStorage, knexStorageModule } from '@blockyard/storage-knex';
import { HttpAuthorizationServer, HttpRateLimits, httpKoaModule, type HttpOptions } from '@blockyard/http-koa';
import { loadOrCreateSigningKeys, OAuthServer, oauthServerModule } from '@blockyard/oauth-server';
import { outboundHttpModule } from '@blockyard/http-outbound';
import { AesGcmSecretCipher, loadOrCreateKeyRing, secretCipherModule } from '@blockyard/secret-cipher';
import { loadPlugins, PluginStatuses, type PluginStatus } from '@blockyard/plugin-loader';
import { fileURLToPath } from 'node:url';
import { trustProxyOf, type ServerConfig } from './config.js';
import { oauthOptionsFromConfig } from './oauth-clients.js';
import { publicUrlOf, webhookOptionsFromConfig } from './webhook-options.js';
import { oauthServerOptionsFromConfig } from './oauth-server-options.js';
import { clientWebhookOptionsFromConfig } from './client-webhook-options.js';
import { openRateLimits } from './rate-limits.js';

const SERVER_PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Gives each provider that declares a default credential the value of its env var, if set. */
function configureSystemCredentials(providers: ProviderRegistry, resolver: SystemCredentialResolver, env: ServerConfig['env'], logger: Logger): void {
  for (const { definition } of providers.list()) {
    const declared = definition.default_credential;
    const value = declared && env[declared.env];
    if (!declared || !value) continue;
    const credential = SystemCredentialResolver.fromEnvValue(declared.kind, value);
    if (!credential) {
      logger.warn(`${declared.env} is set but is not a usable ${declared.kind} credential; ignored`, { provider: definition.name });
      continue;
    }
    resolver.set(definition.name, credential);
    logger.info('system credential configured', { provider: definition.name, from: declared.env });
  }
}

export interface ComposeOptions {
  logger?: Logger;
  /** Load the configured plugins into the registry. Default true. */
  loadPlugins?: boolean;
  core?: Omit<CoreModuleOptions, 'logger'>;
  http?: HttpOptions;
  /** How long OAuth client rows and access-token checks are reused in this process (0: not at all). Default 1000 ms. */
  oauthCacheTtlMs?: number;
}

/** A composed Blockyard: the container holding every service, and how to release it. */
export interface Blockyard {
  readonly container: Container;
  readonly plugins: readonly PluginStatus[];
  /** The OAuth authorization server (loaded on first use; `start()` loads it now). */
  readonly authorizationServer: OAuthServer;
  close(): Promise<void>;
}

/**
 * Composes core, the configured storage and queue, the Koa app and the plugins.
 * This is the composition root shared by the server and the CLI.
 */
export async function composeBlockyard(config: ServerConfig, options: ComposeOptions = {}): Promise<Blockyard> {
  const logger = options.logger ?? silentLogger;
  const webhooks = webhookOptionsFromConfig(config);
  const clientWebhooks = clientWebhookOptionsFromConfig(config);
  const oauthServerConfig = oauthServerOptionsFromConfig(config);
  const container = new Container();

  // Credential secrets are sealed with the configured keys, or a key generated into the data dir.
  const keyRing = await loadOrCreateKeyRing({ configured: config.encryptionKeys ?? undefined, dataDir: config.dataDir, logger });
  container.load(secretCipherModule(new AesGcmSecretCipher(keyRing)));

  let closeStorage = async () => {};
  if (config.databaseUrl === 'memory:') {
    container.load(memoryStorageModule());
  } else {
    const storage = await createKnexStorage({ databaseUrl: config.databaseUrl ?? undefined, dataDir: config.dataDir, ...(config.databaseSchema ? { schema: config.databaseSchema } : {}) });
    closeStorage = () => storage.close();
    container.load(knexStorageModule(storage));
  }
  // OAuth client rows and access-token checks are reused for a moment in this process (every
  // app request checks its token and reads its client); writes here clear them at once.
  const oauthCaches = new OAuthCaches({ ttlMs: options.oauthCacheTtlMs });
  const clients = new CachingOAuthClientRepository(container.get<OAuthClientRepository>(OAuthClientRepository), oauthCaches);
  const artifacts = new InvalidatingOAuthArtifactStore(container.get<OAuthArtifactStore>(OAuthArtifactStore), oauthCaches);
  container.rebind(OAuthClientRepository).toConstantValue(clients);
  container.rebind(OAuthArtifactStore).toConstantValue(artifacts);
  // The authorization server (/oauth, /.well-known): oidc-provider over the storage ports.
  const authorizationServer = new OAuthServer({
    issuer: publicUrlOf(config),
    clients,
    artifacts,
    users: container.get<UserRepository>(UserRepository),
    keys: () => loadOrCreateSigningKeys({ configured: oauthServerConfig.signingKeys, dataDir: config.dataDir, logger }),
    ttl: oauthServerConfig.ttl,
    trustProxy: trustProxyOf(config.env) ?? false,
    logger,
  });
  container.load(oauthServerModule(authorizationServer));
  container.rebind(AccessTokenVerifier).toConstantValue(new CachingAccessTokenVerifier(authorizationServer, oauthCaches));
  container.bind(HttpAuthorizationServer).toConstantValue(authorizationServer);
  // The queue: in process memory, or BullMQ on Redis so that API and worker processes share the work.
  let closeQueue = async () => {};
  if (config.queue === 'bullmq') {
    const bullmq = bullmqQueueModule({
      redisUrl: config.redisUrl,
      queueName: config.queueName,
      maxAttempts: config.queueMaxAttempts,
      // A lost lease is noticed between one and two check intervals after it ran out.
      stalledCheckIntervalMs: Math.max(100, Math.floor(config.workerVisibilityTimeoutMs / 2)),
      logger,
    });
    try {
      await bullmq.ready();
    } catch (e) {
      await bullmq.close();
      await closeStorage();
      throw e;
    }
    container.load(bullmq);
    closeQueue = () => bullmq.close();
  } else {
    container.load(memoryQueueModule({ maxAttempts: config.queueMaxAttempts }));
  }
  // Rate limits per client and endpoint class: in memory, or on Redis shared by the API processes.
  const rateLimits = await openRateLimits(config, logger).catch(async (e: unknown) => {
    await closeQueue();
    await closeStorage();
    throw e;
  });
  if (rateLimits.http) container.bind(HttpRateLimits).toConstantValue(rateLimits.http);
  container.load(
    coreModule({
      oauth: oauthOptionsFromConfig(config),
      webhooks: { publicUrl: webhooks.publicUrl },
      ...options.core,
      logger,
      providerBaseUrls: config.providerBaseUrls,
      worker: { concurrency: config.workerConcurrency, visibilityTimeoutMs: config.workerVisibilityTimeoutMs, ...options.core?.worker },
    }),
    httpKoaModule({ trustProxy: trustProxyOf(config.env) ?? false, webhookBodyLimitBytes: webhooks.bodyLimitBytes, ...options.http }),
    outboundHttpModule({ allowHosts: config.outboundAllowHosts }),
    // Outbound webhooks of OAuth clients: the outbox in storage, sent by the worker (server.ts).
    clientWebhookModule({ dispatcher: clientWebhooks.dispatcher }),
  );

  const plugins =
    options.loadPlugins === false
      ? []
      : await loadPlugins(config.plugins, container.get(BlockRegistry), {
          logger,
          providers: container.get(ProviderRegistry),
          container,
          // Package names resolve from the working directory, then from this server's own
          // dependencies (the first-party plugins), wherever it was started from.
          resolveFrom: [process.cwd(), SERVER_PACKAGE_DIR],
        });
  container.bind(PluginStatuses).toConstantValue(plugins);
  container.get(PluginCatalog).record(plugins);
  configureSystemCredentials(container.get(ProviderRegistry), container.get(SystemCredentialResolver), config.env, logger);

  return {
    container,
    plugins,
    authorizationServer,
    async close() {
      await container.get<ExecutionQueue>(ExecutionQueue).close();
      await closeQueue();
      await rateLimits.close();
      await closeStorage();
    },
  };
}
