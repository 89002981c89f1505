import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginManifest } from '@blockyard/contracts';
import { autohiveHandlers, convertAutohiveConfig, type AutohiveRuntime, type UnmappedField } from './autohive.js';

/** The manifest file of a Blockyard plugin folder (as the loader's MANIFEST_FILE). */
export const BLOCKYARD_MANIFEST = 'blockyard.plugin.json';
/** The config file of an Autohive-style integration folder. */
export const AUTOHIVE_CONFIG = 'config.json';

/** A plugin folder, read: its manifest (converted when the folder is Autohive-style). */
export interface PluginFolder {
  /** Absolute path of the folder. */
  dir: string;
  kind: 'blockyard' | 'autohive';
  /** The file the manifest was read from (blockyard.plugin.json or config.json). */
  file: string;
  /**
   * The manifest as read, NOT yet validated: check it with the manifest schema
   * (ContractValidators, or validatePlugin) before trusting its shape.
   */
  manifest: PluginManifest;
  /** Autohive fields the conversion could not map, with JSON pointers into config.json; [] for Blockyard folders. */
  unmapped: UnmappedField[];
  /** For Autohive folders: how their action functions become handlers. */
  autohive: { config: unknown; runtime: AutohiveRuntime } | null;
}

/** A folder that holds no readable plugin manifest. */
export class PluginFolderError extends Error {
  override readonly name = 'PluginFolderError';
}

/**
 * Reads a plugin folder: `blockyard.plugin.json` when there is one, else an Autohive-style
 * `config.json`, converted (see convertAutohiveConfig; an `icon.png` beside it becomes the
 * manifest's icon). Throws PluginFolderError when there is neither, or it is not JSON.
 */
export function readPluginFolder(dir: string): PluginFolder {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new PluginFolderError(`${abs} does not exist`);
  const manifestFile = join(abs, BLOCKYARD_MANIFEST);
  if (existsSync(manifestFile)) {
    return { dir: abs, kind: 'blockyard', file: manifestFile, manifest: readJson(manifestFile) as PluginManifest, unmapped: [], autohive: null };
  }
  const configFile = join(abs, AUTOHIVE_CONFIG);
  if (existsSync(configFile)) {
    const config = readJson(configFile);
    const { manifest, unmapped, runtime } = convertAutohiveConfig(config);
    if (existsSync(join(abs, 'icon.png'))) manifest.icon = './icon.png';
    else if (existsSync(join(abs, 'icon.svg'))) unmapped.push({ path: '', reason: 'icon.svg: Blockyard icons are 512×512 PNGs (icon.png)' });
    return { dir: abs, kind: 'autohive', file: configFile, manifest, unmapped, autohive: { config, runtime } };
  }
  throw new PluginFolderError(`${abs} has no ${BLOCKYARD_MANIFEST} (nor an Autohive ${AUTOHIVE_CONFIG})`);
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PluginFolderError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new PluginFolderError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** A plugin's entry module, imported, with its handlers keyed by block id. */
export interface PluginEntry {
  /** Absolute path of the entry module. */
  file: string;
  module: Record<string, unknown>;
  /** Block id -> handler as exported (not checked to be functions); null when there is no `handlers` export. */
  handlers: Record<string, unknown> | null;
  /** The `webhooks` export: provider name -> webhook manager. */
  webhooks: Record<string, unknown>;
}

/**
 * Imports a plugin folder's entry module. For a Blockyard folder its `handlers` export (or
 * the default export's); for an Autohive folder the action functions adapted to handlers
 * keyed by block id. Throws when the entry does not exist or throws while loading.
 */
export async function loadPluginEntry(folder: PluginFolder): Promise<PluginEntry> {
  const file = resolve(folder.dir, String(folder.manifest.entry));
  if (!existsSync(file)) throw new PluginFolderError(`entry point ${folder.manifest.entry} does not exist (was the plugin built?)`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new PluginFolderError(`entry point ${folder.manifest.entry} threw while loading: ${(e as Error)?.message ?? String(e)}`);
  }
  return { file, module, handlers: handlersOf(module, folder), webhooks: (module.webhooks ?? {}) as Record<string, unknown> };
}

/** The handlers of an imported entry module, keyed by block id (see loadPluginEntry). */
export function handlersOf(module: Record<string, unknown>, folder: Pick<PluginFolder, 'kind' | 'autohive'>): Record<string, unknown> | null {
  if (folder.kind === 'autohive' && folder.autohive) return autohiveHandlers(module, folder.autohive.runtime);
  const handlers = module.handlers ?? (module.default as { handlers?: unknown } | undefined)?.handlers;
  return handlers && typeof handlers === 'object' ? (handlers as Record<string, unknown>) : null;
}
