import { BlockEngine, InMemoryBlockRegistry, ProviderRegistry, RunContextFactory, SystemCredentialResolver, type ResolvedCredential, type RunOutcome } from '@blockyard/core';
import { NodeOutboundHttp } from '@blockyard/http-outbound';
import { loadPlugins } from '@blockyard/plugin-loader';
import { ROOT } from './paths.js';

export interface RunPluginBlockOptions {
  /** Package name (or path) of the plugin, e.g. '@blockyard/plugin-github'. */
  plugin: string;
  blockId: string;
  inputs: Record<string, unknown>;
  /** The credential the run gets (as a system credential of the block's provider). */
  credential?: ResolvedCredential;
  /** Overrides the provider's base_url: the local stand-in's URL. */
  baseUrl?: string;
  /** Open the SSRF guard for 127.0.0.1 and localhost (default true: the stand-ins live there). */
  allowLoopback?: boolean;
  timeoutMs?: number;
}

/**
 * Runs one block of a real plugin the way the server does: the real loader, registries and
 * engine, and the real context.fetch (credential injection, SSRF guard, retries).
 */
export async function runPluginBlock(options: RunPluginBlockOptions): Promise<RunOutcome> {
  const providerName = options.blockId.split('.')[0]!;
  const registry = new InMemoryBlockRegistry();
  const providers = new ProviderRegistry(() => options.baseUrl);
  const [status] = await loadPlugins([options.plugin], registry, { providers, resolveFrom: ROOT });
  if (!status || status.status !== 'loaded') throw new Error(`plugin ${options.plugin} did not load: ${status?.error}`);
  const block = registry.get(options.blockId);
  if (!block) throw new Error(`plugin ${options.plugin} has no block ${options.blockId}`);
  const credentialProvider = block.definition.credentials?.provider ?? providerName;
  const credentials = new SystemCredentialResolver(options.credential ? new Map([[credentialProvider, options.credential]]) : new Map());
  const outbound = new NodeOutboundHttp({ allowHosts: options.allowLoopback === false ? [] : ['127.0.0.1', 'localhost'], retryBaseDelayMs: 10, maxRetryDelayMs: 200 });
  const parts = await new RunContextFactory({ providers, credentials, outbound }).forRun(block, 'harness-user');
  return new BlockEngine({ cancelGraceMs: 200 }).run(block, structuredClone(options.inputs), { executionId: 'harness', timeoutMs: options.timeoutMs, ...parts });
}
