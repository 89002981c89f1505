/** What became of one plugin the server was asked to load. */
export interface PluginStatus {
  /** As configured: a package name or a path. */
  spec: string;
  /** The manifest's name, or the spec when the manifest could not be read. */
  name: string;
  version: string | null;
  status: 'loaded' | 'failed';
  /** Why it failed; null when loaded. */
  error: string | null;
  /** Ids of the blocks it provides (none when failed). */
  blocks: string[];
  /** Names of the providers it declares (none when failed). */
  providers: string[];
  /** Its own child container (null when failed). */
  container: import('inversify').Container | null;
}

/** The statuses of the plugins this process loaded, in configuration order. */
export const PluginStatuses = Symbol.for('blockyard/PluginStatuses');
