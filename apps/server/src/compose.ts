import 'reflect-metadata';
import { Container } from 'inversify';
import { BlockRegistry, coreModule, ExecutionQueue, Logger, silentLogger, type CoreModuleOptions } from '@blockyard/core';
import { memoryQueueModule } from '@blockyard/queue-memory';
import { memoryStorageModule } from '@blockyard/storage-memory';
import { createKnexStorage, knexStorageModule } from '@blockyard/storage-knex';
import { httpKoaModule, type HttpOptions } from '@blockyard/http-koa';
import { loadPlugins, PluginStatuses, type PluginStatus } from '@blockyard/plugin-loader';
import type { ServerConfig } from './config.js';

export interface ComposeOptions {
  logger?: Logger;
  /** Load the configured plugins into the registry. Default true. */
  loadPlugins?: boolean;
  core?: Omit<CoreModuleOptions, 'logger'>;
  http?: HttpOptions;
}

/** A composed Blockyard: the container holding every service, and how to release it. */
export interface Blockyard {
  readonly container: Container;
  readonly plugins: readonly PluginStatus[];
  close(): Promise<void>;
}

/**
 * Composes core, the configured storage, the in-memory queue, the Koa app and the plugins.
 * This is the composition root shared by the server and the CLI.
 */
export async function composeBlockyard(config: ServerConfig, options: ComposeOptions = {}): Promise<Blockyard> {
  const logger = options.logger ?? silentLogger;
  const container = new Container();

  let closeStorage = async () => {};
  if (config.databaseUrl === 'memory:') {
    container.load(memoryStorageModule());
  } else {
    const storage = await createKnexStorage({ databaseUrl: config.databaseUrl ?? undefined, dataDir: config.dataDir });
    closeStorage = () => storage.close();
    container.load(knexStorageModule(storage));
  }
  container.load(
    coreModule({ ...options.core, logger, worker: { concurrency: config.workerConcurrency, ...options.core?.worker } }),
    memoryQueueModule(),
    httpKoaModule(options.http),
  );

  const plugins = options.loadPlugins === false ? [] : await loadPlugins(config.plugins, container.get(BlockRegistry), { logger });
  container.bind(PluginStatuses).toConstantValue(plugins);

  return {
    container,
    plugins,
    async close() {
      await container.get<ExecutionQueue>(ExecutionQueue).close();
      await closeStorage();
    },
  };
}
