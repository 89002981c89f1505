import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { PluginManifest } from '@blockyard/contracts';
import { autohiveEntrySource, type UnmappedField } from './autohive.js';
import { BLOCKYARD_MANIFEST, PluginFolderError, readPluginFolder } from './plugin-folder.js';

/** The entry module `blockyard plugin import` generates beside the manifest. */
export const AUTOHIVE_ENTRY_FILE = 'blockyard.entry.mjs';

export interface ImportAutohiveOptions {
  /** Where to write blockyard.plugin.json and its entry; default the Autohive folder itself. */
  out?: string;
  /** Overwrite an existing blockyard.plugin.json. */
  force?: boolean;
}

export interface ImportAutohiveResult {
  /** Absolute paths of the files written. */
  files: string[];
  manifest: PluginManifest;
  /** The fields of config.json it could not map, with their JSON pointers. */
  unmapped: UnmappedField[];
}

/**
 * Converts an Autohive-style folder into a Blockyard plugin: writes `blockyard.plugin.json`
 * (see convertAutohiveConfig) and, unless the entry point is Python, `blockyard.entry.mjs`, the
 * manifest's new entry, which imports the Autohive entry point and exports `handlers` keyed by
 * block id (each action function adapted by adaptAutohiveAction). Paths in the manifest are
 * relative to `out`, so the original folder stays where it is.
 */
export function importAutohiveFolder(dir: string, options: ImportAutohiveOptions = {}): ImportAutohiveResult {
  const source = resolve(dir);
  if (!existsSync(join(source, 'config.json'))) throw new PluginFolderError(`${source} has no Autohive config.json`);
  const folder = readPluginFolder(source);
  if (folder.kind !== 'autohive') throw new PluginFolderError(`${source} already has a ${BLOCKYARD_MANIFEST} (it is a Blockyard plugin)`);
  const out = resolve(options.out ?? source);
  const manifestFile = join(out, BLOCKYARD_MANIFEST);
  if (existsSync(manifestFile) && !options.force) throw new PluginFolderError(`${manifestFile} exists; pass --force to overwrite it`);

  const manifest = structuredClone(folder.manifest);
  const rel = (file: string) => {
    const r = relative(out, resolve(source, file)).split(sep).join('/');
    return r.startsWith('.') ? r : `./${r}`;
  };
  if (manifest.icon) manifest.icon = rel(manifest.icon);
  const files: string[] = [];
  mkdirSync(out, { recursive: true });
  const entry = typeof manifest.entry === 'string' ? manifest.entry : '';
  if (entry && !/\.py$/i.test(entry)) {
    const entryFile = join(out, AUTOHIVE_ENTRY_FILE);
    writeFileSync(entryFile, autohiveEntrySource(rel(entry), folder.autohive!.runtime));
    files.push(entryFile);
    manifest.entry = `./${AUTOHIVE_ENTRY_FILE}`;
  } else if (entry) manifest.entry = rel(entry);
  writeFileSync(manifestFile, `${JSON.stringify(inManifestOrder(manifest), null, 2)}\n`);
  files.unshift(manifestFile);
  return { files, manifest, unmapped: folder.unmapped };
}

/** The manifest with its fields in the order people read them: who, what runs, providers, blocks. */
function inManifestOrder(manifest: PluginManifest): PluginManifest {
  const order = ['$schema', 'name', 'version', 'display_name', 'description', 'entry', 'icon', 'providers', 'blocks'];
  const keys = [...order.filter((k) => k in manifest), ...Object.keys(manifest).filter((k) => !order.includes(k))];
  return Object.fromEntries(keys.map((k) => [k, (manifest as unknown as Record<string, unknown>)[k]])) as unknown as PluginManifest;
}
