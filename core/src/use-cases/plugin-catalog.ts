import type { PluginList } from '@blockyard/contracts';

export type PluginInfo = PluginList[number];

/** What became of each configured plugin, for GET /api/v1/plugins. Filled by the composition root. */
export class PluginCatalog {
  #plugins: PluginInfo[] = [];

  record(plugins: readonly PluginInfo[]): void {
    this.#plugins = plugins.map((p) => ({ name: p.name, version: p.version, status: p.status, error: p.error, blocks: [...p.blocks], providers: [...p.providers] }));
  }

  listPlugins(): PluginInfo[] {
    return this.#plugins.map((p) => ({ ...p, blocks: [...p.blocks], providers: [...p.providers] }));
  }
}
