// Fixtures of the tooling specs: plugin folders in temporary directories.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { placeholderIconPng } from './png.js';

const roots: string[] = [];

/**
 * A folder `<tmp>/<name>` holding `files` (path -> text, bytes or a JSON value). Its name is
 * kebab-case unless given otherwise: validate checks it, and mkdtemp's are random.
 */
export function folderFixture(files: Record<string, unknown>, name = 'fixture-plugin'): string {
  const root = mkdtempSync(join(tmpdir(), 'blockyard-tooling-'));
  roots.push(root);
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

/** An empty temporary directory (removed by removeFixtures). */
export function tempDirFixture(): string {
  const root = mkdtempSync(join(tmpdir(), 'blockyard-tooling-'));
  roots.push(root);
  return root;
}

export function removeFixtures(): void {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
}

export const iconFixture = (size = 512): Buffer => placeholderIconPng('#336699', size);

export const blockFixture = (id: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  name: id,
  description: '',
  categories: [],
  input_schema: { type: 'object' },
  output_schema: { type: 'object', properties: { ok: { type: 'boolean' } } },
  ...over,
});

export const manifestFixture = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'fixture-plugin',
  version: '1.0.0',
  entry: './index.mjs',
  icon: './icon.png',
  blocks: [blockFixture('fixture_plugin.one')],
  ...over,
});

/** A complete valid plugin folder; `files` adds or replaces files. */
export function pluginFixture(manifest: Record<string, unknown> = manifestFixture(), entry = "export const handlers = { 'fixture_plugin.one': async () => ({ data: { ok: true } }) };\n", files: Record<string, unknown> = {}, name?: string): string {
  return folderFixture({ 'blockyard.plugin.json': manifest, 'index.mjs': entry, 'icon.png': iconFixture(), ...files }, name);
}
