import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ContractValidators, formatIssues, type PluginManifest } from '@blockyard/contracts';
import type { Block, BlockHandler, BlockRegistry, Logger } from '@blockyard/core';
import type { PluginStatus } from './plugin-status.js';

export const MANIFEST_FILE = 'blockyard.plugin.json';

export interface LoadPluginsOptions {
  /** Where package names are resolved from (a directory). Default: the current directory. */
  resolveFrom?: string;
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
  for (const spec of specs) {
    const status = await loadPlugin(spec, registry, validators, options.resolveFrom ?? process.cwd());
    if (status.status === 'loaded') options.logger?.info('plugin loaded', { plugin: status.name, version: status.version, blocks: status.blocks.length });
    else options.logger?.error(`plugin ${status.name} skipped: ${status.error}`, { plugin: status.name, spec });
    statuses.push(status);
  }
  return statuses;
}

async function loadPlugin(spec: string, registry: BlockRegistry, validators: ContractValidators, resolveFrom: string): Promise<PluginStatus> {
  const failed = (error: string, name = spec, version: string | null = null): PluginStatus => ({ spec, name, version, status: 'failed', error, blocks: [] });
  let dir: string;
  try {
    dir = findPluginDir(spec, resolveFrom);
  } catch (e) {
    return failed((e as Error).message);
  }

  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
  } catch (e) {
    return failed(`cannot read ${join(dir, MANIFEST_FILE)}: ${(e as Error).message}`);
  }
  const checked = validators.validate<PluginManifest>('plugin-manifest.schema.json', raw);
  if (!checked.ok) {
    const name = typeof (raw as { name?: unknown })?.name === 'string' ? (raw as { name: string }).name : spec;
    return failed(`invalid manifest: ${formatIssues(checked.issues)}`, name);
  }
  const manifest = checked.value;
  const fail = (error: string) => failed(error, manifest.name, manifest.version);

  const entry = resolve(dir, manifest.entry);
  if (!existsSync(entry)) return fail(`entry point ${manifest.entry} does not exist (was the plugin built?)`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (e) {
    return fail(`entry point ${manifest.entry} threw while loading: ${(e as Error)?.message ?? String(e)}`);
  }
  const handlers = (module.handlers ?? (module.default as { handlers?: unknown } | undefined)?.handlers) as Record<string, unknown> | undefined;
  if (!handlers || typeof handlers !== 'object') return fail(`entry point ${manifest.entry} does not export \`handlers\``);

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
    registry.registerAll(blocks, manifest.name);
  } catch (e) {
    return fail((e as Error).message);
  }
  return { spec, name: manifest.name, version: manifest.version, status: 'loaded', error: null, blocks: blocks.map((b) => b.definition.id) };
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
    if (existsSync(join(dir, MANIFEST_FILE))) return dir;
    if (existsSync(join(dir, 'package.json'))) throw new Error(`package ${spec} has no ${MANIFEST_FILE}`);
  }
  throw new Error(`plugin package ${spec} is not installed`);
}
