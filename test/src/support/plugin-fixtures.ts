import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A plugin folder whose entry point throws while loading. */
export function brokenPluginFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'blockyard-broken-plugin-'));
  writeFileSync(
    join(dir, 'blockyard.plugin.json'),
    JSON.stringify({
      name: 'broken-plugin',
      version: '1.0.0',
      entry: './index.mjs',
      blocks: [{ id: 'broken.block', name: 'Broken', description: '', categories: [], input_schema: { type: 'object' }, output_schema: { type: 'object' } }],
    }),
  );
  writeFileSync(join(dir, 'index.mjs'), "throw new Error('this plugin is broken on purpose');\n");
  return dir;
}

/** A plugin folder with the given manifest object and entry source. */
export function pluginFixture(manifest: unknown, entrySource: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'blockyard-plugin-'));
  writeFileSync(join(dir, 'blockyard.plugin.json'), JSON.stringify(manifest));
  writeFileSync(join(dir, 'index.mjs'), entrySource);
  return dir;
}
