export { loadPlugins, findPluginDir, MANIFEST_FILE, type LoadPluginsOptions } from './plugin-loader.js';
export { PluginStatuses, type PluginStatus } from './plugin-status.js';
