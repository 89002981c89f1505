// Plugin tooling: what `blockyard plugin new|validate|typegen|test|import` do, usable without a
// server, and what the loader needs to accept Autohive-style folders.
export { readPluginFolder, loadPluginEntry, handlersOf, PluginFolderError, BLOCKYARD_MANIFEST, AUTOHIVE_CONFIG, type PluginFolder, type PluginEntry } from './plugin-folder.js';
export {
  convertAutohiveConfig,
  adaptAutohiveAction,
  autohiveActionFunction,
  autohiveHandlers,
  autohiveEntrySource,
  toAutohivePointer,
  autohiveConfigSchema,
  type AutohiveConversion,
  type AutohiveRuntime,
  type AutohiveContext,
  type AutohiveActionFunction,
  type UnmappedField,
} from './autohive.js';
export { importAutohiveFolder, AUTOHIVE_ENTRY_FILE, type ImportAutohiveOptions, type ImportAutohiveResult } from './autohive-import.js';
export { validatePlugin, checkManifest, metaSchemaProblems, formatProblem, type PluginProblem, type PluginValidation, type ValidatePluginOptions } from './validate-plugin.js';
export { runSelfTests, runSelfTestCase, toResolvedCredential, formatSelfTestResult, type SelfTestResult, type SelfTestReport, type RunSelfTestsOptions } from './self-test.js';
export { MockHttp, createMockHttp, resolveUrl, type MockHttpOptions, type MockExchange } from './mock-fetch.js';
export { generateBlockTypes, renderBlockTypes, blockTypeBaseName, GENERATED_TYPES_FILE, type TypegenResult } from './typegen.js';
export { scaffoldPlugin, ScaffoldError, type ScaffoldOptions, type ScaffoldResult } from './scaffold.js';
export { readPngSize, placeholderIconPng } from './png.js';
export { triggerWebhookProblems, type TriggerWebhookProblem } from './trigger-webhooks.js';
export { isKebabCase, isSnakeCase, ownProviderNames, toSnakeCase, pointer } from './naming.js';
