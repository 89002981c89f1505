export { loadPlugins, findPluginDir, MANIFEST_FILE, PluginManifestId, PluginDirectory, type LoadPluginsOptions } from './plugin-loader.js';
export { PluginStatuses, type PluginStatus } from './plugin-status.js';
export * from './tooling/index.js';
