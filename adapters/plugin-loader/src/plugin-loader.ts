import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ContractValidators, formatIssues, type PluginManifest } from '@blockyard/contracts';
import { Container } from 'inversify';
import type { Block, BlockHandler, BlockRegistry, Logger, ProviderRegistry, WebhookManager } from '@blockyard/core';
import type { PluginStatus } from './plugin-status.js';
import { AUTOHIVE_CONFIG, handlersOf, PluginFolderError, readPluginFolder, type PluginFolder } from './tooling/plugin-folder.js';
import { triggerWebhookProblems } from './tooling/trigger-webhooks.js';

export const MANIFEST_FILE = 'blockyard.plugin.json';

/** Bound in each plugin's child container: its manifest and its folder. */
export const PluginManifestId = Symbol.for('blockyard/PluginManifest');
export const PluginDirectory = Symbol.for('blockyard/PluginDirectory');

export interface LoadPluginsOptions {
  /** Where package names are resolved from (directories, tried in order). Default: the current directory. */
  resolveFrom?: string | readonly string[];
  /** Where the plugins' providers go. Without it, a plugin declaring providers still loads its blocks. */
  providers?: ProviderRegistry;
  /** The container each plugin's child container descends from. */
  container?: Container;
  logger?: Logger;
  validators?: ContractValidators;
}

/**
 * Loads each plugin (package name or path to its folder) into the registry. A plugin that
 * cannot be found, has an invalid manifest, lacks a handler or throws while loading is
 * skipped with a clear reason; the others load regardless. Never throws.
 */
export async function loadPlugins(specs: readonly string[], registry: BlockRegistry, options: LoadPluginsOptions = {}): Promise<PluginStatus[]> {
  const validators = options.validators ?? new ContractValidators();
  const statuses: PluginStatus[] = [];
  const resolveFrom = typeof options.resolveFrom === 'string' ? [options.resolveFrom] : (options.resolveFrom ?? [process.cwd()]);
  for (const spec of specs) {
    const status = await loadPlugin(spec, registry, validators, resolveFrom, options);
    if (status.status === 'loaded') options.logger?.info('plugin loaded', { plugin: status.name, version: status.version, blocks: status.blocks.length });
    else options.logger?.error(`plugin ${status.name} skipped: ${status.error}`, { plugin: status.name, spec });
    statuses.push(status);
  }
  return statuses;
}

async function loadPlugin(spec: string, registry: BlockRegistry, validators: ContractValidators, resolveFrom: readonly string[], options: LoadPluginsOptions): Promise<PluginStatus> {
  const failed = (error: string, name = spec, version: string | null = null): PluginStatus => ({ spec, name, version, status: 'failed', error, blocks: [], providers: [], container: null });
  let dir: string | undefined;
  let notFound = '';
  for (const from of resolveFrom) {
    try {
      dir = findPluginDir(spec, from);
      break;
    } catch (e) {
      notFound ||= (e as Error).message;
    }
  }
  if (!dir) return failed(notFound);

  // A Blockyard manifest, or an Autohive-style config.json converted to one.
  let folder: PluginFolder;
  try {
    folder = readPluginFolder(dir);
  } catch (e) {
    return failed(e instanceof PluginFolderError ? e.message : `cannot read ${dir}: ${(e as Error).message}`);
  }
  const raw: unknown = folder.manifest;
  const checked = validators.validate<PluginManifest>('plugin-manifest.schema.json', raw);
  if (!checked.ok) {
    const name = typeof (raw as { name?: unknown })?.name === 'string' ? (raw as { name: string }).name : spec;
    return failed(`invalid manifest: ${formatIssues(checked.issues)}`, name);
  }
  const manifest = checked.value;
  const fail = (error: string) => failed(error, manifest.name, manifest.version);
  const triggerProblems = triggerWebhookProblems(manifest, (name) => options.providers?.get(name)?.definition);
  if (triggerProblems.length) return fail(`invalid trigger webhooks: ${triggerProblems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  for (const field of folder.unmapped) options.logger?.warn(`plugin ${manifest.name}: ${folder.file}${field.path || ''} not mapped: ${field.reason}`, { plugin: manifest.name });

  const entry = resolve(dir, manifest.entry);
  if (!existsSync(entry)) return fail(`entry point ${manifest.entry} does not exist (was the plugin built?)`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (e) {
    return fail(`entry point ${manifest.entry} threw while loading: ${(e as Error)?.message ?? String(e)}`);
  }
  const handlers = handlersOf(module, folder);
  if (!handlers) return fail(`entry point ${manifest.entry} does not export \`handlers\``);
  const webhooks = (module.webhooks ?? {}) as Record<string, WebhookManager>;
  const providers = manifest.providers ?? [];
  const missingManagers = providers.filter((p) => p.webhooks && typeof webhooks[p.name]?.verify !== 'function').map((p) => p.name);
  if (missingManagers.length) return fail(`no webhook manager exported for provider(s): ${missingManagers.join(', ')}`);
  const unknownProviders = manifest.blocks
    .map((b) => b.credentials?.provider)
    .filter((name): name is string => !!name && !providers.some((p) => p.name === name) && !options.providers?.get(name));
  if (unknownProviders.length) return fail(`credentials name undeclared provider(s): ${[...new Set(unknownProviders)].join(', ')}`);

  const blocks: Block[] = [];
  const missing: string[] = [];
  for (const definition of manifest.blocks) {
    const handler = handlers[definition.id];
    if (typeof handler !== 'function') missing.push(definition.id);
    else blocks.push({ definition, handler: handler as BlockHandler });
  }
  if (missing.length) return fail(`no handler exported for block(s): ${missing.join(', ')}`);
  const undeclared = Object.keys(handlers).filter((id) => !manifest.blocks.some((b) => b.id === id));
  if (undeclared.length) return fail(`handlers for block(s) not in the manifest: ${undeclared.join(', ')}`);

  try {
    for (const p of providers) {
      const existing = options.providers?.get(p.name);
      if (existing) throw new Error(`provider ${p.name} is already provided by ${existing.source}`);
    }
    registry.registerAll(blocks, manifest.name);
    options.providers?.registerAll(providers, manifest.name, webhooks);
  } catch (e) {
    return fail((e as Error).message);
  }
  // Each plugin gets its own child container: what it binds stays its own.
  const container = options.container ? new Container({ parent: options.container }) : new Container();
  container.bind(PluginManifestId).toConstantValue(manifest);
  container.bind(PluginDirectory).toConstantValue(dir);
  return {
    spec,
    name: manifest.name,
    version: manifest.version,
    status: 'loaded',
    error: null,
    blocks: blocks.map((b) => b.definition.id),
    providers: providers.map((p) => p.name),
    container,
  };
}

/** The folder holding the plugin's manifest, for a path or a package name. */
export function findPluginDir(spec: string, resolveFrom: string): string {
  const looksLikePath = spec.startsWith('.') || isAbsolute(spec);
  if (looksLikePath) {
    const dir = resolve(resolveFrom, spec);
    if (!existsSync(dir)) throw new Error(`plugin path ${dir} does not exist`);
    return statSync(dir).isDirectory() ? dir : dirname(dir);
  }
  const require = createRequire(join(resolveFrom, 'noop.js'));
  for (const base of require.resolve.paths(spec) ?? []) {
    const dir = join(base, spec);
    if (existsSync(join(dir, MANIFEST_FILE)) || existsSync(join(dir, AUTOHIVE_CONFIG))) return dir;
    if (existsSync(join(dir, 'package.json'))) throw new Error(`package ${spec} has no ${MANIFEST_FILE}`);
  }
  throw new Error(`plugin package ${spec} is not installed`);
}
